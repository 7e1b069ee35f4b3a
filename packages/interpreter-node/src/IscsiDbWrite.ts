/**
 * A new node record written into open-iscsi's database by brick itself, as
 * `iscsiadm -m node -o new` followed by `-o update` would leave it, without
 * the two processes (BENCHMARKS.md, "Interpreter choices").
 *
 * What open-iscsi does, and this module mirrors (usr/idbm.c, 2.0.87x-2.1.x):
 * - `-o new` without a tpgt writes `nodes/<iqn>/<address>,<port>`, a file of
 *   `name = value` lines between `# BEGIN RECORD` and `# END RECORD` (no line
 *   for an empty value), mode 0600 in directories 0700 (iscsiadm's umask
 *   0077), holding the built-in defaults overridden by iscsid.conf's settings.
 * - Reading a record starts from the built-in defaults and applies the file's
 *   lines in order, so a record holding iscsid.conf's `node.*` lines, the
 *   identity and brick's settings reads back as the one iscsiadm makes.
 *
 * Only where that is certain (see `refusal`): the `default` iface, an IPv4
 * portal, and values iscsiadm's parser keeps as they are. The write itself
 * must run under the database lock (IscsiDbLock).
 */
import type { Iscsiadm } from "@brick/core"
import { Redacted } from "effect"
import * as NodeFsSync from "node:fs"
import type { Param } from "./IscsiadmArgs.ts"

/** The longest value iscsiadm's record parser keeps whole (VALUE_MAXVAL 256, with its NUL). */
const maxValue = 255

const ipv4 = /^(?:\d{1,3}\.){3}\d{1,3}$/

const plain = (v: string | Redacted.Redacted<string>): string => (Redacted.isRedacted(v) ? Redacted.value(v) : v)

/** Whether idbm's parser reads `value` back unchanged: printable, no edge blanks, not too long. */
export const keepsValue = (value: string): boolean =>
  value.length <= maxValue && value === value.trim() && !/[\x00-\x1f\x7f]/.test(value)

/** Why a record must be made by iscsiadm instead, or undefined when brick can write it. */
export const refusal = (
  node: Iscsiadm.NodeRecord,
  host: string,
  params: ReadonlyArray<Param>
): string | undefined => {
  if (node.iface !== "default") return `iface ${node.iface}`
  if (!ipv4.test(host)) return "not an IPv4 portal"
  const odd = params.find((p) => plain(p.value) !== "" && !keepsValue(plain(p.value)))
  return odd === undefined ? undefined : `value of ${odd.name}`
}

/** The identity lines of a `-o new` record through the default iface (`tpgt` -1: unknown). */
const identity = (
  node: Iscsiadm.NodeRecord,
  host: string,
  port: number,
  tpgt: number
): ReadonlyArray<readonly [string, string]> => [
  ["node.name", node.iqn],
  ["node.tpgt", String(tpgt)],
  ["iface.iscsi_ifacename", "default"],
  ["iface.transport_name", "tcp"],
  ["node.discovery_type", "static"],
  ["node.conn[0].address", host],
  ["node.conn[0].port", String(port)]
]

/**
 * The record's text (in a portal group's directory when `address.tpgt` is
 * given): identity, then iscsid.conf's node settings, then brick's
 * (each name once, the later source winning; identity is never overridden;
 * an empty value of brick's removes the line, leaving the built-in default,
 * which is empty for every setting brick clears: the CHAP names and secrets).
 */
export const recordText = (
  node: Iscsiadm.NodeRecord,
  address: { readonly host: string; readonly port: number; readonly tpgt?: number | undefined },
  conf: ReadonlyArray<readonly [string, string]>,
  params: ReadonlyArray<Param>
): string => {
  const fixed = identity(node, address.host, address.port, address.tpgt ?? -1)
  const lines = new Map<string, string>(fixed)
  const own = new Set(fixed.map(([k]) => k))
  for (const [k, v] of conf) if (!own.has(k)) lines.set(k, v)
  for (const p of params) {
    if (own.has(p.name)) continue
    const v = plain(p.value)
    // an empty value has no line (open-iscsi writes none; `<empty>` is only
    // how it prints one, and would be read back as that very text)
    if (v === "") lines.delete(p.name)
    else lines.set(p.name, v)
  }
  let text = "# BEGIN RECORD (brick)\n"
  for (const [k, v] of lines) text += `${k} = ${v}\n`
  return `${text}# END RECORD\n`
}

/**
 * Writes `text` as the record at `file`, unless `exists()` (checked under the
 * lock) says a record is there: false then. Directories as iscsiadm makes them.
 */
export const writeNew = (file: string, text: string, exists: () => boolean): boolean => {
  if (exists()) return false
  const dir = file.slice(0, file.lastIndexOf("/"))
  NodeFsSync.mkdirSync(dir, { recursive: true, mode: 0o700 })
  NodeFsSync.writeFileSync(file, text, { mode: 0o600, flag: "wx" })
  return true
}
