/**
 * access_mode rw on the simulated host: a connect waits (bounded by
 * writableWaitTimeout) until the device it returns and its paths are
 * writable, rescanning read-only disks and reloading a map loaded read-only;
 * a device that stays read-only fails the connect with ReadOnly, and the
 * connect is undone. access_mode ro (or none) does not wait.
 */
import { type BrickError, connectVolume, type DeviceInfo, disconnectVolume } from "@brick/core"
import { Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, type TestHost } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:rw"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]
const infoOf = (multipath: boolean, accessMode?: "rw" | "ro") => ({
  ...(multipath
    ? { target_portals: portals, target_iqns: portals.map(() => iqn), target_luns: portals.map(() => 0) }
    : { target_portal: portals[0], target_iqn: iqn, target_lun: 0 }),
  ...(accessMode === undefined ? {} : { access_mode: accessMode })
})

const exitOf = <A, E>(h: TestHost, effect: Effect.Effect<A, E, any>) =>
  runVirtual((effect as Effect.Effect<A, E, never>).pipe(Effect.provide(h.layer())), { stepMs: 100 })
const run = async <A, E>(h: TestHost, effect: Effect.Effect<A, E, any>) => {
  const exit = await exitOf(h, effect)
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}
/** sysfs `ro` of a block device, as the simulated kernel shows it. */
const ro = (h: TestHost, device: string) => {
  const name = device.replace("/dev/", "")
  const disk = h.state.disks.get(name)
  if (disk) return disk.readOnly
  return Array.from(h.state.maps.values()).find((m) => `dm-${m.minor}` === name)!.readOnly
}
const writeProtectedHost = () => {
  const h = makeHost({ targets: [{ iqn, portals, luns: [{ lun: 0, writeProtected: true }] }], latency: "zero" })
  return h
}

describe.each([false, true])("access_mode (multipath: %s)", (multipath) => {
  const options = { useMultipath: multipath, multipathAddDelay: 200, writableWaitTimeout: 15 }

  it("rw: a LUN write-protected at first and writable 3 s later: the device returned is writable, its paths too", async () => {
    const h = writeProtectedHost()
    const start = h.state.schedule.now
    h.state.schedule.after(3_000, () => h.host.setLunWriteProtected(iqn, 0, false))
    const device: DeviceInfo.DeviceInfo = await run(h, connectVolume(infoOf(multipath, "rw"), options))
    expect(ro(h, device.path)).toBe(false)
    for (const d of device.devices ?? []) expect(ro(h, d)).toBe(false)
    if (multipath) expect(device.path).toMatch(/^\/dev\/dm-\d+$/)
    // it waited for the target, and not for the whole bound
    const took = h.state.schedule.now - start
    expect(took).toBeGreaterThanOrEqual(3_000)
    expect(took).toBeLessThan(15_000)
    await run(h, disconnectVolume(infoOf(multipath), device))
    expect(h.snapshot().sessions).toEqual([])
  })

  it("rw: a LUN that stays write-protected: ReadOnly naming the devices, and the connect is undone", async () => {
    const h = writeProtectedHost()
    const before = h.snapshot()
    const start = h.state.schedule.now
    const exit = await exitOf(h, connectVolume(infoOf(multipath, "rw"), { ...options, writableWaitTimeout: 5 }))
    const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
    const reason = Option.isSome(error) ? (error.value as BrickError.ConnectError).reason : undefined
    expect(reason?._tag).toBe("ReadOnly")
    if (reason?._tag === "ReadOnly") {
      expect(reason.devices.length).toBeGreaterThan(0)
      expect(reason.detail).toContain("write-protected")
    }
    expect(h.state.schedule.now - start).toBeGreaterThanOrEqual(5_000)
    expect(h.snapshot().sessions).toEqual(before.sessions)
    expect(h.snapshot().scsiDevices).toEqual(before.scsiDevices)
    expect(h.snapshot().maps).toEqual(before.maps)
  })

  it("ro, or no access_mode: a write-protected LUN is returned as it is, without waiting or rescanning", async () => {
    for (const mode of ["ro", undefined] as const) {
      const h = writeProtectedHost()
      const device: DeviceInfo.DeviceInfo = await run(h, connectVolume(infoOf(multipath, mode), options))
      expect(ro(h, device.path)).toBe(true)
      expect(h.ops.get("multipath.reloadMap") ?? 0).toBe(0)
      await run(h, disconnectVolume(infoOf(multipath), device))
    }
  })

  it("rw on a writable LUN costs sysfs reads only (no rescan, no reload)", async () => {
    const plain = makeHost({ targets: [{ iqn, portals, luns: [{ lun: 0 }] }], latency: "zero" })
    const rw = makeHost({ targets: [{ iqn, portals, luns: [{ lun: 0 }] }], latency: "zero" })
    await run(plain, connectVolume(infoOf(multipath), options))
    await run(rw, connectVolume(infoOf(multipath, "rw"), options))
    expect(rw.ops.get("sysfs.write")).toBe(plain.ops.get("sysfs.write"))
    expect(rw.ops.get("multipath.reloadMap") ?? 0).toBe(0)
    expect((rw.ops.get("sysfs.read") ?? 0) - (plain.ops.get("sysfs.read") ?? 0)).toBe(multipath ? 3 : 1)
  })
})

describe("access_mode rw and a map loaded read-only", () => {
  const options = { multipathAddDelay: 200, writableWaitTimeout: 15 }

  it(
    "rw on an attached volume whose map was loaded read-only: the paths rescanned, the map reloaded, returned writable",
    async () => {
      const h = writeProtectedHost()
      const first: DeviceInfo.DeviceInfo = await run(
        h,
        connectVolume(infoOf(true, "ro"), { ...options, useMultipath: true })
      )
      expect(ro(h, first.path)).toBe(true)
      h.host.setLunWriteProtected(iqn, 0, false)
      // the kernel has not read the change: the disks and the map are still read-only
      expect(ro(h, first.path)).toBe(true)
      const again: DeviceInfo.DeviceInfo = await run(
        h,
        connectVolume(infoOf(true, "rw"), { ...options, useMultipath: true }, first)
      )
      expect(again.path).toBe(first.path)
      expect(ro(h, again.path)).toBe(false)
      for (const d of again.devices ?? []) expect(ro(h, d)).toBe(false)
      expect(h.ops.get("multipath.reloadMap")).toBe(1)
      await run(h, disconnectVolume(infoOf(true), again))
      expect(h.snapshot().sessions).toEqual([])
    }
  )
})
