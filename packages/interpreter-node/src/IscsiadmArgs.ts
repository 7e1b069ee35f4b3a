/**
 * argv of every iscsiadm operation brick performs. Pure. Every value taken
 * from input follows the option that takes it (`-T`, `-p`, `-I`, `-n`, `-v`),
 * so getopt never reads it as an option; every discovery, login and node
 * operation carries `-I <iface>`; secrets are `Redacted` words, hidden in
 * every rendering. Values iscsiadm would write into its record files are
 * refused when they hold a line break or NUL (they would inject record lines).
 */
import type { IfaceName, Iscsiadm, Portal } from "@brick/core"
import { Option, Redacted } from "effect"
import type { Word } from "./Redaction.ts"

/** One `-n name -v value` pair; secret values are Redacted. */
export interface Param {
  readonly name: string
  readonly value: string | Redacted.Redacted<string>
}

/** A value that cannot be written into an iscsiadm record. */
export class UnsafeValue extends Error {
  constructor(readonly param: string) {
    super(`value of ${param} contains a line break or NUL`)
  }
}

const unsafe = /[\r\n\0]/

const plain = (v: string | Redacted.Redacted<string>): string => (Redacted.isRedacted(v) ? Redacted.value(v) : v)

/** Whether a value could inject a record line (a line break or NUL). */
export const isUnsafe = (value: string | Redacted.Redacted<string>): boolean => unsafe.test(plain(value))

/** Checks that no value can inject a record line; throws UnsafeValue. */
export const checkParams = (params: ReadonlyArray<Param>): ReadonlyArray<Param> => {
  for (const p of params) if (isUnsafe(p.value)) throw new UnsafeValue(p.name)
  return params
}

/** `-n a -v 1 -n b -v 2 …` */
export const paramWords = (params: ReadonlyArray<Param>): ReadonlyArray<Word> =>
  checkParams(params).flatMap((p) => ["-n", p.name, "-v", p.value])

/** `-T iqn -p portal -I iface`: how brick names a node record. */
export const nodeSelector = (
  node: Iscsiadm.NodeRecord
): ReadonlyArray<Word> => ["-T", node.iqn, "-p", node.portal, "-I", node.iface]

/** `iscsiadm -m node -T … -p … -I … -o new` */
export const nodeNew = (
  node: Iscsiadm.NodeRecord
): ReadonlyArray<Word> => ["-m", "node", ...nodeSelector(node), "-o", "new"]

/** The `-n/-v` pairs a NodeSettings stands for (empty when it sets nothing). */
export const nodeParams = (settings: Iscsiadm.NodeSettings): ReadonlyArray<Param> => {
  const params: Array<Param> = []
  if (settings.startup !== undefined) params.push({ name: "node.startup", value: settings.startup })
  if (settings.scan !== undefined) params.push({ name: "node.session.scan", value: settings.scan })
  if (settings.loginTimeout !== undefined) {
    params.push({ name: "node.conn[0].timeo.login_timeout", value: String(Math.trunc(settings.loginTimeout)) })
  }
  if (settings.loginRetryMax !== undefined) {
    params.push({ name: "node.session.initial_login_retry_max", value: String(Math.trunc(settings.loginRetryMax)) })
  }
  if (settings.auth !== undefined) params.push(...authParams("node.session.auth", settings.auth))
  return params
}

/**
 * CHAP settings under `prefix` (`node.session.auth`, `discovery.sendtargets.auth`).
 * Without credentials the method is `None` and every credential is cleared,
 * so no stale secret stays in the record.
 */
export const authParams = (
  prefix: string,
  auth: Option.Option<Iscsiadm.ChapCredentials>
): ReadonlyArray<Param> => {
  if (Option.isNone(auth)) {
    return [
      { name: `${prefix}.authmethod`, value: "None" },
      { name: `${prefix}.username`, value: "" },
      { name: `${prefix}.password`, value: "" },
      { name: `${prefix}.username_in`, value: "" },
      { name: `${prefix}.password_in`, value: "" }
    ]
  }
  const c = auth.value
  return [
    { name: `${prefix}.authmethod`, value: "CHAP" },
    { name: `${prefix}.username`, value: c.username },
    { name: `${prefix}.password`, value: c.password },
    { name: `${prefix}.username_in`, value: Option.getOrElse(c.usernameIn, () => "") },
    { name: `${prefix}.password_in`, value: Option.getOrElse(c.passwordIn, () => Redacted.make("")) }
  ]
}

/** `iscsiadm -m node -T … -p … -I … -o update -n … -v …`, or undefined when there is nothing to set. */
export const nodeUpdate = (
  node: Iscsiadm.NodeRecord,
  settings: Iscsiadm.NodeSettings
): ReadonlyArray<Word> | undefined => {
  const params = nodeParams(settings)
  return params.length === 0 ? undefined : ["-m", "node", ...nodeSelector(node), "-o", "update", ...paramWords(params)]
}

/** `iscsiadm -m node -T … -p … -I … -o delete` */
export const nodeDelete = (
  node: Iscsiadm.NodeRecord
): ReadonlyArray<Word> => ["-m", "node", ...nodeSelector(node), "-o", "delete"]

/** `iscsiadm -m node -P 1`: every record with its iface. */
export const nodeList: ReadonlyArray<Word> = ["-m", "node", "-P", "1"]

/** `iscsiadm -m node -T … -p … -I … --login` */
export const login = (
  node: Iscsiadm.NodeRecord
): ReadonlyArray<Word> => ["-m", "node", ...nodeSelector(node), "--login"]

/** `iscsiadm -m node -T … -p … -I … --logout` */
export const logout = (
  node: Iscsiadm.NodeRecord
): ReadonlyArray<Word> => ["-m", "node", ...nodeSelector(node), "--logout"]

/** `iscsiadm -m session`: active sessions, flat. */
export const sessionList: ReadonlyArray<Word> = ["-m", "session"]

/** What a sendtargets discovery needs: the portal, the iface, discovery CHAP. */
export interface DiscoveryOptions {
  readonly portal: Portal.Portal
  readonly iface: IfaceName.IfaceName
  readonly auth: Option.Option<Iscsiadm.ChapCredentials>
}

const discoveryBase = (options: DiscoveryOptions) =>
  ["-t", "sendtargets", "-p", options.portal, "-I", options.iface] as const

/**
 * `iscsiadm -m discovery -t sendtargets -p P -I I -o nonpersistent`: the
 * targets, printed, and nothing written (no node record, no discovery
 * record; no walk of the node database either).
 */
export const discovery = (
  options: DiscoveryOptions
): ReadonlyArray<Word> => ["-m", "discovery", ...discoveryBase(options), "-o", "nonpersistent"]

/**
 * With discovery CHAP the credentials must sit in a discovery record
 * (`-m discovery` reads only iscsid.conf's): `-o new` makes one,
 * `discoveryAuth` sets them, `discoveryFromRecord` discovers,
 * `discoveryDelete` removes it (and no node record: none is linked to it
 * after a nonpersistent discovery).
 */
export const discoveryNew = (
  options: DiscoveryOptions
): ReadonlyArray<Word> => ["-m", "discoverydb", ...discoveryBase(options), "-o", "new"]

/** `iscsiadm -m discoverydb … -o update` with the `discovery.sendtargets.auth.*` pairs (none without CHAP). */
export const discoveryAuth = (options: DiscoveryOptions): ReadonlyArray<Word> | undefined =>
  Option.isNone(options.auth)
    ? undefined
    : [
      "-m",
      "discoverydb",
      ...discoveryBase(options),
      "-o",
      "update",
      ...paramWords(authParams("discovery.sendtargets.auth", options.auth))
    ]

/** `iscsiadm -m discoverydb … --discover -o nonpersistent`: discovery with the record's settings, nothing written. */
export const discoveryFromRecord = (
  options: DiscoveryOptions
): ReadonlyArray<Word> => ["-m", "discoverydb", ...discoveryBase(options), "--discover", "-o", "nonpersistent"]

/** `iscsiadm -m discoverydb … -o delete`: the discovery record and the node records linked to it. */
export const discoveryDelete = (
  options: DiscoveryOptions
): ReadonlyArray<Word> => ["-m", "discoverydb", ...discoveryBase(options), "-o", "delete"]

/**
 * Every command of a discovery on a host without a discovery record of the
 * portal: the nonpersistent discovery, or with discovery CHAP the record's
 * new, update, discover, delete.
 */
export const discoveryCommands = (options: DiscoveryOptions): ReadonlyArray<ReadonlyArray<Word>> =>
  Option.isNone(options.auth)
    ? [discovery(options)]
    : [discoveryNew(options), discoveryAuth(options)!, discoveryFromRecord(options), discoveryDelete(options)]

/** `iscsiadm -m iface`: every iface, flat. */
export const ifaceList: ReadonlyArray<Word> = ["-m", "iface"]

/** `iscsiadm -m iface -I name -o new` */
export const ifaceNew = (name: IfaceName.IfaceName): ReadonlyArray<Word> => ["-m", "iface", "-I", name, "-o", "new"]

/** iface settings as `-n/-v` pairs (`default` transport is open-iscsi's `tcp`). */
export const ifaceParams = (settings: Iscsiadm.IfaceSettings): ReadonlyArray<Param> => {
  const params: Array<Param> = [
    { name: "iface.transport_name", value: settings.transport === "default" ? "tcp" : settings.transport }
  ]
  if (Option.isSome(settings.hwaddress)) params.push({ name: "iface.hwaddress", value: settings.hwaddress.value })
  if (Option.isSome(settings.ipaddress)) params.push({ name: "iface.ipaddress", value: settings.ipaddress.value })
  if (Option.isSome(settings.netIfacename)) {
    params.push({ name: "iface.net_ifacename", value: settings.netIfacename.value })
  }
  return params
}

/** `iscsiadm -m iface -I name -o update -n … -v …` */
export const ifaceUpdate = (
  name: IfaceName.IfaceName,
  settings: Iscsiadm.IfaceSettings
): ReadonlyArray<Word> => ["-m", "iface", "-I", name, "-o", "update", ...paramWords(ifaceParams(settings))]

/** `iscsiadm -m iface -I name -o delete` */
export const ifaceDelete = (
  name: IfaceName.IfaceName
): ReadonlyArray<Word> => ["-m", "iface", "-I", name, "-o", "delete"]
