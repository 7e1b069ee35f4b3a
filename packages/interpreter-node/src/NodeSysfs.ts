/**
 * The Sysfs service on a real host: reads, lists, readlinks and writes under
 * the configured root. Reads, lists and readlinks are synchronous: kernfs
 * answers them from memory, and a synchronous read is the cheapest way to ask
 * (BENCHMARKS.md, "Interpreter choices"); brick polls sysfs while waiting for devices.
 * Writes are asynchronous: writing a host's `scan` runs a SCSI scan in the
 * writing thread and can take seconds. Absence (ENOENT, ENOTDIR) is a value;
 * EACCES/EPERM is PermissionDenied; anything else is Failed with the errno code.
 * Writes open the file write-only without creating or truncating it, as
 * sysfs attributes (`scan`, `delete`, `rescan`) require.
 */
import { Sysfs } from "@brick/core"
import { Effect, Layer, Option } from "effect"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import { NodeHostConfig } from "./NodeHostConfig.ts"
import * as RootPath from "./RootPath.ts"

type Operation = Sysfs.SysfsError["operation"]

const absent = (e: NodeJS.ErrnoException) => e.code === "ENOENT" || e.code === "ENOTDIR"

/** The SysfsError an errno failure stands for. */
export const toError = (operation: Operation, path: string, e: NodeJS.ErrnoException): Sysfs.SysfsError =>
  new Sysfs.SysfsError({
    operation,
    path,
    reason: e.code === "EACCES" || e.code === "EPERM"
      ? { _tag: "PermissionDenied" }
      : { _tag: "Failed", detail: e.code ?? e.message }
  })

/** Drops one final newline, as sysfs terminates every attribute with one. */
export const trimFinalNewline = (s: string): string => (s.endsWith("\n") ? s.slice(0, -1) : s)

/** Builds the service for a root directory. */
export const makeWithRoot = (root: string): Sysfs.Sysfs["Service"] => {
  const at = (path: string) => RootPath.resolve(root, path)

  const attempt = <A>(
    operation: Operation,
    path: string,
    f: () => A,
    onAbsent: () => A
  ): Effect.Effect<A, Sysfs.SysfsError> =>
    Effect.suspend(() => {
      try {
        return Effect.succeed(f())
      } catch (e) {
        const error = e as NodeJS.ErrnoException
        return absent(error) ? Effect.succeed(onAbsent()) : Effect.fail(toError(operation, path, error))
      }
    })

  return Sysfs.Sysfs.of({
    read: (path) =>
      attempt(
        "read",
        path,
        () => Option.some(trimFinalNewline(NodeFsSync.readFileSync(at(path), "utf8"))),
        () => Option.none()
      ),
    list: (path) =>
      attempt(
        "list",
        path,
        (): ReadonlyArray<string> => NodeFsSync.readdirSync(at(path)).sort(),
        (): ReadonlyArray<string> => []
      ),
    readlink: (path) =>
      attempt("readlink", path, () => Option.some(NodeFsSync.readlinkSync(at(path))), () => Option.none()),
    write: (path, value) =>
      Effect.tryPromise({
        try: async () => {
          const handle = await NodeFs.open(at(path), NodeFs.constants.O_WRONLY)
          try {
            await handle.write(value)
          } finally {
            await handle.close()
          }
        },
        catch: (e) => toError("write", path, e as NodeJS.ErrnoException)
      })
  })
}

/** Sysfs under the configured root. */
export const layer: Layer.Layer<Sysfs.Sysfs, never, NodeHostConfig> = Layer.effect(
  Sysfs.Sysfs,
  Effect.map(NodeHostConfig, (c) => makeWithRoot(c.root))
)
