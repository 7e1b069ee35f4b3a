/**
 * Reads and writes under /sys and /dev: the kernel's own account of sessions,
 * hosts, SCSI devices and device-mapper maps. Paths are `HostPath`s, so
 * nothing outside those trees can be named; interpreters resolve them under
 * their root.
 */
import { Context, Data, type Effect, type Option } from "effect"
import type { HostPath } from "./HostPath.ts"

/** A sysfs or /dev access failed for another reason than absence. */
export class SysfsError extends Data.TaggedError("SysfsError")<{
  readonly operation: "read" | "list" | "readlink" | "write"
  readonly path: string
  readonly reason: { readonly _tag: "PermissionDenied" } | { readonly _tag: "Failed"; readonly detail: string }
}> {
  override get message(): string {
    const detail = this.reason._tag === "Failed" ? `: ${this.reason.detail}` : ""
    return `sysfs ${this.operation} ${this.path} failed: ${this.reason._tag}${detail}`
  }
}

/** The kernel's object tree. Absence is a value (`none`, `[]`), not an error. */
export class Sysfs extends Context.Service<Sysfs, {
  /** A file's content, trimmed of its final newline; none when absent. */
  readonly read: (path: HostPath) => Effect.Effect<Option.Option<string>, SysfsError>
  /** A directory's entry names, sorted; empty when absent. */
  readonly list: (path: HostPath) => Effect.Effect<ReadonlyArray<string>, SysfsError>
  /** A symbolic link's text as stored (often relative); none when absent. */
  readonly readlink: (path: HostPath) => Effect.Effect<Option.Option<string>, SysfsError>
  /** Writes a value (e.g. `C T L` to a host's `scan`, `1` to a device's `delete`). */
  readonly write: (path: HostPath, value: string) => Effect.Effect<void, SysfsError>
}>()("@brick/core/Sysfs") {}
