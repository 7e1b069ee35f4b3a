// The `cli` case of `pnpm bench:lab`: brick as a process per operation (as Python services, Go CSI
// drivers and shells run it) beside bare `node -e 0` and beside the library call, in the same boot.
// Starts: `node -e 0`, `brick --version`, `brick --help`, `brick plan --info F`, and `node brick.mjs
// --version` (the bundle without its startup snapshot), the order rotating each round. Single-path
// attach/detach: `brick connect --info F` then `brick disconnect --info F --device D` as processes vs
// the library's connectVolume/disconnectVolume in the bench process (warm), alternating. brick is
// the bundle (packages/cli/dist/brick.mjs, copied to the guest's tmpfs) run as an executable, as a user runs it: its shell
// prologue starts node from the program's startup snapshot once one is built (the first run after
// boot builds it in the background; the case waits for it and reports how long it took). Its caches
// are the default ones (~/.cache/brick, empty after boot): the first run of each command is recorded
// apart as the cold start.
// BENCH_CLI_COMPARE=FILE (relative to the project root): another build of the bundle, e.g. one made
// before a change, installed and run as brick is: its --version and --help among the starts, its
// connect and disconnect in the rotation.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"

/** Runs `args` with this node, or the executable `args[0]` when it is `{ exec }`; resolves to {ms, code, stdout, stderr}. */
const run = (args) =>
  new Promise((resolve) => {
    const start = performance.now()
    const [command, rest] = typeof args[0] === "object" ? [args[0].exec, args.slice(1)] : [process.execPath, args]
    const child = spawn(command, rest, { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("close", (code) => resolve({ ms: performance.now() - start, code, stdout, stderr }))
  })

/**
 * Runs the case. `ctx`: { root, reps, record, note, infoFor, brick (the library: connect/disconnect),
 * cleanTarget, residue, settle, iqn, wwid, loadavg }.
 */
export const runCli = async (ctx) => {
  const bundle = path.join(ctx.root, "packages/cli/dist/brick.mjs")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-cli-bench-"))
  const infoFile = path.join(dir, "info.json")
  const deviceFile = path.join(dir, "device.json")
  const info = ctx.infoFor(1)
  fs.writeFileSync(infoFile, JSON.stringify(info))
  const compare = process.env.BENCH_CLI_COMPARE ? path.resolve(ctx.root, process.env.BENCH_CLI_COMPARE) : undefined
  // installed, brick is on a local disk: a copy in the guest's tmpfs (reading it over the share's 9p
  // cost the shell 0-0.2 s per start under TCG); `brick (9p)` runs it from the share
  const installed = path.join(dir, "brick.mjs")
  fs.copyFileSync(bundle, installed)
  fs.chmodSync(installed, 0o755)
  const brick = { exec: installed }
  // the other build, installed the same way and run as an executable (from its own snapshot)
  const other = compare === undefined ? undefined : { exec: path.join(dir, path.basename(compare)) }
  if (other !== undefined) {
    fs.copyFileSync(compare, other.exec)
    fs.chmodSync(other.exec, 0o755)
  }
  const starts = [
    ["node -e 0", ["-e", "0"]],
    ["brick --version", [brick, "--version"]],
    ["brick (9p) --version", [{ exec: bundle }, "--version"]],
    ["brick --help", [brick, "--help"]],
    ["brick plan --info F", [brick, "plan", "--info", infoFile]],
    ["node brick.mjs --version (no snapshot)", [installed, "--version"]],
    ...(compare === undefined ? [] : [
      [`${path.basename(compare)} --version`, [other, "--version"]],
      [`${path.basename(compare)} --help`, [other, "--help"]]
    ])
  ]
  // cold: the first start of each after boot (brick's code cache is written by its first run)
  for (const [name, args] of starts) {
    const r = await run(args)
    if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${r.stderr.slice(0, 500)}`)
    ctx.record({ case: "cli-start-cold", who: name, ms: r.ms, load: ctx.loadavg() })
  }
  // the first run started building the startup snapshot in the background: wait for it
  const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "brick")
  const built = performance.now()
  const snapshot = () =>
    fs.existsSync(cache) &&
    fs.readdirSync(cache).filter((f) => /^snapshot-.*\.blob$/.test(f)).length >= (other === undefined ? 1 : 2)
  while (!snapshot() && performance.now() - built < 180_000) await new Promise((r) => setTimeout(r, 250))
  ctx.note(
    `startup snapshot ${snapshot() ? "ready" : "NOT built"} ${fmt(performance.now() - built)} ms after the cold runs`
  )
  for (let r = 0; r < ctx.reps; r++) {
    for (let k = 0; k < starts.length; k++) {
      const [name, args] = starts[(k + r) % starts.length]
      const res = await run(args)
      ctx.record({ case: "cli-start", who: name, ms: res.ms, ok: res.code === 0, load: ctx.loadavg() })
    }
  }

  // `cli-node`: the same commands as `node brick.mjs …` (no snapshot: the code cache of each command)
  const cliConnect = async (via = brick) => {
    const a = await run([via, "connect", "--info", infoFile])
    if (a.code !== 0) return { ok: false, ms: a.ms, error: a.stderr.slice(0, 300) }
    fs.writeFileSync(deviceFile, a.stdout)
    return { ok: true, ms: a.ms, value: JSON.parse(a.stdout) }
  }
  const cliDisconnect = async (via = brick) => {
    const d = await run([via, "disconnect", "--info", infoFile, "--device", deviceFile])
    return { ok: d.code === 0, ms: d.ms, error: d.code === 0 ? undefined : d.stderr.slice(0, 300) }
  }
  const library = {
    connect: () => ctx.brick.connect(info, false),
    disconnect: (device) => ctx.brick.disconnect(info, device, false)
  }
  const cycle = async (who, tag) => {
    ctx.settle()
    const via = who === "cli" ? brick : who === "cli-cmp" ? other : installed
    const a = who === "library" ? await library.connect() : await cliConnect(via)
    ctx.settle()
    const d = a.ok ? (who === "library" ? await library.disconnect(a.value) : await cliDisconnect(via)) : undefined
    const left = ctx.residue(ctx.iqn)
    if (left) await ctx.cleanTarget(ctx.iqn, ctx.wwid())
    ctx.record({
      case: tag,
      who,
      attachOk: a.ok && typeof a.value?.path === "string",
      attachMs: a.ms,
      path: a.value?.path,
      attachError: a.error,
      detachOk: d?.ok,
      detachMs: d?.ms,
      detachError: d?.error,
      residue: left,
      load: ctx.loadavg()
    })
  }
  await cycle("cli", "cli-connect-cold")
  for (let r = 0; r < ctx.reps; r++) {
    const order = ["cli", "library", "cli-node", ...(other === undefined ? [] : ["cli-cmp"])]
    for (let k = 0; k < order.length; k++) await cycle(order[(k + r) % order.length], "cli-connect")
  }
  fs.rmSync(dir, { recursive: true, force: true })
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmt = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : "-")
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : "-")

/** Prints the case's tables from the recorded ops (nothing when the case did not run). */
export const reportCli = (ops, log) => {
  const starts = ops.filter((o) => o.case === "cli-start" && o.ok)
  if (starts.length === 0) return
  const startMs = (who) => median(starts.filter((o) => o.who === who).map((o) => o.ms))
  const cold = (who) => ops.find((o) => o.case === "cli-start-cold" && o.who === who)?.ms
  const node = startMs("node -e 0")
  const version = startMs("brick --version")
  const overhead = version - node
  log("")
  log("CLI as a process (medians, ms; cold = the first run after boot, brick's code cache empty)")
  log("")
  log("| command | runs | median | x node -e 0 | cold |")
  log("|---|---|---|---|---|")
  for (const who of [...new Set(starts.map((o) => o.who))]) {
    const n = starts.filter((o) => o.who === who).length
    log(`| ${who} | ${n} | ${fmt(startMs(who))} | ${ratio(startMs(who), node)} | ${fmt(cold(who))} |`)
  }
  log("")
  log(
    `CLI start overhead (brick --version - node -e 0): ${fmt(overhead)} ms; brick --version / node -e 0: ${
      ratio(version, node)
    } (target <= 1.5)`
  )
  const sel = (who, k) =>
    ops.filter((o) => o.case === "cli-connect" && o.who === who && (k === "attachMs" ? o.attachOk : o.detachOk))
      .map((o) => o[k])
  const rows = [["connect", "attachMs"], ["disconnect", "detachMs"]]
  log("")
  log(
    "| single path | brick as a process | library (in-process, warm) | library + start overhead | process / (library + overhead), target <= 1.3 |"
  )
  log("|---|---|---|---|---|")
  for (const [name, k] of rows) {
    const cli = median(sel("cli", k))
    const lib = median(sel("library", k))
    log(
      `| ${name} (n ${sel("cli", k).length}/${sel("library", k).length}) | ${fmt(cli)} | ${fmt(lib)} | ${
        fmt(lib + overhead)
      } | ${ratio(cli, lib + overhead)} |`
    )
  }
  const viaNode = (k) => median(sel("cli-node", k))
  if (sel("cli-node", "attachMs").length > 0) {
    log("")
    log(
      `the same as \`node brick.mjs\` (no snapshot; code cache): connect ${fmt(viaNode("attachMs"))}, disconnect ${
        fmt(viaNode("detachMs"))
      } ms (n ${sel("cli-node", "attachMs").length})`
    )
  }
  if (sel("cli-cmp", "attachMs").length > 0) {
    log(
      `the other build (BENCH_CLI_COMPARE), as an executable: connect ${
        fmt(median(sel("cli-cmp", "attachMs")))
      }, disconnect ${fmt(median(sel("cli-cmp", "detachMs")))} ms (n ${sel("cli-cmp", "attachMs").length})`
    )
  }
  const coldConnect = ops.find((o) => o.case === "cli-connect-cold")
  if (coldConnect) {
    log("")
    log(
      `first brick connect/disconnect after boot: ${fmt(coldConnect.attachMs)} / ${fmt(coldConnect.detachMs)} ms`
    )
  }
  const bad = ops.filter((o) => o.case.startsWith("cli-") && (o.ok === false || o.attachOk === false || o.residue))
  for (const o of bad) log(`  ${o.case} ${o.who}: ${o.attachError ?? o.detachError ?? JSON.stringify(o.residue ?? "")}`)
}
