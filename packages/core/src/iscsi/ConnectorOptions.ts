/**
 * How the connector behaves: multipath, which iface carries the sessions,
 * and how long it waits. Decoded with defaults; every refusal names its field.
 */
import { Effect, Result, Schema } from "effect"
import * as InvalidInput from "../InvalidInput.ts"
import { IfaceName } from "./IfaceName.ts"
import * as Portal from "./Portal.ts"
import { Transport } from "./Transport.ts"

const hwaddress = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/
const netIfacename = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$/
/** A literal IPv4 or IPv6 address (no host name, no port). */
const isIpAddress = (s: string): boolean => (!s.includes(":") && Portal.parse(s)?.family === "ipv4") || Portal.isIpv6(s)

/**
 * An iface from what the operator knows: its transport and hardware
 * identity, or only an IP address or a network interface (brick finds the
 * network interface carrying it, and the offload HBA on it when there is
 * one, else binds tcp to the network interface).
 */
export const IfaceSpec = Schema.Struct({
  name: Schema.optionalKey(IfaceName),
  /** The transport; without it brick uses the offload HBA on the network interface, else tcp. */
  transport: Schema.optionalKey(Transport),
  hwaddress: Schema.optionalKey(
    Schema.String.check(Schema.isPattern(hwaddress, { message: "a MAC address aa:bb:cc:dd:ee:ff" }))
  ),
  ipaddress: Schema.optionalKey(Schema.String.check(Schema.makeFilter<string>(
    (s) => (isIpAddress(s) ? undefined : "an IPv4 or IPv6 address"),
    { identifier: "IpAddress" }
  ))),
  netIfacename: Schema.optionalKey(
    Schema.String.check(Schema.isPattern(netIfacename, { message: "a network interface name (1-15 chars)" }))
  )
}).check(Schema.makeFilter((s) =>
  s.transport !== undefined || s.hwaddress !== undefined || s.ipaddress !== undefined ||
    s.netIfacename !== undefined
    ? undefined
    : "an iface spec names a transport, a hwaddress, an ipaddress or a netIfacename"
))
/** An iface from what the operator knows. */
export type IfaceSpec = typeof IfaceSpec.Type

const Millis = (max: number) => Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: max }))
const Count = (max: number) => Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: max }))

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/** The connector's options (camelCase), with defaults. */
export const ConnectorOptions = Schema.Struct({
  /** Log into every portal and return the multipath device. */
  useMultipath: withDefault(Schema.Boolean, false),
  /** With useMultipath: fail instead of returning a single path device when no map forms. */
  enforceMultipath: withDefault(Schema.Boolean, false),
  /** The iface: a record name, or a spec to create one. Default: open-iscsi's `default` (tcp). */
  iface: Schema.optionalKey(Schema.Union([IfaceName, IfaceSpec])),
  /** Fall back to the `default` iface when the chosen one is unusable or its login fails. */
  ifaceFallback: withDefault(Schema.Boolean, true),
  /** How many targeted scans to try before giving up on a LUN's device. */
  deviceScanAttempts: withDefault(Count(100), 6),
  /** Milliseconds after the first scan before the next; the gap doubles after each scan (at most 30 s). */
  deviceScanInterval: withDefault(Millis(600_000), 800),
  /** Milliseconds between sysfs polls while waiting for devices and maps. */
  pollInterval: withDefault(Count(10_000), 25),
  /** Seconds a single login may take before it counts as failed. */
  loginTimeout: withDefault(Count(3_600), 15),
  /** Seconds to wait for the multipath map once a first path is up. */
  multipathWaitTimeout: withDefault(Count(3_600), 10),
  /** Milliseconds to let multipathd form a map on its own before asking it to (`multipathd add map`). */
  multipathAddDelay: withDefault(Millis(600_000), 1_000),
  /** With access_mode rw: seconds to wait for a read-only device to become writable. */
  writableWaitTimeout: withDefault(Count(3_600), 15),
  /** Seconds to wait for the host-wide lock of a target while one holder keeps it (a hand-off starts the wait anew). */
  lockTimeout: withDefault(Count(3_600), 120),
  /** Scan only the requested LUN (node.session.scan = manual) instead of the whole target. */
  manualScan: withDefault(Schema.Boolean, true)
})
/** The connector's options, decoded, with defaults. */
export type ConnectorOptions = typeof ConnectorOptions.Type
/** The connector's options as a user writes them. */
export type ConnectorOptionsInput = typeof ConnectorOptions.Encoded

const decodeOptions = Schema.decodeUnknownResult(ConnectorOptions)

/** Decodes options, failing with every offending field. */
export const decode = (input: unknown = {}): Effect.Effect<ConnectorOptions, InvalidInput.InvalidInput> => {
  const result = decodeOptions(input ?? {}, { errors: "all" })
  return Result.isFailure(result)
    ? Effect.fail(InvalidInput.fromSchemaError("options", result.failure))
    : Effect.succeed(result.success)
}

/** The defaults, as decoded from `{}`. */
export const defaults: ConnectorOptions = Schema.decodeUnknownSync(ConnectorOptions)({})
