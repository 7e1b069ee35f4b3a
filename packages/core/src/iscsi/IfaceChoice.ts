/**
 * Which iface carries a volume's sessions: the one asked for when it is
 * usable, else open-iscsi's `default` (tcp) with the reason — decided from
 * facts read off the host, before any login.
 */
import { Option } from "effect"
import type { IfaceSpec } from "./ConnectorOptions.ts"
import { defaultIface, type IfaceName, iserIface, unsafeMake as ifaceName } from "./IfaceName.ts"
import type { IfaceRecord, IfaceSettings } from "./Iscsiadm.ts"
import { isOffload, isTransport, type Transport } from "./Transport.ts"

/** What the host says about ifaces and HBAs. */
export interface IfaceFacts {
  /** The iface records (`iscsiadm -m iface`). */
  readonly ifaces: ReadonlyArray<IfaceRecord>
  /** The hardware addresses of the host's iSCSI HBAs (/sys/class/iscsi_host/host* /hwaddress). */
  readonly hbaHwaddresses: ReadonlyArray<string>
}

/** Why the requested iface is not used. */
export type FallbackReason =
  | { readonly _tag: "IfaceNotFound" }
  | { readonly _tag: "UnsupportedTransport"; readonly transport: string }
  | { readonly _tag: "HardwareAbsent"; readonly hwaddress: string | undefined }
  | { readonly _tag: "SoftwareIpBinding" }
  | { readonly _tag: "LoginFailed" }

/** The decision. `create` is set when brick must write the iface record first. */
export type IfaceChoice =
  | {
    readonly _tag: "Use"
    readonly iface: IfaceName
    readonly transport: Transport
    readonly create: Option.Option<IfaceSettings>
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
    case "HardwareAbsent":
      return `no iSCSI HBA with hardware address ${r.hwaddress ?? "(none given)"} on this host`
    case "SoftwareIpBinding":
      return "software transports cannot bind an IP address (set netIfacename instead)"
    case "LoginFailed":
      return "login through the iface failed"
  }
}

const use = (
  iface: IfaceName,
  transport: Transport,
  create: Option.Option<IfaceSettings> = Option.none()
): IfaceChoice => ({
  _tag: "Use",
  iface,
  transport,
  create
})

/** The `default` iface in place of `requested`, or a refusal when fallback is off. */
export const fallback = (requested: string, reason: FallbackReason, allowed: boolean): IfaceChoice =>
  allowed
    ? { _tag: "Fallback", iface: defaultIface, transport: "default", requested, reason }
    : { _tag: "Refuse", requested, reason }

/**
 * The record name brick gives an iface it creates from a spec:
 * `<transport>.<hwaddress|netIfacename|ipaddress>`, with characters an iface
 * name cannot hold (a netIfacename may contain `@`) replaced by `_`.
 */
export const specName = (spec: IfaceSpec): IfaceName => {
  if (spec.name !== undefined) return spec.name
  const id = spec.hwaddress ?? spec.netIfacename ?? spec.ipaddress ?? "brick"
  return ifaceName(`${spec.transport === "default" ? "tcp" : spec.transport}.${id.replace(/[^A-Za-z0-9._:-]/g, "_")}`)
}

const hasHba = (facts: IfaceFacts, hwaddress: string | undefined): boolean =>
  hwaddress !== undefined && facts.hbaHwaddresses.some((h) => h.toLowerCase() === hwaddress.toLowerCase())

const recordTransport = (t: string): Transport | undefined => (t === "tcp" ? "default" : isTransport(t) ? t : undefined)

const sameSettings = (record: IfaceRecord, s: IfaceSettings): boolean =>
  recordTransport(record.transport) === (s.transport === "tcp" ? "default" : s.transport) &&
  Option.getOrUndefined(record.hwaddress)?.toLowerCase() === Option.getOrUndefined(s.hwaddress)?.toLowerCase() &&
  Option.getOrUndefined(record.ipaddress) === Option.getOrUndefined(s.ipaddress) &&
  Option.getOrUndefined(record.netIfacename) === Option.getOrUndefined(s.netIfacename)

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
  if (typeof requested === "string") {
    const record = facts.ifaces.find((r) => r.name === requested)
    if (record === undefined) {
      return requested === iserIface
        ? use(iserIface, "iser")
        : fallback(requested, { _tag: "IfaceNotFound" }, allowFallback)
    }
    const transport = recordTransport(record.transport)
    if (transport === undefined) {
      return fallback(requested, { _tag: "UnsupportedTransport", transport: record.transport }, allowFallback)
    }
    if (isOffload(transport) && !hasHba(facts, Option.getOrUndefined(record.hwaddress))) {
      return fallback(
        requested,
        { _tag: "HardwareAbsent", hwaddress: Option.getOrUndefined(record.hwaddress) },
        allowFallback
      )
    }
    return use(record.name, transport)
  }
  const name = specName(requested)
  const transport: Transport = requested.transport === "tcp" ? "default" : requested.transport
  if (!isOffload(transport) && requested.ipaddress !== undefined && requested.netIfacename === undefined) {
    return fallback(name, { _tag: "SoftwareIpBinding" }, allowFallback)
  }
  if (isOffload(transport) && !hasHba(facts, requested.hwaddress)) {
    return fallback(name, { _tag: "HardwareAbsent", hwaddress: requested.hwaddress }, allowFallback)
  }
  const settings: IfaceSettings = {
    transport,
    hwaddress: Option.fromUndefinedOr(requested.hwaddress),
    ipaddress: isOffload(transport) ? Option.fromUndefinedOr(requested.ipaddress) : Option.none(),
    netIfacename: Option.fromUndefinedOr(requested.netIfacename)
  }
  const record = facts.ifaces.find((r) => r.name === name)
  return use(
    name,
    transport,
    record !== undefined && sameSettings(record, settings) ? Option.none() : Option.some(settings)
  )
}
