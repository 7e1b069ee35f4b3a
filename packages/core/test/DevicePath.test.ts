import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ByPath, DevicePath, HostPath, Iqn, Portal, Wwn } from "../src/index.ts"
import { canonicalPortal, iqn, kernelLun, pciAddress } from "./arbitraries.ts"

describe("DevicePath", () => {
  it.each([
    "/dev/sda",
    "/dev/sdaa",
    "/dev/dm-0",
    "/dev/dm-12",
    "/dev/mapper/36001405abc",
    "/dev/mapper/mpatha",
    "/dev/disk/by-id/wwn-0x6001405abc",
    "/dev/disk/by-path/ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.x:a-lun-1",
    "/dev/disk/by-path/ip-fe80::1:3260-iscsi-iqn.2010-10.org.x:a..b-lun-0x4100000000000000"
  ])("accepts %s", (s) => {
    expect(DevicePath.isDevicePath(s)).toBe(true)
    expect(Schema.is(DevicePath.DevicePath)(s)).toBe(true)
  })
  it.each([
    "",
    "/dev/sda1",
    "/dev/sd",
    "/dev/dm-",
    "/dev/mapper/..",
    "/dev/mapper/.",
    "/dev/disk/by-path/..",
    "/dev/disk/by-path/a/b",
    "/dev/disk/by-path/",
    "/dev/../etc/passwd",
    "/etc/passwd",
    "dev/sda",
    "/dev/sda ",
    "/dev/mapper/a b",
    "/dev/mapper/-x;rm",
    "/dev/nvme0n1",
    "/dev/disk/by-PATH/x"
  ])("refuses %j", (s) => {
    expect(DevicePath.isDevicePath(s)).toBe(false)
    expect(() => DevicePath.unsafeMake(s)).toThrow()
  })
  it("kernelName", () => {
    expect(DevicePath.kernelName(DevicePath.unsafeMake("/dev/sdb"))).toBe("sdb")
    expect(DevicePath.kernelName(DevicePath.unsafeMake("/dev/dm-3"))).toBe("dm-3")
    expect(DevicePath.kernelName(DevicePath.unsafeMake("/dev/mapper/mpatha"))).toBeUndefined()
  })
  it("every by-path link brick plans is a DevicePath and a HostPath", () => {
    fc.assert(
      fc.property(
        fc.option(pciAddress, { nil: undefined }),
        canonicalPortal,
        iqn.filter(Iqn.isIqn),
        kernelLun,
        (pci, portal, name, lun) => {
          const p = ByPath.path({ pci, portal: Portal.unsafeMake(portal), iqn: Iqn.unsafeMake(name), kernelLun: lun })
          return DevicePath.isDevicePath(p) && HostPath.isHostPath(p)
        }
      ),
      { numRuns: 2000 }
    )
  })
})

describe("HostPath", () => {
  it.each(["/sys", "/dev", "/sys/class/iscsi_session/session1", "/dev/disk/by-path/x", "/sys/block/sdb/holders"])(
    "accepts %s",
    (s) => {
      expect(HostPath.make(s)).toBe(s)
    }
  )
  it.each([
    "",
    "/",
    "/sys/",
    "/etc/passwd",
    "/system",
    "/devices",
    "sys/block",
    "/sys/../etc",
    "/sys/./block",
    "/dev//sda",
    "/sys/a\0b",
    "/proc/1"
  ])(
    "refuses %j",
    (s) => {
      expect(HostPath.isHostPath(s)).toBe(false)
      expect(() => HostPath.make(s)).toThrow()
    }
  )
  it("join appends plain segments and refuses escapes", () => {
    const base = HostPath.make("/sys/block")
    expect(HostPath.join(base, "sdb", "size")).toBe("/sys/block/sdb/size")
    expect(() => HostPath.join(base, "..", "..", "etc")).toThrow()
    expect(() => HostPath.join(base, "")).toThrow()
  })
  it("no joined path leaves /sys or /dev", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("/sys", "/dev", "/sys/class"),
        fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("..", ".", "/", "a/../..")), { maxLength: 4 }),
        (root, names) => {
          let joined: string | undefined
          try {
            joined = HostPath.join(HostPath.make(root), ...names)
          } catch {
            return true
          }
          const segments = joined.split("/")
          return (joined.startsWith("/sys/") || joined.startsWith("/dev/") || joined === root) &&
            !segments.includes("..") && !segments.includes(".")
        }
      ),
      { numRuns: 2000 }
    )
  })
})

describe("Wwn.fromSysfsWwid", () => {
  it.each([
    ["naa.6001405abcdef0123456789abcdef012\n", "36001405abcdef0123456789abcdef012"],
    ["eui.0123456789abcdef", "20123456789abcdef"],
    ["t10.LIO-ORG disk0", "1LIO-ORG disk0"],
    ["  36001405abc  ", "36001405abc"]
  ])("%j → %j", (wwid, wwn) => expect(Wwn.fromSysfsWwid(wwid)).toBe(wwn))
})
