/**
 * A new node record written into open-iscsi's database by brick itself, as
 * `iscsiadm -m node -o new` followed by `-o update` would leave it, without
 * the two processes (each 0.1-0.5 s in the lab guest, on the critical path of
 * every new path: `pnpm bench:lab`).
 *
 * What open-iscsi does, and this module mirrors (usr/idbm.c, 2.0.87x-2.1.x):
 * - `-o new` without a tpgt writes `nodes/<iqn>/<address>,<port>`, a file of
 *   `name = value` lines between `# BEGIN RECORD` and `# END RECORD` (no line
 *   for an empty value), mode 0600 in directories 0700 (iscsiadm's umask
 *   0077), holding the built-in defaults overridden by iscsid.conf's settings.
 * - Reading a record starts from the built-in defaults and applies the file's
 *   lines in order, so a record holding iscsid.conf's `node.*` lines, the
 *   identity and brick's settings reads back as the one iscsiadm makes.
 * - Every reader and writer holds the database lock: `link(lock, lock.write)`
 *   in /run/lock/iscsi, retried every 10 ms; released by unlinking lock.write.
 *
 * Only where that is certain: the host's own iscsiadm with the database in
 * /etc/iscsi (see NodeIscsiadm.readNodeDb), the `default` iface, an IPv4
 * portal, and values iscsiadm's parser keeps as they are. Anything else, and a
 * record that already exists, goes through iscsiadm.
 *
 * Such a record is also removed the way `iscsiadm -o delete` does (the file,
 * then the target's directory when empty), under the lock, unless a session
 * may be using it: then iscsiadm is asked, and refuses as it does.
 */
import type { Iscsiadm } from "@brick/core"
import { Effect, Redacted } from "effect"
import { Buffer } from "node:buffer"
import * as NodeFsSync from "node:fs"
import type { Param } from "./IscsiadmArgs.ts"
import * as RootPath from "./RootPath.ts"

/** Where open-iscsi keeps its database lock (LOCK_DIR of Debian's and upstream's builds). */
export const lockDirectory = "/run/lock/iscsi"

/** How often the database lock is tried, as iscsiadm does (DB_LOCK_USECS_WAIT). */
export const lockRetryMillis = 10

/** The longest value iscsiadm's record parser keeps whole (VALUE_MAXVAL 256, with its NUL). */
const maxValue = 255

const ipv4 = /^(?:\d{1,3}\.){3}\d{1,3}$/

const plain = (v: string | Redacted.Redacted<string>): string => (Redacted.isRedacted(v) ? Redacted.value(v) : v)

/** Whether idbm's parser reads `value` back unchanged: printable, no edge blanks, not too long. */
export const keepsValue = (value: string): boolean =>
  value.length <= maxValue && value === value.trim() && !/[\x00-\x1f\x7f]/.test(value)

const isSpace = (c: string | undefined) => c !== undefined && " \t\n\v\f\r".includes(c)

/**
 * One config line as open-iscsi's idbm_recinfo_config reads it, quirks
 * included: the line is stripped; blank and `#` lines are skipped; the name
 * ends at a blank or `=`; one character after it is skipped, then blanks,
 * and then there must be `=` (so `a=1` and `a= 1` are skipped, `a =1` is
 * read); blanks after it are skipped and the rest is the value, which must
 * not be empty.
 */
export const confLine = (raw: string): readonly [string, string] | undefined => {
  const line = raw.trim()
  if (line === "" || line.startsWith("#")) return undefined
  let i = 0
  while (i < line.length && !isSpace(line[i]) && line[i] !== "=") i++
  if (i >= line.length) return undefined
  const name = line.slice(0, i)
  i++
  while (i < line.length && isSpace(line[i])) i++
  if (i < line.length && line[i] !== "=") return undefined
  i++
  while (i < line.length && isSpace(line[i])) i++
  if (i >= line.length) return undefined
  return [name, line.slice(i)]
}

/**
 * The `node.*` settings of iscsid.conf, in order, as open-iscsi reads them
 * (see confLine; a line too long for its 2048-byte buffer, or without a
 * line break at the end of the file, is skipped).
 */
export const confSettings = (text: string): ReadonlyArray<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  // the part after the last line break has none, and open-iscsi skips such a line
  for (const raw of text.split("\n").slice(0, -1)) {
    if (Buffer.byteLength(raw) + 2 > 2048) continue
    const setting = confLine(raw)
    if (setting !== undefined && setting[0].startsWith("node.")) out.push(setting)
  }
  return out
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

/** The record's file: `<root>/etc/iscsi/nodes/<iqn>/<address>,<port>`. */
export const recordPath = (root: string, node: Iscsiadm.NodeRecord, host: string, port: number): string =>
  RootPath.resolve(root, `/etc/iscsi/nodes/${node.iqn}/${host},${port}`)

/** Takes open-iscsi's database lock once: true when taken (lock.write linked). */
export const tryLock = (root: string): boolean => {
  const dir = RootPath.resolve(root, lockDirectory)
  NodeFsSync.mkdirSync(dir, { recursive: true, mode: 0o770 })
  NodeFsSync.closeSync(NodeFsSync.openSync(`${dir}/lock`, "a", 0o666))
  try {
    NodeFsSync.linkSync(`${dir}/lock`, `${dir}/lock.write`)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
    throw e
  }
}

/** Releases open-iscsi's database lock. */
export const unlock = (root: string): void => {
  NodeFsSync.rmSync(RootPath.resolve(root, `${lockDirectory}/lock.write`), { force: true })
}

/**
 * Holds open-iscsi's database lock around `body` (synchronous, so nothing
 * else of this process runs while the lock is held), trying every 10 ms
 * until `timeoutMillis`. Undefined when the lock stayed taken.
 */
export const withDatabaseLock = <A>(root: string, timeoutMillis: number, body: () => A) =>
  Effect.gen(function*() {
    for (let waited = 0;; waited += lockRetryMillis) {
      const done = yield* Effect.sync(() => {
        if (!tryLock(root)) return undefined
        try {
          return { value: body() }
        } finally {
          unlock(root)
        }
      })
      if (done !== undefined) return done.value
      if (waited >= timeoutMillis) return undefined
      yield* Effect.sleep(lockRetryMillis)
    }
  })

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

const readTrimmed = (file: string): string | undefined => {
  try {
    return NodeFsSync.readFileSync(file, "utf8").trim()
  } catch {
    return undefined
  }
}

/**
 * Whether a session in sysfs may be using the record (as `iscsiadm -o delete`
 * checks before deleting): one of the target whose portal and iface match,
 * or cannot be read (a session still logging in). Errs on "in use".
 */
export const sessionMayUse = (root: string, node: Iscsiadm.NodeRecord, host: string, port: number): boolean => {
  let sessions: Array<string>
  try {
    sessions = NodeFsSync.readdirSync(RootPath.resolve(root, "/sys/class/iscsi_session"))
  } catch {
    return false
  }
  for (const s of sessions) {
    const sid = /^session(\d+)$/.exec(s)?.[1]
    if (sid === undefined) continue
    if (readTrimmed(RootPath.resolve(root, `/sys/class/iscsi_session/${s}/targetname`)) !== node.iqn) continue
    const conn = `/sys/class/iscsi_connection/connection${sid}:0`
    const address = readTrimmed(RootPath.resolve(root, `${conn}/persistent_address`))
    const boundPort = readTrimmed(RootPath.resolve(root, `${conn}/persistent_port`))
    const iface = readTrimmed(RootPath.resolve(root, `/sys/class/iscsi_session/${s}/ifacename`))
    const portalMatches = address === undefined || boundPort === undefined ||
      (address === host && boundPort === String(port))
    const ifaceMatches = iface === undefined || iface === "" || iface === "<NULL>" || iface === node.iface
    if (portalMatches && ifaceMatches) return true
  }
  return false
}

/**
 * Whether a record file is one brick may remove itself: a `-o new`-style
 * record (`<address>,<port>`) of the default iface made statically (as
 * brick and `iscsiadm -o new` write it; one made by discovery is linked from
 * the discovery record, which iscsiadm unlinks).
 */
export const removable = (text: string): boolean =>
  /^node\.discovery_type = static$/m.test(text) &&
  (/^iface\.iscsi_ifacename = default$/m.test(text) || !/^iface\.iscsi_ifacename = /m.test(text))

/**
 * Removes the record at `file` as idbm_delete_node does (the file, then the
 * target directory when it is empty): "removed"; "not removable" when it is
 * absent or not one brick may remove; "in use" when a session may use it.
 * Must run under the database lock.
 */
export const removeRecord = (file: string, inUse: () => boolean): "removed" | "not removable" | "in use" => {
  const text = readTrimmed(file)
  if (text === undefined || !removable(text)) return "not removable"
  if (inUse()) return "in use"
  NodeFsSync.unlinkSync(file)
  try {
    NodeFsSync.rmdirSync(file.slice(0, file.lastIndexOf("/")))
  } catch {
    // other records of the target remain
  }
  return "removed"
}
