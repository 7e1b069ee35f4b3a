/**
 * Turning values into what the CLI prints: JSON-safe data with `Redacted`
 * shown as `<redacted>`, Options unwrapped, and every known secret scrubbed
 * out of every string.
 */
import { Duration, Option, Redacted } from "effect"

/** The text a hidden value is shown as. */
export const placeholder = "<redacted>"

/** `text` with each secret replaced by `<redacted>` (secrets longest first). */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((acc, s) => (acc.includes(s) ? acc.split(s).join(placeholder) : acc), text)

const skippedKeys = new Set(["stack", "cause", "_tag", "message"])

/** A JSON-safe copy of `value`, scrubbed. Error objects keep their own fields. */
export const toJson = (value: unknown, secrets: ReadonlyArray<string>, depth = 0): unknown => {
  if (depth > 16) return "…"
  if (value === null || value === undefined) return null
  if (typeof value === "string") return scrub(value, secrets)
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value)
  if (typeof value === "boolean") return value
  if (typeof value === "bigint") return value.toString()
  if (typeof value !== "object") return null
  if (Redacted.isRedacted(value)) return placeholder
  if (Option.isOption(value)) return Option.isSome(value) ? toJson(value.value, secrets, depth + 1) : null
  if (Duration.isDuration(value)) return Duration.toMillis(value)
  if (Array.isArray(value)) return value.map((v) => toJson(v, secrets, depth + 1))
  if (value instanceof Date) return value.toISOString()
  const out: Record<string, unknown> = {}
  const isError = value instanceof Error
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "function" || v === undefined) continue
    if (isError && skippedKeys.has(k)) continue
    out[k] = toJson(v, secrets, depth + 1)
  }
  return out
}

/** One line of JSON, scrubbed. */
export const line = (value: unknown, secrets: ReadonlyArray<string>): string =>
  JSON.stringify(toJson(value, secrets)) + "\n"

/** Indented JSON (for stdout), scrubbed. */
export const pretty = (value: unknown, secrets: ReadonlyArray<string>): string =>
  JSON.stringify(toJson(value, secrets), null, 2) + "\n"
