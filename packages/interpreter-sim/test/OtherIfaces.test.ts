/**
 * Records and sessions of others (design.md, invariant 7) on the simulated
 * host: an operator has made an iface of their own, a node record through it
 * and logged in (automatic scan: the LUN's device is there). brick connects
 * through its own iface (`default`): it logs in its own session beside the
 * operator's, says so in the result, and its disconnect leaves the operator's
 * record, session and device as they were, unless told otherwise.
 */
import { connectVolume, disconnectVolume, IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, settle, type TestHost } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:shared"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]
const theirs = "operator0"
const operatorNode = {
  portal: Portal.unsafeMake(portals[0]!),
  iqn: Iqn.unsafeMake(iqn),
  iface: IfaceName.unsafeMake(theirs)
}

/** The operator's own iface, record and session (iscsiadm as they would run it). */
const operator = Effect.gen(function*() {
  const adm = yield* Iscsiadm.Iscsiadm
  yield* adm.createIface(operatorNode.iface, {
    transport: "default",
    hwaddress: Option.none(),
    ipaddress: Option.none(),
    netIfacename: Option.some("eth0")
  })
  yield* adm.createNode(operatorNode, { startup: "manual", scan: "auto" })
  yield* adm.login(operatorNode)
})

const run = async <A, E>(h: TestHost, effect: Effect.Effect<A, E, any>) => {
  const exit = await runVirtual((effect as Effect.Effect<A, E, never>).pipe(Effect.provide(h.layer())), {
    stepMs: 50
  })
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}
const hostWithOperator = async () => {
  const h = makeHost({ targets: [{ iqn, portals, luns: [{ lun: 1 }] }], latency: "zero", udev: { delayMs: 5 } })
  await run(h, operator)
  await settle(h.host)
  return h
}
const operatorParts = (h: TestHost) => {
  const snap = h.snapshot()
  return {
    sessions: snap.sessions.filter((s) => s.iface === theirs),
    nodes: snap.nodes.filter((n) => n.iface === theirs),
    ifaces: snap.ifaces.filter((i) => i.name === theirs)
  }
}

describe("another iface's record and session", () => {
  it.each([false, true])(
    "brick logs in its own session through default and says why; its disconnect leaves the operator's as they were (multipath: %s)",
    async (multipath) => {
      const h = await hostWithOperator()
      const before = h.snapshot()
      const theirsBefore = operatorParts(h)
      expect(theirsBefore.sessions).toHaveLength(1)
      const operatorDevices = before.scsiDevices.map((d) => d.name)
      expect(operatorDevices).toHaveLength(1)
      const info = multipath
        ? { target_portals: portals, target_iqns: portals.map(() => iqn), target_luns: portals.map(() => 1) }
        : { target_portal: portals[0], target_iqn: iqn, target_lun: 1 }
      const device = await run(h, connectVolume(info, { useMultipath: multipath }))
      expect(device.scsi_wwn).toBe(h.host.wwn(iqn, 1))
      expect(device.paths?.[0]?.iface).toBe("default")
      expect(device.paths?.[0]?.otherIfaces).toEqual([{ iface: theirs, session: theirsBefore.sessions[0]!.sid }])
      expect(device.devices).not.toContain(`/dev/${operatorDevices[0]}`)
      expect(operatorParts(h)).toEqual(theirsBefore)
      await run(h, disconnectVolume(info, device, {}, { useMultipath: multipath }))
      await settle(h.host)
      expect(operatorParts(h)).toEqual(theirsBefore)
      const after = h.snapshot()
      expect(after.sessions).toEqual(before.sessions)
      expect(after.nodes).toEqual(before.nodes)
      expect(after.scsiDevices).toEqual(before.scsiDevices)
    }
  )

  it("told to (otherIfaces), disconnect removes the volume's device on the operator's session and logs it out", async () => {
    const h = await hostWithOperator()
    const info = { target_portal: portals[0], target_iqn: iqn, target_lun: 1 }
    const device = await run(h, connectVolume(info))
    await run(h, disconnectVolume(info, device, { otherIfaces: true }))
    await settle(h.host)
    const after = h.snapshot()
    expect(after.sessions).toEqual([])
    expect(after.scsiDevices).toEqual([])
  })
})
