/**
 * brick's core programs on the simulated host, live clock, zero-latency
 * profile, one core:
 *  - connect + disconnect cycles per second of wall time and of this
 *    process's CPU time (the machine may be shared: CPU time is the steadier
 *    figure), single path and 2-path multipath, on hosts with 10 and with
 *    1,000 other volumes attached;
 *  - service operations per attach (connect) and per detach, and the ratio
 *    1,000 / 10 (target <= 1.1: per-attach work must not grow with unrelated
 *    sessions).
 * Each measurement builds its host and services once (as a long-running
 * process would), warms up (>= 1 s and >= 3,000 cycles, or
 * BENCH_WARMUP_CYCLES: the JIT needs that long before the figures settle),
 * then runs BENCH_ROUNDS (default 3) rounds of cycles, each for at least
 * `seconds`, and reports the median round (cycles/s of wall and of CPU time)
 * and the range of the per-CPU-second figures over the rounds (a shared,
 * noisy machine moves single rounds a lot).
 * Run: `pnpm bench:sim [seconds] [filter]` (root script: tsc -b, then this
 * file from dist); `filter` keeps one row
 * (`single/1000`) or one mode (`multipath`).
 */
import { connectVolume, disconnectVolume } from "@brick/core"
import { Effect, ManagedRuntime, References } from "effect"
import { SimHost } from "../src/index.ts"

const iqn = "iqn.2010-10.org.openstack:volume-bench"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]

interface Row {
  readonly name: string
  readonly others: number
  readonly multipath: boolean
  readonly cycles: number
  readonly cyclesPerSecond: number
  /** Cycles per second of this process's own CPU time (insensitive to other load on the machine). */
  readonly cyclesPerCpuSecond: number
  readonly opsPerAttach: number
  readonly opsPerDetach: number
  /** The lowest and highest cycles per CPU-second over the rounds. */
  readonly cpuRange: string
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const bench = async (others: number, multipath: boolean, seconds: number): Promise<Row> => {
  const host = SimHost.make(
    { targets: [{ iqn, portals, luns: [{ lun: 1 }] }], latency: "zero", multipathd: { running: multipath } },
    { seed: 1 }
  )
  host.preattach(others, { multipath })
  const info = multipath
    ? { target_portals: portals, target_iqns: [iqn, iqn], target_luns: [1, 1] }
    : { target_portal: portals[0], target_iqn: iqn, target_lun: 1 }
  const options = { useMultipath: multipath }
  // the services are built once, as a long-running process would
  const runtime = ManagedRuntime.make(host.layer)
  let attachOps = 0
  let detachOps = 0
  const cycle = Effect.gen(function*() {
    const before = host.totalOps()
    const device = yield* connectVolume(info, options)
    const middle = host.totalOps()
    yield* disconnectVolume(info, device)
    attachOps += middle - before
    detachOps += host.totalOps() - middle
  })
  /** Runs cycles in batches until `ms` have passed and at least `min` cycles ran; returns how many. */
  const runFor = (ms: number, min = 0) =>
    Effect.gen(function*() {
      const until = performance.now() + ms
      let n = 0
      while (performance.now() < until || n < min) {
        for (let i = 0; i < 20; i++) yield* cycle
        n += 20
      }
      return n
    }).pipe(Effect.provideService(References.MinimumLogLevel, "Error"))
  try {
    // warm-up: the JIT needs a few thousand cycles before the figures settle
    await runtime.runPromise(runFor(warmupSeconds * 1000, warmupCycles))
    attachOps = 0
    detachOps = 0
    let cycles = 0
    const perWall: Array<number> = []
    const perCpu: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      const start = performance.now()
      const cpu = process.cpuUsage()
      const n = await runtime.runPromise(runFor(seconds * 1000))
      const wall = (performance.now() - start) / 1000
      const used = process.cpuUsage(cpu)
      cycles += n
      perWall.push(n / wall)
      perCpu.push(n / ((used.user + used.system) / 1e6))
    }
    return {
      name: `${multipath ? "multipath" : "single"}/${others}`,
      others,
      multipath,
      cycles,
      cyclesPerSecond: Math.round(median(perWall)),
      cyclesPerCpuSecond: Math.round(median(perCpu)),
      opsPerAttach: attachOps / cycles,
      opsPerDetach: detachOps / cycles,
      cpuRange: `${Math.round(Math.min(...perCpu))}-${Math.round(Math.max(...perCpu))}`
    }
  } finally {
    await runtime.dispose()
  }
}

const seconds = Number(process.argv[2] ?? 2)
const warmupSeconds = 1
const warmupCycles = Number(process.env.BENCH_WARMUP_CYCLES ?? 3000)
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const filter = process.argv[3] ?? ""
const rows: Array<Row> = []
for (const multipath of [false, true]) {
  for (const others of [10, 1000]) {
    const name = `${multipath ? "multipath" : "single"}/${others}`
    if (filter === "" || name === filter || name.startsWith(`${filter}/`)) {
      rows.push(await bench(others, multipath, seconds))
    }
  }
}
console.table(rows.map(({ name: _, ...r }) => r))
for (const multipath of [false, true]) {
  const few = rows.find((r) => r.multipath === multipath && r.others === 10)
  const many = rows.find((r) => r.multipath === multipath && r.others === 1000)
  if (few === undefined || many === undefined) continue
  console.log(
    `${
      multipath ? "multipath" : "single path"
    }: ops per attach ${few.opsPerAttach} (10 others) vs ${many.opsPerAttach} (1000 others): ratio ${
      (many.opsPerAttach / few.opsPerAttach).toFixed(3)
    }; ` +
      `${few.cyclesPerSecond} cycles/s (${few.cyclesPerCpuSecond} per CPU-second) with 10 others, ` +
      `${many.cyclesPerSecond} (${many.cyclesPerCpuSecond}) with 1000`
  )
}
