/**
 * IfaceFacts reads the host as the kernel lays it out: each iSCSI host's
 * transport from its SCSI host's proc_name, its hardware address, netdev and
 * IP addresses (its own and its kernel ifaces'), and the PCI function above
 * it; offload ports are found without reading the software hosts (those
 * under /sys/devices/platform); a connect reads only what its iface needs.
 */
import { ConnectorOptions, IfaceFacts, IfaceName, Iscsiadm, IscsiHostPort, Network, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"

/** A host with a software session (host0, iscsi_tcp), a qla4xxx port (host2) and a bnx2i port (host3). */
const files: Record<string, string> = {
  "/sys/class/scsi_host/host0/proc_name": "iscsi_tcp",
  "/sys/class/iscsi_host/host0/hwaddress": "(null)",
  "/sys/class/iscsi_host/host0/ipaddress": "10.99.0.1",
  "/sys/class/iscsi_host/host0/netdev": "(null)",
  "/sys/class/scsi_host/host2/proc_name": "qla4xxx",
  "/sys/class/iscsi_host/host2/hwaddress": "00:0E:1E:04:8B:2E",
  "/sys/class/iscsi_host/host2/ipaddress": "0.0.0.0",
  "/sys/class/iscsi_iface/ipv4-iface-2-0/ipaddress": "10.0.0.9",
  "/sys/class/iscsi_iface/ipv6-iface-2-0/ipaddress": "fd00::9",
  "/sys/class/scsi_host/host3/proc_name": "bnx2i",
  "/sys/class/iscsi_host/host3/hwaddress": "00:10:18:aa:bb:cc",
  "/sys/class/iscsi_host/host3/ipaddress": "",
  "/sys/class/iscsi_host/host3/netdev": "eth2"
}
const dirs: Record<string, ReadonlyArray<string>> = {
  "/sys/class/iscsi_host": ["host0", "host2", "host3"],
  "/sys/devices/platform": ["host0", "serial8250", "i8042"],
  "/sys/class/iscsi_iface": ["ipv4-iface-2-0", "ipv6-iface-2-0"],
  "/sys/class/iscsi_transport": ["bnx2i", "qla4xxx", "tcp"],
  "/sys/class/infiniband": []
}
const links: Record<string, string> = {
  "/sys/class/iscsi_host/host0": "../../devices/platform/host0/iscsi_host/host0",
  "/sys/class/iscsi_host/host2": "../../devices/pci0000:00/0000:00:1c.0/0000:03:00.1/host2/iscsi_host/host2",
  "/sys/class/iscsi_host/host3": "../../devices/pci0000:00/0000:00:02.0/0000:04:00.0/host3/iscsi_host/host3"
}

const host = (log: Array<string>) => ({
  sysfs: Sysfs.Sysfs.of({
    list: (p) => Effect.sync(() => (log.push(`list ${p}`), [...(dirs[p] ?? [])])),
    read: (p) => Effect.sync(() => (log.push(`read ${p}`), Option.fromUndefinedOr(files[p]))),
    readlink: (p) => Effect.sync(() => (log.push(`readlink ${p}`), Option.fromUndefinedOr(links[p]))),
    write: () => Effect.void
  }),
  iscsiadm: {
    listIfaces: Effect.sync(() => {
      log.push("iscsiadm -m iface")
      return [] as ReadonlyArray<Iscsiadm.IfaceRecord>
    })
  } as unknown as Iscsiadm.Iscsiadm["Service"],
  network: Network.Network.of({
    interfaces: Effect.sync(() => {
      log.push("ip address")
      return [{ name: "eth2", hwaddress: Option.some("00:10:18:aa:bb:00"), addresses: ["10.0.2.5"] }]
    })
  })
})

const run = <A, E>(effect: Effect.Effect<A, E, Sysfs.Sysfs | Iscsiadm.Iscsiadm | Network.Network>) => {
  const log: Array<string> = []
  const h = host(log)
  const value = Effect.runSync(
    effect.pipe(
      Effect.provideService(Sysfs.Sysfs, h.sysfs),
      Effect.provideService(Iscsiadm.Iscsiadm, h.iscsiadm),
      Effect.provideService(Network.Network, h.network)
    )
  )
  return { value, log }
}

describe("IfaceFacts", () => {
  it("reads every host port: transport, hardware address, IP addresses, netdev, PCI function", () => {
    const { value } = run(IfaceFacts.readAll)
    expect(value.transports).toEqual(["bnx2i", "qla4xxx", "tcp"])
    expect(value.hostPorts).toEqual([
      {
        host: 0,
        transport: "tcp",
        hwaddress: Option.none(),
        ipaddresses: ["10.99.0.1"],
        netdev: Option.none(),
        pciAddress: Option.none()
      },
      {
        host: 2,
        transport: "qla4xxx",
        hwaddress: Option.some("00:0e:1e:04:8b:2e"),
        ipaddresses: ["10.0.0.9", "fd00::9"],
        netdev: Option.none(),
        pciAddress: Option.some("0000:03:00.1")
      },
      {
        host: 3,
        transport: "bnx2i",
        hwaddress: Option.some("00:10:18:aa:bb:cc"),
        ipaddresses: [],
        netdev: Option.some("eth2"),
        pciAddress: Option.some("0000:04:00.0")
      }
    ])
    expect(value.hostPorts.map(IscsiHostPort.isOffloadPort)).toEqual([false, true, true])
  })

  it("a connect reads nothing for default, only the records for a tcp iface, and no software host for offload", () => {
    const options = (iface: unknown) => Effect.runSync(ConnectorOptions.decode(iface === undefined ? {} : { iface }))
    expect(run(IfaceFacts.read(options(undefined))).log).toEqual([])
    expect(run(IfaceFacts.read(options("default"))).log).toEqual([])
    expect(run(IfaceFacts.read(options(IfaceName.unsafeMake("eth1-iscsi")))).log).toEqual(["iscsiadm -m iface"])
    expect(run(IfaceFacts.read(options({ transport: "tcp", netIfacename: "eth1" }))).log).toEqual([
      "iscsiadm -m iface",
      "ip address"
    ])
    expect(run(IfaceFacts.read(options(IfaceName.iserIface))).log).toEqual([
      "iscsiadm -m iface",
      "list /sys/class/infiniband"
    ])
    const offload = run(IfaceFacts.read(options({ transport: "qla4xxx", hwaddress: "00:0e:1e:04:8b:2e" })))
    expect(offload.value.hostPorts.map((p) => p.host)).toEqual([2, 3])
    expect(offload.log.some((l) => l.includes("host0"))).toBe(false)
    expect(offload.log).not.toContain("ip address")
    // an IP address alone: the network interfaces, the transports and the offload ports, to find the HBA on it
    const byIp = run(IfaceFacts.read(options({ ipaddress: "10.0.2.5" })))
    expect(byIp.value.netdevs.map((n) => n.name)).toEqual(["eth2"])
    expect(byIp.value.hostPorts.map((p) => p.host)).toEqual([2, 3])
  })

  it("turns sysfs's unset values into none", () => {
    for (const unset of ["", "(null)", "00:00:00:00:00:00", "0.0.0.0", "::", " \n"]) {
      expect(IscsiHostPort.sysfsValue(Option.some(unset))).toEqual(Option.none())
    }
    expect(IscsiHostPort.hwaddressOf(Option.some("00:0E:1E:04:8B:2E\n"))).toEqual(Option.some("00:0e:1e:04:8b:2e"))
    expect(IscsiHostPort.hwaddressOf(Option.some("eth0"))).toEqual(Option.none())
    expect(IscsiHostPort.transportOfProcName("iscsi_iser\n")).toBe("iser")
    expect(IscsiHostPort.transportOfProcName("be2iscsi")).toBe("be2iscsi")
  })
})
