/**
 * Which iface carries a volume's sessions: the one asked for when the host
 * can use it, else open-iscsi's `default` (tcp) with the reason — decided
 * from facts read off the host, before any login.
 *
 * The host decides: an offload iface is usable only when its transport is
 * loaded (/sys/class/iscsi_transport/NAME) and an iSCSI host port of that
 * transport with its hardware address (or network device, or IP address)
 * exists, showing the iface's IP address when it shows any; the by-path
 * links then carry that port's PCI function. iSER needs an RDMA device
 * (/sys/class/infiniband). A software (tcp, iser) iface cannot bind an IP
 * address (iscsid refuses: "not supported with software iSCSI"); it binds
 * the network device that carries it.
 */
import { Option, Result } from "effect"
import type { IfaceSpec } from "./ConnectorOptions.ts"
import { defaultIface, type IfaceName, iserIface, unsafeMake as ifaceName } from "./IfaceName.ts"
import type { IfaceRecord, IfaceSettings } from "./Iscsiadm.ts"
import { type IscsiHostPort, sameHwaddress } from "./IscsiHostPort.ts"
import { isOffload, isTransport, type Transport } from "./Transport.ts"

/** A network interface: its name, hardware address and IP addresses. */
export interface NetInterface {
  readonly name: string
  readonly hwaddress: Option.Option<string>
  readonly addresses: ReadonlyArray<string>
}

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
  /** The network interfaces (read only when a spec names an IP address or a network interface). */
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

/** The decision. `create` is set when brick must write the iface record first; `port` is an offload iface's HBA port. */
export type IfaceChoice =
  | {
    readonly _tag: "Use"
    readonly iface: IfaceName
    readonly transport: Transport
    readonly create: Option.Option<IfaceSettings>
    readonly port: Option.Option<IscsiHostPort>
  }
  | {
    readonly _tag: "Fallback"
    readonly iface: IfaceName
    readonly transport: Transport
    readonly requested: string
    readonly reason: FallbackReason
  }
  | { readonly _tag: "Refuse"; readonly requested: string; readonly reason: FallbackReason }

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

const use = (
  iface: IfaceName,
  transport: Transport,
  create: Option.Option<IfaceSettings> = Option.none(),
  port: Option.Option<IscsiHostPort> = Option.none()
): IfaceChoice => ({ _tag: "Use", iface, transport, create, port })

/** The `default` iface in place of `requested`, or a refusal when fallback is off. */
export const fallback = (requested: string, reason: FallbackReason, allowed: boolean): IfaceChoice =>
  allowed
    ? { _tag: "Fallback", iface: defaultIface, transport: "default", requested, reason }
    : { _tag: "Refuse", requested, reason }

/** open-iscsi's name of a transport in a record (`default` is `tcp`). */
const recordName = (t: Transport): string => (t === "default" ? "tcp" : t)

/**
 * The record name brick gives an iface it creates, as open-iscsi names
 * them: `<transport>.<hwaddress>`, else `<transport>.<netdev or IP>`, with
 * characters an iface name cannot hold (a netdev may contain `@`) as `_`.
 */
export const recordNameOf = (transport: Transport, id: string): IfaceName =>
  ifaceName(`${recordName(transport)}.${id.replace(/[^A-Za-z0-9._:-]/g, "_")}`)

/** The record name of a spec, from what it gives (before anything is read off the host). */
export const specName = (spec: IfaceSpec): IfaceName => {
  if (spec.name !== undefined) return spec.name
  return recordNameOf(
    spec.transport === "tcp" ? "default" : spec.transport,
    spec.hwaddress ?? spec.netIfacename ?? spec.ipaddress ?? "brick"
  )
}

const recordTransport = (t: string): Transport | undefined => (t === "tcp" ? "default" : isTransport(t) ? t : undefined)

const sameSettings = (record: IfaceRecord, s: IfaceSettings): boolean =>
  recordTransport(record.transport) === (s.transport === "tcp" ? "default" : s.transport) &&
  Option.getOrUndefined(record.hwaddress)?.toLowerCase() === Option.getOrUndefined(s.hwaddress)?.toLowerCase() &&
  Option.getOrUndefined(record.ipaddress) === Option.getOrUndefined(s.ipaddress) &&
  Option.getOrUndefined(record.netIfacename) === Option.getOrUndefined(s.netIfacename)

/** How an iface names its HBA port. */
interface PortIdentity {
  readonly hwaddress: string | undefined
  readonly netdev: string | undefined
  readonly ipaddress: string | undefined
}

/**
 * The HBA port an offload iface binds, as iscsid finds it (by hardware
 * address, else network device, else IP address), checked as the host
 * shows it: transport loaded, port present, IP address on it.
 */
export const portFor = (
  facts: IfaceFacts,
  transport: Transport,
  id: PortIdentity
): Result.Result<IscsiHostPort, FallbackReason> => {
  if (!facts.transports.includes(transport)) return Result.fail({ _tag: "TransportNotLoaded", transport })
  const ofTransport = facts.hostPorts.filter((p) => p.transport === transport)
  const named = id.hwaddress !== undefined
    ? ofTransport.filter((p) => sameHwaddress(id.hwaddress, p.hwaddress))
    : id.netdev !== undefined
    ? ofTransport.filter((p) => Option.getOrUndefined(p.netdev) === id.netdev)
    : id.ipaddress !== undefined
    ? ofTransport.filter((p) => p.ipaddresses.includes(id.ipaddress!))
    : []
  const port = named[0]
  if (port === undefined) return Result.fail({ _tag: "HardwareAbsent", transport, hwaddress: id.hwaddress })
  const ip = id.ipaddress
  if (ip !== undefined && port.ipaddresses.length > 0 && !port.ipaddresses.includes(ip)) {
    const hwaddress = Option.getOrElse(port.hwaddress, () => `host${port.host}`)
    return Result.fail({ _tag: "AddressNotOnHba", transport, hwaddress, ipaddress: ip, addresses: port.ipaddresses })
  }
  return Result.succeed(port)
}

/** The built-in `iser` iface, when the host has an RDMA device. */
const iserChoice = (requested: string, facts: IfaceFacts, allowFallback: boolean, iface = iserIface) =>
  facts.rdmaDevices.length > 0 ? use(iface, "iser") : fallback(requested, { _tag: "NoRdmaDevice" }, allowFallback)

/** A named iface: its record, checked against the host. Built-in `iser` needs no record. */
const chooseRecord = (requested: IfaceName, facts: IfaceFacts, allowFallback: boolean): IfaceChoice => {
  const record = facts.ifaces.find((r) => r.name === requested)
  if (record === undefined) {
    return requested === iserIface
      ? iserChoice(requested, facts, allowFallback)
      : fallback(requested, { _tag: "IfaceNotFound" }, allowFallback)
  }
  const transport = recordTransport(record.transport)
  if (transport === undefined) {
    return fallback(requested, { _tag: "UnsupportedTransport", transport: record.transport }, allowFallback)
  }
  if (isOffload(transport)) {
    const port = portFor(facts, transport, {
      hwaddress: Option.getOrUndefined(record.hwaddress),
      netdev: Option.getOrUndefined(record.netIfacename),
      ipaddress: Option.getOrUndefined(record.ipaddress)
    })
    return Result.isSuccess(port)
      ? use(record.name, transport, Option.none(), Option.some(port.success))
      : fallback(requested, port.failure, allowFallback)
  }
  const boundByIpOnly = Option.isSome(record.ipaddress) && Option.isNone(record.netIfacename) &&
    Option.isNone(record.hwaddress)
  if (boundByIpOnly) return fallback(requested, { _tag: "SoftwareIpBinding" }, allowFallback)
  return transport === "iser" ? iserChoice(requested, facts, allowFallback, record.name) : use(record.name, transport)
}

/** Use `name` with `settings`: created unless a record of that name has them already. */
const useRecord = (
  facts: IfaceFacts,
  name: IfaceName,
  settings: IfaceSettings,
  port: Option.Option<IscsiHostPort> = Option.none()
): IfaceChoice => {
  const record = facts.ifaces.find((r) => r.name === name)
  const create = record !== undefined && sameSettings(record, settings) ? Option.none() : Option.some(settings)
  return use(name, settings.transport, create, port)
}

/**
 * An offload spec: its HBA port as the host shows it; the record iscsiadm
 * made for that port when there is one (`iscsiadm -m iface` writes
 * `<transport>.<hwaddress>[.ipv4.N]` for present hardware) and its IP
 * address agrees, else `<transport>.<hwaddress>`.
 */
const chooseOffloadSpec = (
  spec: IfaceSpec,
  transport: Transport,
  facts: IfaceFacts,
  allowFallback: boolean
): IfaceChoice => {
  const port = portFor(facts, transport, {
    hwaddress: spec.hwaddress,
    netdev: spec.netIfacename,
    ipaddress: spec.ipaddress
  })
  if (Result.isFailure(port)) return fallback(specName(spec), port.failure, allowFallback)
  const hwaddress = Option.getOrUndefined(port.success.hwaddress) ?? spec.hwaddress
  const settings: IfaceSettings = {
    transport,
    hwaddress: Option.fromUndefinedOr(hwaddress),
    ipaddress: Option.fromUndefinedOr(spec.ipaddress),
    netIfacename: Option.none()
  }
  const existing = spec.name === undefined
    ? facts.ifaces.find((r) =>
      recordTransport(r.transport) === transport && sameHwaddress(hwaddress, r.hwaddress) &&
      (spec.ipaddress === undefined || Option.getOrUndefined(r.ipaddress) === spec.ipaddress)
    )
    : undefined
  if (existing !== undefined) return use(existing.name, transport, Option.none(), Option.some(port.success))
  const name = spec.name ?? recordNameOf(transport, hwaddress ?? `host${port.success.host}`)
  return useRecord(facts, name, settings, Option.some(port.success))
}

/**
 * A software spec (tcp or iser): unbound, the built-in iface (`default`,
 * `iser`: no record); bound, a record binding the network interface.
 */
const chooseSoftwareSpec = (
  spec: IfaceSpec,
  transport: Transport,
  facts: IfaceFacts,
  allowFallback: boolean
): IfaceChoice => {
  if (transport === "iser" && facts.rdmaDevices.length === 0) {
    return fallback(specName(spec), { _tag: "NoRdmaDevice" }, allowFallback)
  }
  if (spec.netIfacename === undefined && spec.hwaddress === undefined) {
    if (spec.ipaddress !== undefined) return fallback(specName(spec), { _tag: "SoftwareIpBinding" }, allowFallback)
    if (spec.name === undefined) return use(transport === "iser" ? iserIface : defaultIface, transport)
  }
  const settings: IfaceSettings = {
    transport,
    hwaddress: Option.fromUndefinedOr(spec.hwaddress),
    ipaddress: Option.none(),
    netIfacename: Option.fromUndefinedOr(spec.netIfacename)
  }
  return useRecord(facts, specName(spec), settings)
}

/**
 * Chooses the iface. `requested` is the `iface` option; `allowFallback` the
 * `ifaceFallback` option. Built-in `default` and `iser` need no record.
 */
export const choose = (
  requested: IfaceName | IfaceSpec | undefined,
  facts: IfaceFacts,
  allowFallback: boolean
): IfaceChoice => {
  if (requested === undefined || requested === defaultIface) return use(defaultIface, "default")
  if (typeof requested === "string") return chooseRecord(requested, facts, allowFallback)
  const transport: Transport = requested.transport === "tcp" ? "default" : requested.transport
  return isOffload(transport)
    ? chooseOffloadSpec(requested, transport, facts, allowFallback)
    : chooseSoftwareSpec(requested, transport, facts, allowFallback)
}
