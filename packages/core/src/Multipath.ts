/**
 * device-mapper multipath through multipathd: forming, flushing and resizing
 * maps, and the paths' states. Which map holds which device is read from
 * sysfs, not from here.
 */
import { Context, Data, type Effect, type Option } from "effect"
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

/** A path device as multipathd sees it (`multipathd show paths`). */
export interface MultipathPathState {
  /** The path's block device, `sdX`. */
  readonly device: string
  /** The name of the map holding it, when one does. */
  readonly map: Option.Option<string>
  /** device-mapper's state of the path in its map: `active`, `failed` (`undef` outside a map). */
  readonly dmState: string
  /** multipathd's path checker: `ready`, `faulty`, `ghost`, `shaky`, `delayed`, `undef` … */
  readonly checkerState: string
}

/**
 * multipath's `find_multipaths`: which paths multipathd puts in a map by
 * itself. `no` / `greedy`: every path; `yes`: a WWID in the wwids file or
 * seen on two paths; `smart`: like `yes`, the second path awaited for a
 * while; `strict`: only a WWID in the wwids file (multipath-tools' built-in
 * default).
 */
export type FindMultipaths = "no" | "yes" | "strict" | "smart" | "greedy"

/** The modes where multipathd consults the wwids file before forming a map of a WWID it has not seen. */
export const consultsWwids = (mode: FindMultipaths): boolean => mode === "strict" || mode === "yes" || mode === "smart"

/** The modes where multipathd never forms a map of an unregistered WWID by itself, whatever its paths. */
export const formsOnlyRegistered = (mode: FindMultipaths): boolean => mode === "strict"

/** multipathd's operations. */
export class Multipath extends Context.Service<Multipath, {
  /** Whether multipathd is running and answering. */
  readonly isRunning: Effect.Effect<boolean>
  /** The effective `find_multipaths` of the host's multipath configuration. */
  readonly findMultipaths: Effect.Effect<FindMultipaths>
  /** Whether the wwids file (/etc/multipath/wwids) holds a WWID. */
  readonly wwidKnown: (wwn: Wwn) => Effect.Effect<boolean, MultipathError>
  /** Adds a WWID to the wwids file (`multipath -a`): multipathd may then form its map. */
  readonly addWwid: (wwn: Wwn) => Effect.Effect<void, MultipathError>
  /** Removes a WWID from the wwids file (`multipath -w`). */
  readonly removeWwid: (wwn: Wwn) => Effect.Effect<void, MultipathError>
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
  /** Reloads a map's table from its paths (a map loaded read-only becomes writable once its paths are). */
  readonly reloadMap: (name: string) => Effect.Effect<void, MultipathError>
  /** Every path device multipathd knows, with its state in its map and its checker's. */
  readonly pathStates: Effect.Effect<ReadonlyArray<MultipathPathState>, MultipathError>
}>()("@brick/core/Multipath") {}
