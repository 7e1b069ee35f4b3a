/**
 * brick on the host configurations users have (the sim's side of the lab's
 * host matrix): find_multipaths strict / yes / no, user_friendly_names, and a
 * node record someone else made. Each test checks what brick does there.
 */
import { connectVolume, disconnectVolume, extendVolume, Iscsiadm } from "@brick/core"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import * as SimMultipathd from "../src/SimMultipathd.ts"
import type { SimSpec } from "../src/SimSpec.ts"
import { makeHost, runVirtual, type TestHost, timedVirtual } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:volume-1"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]
const multipathInfo = (lun = 1) => ({
  target_portals: portals,
  target_iqns: portals.map(() => iqn),
  target_luns: portals.map(() => lun)
})
const singleInfo = (lun = 1) => ({ target_portal: portals[0], target_iqn: iqn, target_lun: lun })
/** The lab's timings: udev links a path after 1 s, multipathd maps it 0.2 s after udev. */
const spec = (multipathd: NonNullable<SimSpec["multipathd"]>): SimSpec => ({
  targets: [{ iqn, portals, luns: [{ lun: 1 }, { lun: 2 }] }],
  latency: "lab",
  multipathd
})
const connect = (h: TestHost, info: unknown, options: unknown = { useMultipath: true }) =>
  runVirtual(connectVolume(info, options).pipe(Effect.provide(h.layer())))
const disconnect = (h: TestHost, info: unknown, device?: unknown) =>
  runVirtual(disconnectVolume(info, device).pipe(Effect.provide(h.layer())))
const valueOf = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`expected success, got ${String(exit.cause)}`)
  return exit.value
}
const count = (h: TestHost, op: Parameters<TestHost["ops"]["get"]>[0]) => h.ops.get(op) ?? 0

describe("find_multipaths strict (multipath-tools' built-in default)", () => {
  it("brick adds the WWID to the wwids file, so multipathd forms the map by itself (no add map); disconnect drops it", async () => {
    const h = makeHost(spec({ findMultipaths: "strict" }))
    const wwn = h.host.wwn(iqn, 1)
    const device = valueOf(await connect(h, multipathInfo()))
    expect(device.path).toMatch(/^\/dev\/dm-\d+$/)
    expect(device.multipath_id).toBe(wwn)
    expect(count(h, "multipath.addWwid")).toBe(1)
    expect(count(h, "multipath.addMap")).toBe(0)
    expect(h.host.multipathMemory.wwids).toEqual([wwn])
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(), device))).toBe(true)
    expect(h.host.multipathMemory.wwids).toEqual([])
    expect(h.snapshot().maps).toEqual([])
  })

  it("a path udev linked before the WWID was registered: multipathd is asked at once, not the add delay after the link", async () => {
    // registering takes longer than udev's link (1 s): multipathd ignored that path's event
    const h = makeHost({
      ...spec({ findMultipaths: "strict" }),
      latency: { profile: "lab", ops: { "multipath.addWwid": 1500 } }
    })
    const { exit, ms } = await timedVirtual(
      connectVolume(multipathInfo(), { useMultipath: true, multipathAddDelay: 5000 }).pipe(Effect.provide(h.layer()))
    )
    expect(valueOf(exit).path).toMatch(/^\/dev\/dm-\d+$/)
    expect(count(h, "multipath.addPath")).toBeGreaterThan(0)
    // the add delay after the link would end past 1 s + 5 s
    expect(ms).toBeLessThan(4000)
  })

  it("a connect that fails undoes the WWID it added, and only one it added", async () => {
    for (const registered of [false, true]) {
      const h = makeHost(spec({ findMultipaths: "strict", mode: "never" }))
      const wwn = h.host.wwn(iqn, 1)
      if (registered) h.host.setMultipathd({ wwids: [wwn] })
      h.faults.fail("multipath.addMap", { reason: "Failed", detail: "injected" }, { nth: 1, times: 10 })
      h.faults.fail("multipath.addPath", { reason: "Failed", detail: "injected" }, { nth: 1, times: 10 })
      const before = h.snapshot()
      const exit = await connect(h, multipathInfo(), {
        useMultipath: true,
        enforceMultipath: true,
        multipathWaitTimeout: 3
      })
      expect(Exit.isFailure(exit)).toBe(true)
      expect(count(h, "multipath.addWwid")).toBe(registered ? 0 : 1)
      expect(h.host.multipathMemory.wwids).toEqual(registered ? [wwn] : [])
      expect(h.snapshot()).toEqual(before)
    }
  })
})

describe("find_multipaths yes + user_friendly_names yes", () => {
  it("the map is mpatha; brick returns /dev/dm-N and multipath_id = the WWID, extends and flushes it; the WWID goes, the binding stays", async () => {
    const h = makeHost(spec({ findMultipaths: "yes", userFriendlyNames: true }))
    const wwn = h.host.wwn(iqn, 1)
    const device = valueOf(await connect(h, multipathInfo()))
    expect(h.snapshot().maps.map((m) => [m.name, m.uuid, m.dm])).toEqual([
      ["mpatha", `mpath-${wwn}`, device.path.slice("/dev/".length)]
    ])
    expect(device.multipath_id).toBe(wwn)
    expect(device.scsi_wwn).toBe(wwn)
    h.host.resizeLun(iqn, 1, 2 * 1024 * 1024 * 1024)
    expect(valueOf(await runVirtual(extendVolume(multipathInfo()).pipe(Effect.provide(h.layer()))))).toBe(
      2 * 1024 * 1024 * 1024
    )
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(), device))).toBe(true)
    expect(h.snapshot().maps).toEqual([])
    expect(h.host.multipathMemory).toEqual({ wwids: [], bindings: [`mpatha ${wwn}`] })
  })

  it("a map left without paths is flushed by its WWID though it is named mpathN", async () => {
    const h = makeHost(spec({ findMultipaths: "yes", userFriendlyNames: true }))
    const device = valueOf(await connect(h, multipathInfo()))
    // the paths go behind brick's back; the map stays, pathless
    for (const d of h.snapshot().maps[0]!.paths) SimMultipathd.dropPath(h.state.disks.get(d)!)
    expect(h.snapshot().maps.map((m) => [m.name, m.paths])).toEqual([["mpatha", []]])
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(), device))).toBe(true)
    expect(h.snapshot().maps).toEqual([])
  })
})

describe("find_multipaths no", () => {
  it("brick leaves the wwids file to multipathd at connect, and drops the volume's WWID at disconnect", async () => {
    const h = makeHost(spec({ findMultipaths: "no" }))
    const device = valueOf(await connect(h, multipathInfo()))
    expect(count(h, "multipath.addWwid")).toBe(0)
    expect(h.host.multipathMemory.wwids).toEqual([h.host.wwn(iqn, 1)])
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(), device))).toBe(true)
    expect(h.host.multipathMemory.wwids).toEqual([])
  })
})

describe("a node record someone else made (iscsid.conf: node.startup automatic, scan auto)", () => {
  it("keeps its node.startup; only the requested LUN is scanned", async () => {
    const h = makeHost({ ...spec({}), nodeDefaults: { startup: "automatic", scan: "auto" } })
    const node = { portal: portals[0]!, iqn, iface: "default" } as Iscsiadm.NodeRecord
    valueOf(
      await runVirtual(
        Iscsiadm.Iscsiadm.use((i) => i.createNode(node, { startup: "automatic", scan: "auto" })).pipe(
          Effect.provide(h.layer())
        )
      )
    )
    const device = valueOf(await connect(h, singleInfo(), {}))
    expect(device.path).toMatch(/^\/dev\/sd[a-z]+$/)
    const record = h.snapshot().nodes.find((n) => n.portal === portals[0])
    expect(record?.startup).toBe("automatic")
    expect(record?.scan).toBe("manual")
    expect(h.snapshot().scsiDevices.map((d) => d.hctl.split(":")[3])).toEqual(["1"])
  })
})
