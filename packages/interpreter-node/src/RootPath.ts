/**
 * Resolves absolute host paths (`/sys/...`, `/etc/iscsi/...`) under the
 * configured root, never leaving it.
 */
import * as NodePath from "node:path"

/** `root` + `hostPath`; throws if `hostPath` is not absolute or has `..` segments. */
export const resolve = (root: string, hostPath: string): string => {
  if (!hostPath.startsWith("/") || hostPath.split("/").some((s) => s === "..")) {
    throw new Error(`not a plain absolute path: ${JSON.stringify(hostPath)}`)
  }
  return root === "/" ? hostPath : NodePath.join(root, hostPath)
}
