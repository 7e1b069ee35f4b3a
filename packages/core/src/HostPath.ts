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
  Schema.makeFilter<string>((s) => (isHostPath(s) ? undefined : "a path under /sys or /dev"), {
    identifier: "HostPath"
  })
).pipe(Schema.brand("HostPath"))
/** A path under /sys or /dev. */
export type HostPath = typeof HostPath.Type

/** Brands a path built by brick itself (throws if it leaves /sys or /dev). */
export const make = (s: string): HostPath => {
  if (!isHostPath(s)) throw new Error(`not a /sys or /dev path: ${JSON.stringify(s)}`)
  return s as HostPath
}

/** True when `s` is a relative path of plain segments (none empty, `.` or `..`; no NUL). */
export const isRelative = (s: string): boolean => {
  if (s === "" || s.includes("\0")) return false
  return s.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..")
}

/**
 * `dir/rel` for a host path `dir` and a relative path `rel` of plain
 * segments (throws otherwise): checks only `rel`, `dir` being valid already.
 */
export const under = (dir: HostPath, rel: string): HostPath => {
  if (!isRelative(rel)) throw new Error(`not a plain relative path: ${JSON.stringify(rel)}`)
  return `${dir}/${rel}` as HostPath
}

/** Joins child names onto a host path (each of plain segments). */
export const join = (dir: HostPath, ...names: ReadonlyArray<string>): HostPath => under(dir, names.join("/"))
