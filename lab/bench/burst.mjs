// The `burst` case of `pnpm bench:lab`: many volumes attached at once, then detached at once.
// 16 volumes (4 targets x 4 LUNs, each target on 2 of the 4 portals, multipath) by:
//   brick-cli   16 `brick connect` / `brick disconnect` processes started together (the CLI bundle)
//   brick       one process, 16 concurrent connectVolume / disconnectVolume (this process)
//   osbrick     one Python process, 16 threads calling one connector (as Nova's do)
//   base        with BENCH_BASELINE: the baseline build of brick, one process, as `brick`
// and the same volume alone by each (the "lone" attach the per-volume figures compare with).
// Then 64 volumes (4 targets x 16 LUNs) once, by brick in one process (BENCH_BURST64 lists who).
// Env: BENCH_BURST_REPS (rounds of the 16-volume burst, default 2), BENCH_BURST_WHO (the ways, default
// all: brick,brick-cli,osbrick,base), BENCH_BURST64 (default "brick"; "" skips it; e.g. "brick,osbrick").
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { performance } from "node:perf_hooks"

const REPS = Number(process.env.BENCH_BURST_REPS ?? 2)
const WHO = (process.env.BENCH_BURST_WHO ?? "brick,brick-cli,osbrick,base").split(",").filter(Boolean)
const WHO64 = (process.env.BENCH_BURST64 ?? "brick").split(",").filter(Boolean)
const TARGETS = 4
const PREFIX = "iqn.2024-01.org.brick.bench:burst"

/** Nearest-rank percentile. */
export const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}

/** The guest's CPU time so far (/proc/stat, all CPUs, in ticks): busy and all, and this process's own (µs). */
const cpuNow = () => {
  const ticks = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number)
  const idle = ticks[3] + ticks[4]
  const all = ticks.reduce((a, b) => a + b, 0)
  const own = process.cpuUsage()
  const uevents = Number(fs.readFileSync("/sys/kernel/uevent_seqnum", "utf8"))
  return { busy: all - idle, all, ownUs: own.user + own.system, uevents }
}

/**
 * CPU ticks used so far by every process and kernel thread of the guest, by name (/proc/<pid>/stat:
 * utime + stime + cutime + cstime, so a reaped helper counts for the process that waited for it;
 * kworker/… and other per-CPU kernel threads folded into one name).
 */
const ticksByName = () => {
  const out = new Map()
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue
    let stat
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    } catch {
      continue
    }
    const open = stat.indexOf("("), close = stat.lastIndexOf(")")
    const name = stat.slice(open + 1, close).replace(/\/.*$/, "").replace(/\d+$/, "")
    const f = stat.slice(close + 2).split(" ")
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
    out.set(`${pid}:${name}`, ticks)
  }
  return out
}

/** The names that used the most CPU between two ticksByName samples: [[name, CPU-s]], largest first. */
const topBetween = (a, b, n = 8, hz = 100) => {
  const byName = new Map()
  for (const [key, ticks] of b) {
    const used = ticks - (a.get(key) ?? 0)
    if (used <= 0) continue
    const name = key.slice(key.indexOf(":") + 1)
    byName.set(name, (byName.get(name) ?? 0) + used / hz)
  }
  return [...byName].sort((x, y) => y[1] - x[1]).slice(0, n).map(([k, v]) => [k, Math.round(v * 100) / 100])
}

/** Between two cpuNow samples: the share of the guest's CPU time that was busy, busy CPU-s, this process's CPU-s, uevents. */
const cpuBetween = (a, b, hz = 100) => {
  const busy = b.busy - a.busy, all = b.all - a.all
  return {
    busyShare: all > 0 ? busy / all : NaN,
    busyS: busy / hz,
    ownS: (b.ownUs - a.ownUs) / 1e6,
    uevents: b.uevents - a.uevents
  }
}

/**
 * Runs the case. `h` is what bench.mjs shares: {ROOT, PORTALS, brick and base (concurrent: connect,
 * disconnect, startTrace, takeTrace; base may be undefined), osb, sh, note, record, settle, sessionsOf, holders, overBudget}.
 */
export const runBurst = async (h) => {
  const { PORTALS, sh, note, record, settle, sessionsOf, holders } = h
  const dir = "/tmp/brick-bench-burst"
  fs.mkdirSync(dir, { recursive: true })
  const bin = path.join(h.ROOT, "packages/cli/dist/brick.mjs")
  const iqn = (t) => `${PREFIX}-t${t}`
  const portalsOf = (t) => [PORTALS[t % PORTALS.length], PORTALS[(t + 1) % PORTALS.length]]

  const makeTargets = (lunsPerTarget) => {
    for (let t = 0; t < TARGETS; t++) sh("lab-target", ["delete", "--iqn", iqn(t), "--if-exists"])
    for (let t = 0; t < TARGETS; t++) {
      const luns = Array.from({ length: lunsPerTarget }, (_, l) => ["--lun", `${l}:1M`]).flat()
      const r = sh("lab-target", ["create", "--iqn", iqn(t), ...portalsOf(t).flatMap((p) => ["--portal", p]), ...luns])
      if (r.status !== 0) throw new Error(`lab-target create ${iqn(t)}: ${r.stderr}`)
    }
  }
  /** Volume v: target v % 4, LUN floor(v / 4); Cinder's data with both portals. */
  const infoOf = (v) => {
    const t = v % TARGETS, lun = Math.floor(v / TARGETS), ps = portalsOf(t)
    return {
      target_portal: ps[0],
      target_iqn: iqn(t),
      target_lun: lun,
      target_portals: ps,
      target_iqns: ps.map(() => iqn(t)),
      target_luns: ps.map(() => lun),
      volume_id: `burst-${v}`
    }
  }
  const left = () => {
    let sessions = 0, devices = 0
    for (let t = 0; t < TARGETS; t++) {
      for (const s of sessionsOf(iqn(t), undefined)) (sessions++, (devices += s.blocks.length))
    }
    return sessions || devices ? { sessions, devices } : undefined
  }
  /** Removes whatever a failed run left of the targets (maps, devices, sessions, records). */
  const clean = () => {
    for (let t = 0; t < TARGETS; t++) {
      for (const s of sessionsOf(iqn(t), undefined)) {
        for (const b of s.blocks) for (const m of holders(b)) sh("dmsetup", ["remove", "--force", m])
      }
      sh("iscsiadm", ["-m", "node", "-T", iqn(t), "--logout"])
      sh("iscsiadm", ["-m", "node", "-T", iqn(t), "-o", "delete"])
    }
    settle()
  }

  // ---- the three ways, each: connect(vs) / disconnect(vs, devices) -> {wallMs, items: [{ok, ms, value, error}]}
  const timed = async (fns) => {
    const start = performance.now()
    const items = await Promise.all(fns.map(async (f) => {
      const t = performance.now()
      const r = await f()
      return { ...r, ms: performance.now() - t }
    }))
    return { wallMs: performance.now() - start, items }
  }
  const cliRun = (args) =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
      let out = "", err = ""
      c.stdout.on("data", (d) => (out += d))
      c.stderr.on("data", (d) => (err = (err + d).slice(-2000)))
      c.on("exit", (code) => {
        if (code !== 0) return resolve({ ok: false, error: `exit ${code}: ${err.trim().split("\n").pop()}` })
        try {
          resolve({ ok: true, value: JSON.parse(out) })
        } catch {
          resolve({ ok: false, error: `unreadable output: ${out.slice(0, 200)}` })
        }
      })
    })
  const fileOf = (v, what, value) => {
    const f = path.join(dir, `${what}-${v}.json`)
    if (value !== undefined) fs.writeFileSync(f, JSON.stringify(value))
    return f
  }
  const ways = {
    "brick-cli": {
      connect: (vs) =>
        timed(vs.map((v) => () => cliRun(["connect", "--info", fileOf(v, "info", infoOf(v)), "--multipath"]))),
      disconnect: (vs, devs) =>
        timed(
          vs.map((v, i) => () =>
            cliRun(["disconnect", "--info", fileOf(v, "info", infoOf(v)), "--device", fileOf(v, "device", devs[i])])
          )
        )
    },
    brick: {
      connect: (vs) => timed(vs.map((v) => () => h.brick.connect(infoOf(v), true))),
      disconnect: (vs, devs) => timed(vs.map((v, i) => () => h.brick.disconnect(infoOf(v), devs[i], true)))
    },
    base: h.base && {
      connect: (vs) => timed(vs.map((v) => () => h.base.connect(infoOf(v), true))),
      disconnect: (vs, devs) => timed(vs.map((v, i) => () => h.base.disconnect(infoOf(v), devs[i], true)))
    },
    osbrick: {
      connect: async (vs) => {
        const r = await h.osb.burst("connect", vs.map((v) => ({ info: infoOf(v) })), true)
        return { wallMs: r.wall_ms, items: r.items.map((i) => ({ ...i, value: i.result })) }
      },
      disconnect: async (vs, devs) => {
        const r = await h.osb.burst("disconnect", vs.map((v, i) => ({ info: infoOf(v), device: devs[i] })), true)
        return { wallMs: r.wall_ms, items: r.items }
      }
    }
  }
  const isDm = (value) => /\/dev\/dm-\d+$/.test(value?.path ?? "")

  /** Attaches `vs` at once, then detaches them at once; records one op. */
  const round = async (tag, who, vs) => {
    settle()
    const tracer = who === "base" ? h.base : h.brick
    tracer.startTrace()
    const load = fs.readFileSync("/proc/loadavg", "utf8").trim()
    const cpuStart = cpuNow(), byNameStart = ticksByName()
    const a = await ways[who].connect(vs)
    const cpuAttached = cpuNow(), byNameAttached = ticksByName()
    settle()
    const attachTrace = tracer.takeTrace()
    const attachSysfs = tracer.sysfsCounts?.()
    const devs = a.items.map((i) => i.value)
    const okVs = vs.filter((_, i) => a.items[i].ok)
    tracer.startTrace()
    const cpuDetaching = cpuNow(), byNameDetaching = ticksByName()
    const d = await ways[who].disconnect(okVs, devs.filter((_, i) => a.items[i].ok))
    const cpuDetached = cpuNow(), byNameDetached = ticksByName()
    const detachTrace = tracer.takeTrace()
    const detachSysfs = tracer.sysfsCounts?.()
    settle()
    const residue = left()
    if (residue) clean()
    const errors = [...a.items, ...d.items].filter((i) => !i.ok).map((i) => i.error)
    record({
      case: tag,
      who,
      volumes: vs.length,
      attachOk: a.items.every((i) => i.ok && isDm(i.value)),
      attachWallMs: a.wallMs,
      attachMsEach: a.items.map((i) => i.ms),
      attachNotDm: a.items.filter((i) => i.ok && !isDm(i.value)).length,
      detachOk: d.items.length === vs.length && d.items.every((i) => i.ok),
      detachWallMs: d.wallMs,
      detachMsEach: d.items.map((i) => i.ms),
      errors: errors.slice(0, 4),
      failures: errors.length,
      residue,
      load,
      attachCpu: { ...cpuBetween(cpuStart, cpuAttached), top: topBetween(byNameStart, byNameAttached) },
      detachCpu: { ...cpuBetween(cpuDetaching, cpuDetached), top: topBetween(byNameDetaching, byNameDetached) },
      attachSysfs: who === "brick" || who === "base" ? attachSysfs : undefined,
      detachSysfs: who === "brick" || who === "base" ? detachSysfs : undefined,
      attachTrace: who === "brick" || who === "base" ? attachTrace : undefined,
      detachTrace: who === "brick" || who === "base" ? detachTrace : undefined
    })
  }

  makeTargets(4)
  const sixteen = Array.from({ length: 16 }, (_, v) => v)
  const order = ["brick", "brick-cli", "osbrick", "base"].filter((w) => WHO.includes(w) && ways[w])
  // warm-up (untimed): one lone cycle each (page cache, JIT, the CLI bundle's first load)
  for (const who of order) await round("burst-warmup", who, [0])
  for (let r = 0; r < REPS && !h.overBudget(); r++) {
    for (let k = 0; k < order.length; k++) {
      const who = order[(k + r) % order.length]
      await round("lone", who, [r % 16])
      await round("burst16", who, sixteen)
    }
  }
  if (WHO64.length && !h.overBudget()) {
    makeTargets(16)
    for (const who of WHO64) {
      if (h.overBudget()) break
      await round("burst64", who, Array.from({ length: 64 }, (_, v) => v))
    }
  }
  for (let t = 0; t < TARGETS; t++) sh("lab-target", ["delete", "--iqn", iqn(t), "--if-exists"])
}

/** The burst tables from the recorded ops. */
export const reportBurst = (ops, log, fmt) => {
  const burst = ops.filter((o) => ["lone", "burst16", "burst64"].includes(o.case))
  if (burst.length === 0) return
  const med = (xs) => percentile(xs, 50)
  const sel = (c, who) => burst.filter((o) => o.case === c && o.who === who)
  const lone = (who, k) => med(sel("lone", who).filter((o) => o[k.replace("MsEach", "Ok")]).flatMap((o) => o[k]))
  const osWall = (c, k) => med(sel(c, "osbrick").map((o) => o[k]))
  log("")
  log("volumes attached at once (4 targets x 2 portals, multipath), then detached at once; ms; per-volume")
  log("p50/p95 over every volume of every round; lone = one volume alone, same way, same rounds")
  log("")
  log(
    "| case | who | rounds ok/all | attach wall | wall/os-brick | per volume p50 / p95 | lone attach | p95/lone | detach wall | wall/os-brick | per volume p50 / p95 | lone detach |"
  )
  log("|---|---|---|---|---|---|---|---|---|---|---|---|")
  for (const c of ["burst16", "burst64"]) {
    for (const who of ["brick", "base", "brick-cli", "osbrick"]) {
      const os = sel(c, who)
      if (os.length === 0) continue
      const ok = os.filter((o) => o.attachOk && o.detachOk && !o.residue).length
      const aw = med(os.map((o) => o.attachWallMs)), dw = med(os.map((o) => o.detachWallMs))
      const a = os.flatMap((o) => o.attachMsEach), d = os.flatMap((o) => o.detachMsEach)
      const la = lone(who, "attachMsEach"), ld = lone(who, "detachMsEach")
      const r = (x, y) => (Number.isFinite(x) && Number.isFinite(y) && y > 0 ? (x / y).toFixed(2) : "-")
      log(
        `| ${c} | ${who} | ${ok}/${os.length} | ${fmt(aw)} | ${r(aw, osWall(c, "attachWallMs"))} | ${fmt(med(a))} / ${
          fmt(percentile(a, 95))
        } | ${fmt(la)} | ${r(percentile(a, 95), la)} | ${fmt(dw)} | ${r(dw, osWall(c, "detachWallMs"))} | ${
          fmt(med(d))
        } / ${fmt(percentile(d, 95))} | ${fmt(ld)} |`
      )
    }
  }
  log("")
  log("the guest's CPUs while attaching / detaching (median over rounds): share of CPU time busy, busy CPU-s;")
  log("own = CPU-s of the bench process itself (brick's in-process connects; the others run in other processes)")
  log("")
  log("| case | who | attach: busy | busy CPU-s | own CPU-s | detach: busy | busy CPU-s | own CPU-s |")
  log("|---|---|---|---|---|---|---|---|")
  const pct = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : "-")
  const sec = (x) => (Number.isFinite(x) ? x.toFixed(1) : "-")
  for (const c of ["lone", "burst16", "burst64"]) {
    for (const who of ["brick", "base", "brick-cli", "osbrick"]) {
      const os = sel(c, who).filter((o) => o.attachCpu)
      if (os.length === 0) continue
      const m = (f) => med(os.map(f))
      log(
        `| ${c} | ${who} | ${pct(m((o) => o.attachCpu.busyShare))} | ${sec(m((o) => o.attachCpu.busyS))} | ${
          sec(m((o) => o.attachCpu.ownS))
        } | ${pct(m((o) => o.detachCpu.busyShare))} | ${sec(m((o) => o.detachCpu.busyS))} | ${
          sec(m((o) => o.detachCpu.ownS))
        } |`
      )
    }
  }
  log("")
  log(
    "while attaching (first round): brick's sysfs operations, the kernel's uevents, and where the guest's CPU went (CPU-s by process name; the bench process is node)"
  )
  for (const c of ["lone", "burst16", "burst64"]) {
    for (const who of ["brick", "base", "brick-cli", "osbrick"]) {
      const o = sel(c, who).find((x) => x.attachCpu?.top)
      const total = (counts) => Object.values(counts).reduce((x, y) => x + y, 0)
      const ops = o?.attachSysfs ? `${total(o.attachSysfs)} sysfs operations; ` : ""
      if (o) {
        log(
          `  ${c} ${who}: ${ops}${o.attachCpu.uevents} uevents; ${
            o.attachCpu.top.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")
          }`
        )
      }
    }
  }
  const bad = burst.filter((o) => o.failures || o.residue || o.attachNotDm)
  for (const o of bad) {
    log(
      `  ${o.case} ${o.who}: ${o.failures} failures, ${o.attachNotDm} not a dm, residue ${
        JSON.stringify(o.residue ?? null)
      }: ${o.errors.join(" | ")}`
    )
  }
}
