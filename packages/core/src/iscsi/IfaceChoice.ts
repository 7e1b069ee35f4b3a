/**
 * Which iface carries a volume's sessions: the one asked for when the host
 * can use it, else open-iscsi's `default` (tcp) with the reason — decided
 * from facts read off the host (HostBinding.IfaceFacts), before any login.
 *
 * The host decides: an offload iface is usable only when its transport is
 * loaded (/sys/class/iscsi_transport/NAME) and an iSCSI host port of that
 * transport with its hardware address (or network interface, or IP address)
 * exists, showing the iface's IP address when it shows any; the by-path
 * links then carry that port's PCI function. iSER needs an RDMA device
 * (/sys/class/infiniband). A software (tcp, iser) iface cannot bind an IP
 * address (iscsid refuses: "not supported with software iSCSI"); it binds
 * the network interface that carries it (`iface.net_ifacename`).
 *
 * A spec may give only what the operator knows — an IP address, a network
 * interface or a hardware address: brick finds the network interface, then
 * the offload HBA port on it and its transport, else binds tcp to the
 * network interface. Records brick makes are named as open-iscsi names
 * them, `<transport>.<hwaddress>`; a spec that binds nothing uses the
 * built-in `default` or `iser` iface and makes no record.
 */
import { Option, Result } from "effect"
import type { IfaceSpec } from "./ConnectorOptions.ts"
import { type FallbackReason, type IfaceFacts, netdevOf, offloadPortOf, portFor } from "./HostBinding.ts"
import { defaultIface, type IfaceName, iserIface, unsafeMake as ifaceName } from "./IfaceName.ts"
import type { IfaceRecord, IfaceSettings } from "./Iscsiadm.ts"
import { type IscsiHostPort, sameHwaddress } from "./IscsiHostPort.ts"
import { isOffload, isTransport, type Transport } from "./Transport.ts"

export { describeReason, type FallbackReason, type IfaceFacts, noFacts } from "./HostBinding.ts"

/**
 * The decision. `create` is set when brick must write the iface record
 * first; `port` is an offload iface's HBA port.
 */
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
 * them: `<transport>.<hwaddress>` (else `<transport>.<netdev>`), with
 * characters an iface name cannot hold (a netdev may contain `@`) as `_`.
 */
export const recordNameOf = (transport: Transport, id: string): IfaceName =>
  ifaceName(`${recordName(transport)}.${id.replace(/[^A-Za-z0-9._:-]/g, "_")}`)

/** A spec's transport as brick names it (`tcp` is `default`); undefined when the spec leaves it to the host. */
export const specTransport = (spec: IfaceSpec): Transport | undefined =>
  spec.transport === "tcp" ? "default" : spec.transport

/** How a spec is named in messages and fallbacks, from what it gives (before anything is read off the host). */
export const specName = (spec: IfaceSpec): IfaceName => {
  if (spec.name !== undefined) return spec.name
  const id = spec.hwaddress ?? spec.netIfacename ?? spec.ipaddress
  const transport = specTransport(spec) ?? "default"
  return id === undefined ? ifaceName(recordName(transport)) : recordNameOf(transport, id)
}

const recordTransport = (t: string): Transport | undefined => (t === "tcp" ? "default" : isTransport(t) ? t : undefined)

const sameSettings = (record: IfaceRecord, s: IfaceSettings): boolean =>
  recordTransport(record.transport) === (s.transport === "tcp" ? "default" : s.transport) &&
  Option.getOrUndefined(record.hwaddress)?.toLowerCase() === Option.getOrUndefined(s.hwaddress)?.toLowerCase() &&
  Option.getOrUndefined(record.ipaddress) === Option.getOrUndefined(s.ipaddress) &&
  Option.getOrUndefined(record.netIfacename) === Option.getOrUndefined(s.netIfacename)

/** The built-in `iser` iface (or an iser record), when the host has an RDMA device. */
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

const identityOf = (spec: IfaceSpec) => ({
  hwaddress: spec.hwaddress,
  netdev: spec.netIfacename,
  ipaddress: spec.ipaddress
})

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
  const port = portFor(facts, transport, identityOf(spec))
  if (Result.isFailure(port)) return fallback(specName(spec), port.failure, allowFallback)
  const hwaddress = Option.getOrUndefined(port.success.hwaddress) ?? spec.hwaddress
  const settings: IfaceSettings = {
    transport,
    hwaddress: Option.fromUndefinedOr(hwaddress),
    ipaddress: Option.fromUndefinedOr(spec.ipaddress),
    netIfacename: Option.none()
  }
  const made = spec.name === undefined
    ? facts.ifaces.find((r) =>
      recordTransport(r.transport) === transport && sameHwaddress(hwaddress, r.hwaddress) &&
      (spec.ipaddress === undefined || Option.getOrUndefined(r.ipaddress) === spec.ipaddress)
    )
    : undefined
  if (made !== undefined) return use(made.name, transport, Option.none(), Option.some(port.success))
  const name = spec.name ?? recordNameOf(transport, hwaddress ?? `host${port.success.host}`)
  return useRecord(facts, name, settings, Option.some(port.success))
}

/**
 * A software spec (tcp or iser): binding nothing, the built-in iface
 * (`default`, `iser`: no record); else a record binding the network
 * interface it names (by name, or carrying its IP or hardware address).
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
  const id = identityOf(spec)
  if (id.netdev === undefined && id.ipaddress === undefined && id.hwaddress === undefined) {
    if (spec.name === undefined) return use(transport === "iser" ? iserIface : defaultIface, transport)
    return useRecord(facts, spec.name, {
      transport,
      hwaddress: Option.none(),
      ipaddress: Option.none(),
      netIfacename: Option.none()
    })
  }
  const netdev = netdevOf(facts, id)
  if (netdev === undefined) {
    const reason: FallbackReason = id.netdev !== undefined
      ? { _tag: "NetdevNotFound", by: "name", value: id.netdev }
      : id.ipaddress !== undefined
      ? { _tag: "NetdevNotFound", by: "ipaddress", value: id.ipaddress }
      : { _tag: "NetdevNotFound", by: "hwaddress", value: id.hwaddress! }
    return fallback(specName(spec), reason, allowFallback)
  }
  const settings: IfaceSettings = {
    transport,
    hwaddress: Option.none(),
    ipaddress: Option.none(),
    netIfacename: Option.some(netdev.name)
  }
  const name = spec.name ?? recordNameOf(transport, Option.getOrElse(netdev.hwaddress, () => netdev.name))
  return useRecord(facts, name, settings)
}

/**
 * The ifaces a connect with these options logs in through: the one asked
 * for (by name, or the name brick gives a spec), and `default` when none is
 * asked for or a fallback to it is allowed. A disconnect acts on these
 * ifaces' sessions only (design.md, invariant 7).
 */
export const brickIfaces = (
  requested: IfaceName | IfaceSpec | undefined,
  allowFallback: boolean
): ReadonlyArray<IfaceName> => {
  const name = requested === undefined ? defaultIface : typeof requested === "string" ? requested : specName(requested)
  return name === defaultIface || !allowFallback ? [name] : [name, defaultIface]
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
  const derived = specTransport(requested) ?? offloadPortOf(facts, identityOf(requested))?.transport ?? "default"
  const transport: Transport = isTransport(derived) ? derived : "default"
  return isOffload(transport)
    ? chooseOffloadSpec(requested, transport, facts, allowFallback)
    : chooseSoftwareSpec(requested, transport, facts, allowFallback)
}
