/**
 * A path on the host that brick reads or writes: only under /sys or /dev,
 * absolute, with no `.`/`..` segments. Interpreters resolve it under their root.
 */
import { Schema } from "effect"

/** True when `s` is an absolute /sys or /dev path with plain segments. */
export const isHostPath = (s: string): boolean =>
  /^\/(sys|dev)(\/[^/\0]+)*$/.test(s) && !s.split("/").some((seg) => seg === "." || seg === "..")

/** A path under /sys or /dev. */
export const HostPath = Schema.String.check(
  Schema.makeFilter<string>((s) => (isHostPath(s) ? undefined : "a path under /sys or /dev"), { identifier: "HostPath" })
).pipe(Schema.brand("HostPath"))
/** A path under /sys or /dev. */
export type HostPath = typeof HostPath.Type

/** Brands a path built by brick itself (throws if it leaves /sys or /dev). */
export const make = (s: string): HostPath => {
  if (!isHostPath(s)) throw new Error(`not a /sys or /dev path: ${JSON.stringify(s)}`)
  return s as HostPath
}

/** Joins a child name onto a host path (the name must be one plain segment). */
export const join = (dir: HostPath, ...names: ReadonlyArray<string>): HostPath => make([dir, ...names].join("/"))
