/**
 * A node record brick may remove itself, removed as `iscsiadm -o delete`
 * does (idbm_delete_node: the file, then the target's directory when empty).
 * Must run under the database lock (IscsiDbLock), after asking whether a
 * session may use the record (RecordInUse).
 */
import * as NodeFsSync from "node:fs"
import { readText } from "./internal/files.ts"

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
 * Removes the record at `file`: "removed"; "not removable" when it is absent
 * or not one brick may remove; "in use" when `inUse()` says a session may use it.
 */
export const removeRecord = (file: string, inUse: () => boolean): "removed" | "not removable" | "in use" => {
  const text = readText(file)?.trim()
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
