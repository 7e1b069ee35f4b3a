// `pnpm bench:lab`, the guest side: brick vs os-brick vs the floor on a real kernel.
// Runs inside the lab guest (lab/bench/bench.sh boots it once). For single path, 2-path and
// 4-path multipath it attaches and detaches one LUN with brick (in this process: core
// programs over NodeHost, compiled dist), with os-brick (osbrick-worker.py, in-process
// Python API) and with the floor (iscsiadm --login on every portal at once, records made
// beforehand, then waiting for the block device and the dm in sysfs), alternating, and
// prints medians and ratios. Extra cases: one of 4 portals blackholed; 64 LUNs attached; many
// volumes attached at once (burst.mjs).
// Case `cli` (lab/bench/cli.mjs): brick as a process beside `node -e 0` and beside the library call.
// Env: BENCH_REPS (default 5), BENCH_EXTRA_REPS (3), BENCH_CLI_REPS (9), BENCH_CASES (comma list:
// single,mp2,mp4,blackhole,reuse,burst,many,cli), BENCH_JSON (raw results file, rewritten after every run),
// BENCH_POLL_MS (floor's sysfs poll, 2), BENCH_BUDGET_S (no extra case starts after it, 2100).
// BENCH_BRICK_OPTIONS (JSON connector options for brick's connects, e.g. {"multipathAddDelay":200}).
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { pathToFileURL } from "node:url"
import { reportBurst, runBurst } from "./burst.mjs"
import { reportCli, runCli } from "./cli.mjs"

const ROOT = path.resolve(import.meta.dirname, "../..")
const REPS = Number(process.env.BENCH_REPS ?? 5)
const EXTRA_REPS = Number(process.env.BENCH_EXTRA_REPS ?? 3)
const CASES = new Set((process.env.BENCH_CASES ?? "single,mp2,mp4,blackhole,reuse,burst,many,cli").split(","))
const CLI_REPS = Number(process.env.BENCH_CLI_REPS ?? 9)
const needsOsBrick = [...CASES].some((c) => c !== "cli")
const FLOOR_POLL = Number(process.env.BENCH_POLL_MS ?? 2)
const BUDGET_MS = Number(process.env.BENCH_BUDGET_S ?? 2100) * 1000
const overBudget = () => performance.now() > BUDGET_MS

const IQN = "iqn.2024-01.org.brick.bench:vol"
const MANY_IQN = "iqn.2024-01.org.brick.bench:many"
const PORTALS = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260", "10.99.0.4:3260"]
const log = (...a) => console.log(...a)
const note = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const sh = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: "utf8", ...opts })
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const raw = { started: new Date().toISOString(), ops: [], info: {} }
const record = (o) => {
  raw.ops.push(o)
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(raw, null, 1))
  const { attachTrace, detachTrace, ...short } = o
  note(JSON.stringify(short))
}

// ---------------------------------------------------------------- brick (in-process)
// `node lab/bench/bench.mjs --report FILE` prints the tables again from a results JSON, or
// from the `[bench …] {…}` lines of a run's log (e.g. of a run that hit its time limit).
const REPORT = process.argv[2] === "--report"
const t0 = performance.now()
const req = createRequire(path.join(ROOT, "packages/interpreter-node/package.json"))
const load = (p) => (REPORT ? {} : import(pathToFileURL(p).href))
// the bundle of scripts/bundle.mjs (`pnpm build`) when there is one: one file instead of ~400 modules
const bundled = path.join(ROOT, "lab/bench/dist/brick.mjs")
const brickModules = REPORT ? {} : fs.existsSync(bundled) ? await load(bundled) : {
  ...(await load(req.resolve("effect"))),
  core: await load(path.join(ROOT, "packages/core/dist/src/index.js")),
  inode: await load(path.join(ROOT, "packages/interpreter-node/dist/src/index.js"))
}
raw.info.brickImportMs = performance.now() - t0
raw.info.brickBundled = fs.existsSync(bundled)
// BENCH_BASELINE: another build of brick, run beside this one as "base"
const baselinePath = process.env.BENCH_BASELINE ? path.resolve(ROOT, process.env.BENCH_BASELINE) : undefined
const baselineModules = REPORT || baselinePath === undefined ? undefined : await load(baselinePath)
raw.info.baseline = process.env.BENCH_BASELINE
// brick's log records (debug: every command with its duration) and spans go into the raw results, timed
let trace = []
let traceStart = 0
let concurrentTrace = false
const sysfsCounts = { read: 0, list: 0, readlink: 0, write: 0 }
const countingSysfs = (inner) => ({
  read: (p) => (sysfsCounts.read++, inner.read(p)),
  list: (p) => (sysfsCounts.list++, inner.list(p)),
  readlink: (p) => (sysfsCounts.readlink++, inner.readlink(p)),
  write: (p, v) => (sysfsCounts.write++, inner.write(p, v))
})
// BENCH_BRICK_OPTIONS: connector options (JSON) for brick's connects, e.g. {"multipathAddDelay":200}
const brickOptions = JSON.parse(process.env.BENCH_BRICK_OPTIONS ?? "{}")
raw.info.brickOptions = brickOptions
// BENCH_BASE_OPTIONS: the connector options of the baseline build (default BENCH_BRICK_OPTIONS); with
// BENCH_BASELINE=lab/bench/dist/brick.mjs, this build against itself with other options
const baseOptions = JSON.parse(process.env.BENCH_BASE_OPTIONS ?? process.env.BENCH_BRICK_OPTIONS ?? "{}")
raw.info.baseOptions = baseOptions

/** connect/disconnect of one build of brick (its own runtime), with counted sysfs and spawns. */
const makeBrick = (mods, options) => {
  const { Effect, Layer, Logger, ManagedRuntime, Exit, Cause, References, Tracer, core, inode } = mods
  const tracer = Logger.make((o) => {
    const msg = Array.isArray(o.message) ? o.message.map(String).join(" ") : String(o.message)
    const ann = o.fiber?.getRef?.(References.CurrentLogAnnotations) ?? {}
    const extra = ann.durationMillis !== undefined ? ` (${ann.exitCode}, ${ann.durationMillis} ms)` : ""
    const who = concurrentTrace && ann.volume ? `[${ann.volume}] ` : ""
    trace.push(`${(performance.now() - traceStart).toFixed(0)} ${who}${msg}${extra}`)
  })
  // brick's spans (start and end) go into the trace too: where the time between commands goes
  const spanTracer = !Tracer ? undefined : Tracer.make({
    span(options) {
      const span = new Tracer.NativeSpan(options)
      const t0 = performance.now()
      trace.push(`${(t0 - traceStart).toFixed(0)} [${options.name}`)
      const end = span.end.bind(span)
      span.end = (time, exit) => {
        const t1 = performance.now()
        trace.push(`${(t1 - traceStart).toFixed(0)} ${options.name}] ${(t1 - t0).toFixed(0)} ms`)
        return end(time, exit)
      }
      return span
    }
  })
  const runtime = ManagedRuntime.make(Layer.mergeAll(
    inode.NodeHost.layerWithServices({}),
    Logger.layer([tracer]),
    Layer.succeed(References.MinimumLogLevel, "Debug")
  ))
  /** Runs a core program; returns {ok, ms, value|error, counts, sysfs, trace}. */
  const run = async (program) => {
    for (const k of Object.keys(sysfsCounts)) sysfsCounts[k] = 0
    const measured = Effect.gen(function*() {
      const runner = yield* inode.CommandRunner.CommandRunner
      const sysfs = yield* core.Sysfs.Sysfs
      yield* runner.resetCounts
      trace = []
      const start = traceStart = performance.now()
      const traced = spanTracer ? Effect.withTracer(program, spanTracer) : program
      const exit = yield* Effect.exit(Effect.provideService(traced, core.Sysfs.Sysfs, countingSysfs(sysfs)))
      const ms = performance.now() - start
      return { exit, ms, counts: yield* runner.spawnCounts }
    })
    const { exit, ms, counts } = await runtime.runPromise(measured)
    return Exit.isSuccess(exit)
      ? { ok: true, ms, value: exit.value, counts, sysfs: { ...sysfsCounts }, trace }
      : {
        ok: false,
        ms,
        error: Cause.pretty(exit.cause).split("\n").slice(0, 3).join(" | "),
        counts,
        sysfs: { ...sysfsCounts },
        trace
      }
  }
  /** Runs a core program among others at once: {ok, value|error}; the trace is the caller's. */
  const runConcurrent = async (program) => {
    const counted = core.Sysfs.Sysfs.use((sysfs) =>
      Effect.provideService(program, core.Sysfs.Sysfs, countingSysfs(sysfs))
    )
    const exit = await runtime.runPromise(Effect.exit(spanTracer ? Effect.withTracer(counted, spanTracer) : counted))
    return Exit.isSuccess(exit)
      ? { ok: true, value: exit.value }
      : { ok: false, error: Cause.pretty(exit.cause).split("\n").slice(0, 3).join(" | ") }
  }
  return {
    connect: (info, multipath) => run(core.ConnectVolume.connectVolume(info, { ...options, useMultipath: multipath })),
    disconnect: (info, device, multipath) =>
      run(core.DisconnectVolume.disconnectVolume(info, device, {}, { useMultipath: multipath })),
    /** For connects and disconnects run at once: one trace for all of them, its lines tagged with the volume. */
    concurrent: {
      connect: (info, multipath) =>
        runConcurrent(core.ConnectVolume.connectVolume(info, { ...options, useMultipath: multipath })),
      disconnect: (info, device, multipath) =>
        runConcurrent(core.DisconnectVolume.disconnectVolume(info, device, {}, { useMultipath: multipath })),
      startTrace: () => {
        trace = []
        traceStart = performance.now()
        concurrentTrace = true
        for (const k of Object.keys(sysfsCounts)) sysfsCounts[k] = 0
      },
      takeTrace: () => {
        concurrentTrace = false
        return trace
      },
      /** The sysfs operations of every program run since startTrace. */
      sysfsCounts: () => ({ ...sysfsCounts })
    },
    dispose: () => runtime.dispose()
  }
}
const brick = REPORT ? undefined : makeBrick(brickModules, brickOptions)
const base = baselineModules === undefined ? undefined : makeBrick(baselineModules, baseOptions)

// ---------------------------------------------------------------- os-brick (python worker)
const startOsBrick = () =>
  new Promise((resolve, reject) => {
    const t = performance.now()
    const child = spawn("python3", [path.join(ROOT, "lab/bench/osbrick-worker.py")], {
      stdio: ["pipe", "pipe", "pipe"]
    })
    let buf = ""
    const waiting = []
    let errTail = ""
    child.stderr.on("data", (d) => (errTail = (errTail + d).slice(-4000)))
    child.stdout.on("data", (d) => {
      buf += d
      let i
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        const msg = JSON.parse(line)
        if (msg.ready) {
          raw.info.osbrickProcessReadyMs = performance.now() - t
          raw.info.osbrickImportMs = msg.import_ms
          raw.info.osbrickFactoryMs = msg.factory_ms
          resolve(api)
        } else waiting.shift()?.(msg)
      }
    })
    child.on("exit", (code) => reject(new Error(`os-brick worker exited ${code}: ${errTail}`)))
    const call = (msg) => new Promise((r) => (waiting.push(r), child.stdin.write(JSON.stringify(msg) + "\n")))
    const api = {
      connect: async (info, multipath) => {
        const m = await call({ op: "connect", info, multipath })
        return { ok: m.ok, ms: m.ms, value: m.result, error: m.error, counts: m.counts, sleepMs: m.sleep_ms }
      },
      disconnect: async (info, device, multipath) => {
        const m = await call({ op: "disconnect", info, device, multipath })
        return { ok: m.ok, ms: m.ms, error: m.error, counts: m.counts, sleepMs: m.sleep_ms }
      },
      /** Every item at once, a thread each: {wall_ms, items: [{ok, ms, result, error}]}. */
      burst: (kind, items, multipath) => call({ op: "burst", kind, items, multipath }),
      close: () => child.stdin.end(),
      errTail: () => errTail
    }
  })

// ---------------------------------------------------------------- host inspection (sysfs, plain fs)
const readTrim = (p) => {
  try {
    return fs.readFileSync(p, "utf8").trim()
  } catch {
    return undefined
  }
}
const ls = (p) => {
  try {
    return fs.readdirSync(p)
  } catch {
    return []
  }
}
/** Sessions of a target: [{sid, portal, blocks: [sdX of `lun`]}]. */
const sessionsOf = (iqn, lun) => {
  const out = []
  for (const s of ls("/sys/class/iscsi_session")) {
    if (readTrim(`/sys/class/iscsi_session/${s}/targetname`) !== iqn) continue
    const dev = `/sys/class/iscsi_session/${s}/device`
    const blocks = []
    for (const t of ls(dev)) {
      if (!t.startsWith("target")) continue
      for (const h of ls(`${dev}/${t}`)) {
        if (lun === undefined ? /^\d+:\d+:\d+:\d+$/.test(h) : h.endsWith(`:${lun}`)) {
          blocks.push(...ls(`${dev}/${t}/${h}/block`))
        }
      }
    }
    const conn = ls(dev).find((c) => c.startsWith("connection"))
    const addr = conn ? readTrim(`${dev}/${conn}/iscsi_connection/${conn}/persistent_address`) : undefined
    out.push({ sid: s, portal: addr, blocks })
  }
  return out
}
const holders = (sd) => ls(`/sys/block/${sd}/holders`)
const dmMaps = () => ls("/sys/block").filter((b) => b.startsWith("dm-"))

// ---------------------------------------------------------------- the floor
const iscsiadm = (args) =>
  new Promise((resolve) => {
    const c = spawn("iscsiadm", args, { stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    c.stderr.on("data", (d) => (err += d))
    c.on("exit", (code) => resolve({ code, err }))
  })
const floor = {
  /** Untimed: the node records the logins use (automatic scan, as iscsid.conf has it). */
  prepare: (portals) => {
    for (const p of portals) sh("iscsiadm", ["-m", "node", "-T", IQN, "-p", p, "-o", "new"])
  },
  connect: async (portals, multipath) => {
    const start = performance.now()
    let exited = 0
    const logins = portals.map((p) =>
      iscsiadm(["-m", "node", "-T", IQN, "-p", p, "--login"]).then((r) => (exited++, r))
    )
    for (;;) {
      const ss = sessionsOf(IQN, 0)
      const withDev = ss.filter((s) => s.blocks.length > 0)
      if (withDev.length >= (multipath ? 1 : portals.length)) {
        if (!multipath) break
        const dm = withDev.flatMap((s) => holders(s.blocks[0]))
        if (dm.length > 0) {
          const ms = performance.now() - start
          await Promise.all(logins)
          return { ok: true, ms, value: { path: `/dev/${dm[0]}` }, counts: { iscsiadm: portals.length } }
        }
      }
      if (exited === portals.length && ss.length === 0) {
        return { ok: false, ms: performance.now() - start, error: JSON.stringify(await Promise.all(logins)) }
      }
      if (performance.now() - start > 60_000) return { ok: false, ms: 60_000, error: "timeout" }
      await sleep(FLOOR_POLL)
    }
    const ms = performance.now() - start
    await Promise.all(logins)
    return { ok: true, ms, value: { path: "sd" }, counts: { iscsiadm: portals.length } }
  }
}

/** Removes every trace of the target's LUN 0 from the initiator (maps, devices, sessions, records). */
const cleanTarget = async (iqn, wwid) => {
  const ss = sessionsOf(iqn, 0)
  if (wwid) sh("multipath", ["-f", wwid])
  for (const s of ss) {
    for (const b of s.blocks) {
      for (const h of holders(b)) sh("dmsetup", ["remove", "--force", h])
      sh("blockdev", ["--flushbufs", `/dev/${b}`])
    }
  }
  await Promise.all(ss.length ? [iscsiadm(["-m", "node", "-T", iqn, "--logout"])] : [])
  sh("iscsiadm", ["-m", "node", "-T", iqn, "-o", "delete"])
  sh("udevadm", ["settle", "--timeout=10"])
}
const residue = (iqn) => {
  const ss = sessionsOf(iqn, 0)
  const nodes = ls(`/etc/iscsi/nodes/${iqn}`)
  return ss.length || nodes.length ? { sessions: ss.length, nodeRecords: nodes.length } : undefined
}

// ---------------------------------------------------------------- cases
const infoFor = (n) => {
  const portals = PORTALS.slice(0, n)
  const data = { target_portal: portals[0], target_iqn: IQN, target_lun: 0, volume_id: "bench-vol" }
  if (n > 1) {
    Object.assign(data, {
      target_portals: portals,
      target_iqns: portals.map(() => IQN),
      target_luns: portals.map(() => 0)
    })
  }
  return data
}
const pairs = [
  { name: "single", paths: 1, multipath: false },
  { name: "mp2", paths: 2, multipath: true },
  { name: "mp4", paths: 4, multipath: true }
]

let wwid
const settle = () => sh("udevadm", ["settle", "--timeout=10"])

/** One attach+detach by `who`; checks the result; cleans up and records residue. */
const cycle = async (who, impl, pair, tag) => {
  const info = infoFor(pair.paths)
  const portals = PORTALS.slice(0, pair.paths)
  settle()
  if (who === "floor") floor.prepare(portals)
  const loadAt = readTrim("/proc/loadavg")
  const a = who === "floor" ? await floor.connect(portals, pair.multipath) : await impl.connect(info, pair.multipath)
  const path = a.value?.path
  const okShape = a.ok && (pair.multipath ? /\/dev\/dm-\d+$/.test(path ?? "") : true)
  settle()
  let d
  if (who === "floor") {
    const t = performance.now()
    await cleanTarget(IQN, wwid)
    d = { ok: true, ms: performance.now() - t, counts: {} }
  } else if (a.ok) {
    d = await impl.disconnect(info, a.value, pair.multipath)
  }
  const left = residue(IQN)
  if (left || dmMaps().some((m) => readTrim(`/sys/block/${m}/dm/name`) === wwid)) await cleanTarget(IQN, wwid)
  record({
    case: tag ?? pair.name,
    who,
    attachOk: okShape,
    attachMs: a.ms,
    path,
    attachError: a.error,
    attachCounts: a.counts,
    attachSysfs: a.sysfs,
    attachSleepMs: a.sleepMs,
    detachOk: d?.ok,
    detachMs: d?.ms,
    detachError: d?.error,
    detachCounts: d?.counts,
    detachSysfs: d?.sysfs,
    detachSleepMs: d?.sleepMs,
    residue: left,
    load: loadAt,
    attachTrace: a.trace,
    detachTrace: d?.trace
  })
}

const main = async () => {
  raw.info.guest = {
    nproc: sh("nproc", []).stdout.trim(),
    cpu: readTrim("/proc/cpuinfo")?.match(/model name\s*:\s*(.*)/)?.[1],
    kernel: sh("uname", ["-r"]).stdout.trim()
  }
  sh("lab-target", ["delete-all"])
  const created = JSON.parse(
    sh("lab-target", [
      "create",
      "--iqn",
      IQN,
      ...PORTALS.flatMap((p) => ["--portal", p]),
      "--lun",
      "0:64M",
      "--serial",
      "0:6b1c0e55-0000-4000-8000-00000000b001"
    ]).stdout
  )
  wwid = `3${created.luns[0].wwn.replace(/^naa\./, "")}`
  note(`target ${IQN} lun0 wwid ${wwid}`)
  const osb = needsOsBrick ? await startOsBrick() : undefined
  note(
    `brick import ${raw.info.brickImportMs.toFixed(0)} ms; os-brick import ${
      raw.info.osbrickImportMs?.toFixed(0)
    } ms, ready ${raw.info.osbrickProcessReadyMs?.toFixed(0)} ms`
  )
  // warm-up (untimed): the first run of each builds layers, JIT, page cache
  const tools = [["brick", brick], ["osbrick", osb], ["floor", null], ...(base ? [["base", base]] : [])]
  const warmed = needsOsBrick ? tools : tools.filter(([who]) => who === "brick" || who === "base")
  for (const [who, impl] of warmed) await cycle(who, impl, pairs[0], "warmup")
  raw.ops = raw.ops.filter((o) => o.case !== "warmup")

  if (CASES.has("cli")) {
    await runCli({
      root: ROOT,
      reps: CLI_REPS,
      record,
      note,
      infoFor,
      brick,
      cleanTarget,
      residue,
      settle,
      iqn: IQN,
      wwid: () => wwid,
      loadavg: () => readTrim("/proc/loadavg")
    })
  }

  for (let r = 0; r < REPS; r++) {
    for (const pair of pairs) {
      if (!CASES.has(pair.name)) continue
      for (let k = 0; k < tools.length; k++) {
        const [who, impl] = tools[(k + r) % tools.length]
        await cycle(who, impl, pair)
      }
    }
  }

  if (CASES.has("blackhole")) {
    // one of 4 portals blackholed: brick must return the dm in <= 2x the healthy 4-path time
    sh("lab-target", ["portal-down", "--portal", PORTALS[3], "--mode", "drop"])
    for (let r = 0; r < EXTRA_REPS && !overBudget(); r++) {
      await cycle("brick", brick, pairs[2], "mp4-blackhole")
      // a blackholed login may linger in iscsid; let it die before the next run
      await cleanTarget(IQN, wwid)
    }
    sh("lab-target", ["portal-up", "--portal", PORTALS[3]])
    await cleanTarget(IQN, wwid)
  }

  if (CASES.has("reuse") && !overBudget()) {
    // a second LUN of the same target while the first is attached on all 4 paths: every
    // session exists already (target: <= 1 iscsiadm per already logged-in path)
    sh("lab-target", ["add-lun", "--iqn", IQN, "--lun", "1:64M", "--serial", "1:6b1c0e55-0000-4000-8000-00000000b002"])
    const lun0 = await brick.connect(infoFor(4), true)
    note(`reuse: LUN 0 attached on 4 paths: ${lun0.ok ? lun0.value.path : lun0.error}`)
    const info1 = { ...infoFor(4), target_lun: 1, target_luns: [1, 1, 1, 1], volume_id: "bench-vol-1" }
    for (let r = 0; r < REPS && !overBudget(); r++) {
      for (let k = 0; k < 2; k++) {
        const [who, impl] = [["brick", brick], ["osbrick", osb]][(k + r) % 2]
        settle()
        const a = await impl.connect(info1, true)
        settle()
        const d = a.ok ? await impl.disconnect(info1, a.value, true) : undefined
        const sessions = sessionsOf(IQN, 0).length
        record({
          case: "mp4-reuse",
          who,
          attachOk: a.ok && /\/dev\/dm-\d+$/.test(a.value?.path ?? ""),
          attachMs: a.ms,
          path: a.value?.path,
          attachError: a.error,
          attachCounts: a.counts,
          attachSysfs: a.sysfs,
          attachSleepMs: a.sleepMs,
          detachOk: d?.ok,
          detachMs: d?.ms,
          detachError: d?.error,
          detachCounts: d?.counts,
          detachSysfs: d?.sysfs,
          detachSleepMs: d?.sleepMs,
          residue: sessions === 4 ? undefined : { sessionsOfLun0: sessions },
          load: readTrim("/proc/loadavg"),
          attachTrace: a.trace,
          detachTrace: d?.trace
        })
      }
    }
    if (lun0.ok) await brick.disconnect(infoFor(4), lun0.value, true)
    await cleanTarget(IQN, wwid)
    sh("lab-target", ["remove-lun", "--iqn", IQN, "--lun", "1"])
  }

  if (CASES.has("burst") && !overBudget()) {
    await runBurst({
      ROOT,
      PORTALS,
      brick: brick.concurrent,
      base: base?.concurrent,
      osb,
      sh,
      note,
      record,
      settle,
      sessionsOf,
      holders,
      overBudget
    })
  }

  if (CASES.has("many") && overBudget()) note("time budget spent: 64-LUN case skipped")
  if (CASES.has("many") && !overBudget()) {
    // 64 LUNs of another target attached (one session, automatic scan, multipathd maps)
    const luns = Array.from({ length: 64 }, (_, i) => ["--lun", `${i}:1M`]).flat()
    sh("lab-target", ["create", "--iqn", MANY_IQN, "--portal", PORTALS[0], ...luns])
    sh("iscsiadm", ["-m", "node", "-T", MANY_IQN, "-p", PORTALS[0], "-o", "new"])
    sh("iscsiadm", ["-m", "node", "-T", MANY_IQN, "-p", PORTALS[0], "--login"])
    // ready when the 64 devices are there and multipathd has made (nearly) every map and
    // stopped making more for 10 s: measuring while it still works on them measures it
    const t = performance.now()
    let last = -1
    let stableSince = performance.now()
    for (;;) {
      const n = sessionsOf(MANY_IQN, undefined).reduce((a, s) => a + s.blocks.length, 0)
      const maps = dmMaps().length
      if (n * 1000 + maps !== last) (last = n * 1000 + maps), (stableSince = performance.now())
      if (n >= 64 && maps >= 64) break
      if (n >= 64 && performance.now() - stableSince > 10_000) break
      if (performance.now() - t > 300_000) break
      await sleep(500)
    }
    settle()
    const nDev = sessionsOf(MANY_IQN, undefined).reduce((a, s) => a + s.blocks.length, 0)
    note(
      `64-LUN host: ${nDev} devices, ${dmMaps().length} dm maps, ready after ${(performance.now() - t).toFixed(0)} ms`
    )
    raw.info.many = { devices: nDev, maps: dmMaps().length }
    for (let r = 0; r < EXTRA_REPS && !overBudget(); r++) {
      for (const pair of [pairs[0], pairs[2]]) {
        for (let k = 0; k < 2; k++) {
          const [who, impl] = [["brick", brick], ["osbrick", osb]][(k + r) % 2]
          await cycle(who, impl, pair, `${pair.name}-64luns`)
        }
      }
    }
  }
  osb?.close()
  await brick.dispose()
  await base?.dispose()
  raw.finished = new Date().toISOString()
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(raw, null, 1))
  report()
}

// ---------------------------------------------------------------- report
const fmt = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : "-")
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : "-")
const sumCounts = (c) => Object.values(c ?? {}).reduce((a, b) => a + b, 0)
const countStr = (ops, key) => {
  const c = ops[0]?.[key]
  if (!c) return "-"
  const names = Object.keys(c).sort()
  return names.map((n) => `${n} ${median(ops.map((o) => o[key]?.[n] ?? 0))}`).join(", ")
}
const sel = (c, who) => raw.ops.filter((o) => o.case === c && o.who === who)
const med = (c, who, k) =>
  median(sel(c, who).filter((o) => (k === "attachMs" ? o.attachOk : o.detachOk)).map((o) => o[k]))
const report = () => {
  log("")
  log(
    `brick-lab bench  ${raw.started}  guest: ${raw.info.guest.nproc} vCPU TCG (${raw.info.guest.cpu}), kernel ${raw.info.guest.kernel}`
  )
  log(
    `import: brick ${fmt(raw.info.brickImportMs)} ms (in-process, effect+core+interpreter-node); os-brick ${
      fmt(raw.info.osbrickImportMs)
    } ms (import) + ${fmt(raw.info.osbrickFactoryMs)} ms (factory); not in the figures below`
  )
  log(`medians of the alternating runs (ms; n = ok runs of each); failures excluded and counted`)
  log("")
  log(
    "| case | brick attach | os-brick attach | brick/os-brick | floor attach | brick/floor | brick detach | os-brick detach | brick/os-brick |"
  )
  log("|---|---|---|---|---|---|---|---|---|")
  const cases = [...new Set(raw.ops.filter((o) => o.attachMs !== undefined).map((o) => o.case))]
    .filter((c) => !c.startsWith("cli-"))
  for (const c of cases) {
    const ba = med(c, "brick", "attachMs"), oa = med(c, "osbrick", "attachMs"), fa = med(c, "floor", "attachMs")
    const bd = med(c, "brick", "detachMs"), od = med(c, "osbrick", "detachMs")
    log(
      `| ${c} | ${fmt(ba)} | ${fmt(oa)} | ${ratio(ba, oa)} | ${fmt(fa)} | ${ratio(ba, fa)} | ${fmt(bd)} | ${
        fmt(od)
      } | ${ratio(bd, od)} |`
    )
  }
  if (raw.ops.some((o) => o.who === "base")) {
    log("")
    log(`this build against the baseline build (${raw.info.baseline}), same runs:`)
    log("")
    log("| case | brick attach | base attach | brick/base | brick detach | base detach | brick/base |")
    log("|---|---|---|---|---|---|---|")
    for (const c of cases) {
      const ba = med(c, "brick", "attachMs"), xa = med(c, "base", "attachMs")
      const bd = med(c, "brick", "detachMs"), xd = med(c, "base", "detachMs")
      if (!Number.isFinite(xa)) continue
      log(`| ${c} | ${fmt(ba)} | ${fmt(xa)} | ${ratio(ba, xa)} | ${fmt(bd)} | ${fmt(xd)} | ${ratio(bd, xd)} |`)
    }
  }
  log("")
  log(
    "| case | who | runs ok/all | processes per attach (median) | per detach | sysfs ops attach (r/l/rl/w) | detach | time in sleep attach/detach |"
  )
  log("|---|---|---|---|---|---|---|---|")
  for (const c of cases) {
    for (const who of ["brick", "base", "osbrick"]) {
      const ops = sel(c, who)
      if (ops.length === 0) continue
      const ok = ops.filter((o) => o.attachOk && o.detachOk).length
      const sys = (k) =>
        ops[0][k] ? ["read", "list", "readlink", "write"].map((n) => median(ops.map((o) => o[k][n]))).join("/") : "-"
      const sl = who === "osbrick"
        ? `${fmt(median(ops.map((o) => o.attachSleepMs)))} / ${fmt(median(ops.map((o) => o.detachSleepMs)))}`
        : "-"
      log(
        `| ${c} | ${who} | ${ok}/${ops.length} | ${median(ops.map((o) => sumCounts(o.attachCounts)))}: ${
          countStr(ops, "attachCounts")
        } | ${median(ops.map((o) => sumCounts(o.detachCounts)))}: ${countStr(ops, "detachCounts")} | ${
          sys("attachSysfs")
        } | ${sys("detachSysfs")} | ${sl} |`
      )
    }
  }
  // brick's own changes to open-iscsi's database instead of processes (from its trace)
  const dbOps = (trace, what) => (trace ?? []).filter((l) => l.includes(`node record ${what} (`)).length
  if (raw.ops.some((o) => o.who === "brick" && o.attachTrace)) {
    log("")
    log("| case | node records brick wrote per attach (median) | removed per detach |")
    log("|---|---|---|")
    for (const c of cases) {
      const ops = sel(c, "brick").filter((o) => o.attachTrace)
      if (ops.length === 0) continue
      log(
        `| ${c} | ${median(ops.map((o) => dbOps(o.attachTrace, "written")))} | ${
          median(ops.map((o) => dbOps(o.detachTrace, "removed")))
        } |`
      )
    }
  }
  reportBurst(raw.ops, log, fmt)
  const bad = raw.ops.filter((o) => o.attachMs !== undefined).filter((o) =>
    !o.case.startsWith("cli-") && (!o.attachOk || (o.who !== "floor" && !o.detachOk) || o.residue)
  )
  if (bad.length) {
    log("")
    log("failures / residue:")
    for (const o of bad) {
      log(
        `  ${o.case} ${o.who}: attach ${o.attachOk ? "ok" : `FAIL ${o.path ?? ""} ${o.attachError ?? ""}`} detach ${
          o.detachOk ? "ok" : `FAIL ${o.detachError ?? ""}`
        } ${o.residue ? `residue ${JSON.stringify(o.residue)}` : ""}`
      )
    }
  }
  reportCli(raw.ops, log)
  log("")
  if (!REPORT) log(`guest load: ${readTrim("/proc/loadavg")}`)
}

const reportFrom = (file) => {
  const text = fs.readFileSync(file, "utf8")
  if (text.trimStart().startsWith("{")) Object.assign(raw, JSON.parse(text))
  else {
    for (const line of text.split("\n")) {
      const m = /^\[bench [^\]]*\] (\{.*\})$/.exec(line)
      if (m) raw.ops.push(JSON.parse(m[1]))
      const imp = /brick import (\d+) ms; os-brick import (\d+) ms/.exec(line)
      if (imp) Object.assign(raw.info, { brickImportMs: Number(imp[1]), osbrickImportMs: Number(imp[2]) })
    }
    raw.ops = raw.ops.filter((o) => o.case !== "warmup")
    raw.started = "(from log)"
  }
  raw.info.guest ??= { nproc: "2", cpu: "QEMU TCG", kernel: "?" }
  report()
}

if (REPORT) reportFrom(process.argv[3])
else {await main().catch((e) => {
    console.error("bench failed:", e)
    try {
      report()
    } catch {}
    process.exit(1)
  })}
