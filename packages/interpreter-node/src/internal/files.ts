/**
 * Reading small host files where "cannot be read" is an answer, not an error
 * (open-iscsi's database, sysfs attributes of sessions that may vanish).
 */
import * as NodeFsSync from "node:fs"

/** A file's text, or undefined when it cannot be read. */
export const readText = (file: string): string | undefined => {
  try {
    return NodeFsSync.readFileSync(file, "utf8")
  } catch {
    return undefined
  }
}
