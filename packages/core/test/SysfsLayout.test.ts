import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Hctl, HostPath } from "../src/index.ts"
import * as IscsiLayout from "../src/internal/iscsi/IscsiLayout.ts"
import * as SysfsLayout from "../src/internal/SysfsLayout.ts"

const nat = fc.integer({ min: 0, max: 1_000_000 })
const hctl = fc.record({
  host: nat,
  channel: fc.integer({ min: 0, max: 7 }),
  target: nat,
  lun: fc.integer({ min: 0, max: 0x7fff })
})
const attr = fc.constantFrom(
  "targetname",
  "state",
  "ifacename",
  "recovery_tmo",
  "tpgt",
  "persistent_address",
  "device/delete",
  "holders",
  "dm/uuid"
)

describe("SysfsLayout path builders", () => {
  it("build the kernel's paths", () => {
    expect(IscsiLayout.sessionsDir).toBe("/sys/class/iscsi_session")
    expect(IscsiLayout.transportsDir).toBe("/sys/class/iscsi_transport")
    expect(IscsiLayout.iscsiHostsDir).toBe("/sys/class/iscsi_host")
    expect(SysfsLayout.byPathDir).toBe("/dev/disk/by-path")
    expect(IscsiLayout.sessionDir(1)).toBe("/sys/class/iscsi_session/session1")
    expect(IscsiLayout.sessionFile(12, "targetname")).toBe("/sys/class/iscsi_session/session12/targetname")
    expect(IscsiLayout.sessionDeviceDir(3)).toBe("/sys/class/iscsi_session/session3/device")
    expect(IscsiLayout.sessionTargetDir(3, "target2:0:0")).toBe("/sys/class/iscsi_session/session3/device/target2:0:0")
    expect(IscsiLayout.connectionFile(3, "persistent_address")).toBe(
      "/sys/class/iscsi_connection/connection3:0/persistent_address"
    )
    expect(IscsiLayout.iscsiHostFile(2, "hwaddress")).toBe("/sys/class/iscsi_host/host2/hwaddress")
    expect(IscsiLayout.iscsiHostDir(2)).toBe("/sys/class/iscsi_host/host2")
    expect(SysfsLayout.hostScanFile(2)).toBe("/sys/class/scsi_host/host2/scan")
    expect(SysfsLayout.scsiDeviceDir({ host: 2, channel: 0, target: 0, lun: 1 })).toBe(
      "/sys/class/scsi_device/2:0:0:1/device"
    )
    expect(SysfsLayout.scsiDeviceFile({ host: 2, channel: 0, target: 0, lun: 16640 }, "wwid")).toBe(
      "/sys/class/scsi_device/2:0:0:16640/device/wwid"
    )
    expect(SysfsLayout.blockDir("sdb")).toBe("/sys/block/sdb")
    expect(SysfsLayout.blockFile("dm-0", "dm/uuid")).toBe("/sys/block/dm-0/dm/uuid")
  })

  it("produce HostPaths under /sys (or /dev) for any numbers and attribute", () => {
    fc.assert(
      fc.property(nat, hctl, attr, fc.constantFrom("sda", "sdzz", "dm-0", "dm-12"), (n, a, file, dev) => {
        const all = [
          IscsiLayout.sessionDir(n),
          IscsiLayout.sessionFile(n, file),
          IscsiLayout.sessionDeviceDir(n),
          IscsiLayout.sessionTargetDir(n, `target${a.host}:${a.channel}:${a.target}`),
          IscsiLayout.connectionFile(n, file),
          IscsiLayout.iscsiHostFile(n, file),
          IscsiLayout.iscsiHostDir(n),
          SysfsLayout.hostScanFile(n),
          SysfsLayout.scsiDeviceDir(a),
          SysfsLayout.scsiDeviceFile(a, file),
          SysfsLayout.blockDir(dev),
          SysfsLayout.blockFile(dev, file)
        ]
        for (const p of all) {
          expect(HostPath.isHostPath(p)).toBe(true)
          expect(p.startsWith("/sys/")).toBe(true)
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("refuse names that would leave sysfs", () => {
    expect(() => IscsiLayout.sessionFile(1, "../../../etc/shadow")).toThrow()
    expect(() => SysfsLayout.blockDir("..")).toThrow()
    expect(() => SysfsLayout.blockFile("sdb", "../../../../etc")).toThrow()
    expect(() => IscsiLayout.sessionTargetDir(1, "./x/..")).toThrow()
    expect(() => SysfsLayout.blockFile("sdb", "a\0b")).toThrow()
    expect(() => SysfsLayout.blockFile("sdb", "")).toThrow()
  })

  it("scanLine writes 'C T L', '-' for a wildcard", () => {
    expect(SysfsLayout.scanLine(0, 0, 1)).toBe("0 0 1")
    expect(SysfsLayout.scanLine(undefined, undefined, 16640)).toBe("- - 16640")
    expect(SysfsLayout.scanLine(0, undefined, 3)).toBe("0 - 3")
  })
})

describe("SysfsLayout parsers", () => {
  it("parse session and target names", () => {
    expect(IscsiLayout.parseSessionName("session12")).toBe(12)
    expect(SysfsLayout.parseTargetName("target2:0:1")).toEqual({ host: 2, channel: 0, target: 1 })
    for (const s of ["session", "session-1", "sessionx", "xsession1", "session1 ", "connection1:0"]) {
      expect(IscsiLayout.parseSessionName(s)).toBeUndefined()
    }
    for (const s of ["target2:0", "target2:0:0:1", "targetx:0:0", "2:0:0", "target2:0:0/"]) {
      expect(SysfsLayout.parseTargetName(s)).toBeUndefined()
    }
  })

  it("round-trip generated session and target names", () => {
    fc.assert(
      fc.property(nat, nat, nat, nat, (s, h, c, t) =>
        IscsiLayout.parseSessionName(`session${s}`) === s &&
        JSON.stringify(SysfsLayout.parseTargetName(`target${h}:${c}:${t}`)) ===
          JSON.stringify({ host: h, channel: c, target: t })),
      { numRuns: 2000 }
    )
  })

  it.each([
    ["../../devices/platform/host2/session1/iscsi_session/session1", 2],
    ["../../devices/platform/host12/session34/iscsi_session/session34", 12],
    ["/sys/devices/platform/host0/session1/iscsi_session/session1", 0],
    // offload HBAs: the SCSI host sits under its PCI device
    ["../../devices/pci0000:00/0000:00:03.0/0000:03:00.1/host5/session3/iscsi_session/session3", 5],
    ["../../devices/pci0000:00/0000:00:1c.0/0000:05:00.3/host7/session9/iscsi_session/session9", 7]
  ])("hostOfSessionLink(%s) = %d", (link, host) => expect(IscsiLayout.hostOfSessionLink(link)).toBe(host))

  it.each([
    "",
    "../../devices/platform/session1/iscsi_session/session1",
    "../../devices/platform/xhost2/session1",
    "host2"
  ])(
    "hostOfSessionLink(%j) is undefined",
    (link) => expect(IscsiLayout.hostOfSessionLink(link)).toBeUndefined()
  )

  it("hostOfSessionLink finds the host of any generated link", () => {
    fc.assert(
      fc.property(
        nat,
        nat,
        fc.constantFrom("../../devices/platform", "../../devices/pci0000:00/0000:00:03.0/0000:03:00.1"),
        (h, s, parent) =>
          IscsiLayout.hostOfSessionLink(`${parent}/host${h}/session${s}/iscsi_session/session${s}`) === h
      ),
      { numRuns: 1000 }
    )
  })

  it("linkBaseName, isDmName, isSdName", () => {
    expect(SysfsLayout.linkBaseName("../../sdb")).toBe("sdb")
    expect(SysfsLayout.linkBaseName("../../devices/virtual/block/dm-3")).toBe("dm-3")
    expect(SysfsLayout.linkBaseName("sdc")).toBe("sdc")
    expect(SysfsLayout.isDmName("dm-0")).toBe(true)
    expect(SysfsLayout.isDmName("dm-")).toBe(false)
    expect(SysfsLayout.isDmName("dm-1p1")).toBe(false)
    expect(SysfsLayout.isSdName("sdaa")).toBe(true)
    expect(SysfsLayout.isSdName("sda1")).toBe(false)
    expect(SysfsLayout.isSdName("sd")).toBe(false)
  })
})

describe("Hctl", () => {
  it("formats and parses H:C:T:L", () => {
    fc.assert(
      fc.property(hctl, (a) => {
        expect(Hctl.parse(Hctl.format(a))).toEqual(a)
      }),
      { numRuns: 1000 }
    )
    for (const s of ["1:2:3", "1:2:3:4:5", "a:0:0:0", "", "1:2:3:-4"]) expect(Hctl.parse(s)).toBeUndefined()
  })
})
