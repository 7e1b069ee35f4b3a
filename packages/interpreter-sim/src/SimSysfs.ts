/**
 * Sysfs on a simulated host: reads, listings, readlinks and writes resolved
 * in the /sys + /dev tree `SimView` derives from the host's state. Errors
 * follow the node interpreter: absence (ENOENT, ENOTDIR) is a value, EACCES
 * is PermissionDenied, any other errno is Failed with the errno as detail.
 */
import { Sysfs } from "@brick/core"
import { type Context, Effect, Layer, Option } from "effect"
import { run, type SimRuntime } from "./SimOps.ts"
import { relativeLink, resolve, resolveNode } from "./SimTree.ts"

type Operation = "read" | "list" | "readlink" | "write"

/** The Sysfs service of `rt`'s host, as seen by `process`. */
export const make = (rt: SimRuntime, process = "main"): Context.Service.Shape<typeof Sysfs.Sysfs> => {
  const root = rt.view
  const error = (operation: Operation, path: string, reason: Sysfs.SysfsError["reason"]) =>
    new Sysfs.SysfsError({ operation, path, reason })
  const failed = (operation: Operation, path: string, errno: string) =>
    Effect.fail(error(operation, path, { _tag: "Failed", detail: errno }))
  const toError = (operation: Operation, path: string) => (f: { readonly reason: string; readonly detail?: string }) =>
    error(
      operation,
      path,
      f.reason === "PermissionDenied" ? { _tag: "PermissionDenied" } : { _tag: "Failed", detail: f.detail ?? f.reason }
    )

  return {
    read: (path) =>
      run(rt, process, "sysfs.read", [path], toError("read", path), () => {
        const node = resolveNode(root, path, true)
        if (!node) return Effect.succeed(Option.none())
        if (node.kind === "dir") return failed("read", path, "EISDIR")
        if (node.kind !== "file") return Effect.succeed(Option.none())
        if (!node.read) return Effect.fail(error("read", path, { _tag: "PermissionDenied" }))
        return Effect.succeed(Option.some(node.read()))
      }),
    list: (path) =>
      run(rt, process, "sysfs.list", [path], toError("list", path), () => {
        const node = resolveNode(root, path, true)
        // ENOTDIR is absence, as for the node interpreter
        if (!node || node.kind !== "dir") return Effect.succeed([])
        return Effect.succeed(Array.from(node.entries()).sort())
      }),
    readlink: (path) =>
      run(rt, process, "sysfs.readlink", [path], toError("readlink", path), () => {
        const r = resolve(root, path, false)
        if (!r) return Effect.succeed(Option.none())
        if (r.node.kind !== "link") return failed("readlink", path, "EINVAL")
        return Effect.succeed(Option.some(relativeLink(r.path, r.node.target)))
      }),
    write: (path, value) =>
      run(rt, process, "sysfs.write", [path, value], toError("write", path), () => {
        const node = resolveNode(root, path, true)
        if (!node) return failed("write", path, "ENOENT")
        if (node.kind === "dir") return failed("write", path, "EISDIR")
        if (node.kind !== "file" || !node.write) return Effect.fail(error("write", path, { _tag: "PermissionDenied" }))
        const result = node.write(value)
        return result ? failed("write", path, result.errno) : Effect.void
      })
  }
}

/** A layer of the Sysfs service on `rt`'s host. */
export const layer = (rt: SimRuntime, process = "main"): Layer.Layer<Sysfs.Sysfs> =>
  Layer.succeed(Sysfs.Sysfs, make(rt, process))
