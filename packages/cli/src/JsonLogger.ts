/**
 * brick's log output: one JSON object per line on stderr
 * (`{"time","level","message",...annotations,"spans"}`), scrubbed of every
 * known secret, never with a stack trace. The level filter is effect's
 * minimum log level (`--log-level`).
 */
import { Cause, Logger } from "effect"
import type { IoShape } from "./Io.ts"
import * as Json from "./Json.ts"
import type { ProgressShape } from "./Progress.ts"
import type { SecretsShape } from "./Secrets.ts"

const causeText = (cause: Cause.Cause<unknown>): string | undefined => {
  if (cause.reasons.length === 0) return undefined
  return cause.reasons
    .map((r) => {
      if (Cause.isFailReason(r)) return errorText(r.error)
      if (Cause.isDieReason(r)) return `defect: ${errorText(r.defect)}`
      return "interrupted"
    })
    .join("; ")
}

const errorText = (e: unknown): string => {
  const message = typeof e === "object" && e !== null && "message" in e
    ? String((e as { message: unknown }).message)
    : String(e)
  return message.split("\n")[0] ?? ""
}

const messageText = (message: unknown): string =>
  Array.isArray(message)
    ? message.map((m) => (typeof m === "string" ? m : JSON.stringify(Json.toJson(m, [])))).join(" ")
    : String(message)

/** The JSON-lines logger writing to `io.stderr`. */
export const make = (io: IoShape, secrets: SecretsShape, progress: ProgressShape): Logger.Logger<unknown, void> =>
  Logger.make((options) => {
    const s = Logger.formatStructured.log(options)
    const cause = causeText(options.cause)
    const entry = {
      time: s.timestamp,
      level: s.level,
      message: s.message,
      ...(cause === undefined ? {} : { cause }),
      ...s.annotations,
      ...(Object.keys(s.spans).length === 0 ? {} : { spans: s.spans })
    }
    const scrubbed = secrets.values()
    progress.note(Json.scrub(messageText(options.message), scrubbed))
    progress.clear()
    io.stderr(Json.line(entry, scrubbed))
  })
