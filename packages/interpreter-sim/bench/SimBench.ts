/**
 * brick's core programs on the simulated host, live clock, zero-latency
 * profile, one core:
 *  - connect + disconnect cycles per second of wall time and of this
 *    process's CPU time (single path, and 2-path multipath);
 *  - service operations per attach (connect) and per detach on hosts with 10
 *    and with 1,000 other volumes attached, and the ratio 1,000 / 10 (target
 *    <= 1.1: per-attach work must not grow with unrelated sessions).
 * Run: `pnpm bench:sim [cycles]` (root script: tsc -b, then this file from dist).
 */
import { Effect, Layer, References } from "effect"
import { connectVolume, disconnectVolume } from "@brick/core"
import { SimHost } from "../src/index.ts"

const iqn = "iqn.2010-10.org.openstack:volume-bench"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]

interface Row {
  readonly others: number
  readonly multipath: boolean
  readonly cyclesPerSecond: number
  /** Cycles per second of this process's own CPU time (insensitive to other load on the machine). */
  readonly cyclesPerCpuSecond: number
  readonly opsPerAttach: number
  readonly opsPerDetach: number
}

const bench = async (others: number, multipath: boolean, cycles: number): Promise<Row> => {
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
  const context = await Effect.runPromise(Effect.scoped(Layer.build(host.layer)))
  const run = Effect.gen(function*() {
    for (let i = 0; i < Math.min(100, cycles); i++) yield* disconnectVolume(info, yield* connectVolume(info, options))
    let attachOps = 0
    let detachOps = 0
    const start = performance.now()
    const cpu = process.cpuUsage()
    for (let i = 0; i < cycles; i++) {
      const before = host.totalOps()
      const device = yield* connectVolume(info, options)
      const middle = host.totalOps()
      yield* disconnectVolume(info, device)
      attachOps += middle - before
      detachOps += host.totalOps() - middle
    }
    const seconds = (performance.now() - start) / 1000
    const used = process.cpuUsage(cpu)
    const cpuSeconds = (used.user + used.system) / 1e6
    return {
      others,
      multipath,
      cyclesPerSecond: Math.round(cycles / seconds),
      cyclesPerCpuSecond: Math.round(cycles / cpuSeconds),
      opsPerAttach: attachOps / cycles,
      opsPerDetach: detachOps / cycles
    }
  })
  return Effect.runPromise(
    run.pipe(Effect.provideContext(context), Effect.provideService(References.MinimumLogLevel, "Error"))
  )
}

const cycles = Number(process.argv[2] ?? 1000)
const rows: Array<Row> = []
for (const multipath of [false, true]) {
  for (const others of [10, 1000]) rows.push(await bench(others, multipath, others >= 1000 ? Math.max(10, Math.round(cycles / 10)) : cycles))
}
console.table(rows)
for (const multipath of [false, true]) {
  const few = rows.find((r) => r.multipath === multipath && r.others === 10)!
  const many = rows.find((r) => r.multipath === multipath && r.others === 1000)!
  console.log(
    `${multipath ? "multipath" : "single path"}: ops per attach ${few.opsPerAttach} (10 others) vs ${many.opsPerAttach} (1000 others): ratio ${(many.opsPerAttach / few.opsPerAttach).toFixed(3)}; ` +
      `${few.cyclesPerSecond} connect+disconnect cycles/s (${few.cyclesPerCpuSecond} per CPU-second)`
  )
}
