/**
 * volumeStatus (`brick status`) on the simulated host: each session with its
 * state, the volume's devices with their map and path states, and the listed
 * paths that have no session of brick's ifaces. It changes nothing.
 */
import { connectVolume, volumeStatus } from "@brick/core"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, type TestHost } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:status"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"]
const info = { target_portals: portals, target_iqns: portals.map(() => iqn), target_luns: portals.map(() => 1) }
const options = { useMultipath: true }

const run = async <A, E>(h: TestHost, effect: Effect.Effect<A, E, any>) => {
  const exit = await runVirtual((effect as Effect.Effect<A, E, never>).pipe(Effect.provide(h.layer())), {
    stepMs: 50
  })
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}

describe("volumeStatus", () => {
  it("reports each session and path state, the map and the listed paths without a session; changes nothing", async () => {
    const h = makeHost({
      targets: [{ iqn, portals, luns: [{ lun: 1 }] }],
      network: { [portals[2]!]: "blackholed" },
      latency: "zero",
      udev: { delayMs: 5 }
    })
    const device = await run(h, connectVolume(info, options))
    const before = h.snapshot()
    const up = await run(h, volumeStatus(info, options))
    expect(h.snapshot()).toEqual(before)
    expect(up.multipathd).toBe(true)
    expect(up.missing).toEqual([{ portal: portals[2], iqn, lun: 1 }])
    expect(up.sessions.map((s) => [s.portal, s.state, s.iface, s.brick])).toEqual([
      [portals[0], "LOGGED_IN", "default", true],
      [portals[1], "LOGGED_IN", "default", true]
    ])
    const devices = up.sessions.flatMap((s) => s.devices)
    expect(devices.map((d) => [d.state, d.wwn, d.map, d.dmState, d.checkerState])).toEqual([
      ["running", device.scsi_wwn, device.path.slice(5), "active", "ready"],
      ["running", device.scsi_wwn, device.path.slice(5), "active", "ready"]
    ])
    expect(up.maps).toEqual([{
      dm: device.path.slice(5),
      name: device.scsi_wwn,
      paths: devices.map((d) => d.device!.slice(5)).sort()
    }])
    // a portal goes dark: its session fails, multipathd's checker and dm state say so
    h.host.portalDown(portals[1]!, "blackholed")
    const down = await run(h, volumeStatus(info, options))
    const second = down.sessions.find((s) => s.portal === portals[1])!
    expect(second.state).toBe("FAILED")
    expect(second.devices.map((d) => [d.dmState, d.checkerState])).toEqual([["failed", "faulty"]])
  })
})
