/**
 * A walk-through on the simulated host: one volume behind four portals, of
 * which one is blackholed (packets dropped: logins hang until they time out)
 * and one is flaky (half its logins fail), with a slow udev. brick logs in
 * to every portal in parallel, keeps the paths that work, returns the
 * multipath device as soon as the map has formed, and after disconnect the
 * host is exactly as it was.
 *
 *     pnpm demo        (tsc -b && node examples/dist/flaky-fabric.js)
 *
 * The simulated host runs on a virtual clock, so the 15-second login timeout
 * of the blackholed portal costs no real time, and every run is the same.
 */
import { ConnectionInfo, ConnectorOptions, ConnectVolume, DisconnectVolume } from "@brick/core"
import { SimHost, SimSnapshot } from "@brick/interpreter-sim"
import { Cause, Effect, Logger, Option } from "effect"
import { TestClock } from "effect/testing"
import { pathToFileURL } from "node:url"

const iqn = "iqn.2010-10.org.openstack:volume-flaky"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260", "10.99.0.4:3260"]

/** The fabric: two good portals, one blackholed, one flaky; udev takes 1.5 s. */
export const spec: SimHost.SimHost["spec"] = {
  targets: [{ iqn, portals, luns: [{ lun: 1, sizeBytes: 10 * 1024 ** 3 }] }],
  network: {
    "10.99.0.3:3260": "blackholed",
    "10.99.0.4:3260": { state: "flaky", p: 0.5 }
  },
  udev: { delayMs: 1500 },
  multipathd: { running: true, mapDelayMs: 200 },
  latency: "lab"
}

/** What Cinder would send for this volume. */
export const connectionInfo = {
  driver_volume_type: "iscsi",
  data: {
    target_portal: portals[0],
    target_iqn: iqn,
    target_lun: 1,
    target_portals: portals,
    target_iqns: portals.map(() => iqn),
    target_luns: portals.map(() => 1),
    volume_id: "flaky-1"
  }
}

/** What the walk-through found. */
export interface FlakyFabricResult {
  readonly narrative: ReadonlyArray<string>
  readonly device: { readonly path: string; readonly scsi_wwn: string; readonly multipath_id?: string }
  /** The SCSI devices in the returned map. */
  readonly mapPaths: ReadonlyArray<string>
  /** Portals with a session once connect returned. */
  readonly sessionPortals: ReadonlyArray<string>
  readonly connectMs: number
  readonly disconnectMs: number
  /** Nothing of the volume left after disconnect. */
  readonly clean: boolean
}

/** Runs `effect` on a virtual clock, advancing it until the effect ends. */
const runVirtual = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(effect)
      for (;;) {
        yield* Effect.yieldNow
        const exit = fiber.pollUnsafe()
        if (exit !== undefined) return yield* exit
        yield* TestClock.adjust(10)
      }
    }).pipe(Effect.provide(TestClock.layer()))
  ).catch((e: unknown) => Promise.reject(Cause.isCause(e) ? new Error(Cause.pretty(e)) : e))

/** The walk-through; `seed` picks the flaky portal's luck. */
export const run = async (seed = 3): Promise<FlakyFabricResult> => {
  const sim = SimHost.make(spec, { seed })
  const before = sim.snapshot()
  const narrative: Array<string> = []
  const say = (line: string) => narrative.push(line)
  let t0 = 0
  const logger = Logger.make((o) => {
    const text = Array.isArray(o.message) ? o.message.join(" ") : String(o.message)
    say(`  [+${String(o.date.getTime() - t0).padStart(5)} ms] ${o.logLevel.padEnd(7)} ${text}`)
  })

  say(`A volume (LUN 1 of ${iqn}) behind ${portals.length} portals:`)
  say(`  ${portals[0]}, ${portals[1]}: healthy`)
  say(`  ${portals[2]}: blackholed (logins hang until the login timeout)`)
  say(`  ${portals[3]}: flaky (each login fails with probability 0.5)`)
  say(`  udev takes 1.5 s to create the /dev links; multipathd forms maps 200 ms after a path appears.`)
  say("")
  say("connectVolume with useMultipath:")

  const program = Effect.gen(function*() {
    const data = yield* ConnectionInfo.decode(connectionInfo)
    const options = yield* ConnectorOptions.decode({ useMultipath: true })
    t0 = yield* Effect.clockWith((c) => c.currentTimeMillis)
    const device = yield* ConnectVolume.connect(data, options)
    const connected = yield* Effect.clockWith((c) => c.currentTimeMillis)
    const afterConnect = yield* sim.snapshotNow
    const t1 = yield* Effect.clockWith((c) => c.currentTimeMillis)
    yield* DisconnectVolume.disconnect(data, options, Option.some(device), {})
    const t2 = yield* Effect.clockWith((c) => c.currentTimeMillis)
    // let every late event (a straggling login, udev) happen before judging the host
    yield* Effect.sleep(60_000)
    const after = yield* sim.snapshotNow
    return { device, afterConnect, after, connectMs: connected - t0, disconnectMs: t2 - t1 }
  }).pipe(Effect.provide(sim.layer), Effect.provide(Logger.layer([logger])))

  const { after, afterConnect, connectMs, device, disconnectMs } = await runVirtual(program)
  const map = afterConnect.maps.find((m) => `/dev/${m.dm}` === device.path)
  const sessionPortals = afterConnect.sessions.map((s) => s.portal)
  const clean = SimSnapshot.isEmpty(SimSnapshot.diff(before, after))

  say("")
  say(`connect returned after ${(connectMs / 1000).toFixed(2)} s (virtual): ${JSON.stringify(device)}`)
  say(`  the multipath map ${map?.name ?? "(none)"} (${device.path}) holds ${map?.paths.join(", ") ?? "nothing"}`)
  say(`  sessions: ${sessionPortals.join(", ") || "none"}`)
  const unused = portals.filter((p) => !sessionPortals.includes(p))
  if (unused.length > 0) {
    say(
      `  not used: ${
        unused.join(", ")
      } — brick did not wait for them once the map had formed; nothing of theirs is left`
    )
  }
  say("")
  say(
    `disconnectVolume took ${(disconnectMs / 1000).toFixed(2)} s (virtual); afterwards the host is ` +
      (clean ? "exactly as before: no session, node record, SCSI device, link or map left." : "NOT clean:")
  )
  if (!clean) say(JSON.stringify(SimSnapshot.diff(before, after), null, 2))
  return {
    narrative,
    device,
    mapPaths: map?.paths ?? [],
    sessionPortals,
    connectMs,
    disconnectMs,
    clean
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (r) => {
      console.log(r.narrative.join("\n"))
      process.exitCode = r.clean ? 0 : 1
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e)
      process.exitCode = 1
    }
  )
}
