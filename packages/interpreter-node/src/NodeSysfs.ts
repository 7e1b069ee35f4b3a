/**
 * The Sysfs service on a real host: reads, lists, readlinks and writes under
 * the configured root with node:fs/promises (the cheapest of the measured
 * options, see test/NodeSysfs.bench.ts). Absence (ENOENT, ENOTDIR) is a value;
 * EACCES/EPERM is PermissionDenied; anything else is Failed with the errno code.
 * Writes open the file write-only without creating or truncating it, as
 * sysfs attributes (`scan`, `delete`, `rescan`) require.
 */
import { Sysfs } from "@brick/core"
import { Effect, Layer, Option } from "effect"
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
    f: () => Promise<A>,
    onAbsent: () => A
  ): Effect.Effect<A, Sysfs.SysfsError> =>
    Effect.tryPromise({ try: f, catch: (e) => e as NodeJS.ErrnoException }).pipe(
      Effect.catch((e) => (absent(e) ? Effect.succeed(onAbsent()) : Effect.fail(toError(operation, path, e))))
    )

  return Sysfs.Sysfs.of({
    read: (path) =>
      attempt(
        "read",
        path,
        () => NodeFs.readFile(at(path), "utf8").then((s) => Option.some(trimFinalNewline(s))),
        () => Option.none()
      ),
    list: (path) =>
      attempt(
        "list",
        path,
        () => NodeFs.readdir(at(path)).then((names): ReadonlyArray<string> => names.sort()),
        (): ReadonlyArray<string> => []
      ),
    readlink: (path) =>
      attempt("readlink", path, () => NodeFs.readlink(at(path)).then(Option.some), () => Option.none()),
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
