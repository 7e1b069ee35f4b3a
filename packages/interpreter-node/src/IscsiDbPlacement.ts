/**
 * Where a node record of brick's goes in open-iscsi's database so that no
 * other iface's record is replaced or removed (design.md, invariant 7).
 *
 * open-iscsi (usr/idbm.c, 2.1.x) keeps a portal's records in two layouts and
 * reads both: a file `nodes/<iqn>/<address>,<port>` naming its iface inside
 * (`-o new` without a tpgt), and a directory `nodes/<iqn>/<address>,<port>,<tpgt>/`
 * holding one file per iface (discovery; `-o new` when such a directory
 * exists). Its writers do not spare the other layout: `-o new` without a
 * tpgt rewrites the `<address>,<port>` file whatever iface it names
 * (idbm_rec_write_old); a write of a directory's record, as `-o update` does,
 * unlinks that file (idbm_rec_write_new); `-o delete` unlinks that file
 * before it looks in a directory (idbm_delete_node). So when the
 * `<address>,<port>` file is another iface's, brick's record goes in a
 * `<address>,<port>,<tpgt>` directory beside it, and iscsiadm must neither
 * write nor delete at that portal: brick writes, updates and removes its
 * record itself (`guarded`).
 */
import type { Iscsiadm } from "@brick/core"
import { Portal } from "@brick/core"
import * as NodeFsSync from "node:fs"
import { readText } from "./internal/files.ts"
import * as RootPath from "./RootPath.ts"

/** Where a node's record is, or goes. */
export interface Placement {
  /** The record's file. */
  readonly file: string
  /** Whether the record is there already. */
  readonly exists: boolean
  /**
   * The portal group tag of the record's directory; undefined for the
   * `<address>,<port>` file, and for a new record beside another iface's
   * file (it needs one: `withTpgt`).
   */
  readonly tpgt: number | undefined
  /** The `<address>,<port>` file of another iface, when there is one. */
  readonly other: string | undefined
  /** Whether iscsiadm must not write or delete at this portal (`other` is there): brick does it itself. */
  readonly guarded: boolean
}

/** The iface a `<address>,<port>` record file names (`default` when it names none). */
export const ifaceOfRecord = (text: string): string => /^iface\.iscsi_ifacename = (\S+)$/m.exec(text)?.[1] ?? "default"

/** The directory of a target's records under `root`. */
export const targetDirectory = (root: string, iqn: string): string => RootPath.resolve(root, `/etc/iscsi/nodes/${iqn}`)

/** The portal group tags of `<address>,<port>,<tpgt>` directories in `dir`, in the order glob(3) lists them. */
const portalGroups = (dir: string, host: string, port: number): ReadonlyArray<number> => {
  let names: Array<string>
  try {
    names = NodeFsSync.readdirSync(dir).sort()
  } catch {
    return []
  }
  const prefix = `${host},${port},`
  return names.flatMap((n) => {
    if (!n.startsWith(prefix) || !/^\d+$/.test(n.slice(prefix.length))) return []
    return NodeFsSync.statSync(`${dir}/${n}`, { throwIfNoEntry: false })?.isDirectory()
      ? [Number(n.slice(prefix.length))]
      : []
  })
}

/** Where `node`'s record is in the database under `root`, or where a new one goes. */
export const of = (root: string, node: Iscsiadm.NodeRecord): Placement => {
  const { host, port } = Portal.parts(node.portal)
  const dir = targetDirectory(root, node.iqn)
  const flat = `${dir}/${host},${port}`
  const flatText = NodeFsSync.statSync(flat, { throwIfNoEntry: false })?.isFile() ? readText(flat) : undefined
  const flatIface = flatText === undefined ? undefined : ifaceOfRecord(flatText)
  if (flatIface === node.iface) return { file: flat, exists: true, tpgt: undefined, other: undefined, guarded: false }
  const other = flatIface === undefined ? undefined : flat
  const groups = portalGroups(dir, host, port)
  const inGroup = groups.find((g) => NodeFsSync.existsSync(`${dir}/${host},${port},${g}/${node.iface}`))
  const tpgt = inGroup ?? groups[0]
  if (tpgt !== undefined) {
    return {
      file: `${dir}/${host},${port},${tpgt}/${node.iface}`,
      exists: inGroup !== undefined,
      tpgt,
      other,
      guarded: other !== undefined
    }
  }
  return other === undefined
    ? { file: flat, exists: false, tpgt: undefined, other: undefined, guarded: false }
    : { file: "", exists: false, tpgt: undefined, other, guarded: true }
}

/** The placement of a new record beside another iface's file, in the directory of portal group `tpgt`. */
export const withTpgt = (root: string, node: Iscsiadm.NodeRecord, placement: Placement, tpgt: number): Placement => {
  const { host, port } = Portal.parts(node.portal)
  return { ...placement, tpgt, file: `${targetDirectory(root, node.iqn)}/${host},${port},${tpgt}/${node.iface}` }
}

/**
 * The portal group tag of a session to `node`'s target through its portal
 * (any iface), read from sysfs under `root`; undefined when there is none.
 */
export const sessionTpgt = (root: string, node: Iscsiadm.NodeRecord): number | undefined => {
  const { host, port } = Portal.parts(node.portal)
  let sessions: Array<string>
  try {
    sessions = NodeFsSync.readdirSync(RootPath.resolve(root, "/sys/class/iscsi_session"))
  } catch {
    return undefined
  }
  for (const s of sessions) {
    const sid = /^session(\d+)$/.exec(s)?.[1]
    if (sid === undefined) continue
    const at = (p: string) => readText(RootPath.resolve(root, p))?.trim()
    if (at(`/sys/class/iscsi_session/${s}/targetname`) !== node.iqn) continue
    const conn = `/sys/class/iscsi_connection/connection${sid}:0`
    if (at(`${conn}/persistent_address`) !== host || at(`${conn}/persistent_port`) !== String(port)) continue
    const tpgt = at(`/sys/class/iscsi_session/${s}/tpgt`)
    if (tpgt !== undefined && /^\d+$/.test(tpgt)) return Number(tpgt)
  }
  return undefined
}

/**
 * The record's text with `lines` set (each `[name, value]`; an empty value
 * removes the line, as open-iscsi writes none for it). Other lines stay.
 */
export const withLines = (text: string, lines: ReadonlyArray<readonly [string, string]>): string => {
  const body = text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("# "))
  const map = new Map<string, string>()
  for (const l of body) {
    const m = /^(\S+) = (.*)$/.exec(l)
    if (m) map.set(m[1]!, m[2]!)
  }
  for (const [k, v] of lines) {
    if (v === "") map.delete(k)
    else map.set(k, v)
  }
  let out = "# BEGIN RECORD (brick)\n"
  for (const [k, v] of map) out += `${k} = ${v}\n`
  return `${out}# END RECORD\n`
}

/**
 * Removes a record file of a portal group's directory, then the directory and
 * the target's when they are empty, as idbm_delete_node does. Must run under
 * the database lock.
 */
export const removeFile = (file: string): void => {
  NodeFsSync.unlinkSync(file)
  for (let dir = file.slice(0, file.lastIndexOf("/")), i = 0; i < 2; i++, dir = dir.slice(0, dir.lastIndexOf("/"))) {
    try {
      NodeFsSync.rmdirSync(dir)
    } catch {
      return
    }
  }
}
