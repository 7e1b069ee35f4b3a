/**
 * Connect + disconnect throughput of brick's core programs on the simulated
 * host, live clock, zero-latency profile: cycles per second and service
 * operations per connect / disconnect, on hosts with few and many other
 * volumes attached. `pnpm bench:sim [cycles]`.
 */
import { Effect, References } from "effect"
import { connectVolume, disconnectVolume } from "@brick/core"
import { SimHost } from "../src/index.ts"

const iqn = "iqn.2010-10.org.openstack:volume-bench"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]

interface Row {
  readonly others: number
  readonly multipath: boolean
  readonly cyclesPerSecond: number
  readonly opsPerConnect: number
  readonly opsPerDisconnect: number
}

const bench = (others: number, multipath: boolean, cycles: number): Promise<Row> => {
  const host = SimHost.make({ targets: [{ iqn, portals, luns: [{ lun: 1 }] }], latency: "zero", multipathd: { running: multipath } }, { seed: 1 })
  host.preattach(others, { multipath })
  const info = multipath
    ? { target_portal: portals[0], target_iqn: iqn, target_lun: 1, target_portals: portals, target_iqns: [iqn, iqn], target_luns: [1, 1] }
    : { target_portal: portals[0], target_iqn: iqn, target_lun: 1 }
  const options = { useMultipath: multipath }
  const run = Effect.gen(function*() {
    for (let i = 0; i < Math.min(50, cycles); i++) yield* disconnectVolume(info, yield* connectVolume(info, options))
    let connectOps = 0
    let disconnectOps = 0
    const start = performance.now()
    for (let i = 0; i < cycles; i++) {
      const before = host.totalOps()
      const device = yield* connectVolume(info, options)
      const middle = host.totalOps()
      yield* disconnectVolume(info, device)
      connectOps += middle - before
      disconnectOps += host.totalOps() - middle
    }
    const seconds = (performance.now() - start) / 1000
    return { others, multipath, cyclesPerSecond: Math.round(cycles / seconds), opsPerConnect: connectOps / cycles, opsPerDisconnect: disconnectOps / cycles }
  })
  return Effect.runPromise(run.pipe(Effect.provide(host.layer), Effect.provideService(References.MinimumLogLevel, "Error")))
}

const cycles = Number(process.argv[2] ?? 1000)
const rows: Array<Row> = []
for (const multipath of [false, true]) {
  for (const others of [10, 1000]) rows.push(await bench(others, multipath, cycles))
}
console.table(rows)
