/**
 * Offload HBAs on the simulated host, as the kernel's drivers and
 * open-iscsi show them: the SCSI host under its PCI function behind a
 * bridge, the iscsi_host attributes each driver exposes, qla4xxx's kernel
 * iface, the transport's class device, and the iface records `iscsiadm -m
 * iface` makes for present hardware (only while the driver is loaded; they
 * stay when it goes). Core's fact reader is run on the same host as a
 * cross-check of the layout brick depends on.
 */
import { IfaceFacts, Iscsiadm, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { SimHost } from "../src/index.ts"
import { node, p1, path, runTest, spec } from "./helpers.ts"

const qla = { transport: "qla4xxx" as const, hwaddress: "00:0E:1E:04:8B:2E", pciAddress: "0000:05:00.1" }
const bnx = { transport: "bnx2i" as const, hwaddress: "00:10:18:aa:bb:cc", pciAddress: "0000:03:00.0" }

const list = (p: string) => Sysfs.Sysfs.use((fs) => fs.list(path(p)))
const read = (p: string) => Sysfs.Sysfs.use((fs) => fs.read(path(p)))
const ifaceNames = Effect.map(Iscsiadm.Iscsiadm.use((a) => a.listIfaces), (rs) => rs.map((r) => r.name))

describe("offload HBAs on the simulated host", () => {
  it("qla4xxx: host under its PCI function behind the bridge, its attributes, its kernel iface, record .ipv4.0", async () => {
    const host = SimHost.make(spec({
      transports: ["tcp", "qla4xxx"],
      hbas: [{ ...qla, bridge: "0000:00:03.0", ipaddress: "10.99.0.50" }]
    }))
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const fs = yield* Sysfs.Sysfs
        return {
          link: yield* fs.readlink(path("/sys/class/iscsi_host/host0")),
          attributes: yield* list("/sys/class/iscsi_host/host0"),
          procName: yield* read("/sys/class/scsi_host/host0/proc_name"),
          hwaddress: yield* read("/sys/class/iscsi_host/host0/hwaddress"),
          kernelIfaces: yield* list("/sys/class/iscsi_iface"),
          kernelIfaceIp: yield* read("/sys/class/iscsi_iface/ipv4-iface-0-0/ipaddress"),
          transport: yield* list("/sys/class/iscsi_transport/qla4xxx"),
          records: yield* ifaceNames,
          ports: yield* IfaceFacts.allHostPorts
        }
      })
    )
    expect(out.link).toEqual(
      Option.some("../../devices/pci0000:00/0000:00:03.0/0000:05:00.1/host0/iscsi_host/host0")
    )
    // qla4xxx shows no netdev (it is not a NIC's offload)
    expect(out.attributes).toEqual([
      "device",
      "hwaddress",
      "initiatorname",
      "ipaddress",
      "port_speed",
      "port_state",
      "power",
      "subsystem",
      "uevent"
    ])
    expect(out.procName).toEqual(Option.some("qla4xxx"))
    expect(out.hwaddress).toEqual(Option.some("00:0e:1e:04:8b:2e"))
    expect(out.kernelIfaces).toEqual(["ipv4-iface-0-0"])
    expect(out.kernelIfaceIp).toEqual(Option.some("10.99.0.50"))
    expect(out.transport).toEqual(expect.arrayContaining(["caps", "handle"]))
    expect(out.records).toEqual(["default", "iser", "qla4xxx.00:0e:1e:04:8b:2e.ipv4.0"])
    expect(out.ports).toEqual([{
      host: 0,
      transport: "qla4xxx",
      hwaddress: Option.some("00:0e:1e:04:8b:2e"),
      ipaddresses: ["10.99.0.50"],
      netdev: Option.none(),
      pciAddress: Option.some("0000:05:00.1")
    }])
  })

  it("bnx2i: hwaddress, ipaddress and the netdev it offloads; no kernel iface; record <transport>.<hwaddress>", async () => {
    const host = SimHost.make(spec({
      transports: ["tcp", "bnx2i"],
      hbas: [{ ...bnx, netdev: "eth2", ipaddress: "10.99.0.60" }]
    }))
    const out = await runTest(
      host,
      Effect.gen(function*() {
        return {
          attributes: yield* list("/sys/class/iscsi_host/host0"),
          netdev: yield* read("/sys/class/iscsi_host/host0/netdev"),
          kernelIfaces: yield* list("/sys/class/iscsi_iface"),
          records: yield* ifaceNames
        }
      })
    )
    expect(out.attributes.filter((a) => !["device", "power", "subsystem", "uevent"].includes(a))).toEqual([
      "hwaddress",
      "ipaddress",
      "netdev"
    ])
    expect(out.netdev).toEqual(Option.some("eth2"))
    expect(out.kernelIfaces).toEqual([])
    expect(out.records).toEqual(["bnx2i.00:10:18:aa:bb:cc", "default", "iser"])
  })

  it("no host, no record while the driver is not loaded; iscsiadm -m iface makes it once loaded; it stays after", async () => {
    const host = SimHost.make(spec({ transports: ["tcp"], hbas: [bnx] }))
    const look = Effect.gen(function*() {
      return {
        hosts: yield* list("/sys/class/iscsi_host"),
        transports: yield* list("/sys/class/iscsi_transport"),
        pci: yield* list("/sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.0"),
        records: yield* ifaceNames
      }
    })
    expect(await runTest(host, look)).toEqual({ hosts: [], transports: ["tcp"], pci: [], records: ["default", "iser"] })
    host.setTransportLoaded("bnx2i", true)
    expect(await runTest(host, look)).toEqual({
      hosts: ["host0"],
      transports: ["bnx2i", "tcp"],
      pci: ["host0"],
      records: ["bnx2i.00:10:18:aa:bb:cc", "default", "iser"]
    })
    host.setTransportLoaded("bnx2i", false)
    const after = await runTest(host, look)
    expect(after.hosts).toEqual([])
    expect(after.records).toContain("bnx2i.00:10:18:aa:bb:cc")
  })

  it("an iSER session's host (iscsi_iser) has no ipaddress file, and hwaddress/netdev (null)", async () => {
    const host = SimHost.make(spec({ transports: ["tcp", "iser"] }))
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const adm = yield* Iscsiadm.Iscsiadm
        const n = node(p1, undefined, "iser")
        yield* adm.createNode(n, {})
        yield* adm.login(n)
        const [h] = yield* list("/sys/class/iscsi_host")
        return {
          attributes: yield* list(`/sys/class/iscsi_host/${h}`),
          procName: yield* read(`/sys/class/scsi_host/${h}/proc_name`),
          hwaddress: yield* read(`/sys/class/iscsi_host/${h}/hwaddress`),
          link: yield* Sysfs.Sysfs.use((fs) => fs.readlink(path(`/sys/class/iscsi_host/${h}`)))
        }
      })
    )
    expect(out.attributes).not.toContain("ipaddress")
    expect(out.attributes).toEqual(expect.arrayContaining(["hwaddress", "netdev", "initiatorname"]))
    expect(out.procName).toEqual(Option.some("iscsi_iser"))
    expect(out.hwaddress).toEqual(Option.some("(null)"))
    expect(Option.getOrThrow(out.link)).toMatch(/^\.\.\/\.\.\/devices\/platform\/host\d+\/iscsi_host\/host\d+$/)
  })
})
