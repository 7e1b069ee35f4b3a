/**
 * The one rule, inside the node interpreter, for "may a session be using this
 * node record?": asked before brick removes a record itself, as
 * `iscsiadm -o delete` asks before deleting one.
 */
import type { Iscsiadm } from "@brick/core"
import * as NodeFsSync from "node:fs"
import { readText } from "./internal/files.ts"
import * as RootPath from "./RootPath.ts"

const readTrimmed = (root: string, hostPath: string): string | undefined =>
  readText(RootPath.resolve(root, hostPath))?.trim()

/**
 * Whether a session in sysfs under `root` may be using the record of `node`
 * at `host`:`port`. It errs on "in use": a session of the record's target
 * counts when its connection's persistent address and port match, or cannot
 * be read (a session still logging in), and its iface matches, is unset
 * (empty, `<NULL>`) or cannot be read. No session directory at all: no session.
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
    if (readTrimmed(root, `/sys/class/iscsi_session/${s}/targetname`) !== node.iqn) continue
    const conn = `/sys/class/iscsi_connection/connection${sid}:0`
    const address = readTrimmed(root, `${conn}/persistent_address`)
    const boundPort = readTrimmed(root, `${conn}/persistent_port`)
    const iface = readTrimmed(root, `/sys/class/iscsi_session/${s}/ifacename`)
    const portalMatches = address === undefined || boundPort === undefined ||
      (address === host && boundPort === String(port))
    const ifaceMatches = iface === undefined || iface === "" || iface === "<NULL>" || iface === node.iface
    if (portalMatches && ifaceMatches) return true
  }
  return false
}
