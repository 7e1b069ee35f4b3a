import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ByPath, HostPath, Iqn, Portal } from "../src/index.ts"
import { canonicalPortal, iqn, kernelLun, pciAddress } from "./arbitraries.ts"

const P = Portal.unsafeMake
const I = Iqn.unsafeMake
const volIqn = I("iqn.2010-10.org.openstack:volume-1")

describe("ByPath.name", () => {
  it("is path_id's name for a software transport", () => {
    expect(ByPath.name({ pci: undefined, portal: P("10.0.0.1"), iqn: volIqn, kernelLun: 1 }))
      .toBe("ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1")
    expect(
      ByPath.path({
        pci: undefined,
        portal: P("10.99.0.1:3260"),
        iqn: I("iqn.2003-01.org.linux-iscsi.lab:t1"),
        kernelLun: 0
      })
    )
      .toBe("/dev/disk/by-path/ip-10.99.0.1:3260-iscsi-iqn.2003-01.org.linux-iscsi.lab:t1-lun-0")
  })
  it("writes IPv6 addresses as the kernel's persistent_address: without brackets", () => {
    // path_id: "ip-%s:%s-iscsi-%s-%s" with persistent_address and persistent_port
    expect(ByPath.name({ pci: undefined, portal: P("[fe80::1]:3260"), iqn: volIqn, kernelLun: 1 }))
      .toBe("ip-fe80::1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1")
    expect(ByPath.portalText(P("[2001:db8:0:f101::1]:3261"))).toBe("2001:db8:0:f101::1:3261")
  })
  it("prefixes the PCI address of an offload HBA", () => {
    expect(ByPath.name({ pci: "0000:03:00.1", portal: P("10.0.0.1"), iqn: volIqn, kernelLun: 2 }))
      .toBe("pci-0000:03:00.1-ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-2")
  })
  it.each([
    // format_lun_number: "lun-%lu" below 256, else "lun-0x%04lx%04lx00000000" (lun & 0xffff, (lun >> 16) & 0xffff)
    [0, "0"],
    [1, "1"],
    [255, "255"],
    [256, "0x0100000000000000"],
    [0x4000, "0x4000000000000000"],
    [0x4001, "0x4001000000000000"],
    [0x4100, "0x4100000000000000"],
    [0x7fff, "0x7fff000000000000"],
    [0x12345678, "0x5678123400000000"]
  ])("writes kernel LUN %d as lun-%s", (n, text) => {
    expect(ByPath.lunText(n)).toBe(text)
    expect(ByPath.name({ pci: undefined, portal: P("10.0.0.1"), iqn: volIqn, kernelLun: n }).endsWith(`-lun-${text}`))
      .toBe(true)
  })
})

describe("ByPath.parse", () => {
  it("reads udev's names", () => {
    expect(ByPath.parse("ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1"))
      .toEqual({ pci: undefined, portal: "10.0.0.1:3260", iqn: volIqn, kernelLun: 1 })
    expect(
      ByPath.parse("ip-2a10:4741:36:28:e61d:2dff:fe90:80fe:3260-iscsi-iqn.2005-10.org.freenas.ctl:csi-pvc-1-lun-0")
    )
      .toEqual({
        pci: undefined,
        portal: "[2a10:4741:36:28:e61d:2dff:fe90:80fe]:3260",
        iqn: "iqn.2005-10.org.freenas.ctl:csi-pvc-1",
        kernelLun: 0
      })
    expect(
      ByPath.parse("pci-0000:03:00.1-ip-fe80::1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-0x4100000000000000")
    )
      .toEqual({ pci: "0000:03:00.1", portal: "[fe80::1]:3260", iqn: volIqn, kernelLun: 0x4100 })
  })
  it("splits an IQN holding -lun- and -iscsi- correctly", () => {
    expect(ByPath.parse("ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.x:a-lun-3-iscsi-b-lun-4"))
      .toEqual({ pci: undefined, portal: "10.0.0.1:3260", iqn: "iqn.2010-10.org.x:a-lun-3-iscsi-b", kernelLun: 4 })
  })
  it.each([
    "",
    "sda",
    "ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.x:a",
    "ip-10.0.0.1-iscsi-iqn.2010-10.org.x:a-lun-1",
    "ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.x:a-lun-256",
    "ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.x:a-lun-0x00ff000000000000",
    "ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.x:a-lun-0x4100000000000001",
    "ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.x:a-lun-1-part1",
    "ip-10.0.0.1:0-iscsi-iqn.2010-10.org.x:a-lun-1",
    "ip-10.0.0.1:3260-iscsi-bad iqn-lun-1",
    "ip-[fe80::1]:3260-iscsi-iqn.2010-10.org.x:a-lun-1",
    "pci-0000:03:00.1-virtio-pci-virtio1",
    "pci-0000:03:00.8-ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.x:a-lun-1",
    "fc-0x500a098287581f91-lun-0",
    "ip-999.0.0.1:3260-iscsi-iqn.2010-10.org.x:a-lun-1"
  ])("refuses %j", (s) => expect(ByPath.parse(s)).toBeUndefined())

  it("parse(name(x)) == x for generated portals, IQNs (with -lun-/-iscsi-), kernel LUNs and PCI addresses", () => {
    fc.assert(
      fc.property(
        fc.option(pciAddress, { nil: undefined }),
        canonicalPortal,
        iqn.filter(Iqn.isIqn),
        kernelLun,
        (pci, portal, name, lun) => {
          const x = { pci, portal: P(portal), iqn: I(name), kernelLun: lun }
          expect(ByPath.parse(ByPath.name(x))).toEqual(x)
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("every name is one plain path segment under /dev/disk/by-path", () => {
    fc.assert(
      fc.property(
        fc.option(pciAddress, { nil: undefined }),
        canonicalPortal,
        iqn.filter(Iqn.isIqn),
        kernelLun,
        (pci, portal, name, lun) => {
          const n = ByPath.name({ pci, portal: P(portal), iqn: I(name), kernelLun: lun })
          const p = HostPath.make(ByPath.path({ pci, portal: P(portal), iqn: I(name), kernelLun: lun }))
          return !n.includes("/") && n !== "." && n !== ".." && p === `${ByPath.directory}/${n}` && !/[\s\0]/.test(n)
        }
      ),
      { numRuns: 1500 }
    )
  })
})

describe("ByPath.matches", () => {
  const lunOf = { portal: P("10.0.0.1"), iqn: volIqn, kernelLun: 1 }
  it("matches any PCI address for offload, none for software", () => {
    const offloadName = "pci-0000:03:00.1-ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1"
    const softwareName = "ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1"
    expect(ByPath.matches(offloadName, lunOf, true)).toBe(true)
    expect(ByPath.matches(offloadName, lunOf, false)).toBe(false)
    expect(ByPath.matches(softwareName, lunOf, false)).toBe(true)
    expect(ByPath.matches(softwareName, lunOf, true)).toBe(false)
  })
  it("does not match another LUN, portal or target", () => {
    expect(ByPath.matches("ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-11", lunOf, false)).toBe(false)
    expect(ByPath.matches("ip-10.0.0.1:3261-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1", lunOf, false)).toBe(false)
    expect(ByPath.matches("ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-10-lun-1", lunOf, false)).toBe(false)
    expect(ByPath.matches("ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1-part1", lunOf, false)).toBe(
      false
    )
  })
  it("matches exactly the names of that LUN whatever the unknown PCI address", () => {
    fc.assert(
      fc.property(
        pciAddress,
        canonicalPortal,
        iqn.filter(Iqn.isIqn),
        kernelLun,
        canonicalPortal,
        iqn.filter(Iqn.isIqn),
        kernelLun,
        (pci, portal, name, lun, portal2, name2, lun2) => {
          const a = { portal: P(portal), iqn: I(name), kernelLun: lun }
          const b = { portal: P(portal2), iqn: I(name2), kernelLun: lun2 }
          const same = a.portal === b.portal && a.iqn === b.iqn && a.kernelLun === b.kernelLun
          return ByPath.matches(ByPath.name({ pci, ...b }), a, true) === same &&
            ByPath.matches(ByPath.name({ pci: undefined, ...b }), a, false) === same &&
            ByPath.matches(ByPath.name({ pci, ...a }), a, true)
        }
      ),
      { numRuns: 1500 }
    )
  })
})

describe("ByPath.pciAddressOfHost", () => {
  it.each([
    ["../../devices/pci0000:00/0000:00:03.0/0000:03:00.1/host2/iscsi_host/host2", "0000:03:00.1"],
    ["../../devices/pci0000:00/0000:00:1c.0/0000:05:00.3/host7/iscsi_host/host7", "0000:05:00.3"],
    ["../../devices/pci0000:80/0000:80:02.0/0000:81:00.0/0000:82:00.4/host11/iscsi_host/host11", "0000:82:00.4"],
    ["/sys/devices/pci0000:00/0000:00:02.0/0000:02:00.0/host3/iscsi_host/host3", "0000:02:00.0"],
    ["../../devices/pci0000:00/0000:00:03.0/0000:03:00.1", "0000:03:00.1"]
  ])("%s → %s", (link, pci) => expect(ByPath.pciAddressOfHost(link)).toBe(pci))
  it.each([
    "../../devices/platform/host2/iscsi_host/host2",
    "../../devices/virtual/iscsi_host/host2",
    "",
    "host2"
  ])("has no PCI address for the software host %s", (link) => expect(ByPath.pciAddressOfHost(link)).toBeUndefined())
  it("ignores PCI-looking segments below the SCSI host", () => {
    expect(ByPath.pciAddressOfHost("../../devices/platform/host2/0000:03:00.1/iscsi_host/host2")).toBeUndefined()
  })
  it("finds the generated HBA address in any PCI chain", () => {
    fc.assert(
      fc.property(
        fc.array(pciAddress, { maxLength: 3 }),
        pciAddress,
        fc.integer({ min: 0, max: 999 }),
        (bridges, hba, h) =>
          ByPath.pciAddressOfHost(
            `../../devices/pci0000:00/${[...bridges, hba].join("/")}/host${h}/iscsi_host/host${h}`
          ) === hba
      ),
      { numRuns: 1000 }
    )
  })
  it("isPciAddress", () => {
    expect(ByPath.isPciAddress("0000:03:00.1")).toBe(true)
    for (const s of ["0000:03:00.8", "000:03:00.1", "0000:3:00.1", "pci0000:00", "0000:03:00", "0000:03:0g.1"]) {
      expect(ByPath.isPciAddress(s)).toBe(false)
    }
  })
})
