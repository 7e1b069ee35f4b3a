/**
 * An iSCSI target portal: `host:port`, with IPv6 hosts in brackets and the
 * port defaulting to 3260.
 */
import { Schema, SchemaGetter } from "effect"

/** The iSCSI port a portal uses when none is given. */
export const defaultPort = 3260

/** A portal split into its parts. */
export interface PortalParts {
  readonly host: string
  readonly port: number
  readonly family: "ipv4" | "ipv6" | "hostname"
}

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const hostname =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** True when `s` is a textual IPv6 address (no brackets, no zone). */
export const isIpv6 = (s: string): boolean => {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length < 2) return false
  const parts = s.split("::")
  if (parts.length > 2) return false
  const groups = (p: string) => (p === "" ? [] : p.split(":"))
  const head = groups(parts[0]!)
  const tail = parts.length === 2 ? groups(parts[1]!) : []
  const all = [...head, ...tail]
  const last = all[all.length - 1]
  const embedsV4 = last !== undefined && last.includes(".")
  if (embedsV4 && !ipv4.test(last)) return false
  const hexGroups = embedsV4 ? all.slice(0, -1) : all
  if (!hexGroups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false
  const width = hexGroups.length + (embedsV4 ? 2 : 0)
  return parts.length === 2 ? width <= 7 : width === 8
}

const parsePort = (s: string): number | undefined =>
  /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined

/**
 * Parses `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address.
 * A bare IPv6 address is only accepted when it cannot be read as having a
 * port: `fe80::1:3260` is ambiguous and rejected (write `[fe80::1]:3260`).
 */
export const parse = (input: string): PortalParts | undefined => {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(input)
  if (bracketed) {
    const host = bracketed[1]!
    const port = bracketed[2] === undefined ? defaultPort : parsePort(bracketed[2])
    return isIpv6(host) && port !== undefined ? { host: host.toLowerCase(), port, family: "ipv6" } : undefined
  }
  const colons = input.split(":").length - 1
  if (colons >= 2) {
    // bare IPv6 without port, unambiguous only if it does not end in a port-looking group after "::"
    return isIpv6(input) && !looksLikeV6WithPort(input)
      ? { host: input.toLowerCase(), port: defaultPort, family: "ipv6" }
      : undefined
  }
  const [host, portText] = colons === 1 ? input.split(":") as [string, string] : [input, undefined]
  const port = portText === undefined ? defaultPort : parsePort(portText)
  if (port === undefined) return undefined
  if (ipv4.test(host)) return { host, port, family: "ipv4" }
  if (/^[\d.]+$/.test(host) || isInetAtonNumber(host)) return undefined
  return hostname.test(host) ? { host: host.toLowerCase(), port, family: "hostname" } : undefined
}

/**
 * A numeric IPv4 spelling the resolver accepts but that is no hostname
 * (inet_aton: 1-4 parts, each decimal, octal or `0x` hex: `0x7f.1`, `0x7f000001`).
 */
const isInetAtonNumber = (s: string): boolean =>
  s.split(".").length <= 4 && s.split(".").every((part) => /^(?:0x[0-9a-f]*|\d+)$/i.test(part))

/** An IPv6 address whose last group could be read as a port (`…::1:3260`). */
const looksLikeV6WithPort = (s: string): boolean => {
  const last = s.slice(s.lastIndexOf(":") + 1)
  const withoutLast = s.slice(0, s.lastIndexOf(":"))
  return /^\d{1,5}$/.test(last) && parsePort(last) !== undefined && withoutLast.length > 0 && isIpv6(withoutLast)
}

/** Formats parts as the canonical `host:port` (`[v6]:port`). */
export const format = (parts: Pick<PortalParts, "host" | "port" | "family">): string =>
  parts.family === "ipv6" ? `[${parts.host}]:${parts.port}` : `${parts.host}:${parts.port}`

/** Canonical form of a portal text, or the text itself when it is not a portal. */
export const normalize = (input: string): string => {
  const parts = parse(input)
  return parts === undefined ? input : format(parts)
}

const isCanonicalPortal = Schema.makeFilter<string>(
  (s) => {
    const parts = parse(s)
    return parts !== undefined && format(parts) === s
      ? undefined
      : "a portal: IPv4 or hostname with optional :port, or [IPv6]:port (1-65535)"
  },
  { identifier: "Portal" }
)

/** A canonical portal, `host:port` or `[v6]:port`. */
export const Portal = Schema.String.check(isCanonicalPortal).pipe(Schema.brand("Portal"))
/** A canonical portal, `host:port` or `[v6]:port`. */
export type Portal = typeof Portal.Type

/** Decodes any accepted portal spelling into its canonical branded form. */
export const PortalFromString = Schema.String.pipe(
  Schema.decodeTo(Portal, {
    decode: SchemaGetter.transform(normalize),
    encode: SchemaGetter.transform((p: string) => p)
  })
)

/** Splits a canonical portal. */
export const parts = (portal: Portal): PortalParts => parse(portal)!

/** Builds a portal from trusted parts (throws on invalid parts: for tests and simulators). */
export const unsafeMake = (input: string): Portal => {
  const p = parse(input)
  if (p === undefined) throw new Error(`not a portal: ${JSON.stringify(input)}`)
  return format(p) as Portal
}
