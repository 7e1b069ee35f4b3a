import { BlockDevice, DevicePath, Iscsiadm, Multipath, Sysfs, Wwn } from "@brick/core"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { SimHost } from "../src/index.ts"
import { iqn, node, p1, p2, path, reasonOf, runExit, runTest, spec } from "./helpers.ts"

const byPath1 = `/dev/disk/by-path/ip-${p1}-iscsi-${iqn}-lun-1`

const login = (n = node(), scan: "manual" | "auto" = "auto") =>
  Effect.gen(function*() {
    const adm = yield* Iscsiadm.Iscsiadm
    yield* adm.createNode(n, { scan })
    yield* adm.login(n)
  })

describe("udev", () => {
  it("links appear only after the udev delay (TestClock)", async () => {
    const host = SimHost.make(spec({ udev: { delayMs: 800 }, multipathd: { running: false } }))
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const fs = yield* Sysfs.Sysfs
        yield* login()
        const sysfsAtOnce = yield* fs.list(path("/sys/block"))
        const devAtOnce = yield* fs.list(path("/dev"))
        const before = yield* fs.readlink(path(byPath1))
        yield* TestClock.adjust("799 millis")
        const almost = yield* fs.readlink(path(byPath1))
        yield* TestClock.adjust("1 millis")
        const after = yield* fs.readlink(path(byPath1))
        const byId = yield* fs.list(path("/dev/disk/by-id"))
        return { sysfsAtOnce, devAtOnce, before, almost, after, byId }
      })
    )
    expect(out.sysfsAtOnce).toEqual(["sda", "sdb"])
    expect(out.devAtOnce).toEqual(["disk", "mapper", "sda", "sdb"])
    expect(out.before).toEqual(Option.none())
    expect(out.almost).toEqual(Option.none())
    expect(out.after).toEqual(Option.some("../../sda"))
    const hex = host.wwid(iqn, 1).slice(4)
    expect(out.byId).toContain(`wwn-0x${hex}`)
    expect(out.byId).toContain(`scsi-3${hex}`)
  })

  it("udev `never` leaves devices without links", async () => {
    const host = SimHost.make(spec({ udev: { mode: "never" } }))
    const link = await runTest(
      host,
      Effect.gen(function*() {
        yield* login()
        yield* TestClock.adjust("1 hour")
        return yield* (yield* Sysfs.Sysfs).readlink(path(byPath1))
      })
    )
    expect(link).toEqual(Option.none())
    expect(host.snapshot().scsiDevices).toHaveLength(2)
    expect(host.snapshot().maps).toEqual([])
  })
})

describe("SCSI devices", () => {
  it("wildcard scans, delete removes a device and its links, rescan picks up a new size", async () => {
    const host = SimHost.make(spec())
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const fs = yield* Sysfs.Sysfs
        yield* login(node(), "manual")
        yield* fs.write(path("/sys/class/scsi_host/host0/scan"), "- - -")
        const all = yield* fs.list(path("/sys/class/scsi_device"))
        yield* fs.write(path("/sys/block/sdb/device/delete"), "1")
        const afterDelete = yield* fs.list(path("/sys/class/scsi_device"))
        const links = yield* fs.list(path("/dev/disk/by-path"))
        host.resizeLun(iqn, 1, 3 << 30)
        const oldSize = yield* fs.read(path("/sys/block/sda/size"))
        yield* fs.write(path("/sys/class/scsi_device/0:0:0:1/device/rescan"), "1")
        const newSize = yield* fs.read(path("/sys/block/sda/size"))
        const bad = yield* Effect.exit(fs.write(path("/sys/class/scsi_host/host0/scan"), "0 zero 1"))
        const missing = yield* fs.read(path("/sys/class/scsi_device/9:0:0:9/device/wwid"))
        const missingList = yield* fs.list(path("/sys/class/nothing"))
        return { all, afterDelete, links, oldSize, newSize, bad, missing, missingList }
      })
    )
    expect(out.all).toEqual(["0:0:0:1", "0:0:0:2"])
    expect(out.afterDelete).toEqual(["0:0:0:1"])
    expect(out.links).toEqual([`ip-${p1}-iscsi-${iqn}-lun-1`])
    expect(out.oldSize).toEqual(Option.some(String((1 << 30) / 512)))
    expect(out.newSize).toEqual(Option.some(String((3 << 30) / 512)))
    expect(reasonOf(out.bad)).toBe("Failed")
    expect(out.missing).toEqual(Option.none())
    expect(out.missingList).toEqual([])
  })

  it("a re-added LUN number gets a new WWN", () => {
    const host = SimHost.make(spec())
    const old = host.wwid(iqn, 1)
    host.removeLun(iqn, 1)
    const fresh = host.addLun(iqn, { lun: 1 })
    expect(fresh).not.toBe(old)
    expect(fresh).toMatch(/^naa\.6001405[0-9a-f]{25}$/)
  })

  it("logout removes the session's devices and links but keeps the record; a map stays with no paths", async () => {
    const host = SimHost.make(spec())
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const fs = yield* Sysfs.Sysfs
        yield* login()
        yield* host.settle
        const maps = host.snapshot().maps.length
        yield* (yield* Iscsiadm.Iscsiadm).logout(node())
        return {
          maps,
          sessions: yield* fs.list(path("/sys/class/iscsi_session")),
          devices: yield* fs.list(path("/sys/class/scsi_device")),
          links: yield* fs.list(path("/dev/disk/by-path")),
          hosts: yield* fs.list(path("/sys/class/scsi_host"))
        }
      })
    )
    expect(out.maps).toBe(2)
    expect(out).toMatchObject({ sessions: [], devices: [], links: [], hosts: [] })
    expect(host.snapshot().nodes).toHaveLength(1)
    expect(host.snapshot().maps.map((m) => m.paths)).toEqual([[], []])
  })

  it("LUNs >= 256 with SAM2 addressing get the flat-space kernel LUN and udev's hex suffix", async () => {
    const host = SimHost.make(
      spec({
        targets: [{ iqn, portals: [p1], luns: [{ lun: 300 }], addressingMode: "SAM2" }],
        multipathd: { running: false }
      })
    )
    const out = await runTest(
      host,
      Effect.gen(function*() {
        yield* login()
        yield* host.settle
        const fs = yield* Sysfs.Sysfs
        return {
          devices: yield* fs.list(path("/sys/class/scsi_device")),
          links: yield* fs.list(path("/dev/disk/by-path"))
        }
      })
    )
    const kernelLun = 300 | 0x4000
    expect(out.devices).toEqual([`0:0:0:${kernelLun}`])
    expect(out.links).toEqual([`ip-${p1}-iscsi-${iqn}-lun-0x412c000000000000`])
  })

  it("IPv6 portals are bare in by-path names (udev's path_id writes persistent_address) and in sysfs", async () => {
    const v6 = "[fd00::1]:3260"
    const host = SimHost.make(
      spec({ targets: [{ iqn, portals: [v6], luns: [{ lun: 1 }] }], multipathd: { running: false } })
    )
    const out = await runTest(
      host,
      Effect.gen(function*() {
        yield* login(node(v6))
        yield* host.settle
        const fs = yield* Sysfs.Sysfs
        return {
          links: yield* fs.list(path("/dev/disk/by-path")),
          addr: yield* fs.read(path("/sys/class/iscsi_connection/connection1:0/address"))
        }
      })
    )
    expect(out.links).toEqual([`ip-fd00::1:3260-iscsi-${iqn}-lun-1`])
    expect(out.addr).toEqual(Option.some("fd00::1"))
  })
})

describe("multipathd", () => {
  it("forms a map after its delay, with holders/slaves links and /dev/mapper", async () => {
    const host = SimHost.make(spec({ udev: { delayMs: 100 }, multipathd: { mapDelayMs: 200 } }))
    const wwn = host.wwn(iqn, 1)
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const fs = yield* Sysfs.Sysfs
        yield* login(node(p1))
        yield* login(node(p2))
        yield* TestClock.adjust("299 millis")
        const early = yield* fs.list(path("/sys/block/sda/holders"))
        yield* TestClock.adjust("1 millis")
        return {
          early,
          holders: yield* fs.list(path("/sys/block/sda/holders")),
          holderLink: yield* fs.readlink(path("/sys/block/sda/holders/dm-0")),
          name: yield* fs.read(path("/sys/block/dm-0/dm/name")),
          uuid: yield* fs.read(path("/sys/block/dm-0/dm/uuid")),
          slaves: yield* fs.list(path("/sys/block/dm-0/slaves")),
          slaveLink: yield* fs.readlink(path("/sys/block/dm-0/slaves/sda")),
          mapper: yield* fs.readlink(path(`/dev/mapper/${wwn}`)),
          uuidLink: yield* fs.readlink(path(`/dev/disk/by-id/dm-uuid-mpath-${wwn}`)),
          recovery: yield* fs.read(path("/sys/class/iscsi_session/session1/recovery_tmo"))
        }
      })
    )
    expect(out.early).toEqual([])
    expect(out.holders).toEqual(["dm-0"])
    expect(out.holderLink).toEqual(Option.some("../../../../../../../../virtual/block/dm-0"))
    expect(out.name).toEqual(Option.some(wwn))
    expect(out.uuid).toEqual(Option.some(`mpath-${wwn}`))
    expect(out.slaves).toEqual(["sda", "sdc"])
    expect(out.slaveLink).toEqual(Option.some("../../../../platform/host0/session1/target0:0:0/0:0:0:1/block/sda"))
    expect(out.mapper).toEqual(Option.some("../dm-0"))
    expect(out.uuidLink).toEqual(Option.some("../../dm-0"))
    expect(out.recovery).toEqual(Option.some("5"))
  })

  it("strict find_multipaths forms maps only for added WWIDs; flush is InUse when open, NotFound when absent", async () => {
    const host = SimHost.make(spec({ multipathd: { findMultipaths: "strict" } }))
    const wwn = host.wwn(iqn, 1)
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const mp = yield* Multipath.Multipath
        yield* login(node(p1))
        yield* login(node(p2))
        yield* TestClock.adjust("1 second")
        const before = host.snapshot().maps.length
        yield* mp.addMap(Wwn.unsafeMake(wwn))
        const after = host.snapshot().maps.map((m) => m.paths)
        host.setMapOpen(wwn, true)
        const inUse = yield* Effect.exit(mp.flushMap(wwn))
        host.setMapOpen(wwn, false)
        yield* mp.flushMap(wwn)
        const absent = yield* Effect.exit(mp.flushMap(wwn))
        return { before, after, inUse, absent }
      })
    )
    expect(out.before).toBe(0)
    expect(out.after).toEqual([["sda", "sdc"]])
    expect(reasonOf(out.inUse)).toBe("InUse")
    expect(reasonOf(out.absent)).toBe("NotFound")
    expect(host.snapshot().maps).toEqual([])
    expect(host.snapshot().scsiDevices).toHaveLength(4)
  })

  it("`never` forms no map until addMap; resizeMap follows rescanned paths", async () => {
    const host = SimHost.make(spec({ multipathd: { mode: "never" } }))
    const wwn = host.wwn(iqn, 1)
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const mp = yield* Multipath.Multipath
        const fs = yield* Sysfs.Sysfs
        const bd = yield* BlockDevice.BlockDevice
        yield* login(node(p1))
        yield* TestClock.adjust("1 hour")
        const none = host.snapshot().maps.length
        yield* mp.addMap(Wwn.unsafeMake(wwn))
        host.resizeLun(iqn, 1, 4 << 30)
        yield* fs.write(path("/sys/block/sda/device/rescan"), "1")
        const beforeResize = yield* bd.size(DevicePath.unsafeMake(`/dev/mapper/${wwn}`))
        yield* mp.resizeMap(wwn)
        const afterResize = yield* bd.size(DevicePath.unsafeMake("/dev/dm-0"))
        return { none, beforeResize, afterResize }
      })
    )
    expect(out.none).toBe(0)
    expect(out.beforeResize).toBe(1 << 30)
    expect(out.afterResize).toBe(4 << 30)
  })

  it("not running: isRunning false and commands fail NotRunning", async () => {
    const host = SimHost.make(spec({ multipathd: { running: false } }))
    const running = await runTest(host, Multipath.Multipath.use((mp) => mp.isRunning))
    expect(running).toBe(false)
    expect(reasonOf(await runExit(host, Multipath.Multipath.use((mp) => mp.addPath("sda"))))).toBe("NotRunning")
  })
})

describe("block devices", () => {
  it("flush follows by-path links, honours flush faults and fails on a dead path", async () => {
    const host = SimHost.make(spec({ multipathd: { running: false } }))
    await runTest(
      host,
      Effect.gen(function*() {
        yield* login()
        yield* host.settle
      })
    )
    const flush = (p: string) => BlockDevice.BlockDevice.use((bd) => bd.flush(DevicePath.unsafeMake(p)))
    expect(reasonOf(await runExit(host, flush(byPath1)))).toBeUndefined()
    host.setFlushFault("sda", "busy")
    expect(reasonOf(await runExit(host, flush(byPath1)))).toBe("Busy")
    host.setFlushFault("sda", undefined)
    expect(reasonOf(await runExit(host, flush("/dev/sdz")))).toBe("NotFound")
    host.portalDown(p1)
    expect(reasonOf(await runExit(host, flush("/dev/sda")))).toBe("Failed")
  })
})
