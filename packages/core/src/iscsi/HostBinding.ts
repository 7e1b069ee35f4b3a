/**
 * What the host offers an iface to bind, and why it cannot: the facts read
 * off the host (iface records, loaded transports, iSCSI host ports, RDMA
 * devices, network interfaces), the lookups an iface's binding goes through
 * (the HBA port of an offload iface as iscsid finds it, the network
 * interface a software iface binds) and the reasons they fail.
 */
import { Option, Result } from "effect"
import type { NetInterface } from "../Network.ts"
import type { IfaceRecord } from "./Iscsiadm.ts"
import { type IscsiHostPort, isOffloadPort, sameHwaddress } from "./IscsiHostPort.ts"
import type { Transport } from "./Transport.ts"

/** What the host says about ifaces, transports, HBAs and network interfaces. */
export interface IfaceFacts {
  /** The iface records (`iscsiadm -m iface`). */
  readonly ifaces: ReadonlyArray<IfaceRecord>
  /** The loaded transports (/sys/class/iscsi_transport). */
  readonly transports: ReadonlyArray<string>
  /** The iSCSI host ports of offload HBAs (software hosts need not be listed). */
  readonly hostPorts: ReadonlyArray<IscsiHostPort>
  /** The RDMA devices (/sys/class/infiniband): iSER needs one. */
  readonly rdmaDevices: ReadonlyArray<string>
  /** The network interfaces (read only when a spec binds one, or an IP address or hwaddress on one). */
  readonly netdevs: ReadonlyArray<NetInterface>
}

/** Facts of a host that has nothing: no record, transport, HBA, RDMA device or network interface. */
export const noFacts: IfaceFacts = { ifaces: [], transports: [], hostPorts: [], rdmaDevices: [], netdevs: [] }

/** Why the requested iface is not used. */
export type FallbackReason =
  | { readonly _tag: "IfaceNotFound" }
  | { readonly _tag: "UnsupportedTransport"; readonly transport: string }
  /** The offload transport's kernel module is not loaded. */
  | { readonly _tag: "TransportNotLoaded"; readonly transport: Transport }
  /** No iSCSI host port of the transport with that hardware address (none given: nothing names the HBA). */
  | { readonly _tag: "HardwareAbsent"; readonly transport: Transport; readonly hwaddress: string | undefined }
  /** The HBA port is there but shows other IP addresses. */
  | {
    readonly _tag: "AddressNotOnHba"
    readonly transport: Transport
    readonly hwaddress: string
    readonly ipaddress: string
    readonly addresses: ReadonlyArray<string>
  }
  /** iSER without an RDMA device. */
  | { readonly _tag: "NoRdmaDevice" }
  /** No network interface of that name (or carrying that IP or hardware address). */
  | { readonly _tag: "NetdevNotFound"; readonly by: "name" | "ipaddress" | "hwaddress"; readonly value: string }
  /** A software iface record binding an IP address (iscsid refuses it). */
  | { readonly _tag: "SoftwareIpBinding" }

/** A one-line account of a fallback reason (no secrets involved). */
export const describeReason = (r: FallbackReason): string => {
  switch (r._tag) {
    case "IfaceNotFound":
      return "no such iface record"
    case "UnsupportedTransport":
      return `transport ${JSON.stringify(r.transport)} is not supported`
    case "TransportNotLoaded":
      return `transport ${r.transport} is not loaded (no /sys/class/iscsi_transport/${r.transport})`
    case "HardwareAbsent":
      return r.hwaddress === undefined
        ? `nothing names the ${r.transport} HBA (give its hwaddress, network interface or IP address)`
        : `no ${r.transport} iSCSI host with hardware address ${r.hwaddress} on this host`
    case "AddressNotOnHba":
      return `the ${r.transport} HBA ${r.hwaddress} has IP address ${r.addresses.join(", ")}, not ${r.ipaddress}`
    case "NoRdmaDevice":
      return "iSER needs an RDMA device and /sys/class/infiniband has none"
    case "NetdevNotFound":
      return r.by === "name"
        ? `no network interface ${r.value}`
        : `no network interface has ${r.by === "ipaddress" ? "IP" : "hardware"} address ${r.value}`
    case "SoftwareIpBinding":
      return "software transports cannot bind an IP address (set netIfacename instead)"
  }
}

/** How an iface names its HBA port or network interface (any of them may be missing). */
export interface Identity {
  readonly hwaddress: string | undefined
  readonly netdev: string | undefined
  readonly ipaddress: string | undefined
}

/**
 * Whether a port is the one `id` names, as iscsid matches an iface to a
 * host: by hardware address when given, else by network interface (the
 * port's netdev, or its hardware address is the interface's), else by IP
 * address.
 */
const names = (id: Identity, netdev: NetInterface | undefined) => (p: IscsiHostPort): boolean =>
  id.hwaddress !== undefined
    ? sameHwaddress(id.hwaddress, p.hwaddress)
    : netdev !== undefined || id.netdev !== undefined
    ? Option.getOrUndefined(p.netdev) === (netdev?.name ?? id.netdev) ||
      (netdev !== undefined && sameHwaddress(Option.getOrUndefined(netdev.hwaddress), p.hwaddress))
    : id.ipaddress !== undefined && p.ipaddresses.includes(id.ipaddress)

/** The network interface `id` names (by name, else carrying its IP address, else its hwaddress). */
export const netdevOf = (facts: IfaceFacts, id: Identity): NetInterface | undefined =>
  id.netdev !== undefined
    ? facts.netdevs.find((n) => n.name === id.netdev)
    : id.ipaddress !== undefined
    ? facts.netdevs.find((n) => n.addresses.includes(id.ipaddress!))
    : id.hwaddress !== undefined
    ? facts.netdevs.find((n) => sameHwaddress(id.hwaddress, n.hwaddress))
    : undefined

/**
 * The HBA port of `transport` an offload iface binds, checked as the host
 * shows it: transport loaded, port present, the iface's IP address on it
 * when the port shows any (bnx2i and cxgb4i show one only while connected).
 */
export const portFor = (
  facts: IfaceFacts,
  transport: Transport,
  id: Identity
): Result.Result<IscsiHostPort, FallbackReason> => {
  if (!facts.transports.includes(transport)) return Result.fail({ _tag: "TransportNotLoaded", transport })
  const port = facts.hostPorts.find((p) => p.transport === transport && names(id, netdevOf(facts, id))(p))
  if (port === undefined) return Result.fail({ _tag: "HardwareAbsent", transport, hwaddress: id.hwaddress })
  const ip = id.ipaddress
  if (ip !== undefined && port.ipaddresses.length > 0 && !port.ipaddresses.includes(ip)) {
    const hwaddress = Option.getOrElse(port.hwaddress, () => `host${port.host}`)
    return Result.fail({ _tag: "AddressNotOnHba", transport, hwaddress, ipaddress: ip, addresses: port.ipaddresses })
  }
  return Result.succeed(port)
}

/** The offload HBA port `id` names whose transport is loaded, of any offload transport; undefined when none. */
export const offloadPortOf = (facts: IfaceFacts, id: Identity): IscsiHostPort | undefined => {
  const netdev = netdevOf(facts, id)
  return facts.hostPorts.find((p) => isOffloadPort(p) && facts.transports.includes(p.transport) && names(id, netdev)(p))
}
