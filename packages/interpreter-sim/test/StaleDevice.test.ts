/**
 * Identity before trust (design.md, invariant 8) on the simulated host: a
 * device of a reused session is returned only after its WWN was read fresh
 * (rescan); a device whose LUN was unmapped and another volume mapped at the
 * same number on the target is stale: deleted (out of its map first) and the
 * LUN scanned again, never returned.
 */
import { type BrickError, connectVolume, type DeviceInfo, disconnectVolume } from "@brick/core"
import { Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, type TestHost, wwidsBehind } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:shared"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]
const infoOf = (lun: number, multipath: boolean) =>
  multipath
    ? { target_portals: portals, target_iqns: portals.map(() => iqn), target_luns: portals.map(() => lun) }
    : { target_portal: portals[0], target_iqn: iqn, target_lun: lun }

const run = async <A, E>(h: TestHost, effect: Effect.Effect<A, E, never> | Effect.Effect<A, E, any>) => {
  const exit = await runVirtual((effect as Effect.Effect<A, E, never>).pipe(Effect.provide(h.layer())), {
    stepMs: 100
  })
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}

describe("identity before trust, multipath", () => {
  it("the stale volume's map, left without paths and held open a moment (udev probing it), is flushed", async () => {
    const h = makeHost({ targets: [{ iqn, portals, luns: [{ lun: 1 }, { lun: 2 }] }], latency: "zero" })
    const options = { useMultipath: true, multipathAddDelay: 200 }
    const neighbour = await run(h, connectVolume(infoOf(2, true), options))
    const old = await run(h, connectVolume(infoOf(1, true), options))
    const oldMap = h.snapshot().maps.find((m) => m.dm === old.path.slice("/dev/".length))!
    h.host.removeLun(iqn, 1)
    h.host.addLun(iqn, { lun: 1 })
    // open from the first flush of it until 1.5 s later
    h.host.on("multipath.flushMap", { match: (args) => args[0] === oldMap.name, at: "before" }, () => {
      h.host.setMapOpen(oldMap.name, true)
      h.state.schedule.after(1_500, () => h.host.setMapOpen(oldMap.name, false))
    })
    const fresh = await run(h, connectVolume(infoOf(1, true), options))
    expect(fresh.scsi_wwn).toBe(h.host.wwn(iqn, 1))
    expect(h.snapshot().maps.map((m) => m.name)).not.toContain(oldMap.name)
    await run(h, disconnectVolume(infoOf(1, true), fresh))
    await run(h, disconnectVolume(infoOf(2, true), neighbour))
    expect(h.snapshot().maps).toEqual([])
  })
})

describe.each([false, true])("identity before trust (multipath: %s)", (multipath) => {
  const options = { useMultipath: multipath, multipathAddDelay: 200 }

  it("a reused session's device of a LUN remapped to another volume is deleted and scanned again, never returned", async () => {
    const h = makeHost({ targets: [{ iqn, portals, luns: [{ lun: 1 }, { lun: 2 }] }], latency: "zero" })
    const neighbour = await run(h, connectVolume(infoOf(2, multipath), options))
    const old = await run(h, connectVolume(infoOf(1, multipath), options))
    const oldWwid = h.host.wwid(iqn, 1)
    // the array unmaps the volume at LUN 1 and maps another one there; the host's devices stay
    h.host.removeLun(iqn, 1)
    const newWwid = h.host.addLun(iqn, { lun: 1 })
    expect(newWwid).not.toBe(oldWwid)
    expect(wwidsBehind(h, old.path).every((w) => w === oldWwid)).toBe(true)
    const sessions = h.snapshot().sessions
    const fresh: DeviceInfo.DeviceInfo = await run(h, connectVolume(infoOf(1, multipath), options))
    expect(fresh.scsi_wwn).toBe(h.host.wwn(iqn, 1))
    expect(wwidsBehind(h, fresh.path).every((w) => w === newWwid)).toBe(true)
    // the sessions were reused, the stale devices are gone: no device of the host reads the old WWN
    expect(h.snapshot().sessions).toEqual(sessions)
    expect(h.snapshot().scsiDevices.filter((d) => d.wwid === oldWwid)).toEqual([])
    await run(h, disconnectVolume(infoOf(1, multipath), fresh))
    await run(h, disconnectVolume(infoOf(2, multipath), neighbour))
    expect(h.snapshot().sessions).toEqual([])
  })

  it("an earlier connect's device info pins the WWN: a LUN that holds another volume now is refused (WwnMismatch)", async () => {
    const h = makeHost({ targets: [{ iqn, portals, luns: [{ lun: 1 }, { lun: 2 }] }], latency: "zero" })
    const neighbour = await run(h, connectVolume(infoOf(2, multipath), options))
    const old = await run(h, connectVolume(infoOf(1, multipath), options))
    h.host.removeLun(iqn, 1)
    const newWwid = h.host.addLun(iqn, { lun: 1 })
    const exit = await runVirtual(
      connectVolume(infoOf(1, multipath), options, old).pipe(Effect.provide(h.layer())),
      { stepMs: 100 }
    )
    const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
    const reason = Option.isSome(error) ? (error.value as BrickError.ConnectError).reason : undefined
    expect(reason?._tag).toBe("DeviceNotFound")
    if (reason?._tag === "DeviceNotFound") {
      expect(new Set(reason.paths.map((p) => p._tag))).toEqual(new Set(["WwnMismatch"]))
    }
    // neither the stale devices nor one of the other volume are left; the neighbour is untouched
    const left = h.snapshot().scsiDevices.map((d) => d.wwid)
    expect(left.filter((w) => w !== h.host.wwid(iqn, 2))).toEqual([])
    expect(left).not.toContain(newWwid)
    await run(h, disconnectVolume(infoOf(2, multipath), neighbour))
    expect(h.snapshot().sessions).toEqual([])
  })

  it("a device whose identity is unchanged is returned after one rescan per reused device", async () => {
    const h = makeHost({ targets: [{ iqn, portals, luns: [{ lun: 1 }] }], latency: "zero" })
    const first = await run(h, connectVolume(infoOf(1, multipath), options))
    const writes = h.ops.get("sysfs.write") ?? 0
    const devices = h.snapshot().scsiDevices
    const again = await run(h, connectVolume(infoOf(1, multipath), options))
    expect(again.path).toBe(first.path)
    expect(again.scsi_wwn).toBe(first.scsi_wwn)
    expect(h.snapshot().scsiDevices).toEqual(devices)
    expect((h.ops.get("sysfs.write") ?? 0) - writes).toBe(multipath ? 2 : 1)
    await run(h, disconnectVolume(infoOf(1, multipath), again))
  })
})
