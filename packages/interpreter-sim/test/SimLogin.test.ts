import { Iscsiadm, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { SimHost } from "../src/index.ts"
import { iqn, node, p1, path, runTest, spec } from "./helpers.ts"

describe("login", () => {
  it("creates a session whose sysfs view matches the kernel's layout", async () => {
    const host = SimHost.make(spec({ nodeDefaults: { scan: "manual" } }), { seed: 1 })
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const adm = yield* Iscsiadm.Iscsiadm
        const fs = yield* Sysfs.Sysfs
        yield* adm.createNode(node(), {})
        yield* adm.login(node())
        const sessions = yield* fs.list(path("/sys/class/iscsi_session"))
        const link = yield* fs.readlink(path("/sys/class/iscsi_session/session1"))
        const targetname = yield* fs.read(path("/sys/class/iscsi_session/session1/targetname"))
        const state = yield* fs.read(path("/sys/class/iscsi_session/session1/state"))
        const tpgt = yield* fs.read(path("/sys/class/iscsi_session/session1/tpgt"))
        const ifacename = yield* fs.read(path("/sys/class/iscsi_session/session1/ifacename"))
        const device = yield* fs.readlink(path("/sys/class/iscsi_session/session1/device"))
        const sessionDir = yield* fs.list(path("/sys/class/iscsi_session/session1/device"))
        const addr = yield* fs.read(path("/sys/class/iscsi_connection/connection1:0/persistent_address"))
        const port = yield* fs.read(path("/sys/class/iscsi_connection/connection1:0/persistent_port"))
        const viaDevice = yield* fs.read(
          path("/sys/class/iscsi_session/session1/device/connection1:0/iscsi_connection/connection1:0/address")
        )
        const hosts = yield* fs.list(path("/sys/class/iscsi_host"))
        const transports = yield* fs.list(path("/sys/class/iscsi_transport"))
        const initiator = yield* fs.read(path("/sys/class/iscsi_host/host0/initiatorname"))
        return {
          sessions,
          link,
          targetname,
          state,
          tpgt,
          ifacename,
          device,
          sessionDir,
          addr,
          port,
          viaDevice,
          hosts,
          transports,
          initiator
        }
      })
    )
    expect(out.sessions).toEqual(["session1"])
    expect(out.link).toEqual(Option.some("../../devices/platform/host0/session1/iscsi_session/session1"))
    expect(out.targetname).toEqual(Option.some(iqn))
    expect(out.state).toEqual(Option.some("LOGGED_IN"))
    expect(out.tpgt).toEqual(Option.some("1"))
    expect(out.ifacename).toEqual(Option.some("default"))
    expect(out.device).toEqual(Option.some("../../../session1"))
    expect(out.sessionDir).toEqual(["connection1:0", "iscsi_session", "power", "uevent"])
    expect(out.addr).toEqual(Option.some("10.99.0.1"))
    expect(out.port).toEqual(Option.some("3260"))
    expect(out.viaDevice).toEqual(Option.some("10.99.0.1"))
    expect(out.hosts).toEqual(["host0"])
    expect(out.transports).toEqual(["tcp"])
    // iscsid does not set an iscsi_tcp host's initiatorname (lab: sysfs-iscsi-host-attrs)
    expect(out.initiator).toEqual(Option.some("(null)"))
  })

  it("manual scan creates exactly the requested LUN, with block device and by-path link", async () => {
    const host = SimHost.make(spec({ nodeDefaults: { scan: "manual" } }), { seed: 1 })
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const adm = yield* Iscsiadm.Iscsiadm
        const fs = yield* Sysfs.Sysfs
        yield* adm.createNode(node(), { scan: "manual" })
        yield* adm.login(node())
        const before = yield* fs.list(path("/sys/class/scsi_device"))
        yield* fs.write(path("/sys/class/scsi_host/host0/scan"), "0 0 1")
        const after = yield* fs.list(path("/sys/class/scsi_device"))
        const target = yield* fs.list(path("/sys/class/iscsi_session/session1/device/target0:0:0"))
        const block = yield* fs.list(path("/sys/class/iscsi_session/session1/device/target0:0:0/0:0:0:1/block"))
        const wwid = yield* fs.read(path("/sys/class/scsi_device/0:0:0:1/device/wwid"))
        const vendor = yield* fs.read(path("/sys/class/scsi_device/0:0:0:1/device/vendor"))
        const size = yield* fs.read(path("/sys/block/sda/size"))
        const sdaLink = yield* fs.readlink(path("/sys/block/sda"))
        const devLink = yield* fs.readlink(path("/sys/block/sda/device"))
        const byPath = yield* fs.readlink(
          path("/dev/disk/by-path/ip-10.99.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1")
        )
        const dev = yield* fs.list(path("/dev"))
        return { before, after, target, block, wwid, vendor, size, sdaLink, devLink, byPath, dev }
      })
    )
    expect(out.before).toEqual([])
    expect(out.after).toEqual(["0:0:0:1"])
    expect(out.target).toEqual(["0:0:0:1", "power", "subsystem", "uevent"])
    expect(out.block).toEqual(["sda"])
    expect(out.wwid).toEqual(Option.some(host.wwid(iqn, 1)))
    expect(host.wwid(iqn, 1)).toMatch(/^naa\.6001405[0-9a-f]{25}$/)
    expect(out.vendor).toEqual(Option.some("LIO-ORG "))
    expect(out.size).toEqual(Option.some(String((1 << 30) / 512)))
    expect(out.sdaLink).toEqual(Option.some("../devices/platform/host0/session1/target0:0:0/0:0:0:1/block/sda"))
    expect(out.devLink).toEqual(Option.some("../../../0:0:0:1"))
    expect(out.byPath).toEqual(Option.some("../../sda"))
    expect(out.dev).toContain("sda")
  })

  it("auto scan makes every exported LUN appear at login", async () => {
    const host = SimHost.make(spec(), { seed: 1 })
    host.setLunExported(iqn, 2, false)
    const devices = await runTest(
      host,
      Effect.gen(function*() {
        const adm = yield* Iscsiadm.Iscsiadm
        yield* adm.createNode(node(), { scan: "auto" })
        yield* adm.login(node())
        return yield* (yield* Sysfs.Sysfs).list(path("/sys/class/scsi_device"))
      })
    )
    expect(devices).toEqual(["0:0:0:1"])
    expect(host.snapshot().sessions).toHaveLength(1)
    expect(p1).toBe("10.99.0.1:3260")
  })
})
