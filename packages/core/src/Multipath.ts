/**
 * device-mapper multipath through multipathd: forming, flushing and resizing
 * maps. Which map holds which device is read from sysfs, not from here.
 */
import { Context, Data, type Effect } from "effect"
import type { Wwn } from "./Wwn.ts"

/** Why a multipath operation failed. */
export type MultipathReason =
  | { readonly _tag: "NotRunning" }
  | { readonly _tag: "InUse" }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "Failed" }

/** A multipath operation failed. */
export class MultipathError extends Data.TaggedError("MultipathError")<{
  readonly operation: string
  readonly target: string
  readonly reason: MultipathReason
  readonly detail?: string
}> {
  override get message(): string {
    return `multipath ${this.operation} ${this.target} failed: ${this.reason._tag}${
      this.detail ? `: ${this.detail}` : ""
    }`
  }
}

/** multipathd's operations. */
export class Multipath extends Context.Service<Multipath, {
  /** Whether multipathd is running and answering. */
  readonly isRunning: Effect.Effect<boolean>
  /** Asks multipathd to create the map for a WWID now (when it has not on its own). */
  readonly addMap: (wwn: Wwn) => Effect.Effect<void, MultipathError>
  /** Tells multipathd about a new path device (`sdX`). */
  readonly addPath: (device: string) => Effect.Effect<void, MultipathError>
  /** Removes a path device (`sdX`) from its map. */
  readonly removePath: (device: string) => Effect.Effect<void, MultipathError>
  /** Flushes (removes) a map by name; InUse when it is open. */
  readonly flushMap: (name: string) => Effect.Effect<void, MultipathError>
  /** Resizes a map to its paths' current size. */
  readonly resizeMap: (name: string) => Effect.Effect<void, MultipathError>
}>()("@brick/core/Multipath") {}
