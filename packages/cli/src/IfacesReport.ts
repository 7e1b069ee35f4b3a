/**
 * `brick ifaces`'s output: every iface record and every iSCSI-capable port
 * of the host, each with its transport, hardware address, IP addresses,
 * network interface and PCI function, whether brick would use it and, if
 * not, why (the same decision a connect makes: IfaceChoice). Ports are the
 * iSCSI hosts (/sys/class/iscsi_host: offload HBA ports, and one per
 * software session), the RDMA devices iSER runs over, and network
 * interfaces whose driver has an offload transport that is not loaded (the
 * drivers open-iscsi loads offload modules for). Pure: it reads nothing.
 */
import { IfaceChoice, type IfaceName, type IscsiHostPort, Transport } from "@brick/core"
import { Option } from "effect"

/** An RDMA device and the network interface it runs over. */
export interface RdmaDevice {
  readonly name: string
  readonly netdev: Option.Option<string>
  readonly pciAddress: Option.Option<string>
}

/** A network interface's driver (`/sys/class/net/NAME/device/driver`) and PCI function. */
export interface NetDriver {
  readonly netdev: string
  readonly driver: string
  readonly pciAddress: Option.Option<string>
}

/** Everything the report is made of. */
export interface IfacesFacts extends IfaceChoice.IfaceFacts {
  readonly rdma: ReadonlyArray<RdmaDevice>
  readonly drivers: ReadonlyArray<NetDriver>
}

/** The offload transport of a NIC driver (open-iscsi loads these modules for them). */
export const offloadDrivers: Readonly<Record<string, Transport.Transport>> = {
  cxgb3: "cxgb3i",
  cxgb4: "cxgb4i",
  bnx2: "bnx2i",
  bnx2x: "bnx2i"
}

/** One iface record as reported. */
export interface IfaceRow {
  readonly name: string
  readonly transport: string
  readonly hwaddress: string | null
  readonly ipaddress: string | null
  readonly netIfacename: string | null
  /** The network interface its sessions go through, when known. */
  readonly netdev: string | null
  /** The PCI function of its HBA port (offload). */
  readonly pciAddress: string | null
  readonly usable: boolean
  readonly reason: string | null
  readonly why: string | null
}

/** One iSCSI-capable port as reported. */
export interface PortRow {
  /** `iscsi_host` (hostH), `rdma` (an RDMA device: iSER), `nic` (an offload-capable NIC without its iSCSI host). */
  readonly kind: "iscsi_host" | "rdma" | "nic"
  readonly name: string
  readonly transport: string
  readonly offload: boolean
  readonly hwaddress: string | null
  readonly ipaddresses: ReadonlyArray<string>
  readonly netdev: string | null
  readonly pciAddress: string | null
  readonly usable: boolean
  readonly why: string | null
  /** The iface records brick would use it through. */
  readonly ifaces: ReadonlyArray<string>
}

/** What `brick ifaces` prints. */
export interface IfacesReport {
  readonly transports: ReadonlyArray<string>
  readonly ifaces: ReadonlyArray<IfaceRow>
  readonly ports: ReadonlyArray<PortRow>
}

const orNull = <A>(o: Option.Option<A>): A | null => Option.getOrNull(o)

const netdevNamed = (facts: IfacesFacts, name: string | null) =>
  name === null ? undefined : facts.netdevs.find((n) => n.name === name)

const ifaceRow = (facts: IfacesFacts, r: IfaceChoice.IfaceFacts["ifaces"][number]): IfaceRow => {
  const choice = IfaceChoice.choose(r.name, facts, false)
  const port = choice._tag === "Use" ? Option.getOrUndefined(choice.port) : undefined
  const iserNetdev = choice._tag === "Use" && choice.transport === "iser"
    ? facts.rdma.flatMap((d) => Option.toArray(d.netdev))[0]
    : undefined
  return {
    name: r.name,
    transport: r.transport,
    hwaddress: orNull(r.hwaddress),
    ipaddress: orNull(r.ipaddress),
    netIfacename: orNull(r.netIfacename),
    netdev: orNull(r.netIfacename) ?? (port ? orNull(port.netdev) : null) ?? iserNetdev ?? null,
    pciAddress: port ? orNull(port.pciAddress) : null,
    usable: choice._tag === "Use",
    reason: choice._tag === "Refuse" ? choice.reason._tag : null,
    why: choice._tag === "Refuse" ? IfaceChoice.describeReason(choice.reason) : null
  }
}

/** The records a connect through `port` would use (those whose choice lands on it). */
const ifacesOn = (facts: IfacesFacts, port: IscsiHostPort.IscsiHostPort): ReadonlyArray<IfaceName.IfaceName> =>
  facts.ifaces.flatMap((r) => {
    const c = IfaceChoice.choose(r.name, facts, false)
    return c._tag === "Use" && Option.isSome(c.port) && c.port.value.host === port.host ? [r.name] : []
  })

const hostRow = (facts: IfacesFacts, p: IscsiHostPort.IscsiHostPort): PortRow => {
  const offload = Transport.isTransport(p.transport) && Transport.isOffload(p.transport)
  const supported = Transport.isTransport(p.transport)
  return {
    kind: "iscsi_host",
    name: `host${p.host}`,
    transport: p.transport,
    offload,
    hwaddress: orNull(p.hwaddress),
    ipaddresses: p.ipaddresses,
    netdev: orNull(p.netdev),
    pciAddress: orNull(p.pciAddress),
    usable: supported,
    why: supported
      ? null
      : `transport ${p.transport} is not supported`,
    ifaces: offload ? ifacesOn(facts, p) : []
  }
}

const rdmaRow = (facts: IfacesFacts, d: RdmaDevice): PortRow => {
  const netdev = netdevNamed(facts, orNull(d.netdev))
  const loaded = facts.transports.includes("iser")
  return {
    kind: "rdma",
    name: d.name,
    transport: "iser",
    offload: false,
    hwaddress: netdev ? orNull(netdev.hwaddress) : null,
    ipaddresses: netdev?.addresses ?? [],
    netdev: orNull(d.netdev),
    pciAddress: orNull(d.pciAddress),
    usable: true,
    why: loaded ? null : "ib_iser is not loaded yet (iscsiadm loads it at the first iSER login)",
    ifaces: facts.ifaces.filter((r) => r.transport === "iser").map((r) => r.name)
  }
}

/** Offload-capable NICs whose iSCSI host is not there (their transport is not loaded). */
const nicRows = (facts: IfacesFacts): ReadonlyArray<PortRow> =>
  facts.drivers.flatMap((d) => {
    const transport = offloadDrivers[d.driver]
    if (transport === undefined) return []
    const netdev = netdevNamed(facts, d.netdev)
    const hosted = facts.hostPorts.some((p) =>
      p.transport === transport &&
      (Option.getOrUndefined(p.netdev) === d.netdev || Option.getOrUndefined(p.pciAddress) === orNull(d.pciAddress))
    )
    if (hosted) return []
    const loaded = facts.transports.includes(transport)
    return [{
      kind: "nic" as const,
      name: d.netdev,
      transport,
      offload: true,
      hwaddress: netdev ? orNull(netdev.hwaddress) : null,
      ipaddresses: netdev?.addresses ?? [],
      netdev: d.netdev,
      pciAddress: orNull(d.pciAddress),
      usable: false,
      why: loaded
        ? `${transport} is loaded but shows no iSCSI host for ${d.netdev} (driver ${d.driver})`
        : IfaceChoice.describeReason({ _tag: "TransportNotLoaded", transport }),
      ifaces: []
    }]
  })

/** The report of a host's facts. */
export const make = (facts: IfacesFacts): IfacesReport => ({
  transports: facts.transports,
  ifaces: facts.ifaces.map((r) => ifaceRow(facts, r)),
  ports: [
    ...facts.hostPorts.map((p) => hostRow(facts, p)),
    ...facts.rdma.map((d) => rdmaRow(facts, d)),
    ...nicRows(facts)
  ]
})
