/**
 * open-iscsi's database under a host's root, read directly: where it lives
 * and which node and discovery records it holds. Node records are
 * `nodes/<iqn>/<address>,<port>` files (made by `-o new`, naming their iface
 * inside) or `nodes/<iqn>/<address>,<port>,<tpgt>/<iface>` files (made by
 * discovery). Only the layout under /etc/iscsi is read (Debian's; RHEL keeps
 * the database in /var/lib/iscsi, which iscsiadm is asked about instead).
 */
import { IfaceName, Iqn, type Iscsiadm, Portal } from "@brick/core"
import * as NodeFsSync from "node:fs"
import { readText } from "./internal/files.ts"
import * as Output from "./IscsiadmOutput.ts"
import * as IscsidConf from "./IscsidConf.ts"
import * as RootPath from "./RootPath.ts"

/** Where the node records are, under the host's root. */
export const nodesDirectory = "/etc/iscsi/nodes"

/** A record file's `iface.iscsi_ifacename` line naming `iface`. */
const ifaceLine = (iface: string): RegExp =>
  new RegExp(`^iface\\.iscsi_ifacename = ${iface.replace(/[.]/g, "\\.")}$`, "m")

/**
 * Whether open-iscsi keeps its database in /etc/iscsi under `root` (Debian's
 * layout: /etc/iscsi/iscsid.conf and no /var/lib/iscsi, where RHEL's keeps it).
 */
export const debianLayout = (root: string): boolean =>
  NodeFsSync.existsSync(RootPath.resolve(root, IscsidConf.path)) &&
  !NodeFsSync.existsSync(RootPath.resolve(root, "/var/lib/iscsi"))

/** The file of a `-o new` record without a tpgt: `<root>/etc/iscsi/nodes/<iqn>/<address>,<port>`. */
export const recordPath = (root: string, node: Iscsiadm.NodeRecord, host: string, port: number): string =>
  RootPath.resolve(root, `${nodesDirectory}/${node.iqn}/${host},${port}`)

/**
 * Whether the database under `root` holds a record of `node`: a directory
 * `<address>,<port>,<tpgt>` with a file named after the iface (discovered
 * records), or a file `<address>,<port>` naming the iface (records made by
 * `-o new`). False when the database cannot be read.
 */
export const recordExists = (root: string, node: Iscsiadm.NodeRecord): boolean => {
  const { host, port } = Portal.parts(node.portal)
  const dir = RootPath.resolve(root, `${nodesDirectory}/${node.iqn}`)
  try {
    for (const entry of NodeFsSync.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name.startsWith(`${host},${port},`)) {
        if (NodeFsSync.existsSync(`${dir}/${entry.name}/${node.iface}`)) return true
      } else if (entry.isFile() && entry.name === `${host},${port}`) {
        const text = NodeFsSync.readFileSync(`${dir}/${entry.name}`, "utf8")
        if (ifaceLine(node.iface).test(text)) return true
      }
    }
  } catch {
    return false
  }
  return false
}

/** A sendtargets discovery record's name in the database: `<address>,<port>`. */
export const discoveryRecordName = (portal: Portal.Portal): string => {
  const { host, port } = Portal.parts(portal)
  return `${host},${port}`
}

/**
 * Whether the database under `root` holds a sendtargets discovery record of
 * `portal` (`etc/iscsi/send_targets/<address>,<port>`, or under var/lib/iscsi
 * on hosts that keep it there).
 */
export const discoveryRecordExists = (root: string, portal: Portal.Portal): boolean =>
  ["/etc/iscsi/send_targets", "/var/lib/iscsi/send_targets"].some((dir) =>
    NodeFsSync.existsSync(RootPath.resolve(root, `${dir}/${discoveryRecordName(portal)}`))
  )

/** Directory entries, or undefined when the directory cannot be read. */
const entriesOf = (dir: string): Array<NodeFsSync.Dirent> | undefined => {
  try {
    return NodeFsSync.readdirSync(dir, { withFileTypes: true })
  } catch {
    return undefined
  }
}

/** The records of one target's directory (`nodes/<iqn>`), each entry a portal's file or directory. */
const targetRecords = (dir: string, iqn: Iqn.Iqn): Array<Iscsiadm.NodeRecord> => {
  const out: Array<Iscsiadm.NodeRecord> = []
  for (const e of entriesOf(dir) ?? []) {
    const m = /^([^,]+),(\d+)(?:,(-?\d+))?$/.exec(e.name)
    if (!m) continue
    const portal = Output.parsePortal(`${m[1]!}:${m[2]!}`)
    if (portal === undefined) continue
    if (e.isDirectory()) {
      for (const i of entriesOf(`${dir}/${e.name}`) ?? []) {
        if (IfaceName.isIfaceName(i.name)) out.push({ iqn, portal, iface: i.name as IfaceName.IfaceName })
      }
    } else if (e.isFile()) {
      const text = readText(`${dir}/${e.name}`)
      if (text === undefined) continue
      const i = /^iface\.iscsi_ifacename = (\S+)$/m.exec(text)?.[1] ?? IfaceName.defaultIface
      if (IfaceName.isIfaceName(i)) out.push({ iqn, portal, iface: i as IfaceName.IfaceName })
    }
  }
  return out
}

/**
 * The node records in the database under `root` (what `iscsiadm -m node -P 1`
 * lists). Undefined when `<root>/etc/iscsi/nodes` cannot be read (the
 * database may be elsewhere: ask iscsiadm); empty when it is absent on a
 * Debian-layout host (no record made yet).
 */
export const readNodeDb = (root: string): ReadonlyArray<Iscsiadm.NodeRecord> | undefined => {
  const base = RootPath.resolve(root, nodesDirectory)
  let targets: Array<NodeFsSync.Dirent>
  try {
    targets = NodeFsSync.readdirSync(base, { withFileTypes: true })
  } catch (e) {
    const fresh = (e as NodeJS.ErrnoException).code === "ENOENT" && debianLayout(root)
    return fresh ? [] : undefined
  }
  return targets.flatMap((t) =>
    t.isDirectory() && Iqn.isIqn(t.name) ? targetRecords(`${base}/${t.name}`, t.name as Iqn.Iqn) : []
  )
}
