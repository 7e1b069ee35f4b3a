/**
 * The command's result on stdout: one JSON document, scrubbed of every
 * secret seen in this run.
 */
import { Effect } from "effect"
import { Io } from "./Io.ts"
import * as Json from "./Json.ts"
import { Secrets } from "./Secrets.ts"

/** Prints `value` as indented JSON on stdout. */
export const printJson = (value: unknown): Effect.Effect<void, never, Io | Secrets> =>
  Effect.gen(function*() {
    const io = yield* Io
    const secrets = yield* Secrets
    io.stdout(Json.pretty(value, secrets.values()))
  })
