/**
 * The lab scenarios (labScenarios.ts) on the simulator: SimHost shaped like
 * the lab guest (initiator name, dummy0/dummy1, LIO's SendTargets, multipathd
 * with find_multipaths no, the `lab` latency profile), one fresh host per
 * scenario, virtual time. The same table runs on the real kernel in
 * scenarios.lab.test.ts; both must produce the same outcome.
 */
import { SimHost, SimInterfaces, type SimSpec } from "@brick/interpreter-sim"
import { Cause, Clock, Effect, Exit, Fiber, Layer, Logger, Option } from "effect"
import { TestClock } from "effect/testing"
import { describe, it } from "vitest"
import { check, type HostPicture, type LabDriver, offloadHbas, scenarios, type Services } from "./labScenarios.ts"

const initiatorName = "iqn.2004-10.com.brick:lab-initiator"

/** A driver over a fresh simulated host (with offload HBAs when asked). */
const simDriver = (hbas: boolean): LabDriver => {
  const spec: SimSpec.SimSpec = {
    ...(hbas ? offloadHbas : {}),
    targets: [],
    latency: "lab",
    initiatorName,
    netdevs: ["lo", "dummy0", "dummy1"],
    // the lab guest's addresses (lab/README.md)
    netdevAddresses: {
      dummy0: { addresses: ["10.99.0.1", "10.99.0.2", "10.99.0.3", "10.99.0.4", "fd00:99::1", "fd00:99::2"] },
      dummy1: { addresses: ["10.99.1.1", "10.99.1.2"] }
    },
    localAddress: { ipv4: "10.99.0.1" },
    multipathd: { findMultipaths: "no" }
  }
  const host = SimHost.make(spec, { seed: 7 })
  const interfaces = SimInterfaces.interfacesOf(spec)
  let epoch = 0
  /** Runs `effect` under a TestClock that continues the host's time, in `step` ms steps. */
  const run = <A, E>(effect: Effect.Effect<A, E, Services>, step = 5): Promise<Exit.Exit<A, E>> =>
    Effect.runPromise(
      Effect.gen(function*() {
        yield* TestClock.setTime(epoch)
        const fiber = yield* Effect.forkChild(effect.pipe(Effect.provide(Layer.merge(host.layer, Logger.layer([])))))
        for (let elapsed = 0;; elapsed += step) {
          yield* Effect.yieldNow
          const done = fiber.pollUnsafe()
          if (done !== undefined) {
            epoch = yield* Clock.currentTimeMillis
            return done
          }
          if (elapsed > 30 * 60_000) {
            yield* Fiber.interrupt(fiber)
            return Exit.failCause(Cause.die(new Error("still running after 30 min of virtual time"))) as Exit.Exit<A, E>
          }
          yield* TestClock.adjust(step)
        }
      }).pipe(Effect.provide(TestClock.layer()))
    )
  /** The host once udev and multipathd are done (10 s of virtual time later), as on the lab host. */
  const picture = async (): Promise<HostPicture> => {
    await run(Effect.andThen(Effect.sleep(10_000), host.settle), 250)
    const s = host.snapshot()
    return {
      sessions: s.sessions.map((x) => `${x.iqn} ${x.portal} ${x.iface}`).sort(),
      nodes: s.nodes.map((n) => `${n.iqn} ${n.portal}`).sort(),
      // the sim's discovery, like the node interpreter's (`-o nonpersistent`), records nothing
      discoveryRecords: [],
      ifaces: s.ifaces.map((i) => i.name).filter((n) => n !== "default" && n !== "iser").sort(),
      scsiDevices: s.scsiDevices.map((d) => `${d.name} ${d.wwid}`).sort(),
      byPath: Object.keys(s.byPath).filter((l) => l.includes("-iscsi-")).sort(),
      maps: s.maps.map((m) => `${m.name}: ${m.paths.join(" ")}`).sort()
    }
  }
  return {
    name: "sim",
    initiatorName,
    unique: "sim",
    hwaddress: (netdev) => Option.getOrThrow(interfaces.find((n) => n.name === netdev)!.hwaddress),
    createTarget: async (t) => {
      host.addTarget({
        iqn: t.iqn,
        portals: t.portals,
        luns: t.luns.map((l) => ({ lun: l.lun, sizeBytes: l.sizeBytes })),
        ...(t.chap ? { chap: { ...t.chap, ...(t.mutual ? { mutual: t.mutual } : {}) } } : {}),
        ...(t.discoveryChap ? { discoveryChap: t.discoveryChap } : {})
      })
      return new Map(t.luns.map((l) => [l.lun, host.wwid(t.iqn, l.lun)]))
    },
    deleteTarget: async () => {},
    resizeLun: async (iqn, lun, size) => host.resizeLun(iqn, lun, size),
    picture,
    run: (effect) => run(effect),
    readBlock: async (device) => {
      const name = device.replace(/^\/dev\//, "")
      const s = host.snapshot()
      const exists = s.scsiDevices.some((d) => d.name === name) || s.maps.some((m) => m.dm === name)
      return exists ? 4096 : 0
    }
  }
}

describe("lab scenarios on the simulator", () => {
  for (const s of scenarios) it(s.name, () => check(simDriver(s.needs === "offload-hbas"), s))
})
