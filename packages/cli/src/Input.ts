/**
 * Reading the JSON documents named on the command line (`--info FILE|-`,
 * `--device FILE|-`, `--options FILE|-`). Nothing here touches the host:
 * it runs before any host layer is built. Parse errors give a position,
 * never a quote of the text (it may hold CHAP secrets).
 */
import { InvalidInput } from "@brick/core"
import { Effect } from "effect"
import { InputUnreadable } from "./InputUnreadable.ts"
import { Io, type ReadFailure } from "./Io.ts"

/** Which document a flag names; also InvalidInput's `source`. */
export type Source = InvalidInput.InvalidInput["reason"]["source"]

const position = (e: unknown): string => {
  const m = /position (\d+)/.exec(e instanceof Error ? e.message : "")
  return m ? ` (at character ${m[1]})` : ""
}

/** Reads the text of a file, or of stdin for `-`. */
export const readText = (flag: string, path: string): Effect.Effect<string, InputUnreadable, Io> =>
  Io.use((io) =>
    Effect.tryPromise({
      try: () => (path === "-" ? io.readStdin() : io.readFile(path)),
      catch: (e) =>
        new InputUnreadable({
          flag,
          path,
          reason: isReadFailure(e) ? e : { _tag: "Failed", detail: "read error" }
        })
    })
  )

const isReadFailure = (e: unknown): e is ReadFailure =>
  typeof e === "object" && e !== null && "_tag" in e && typeof (e as { _tag: unknown })._tag === "string"

/** Parses JSON text; a syntax error is InvalidInput on `(input)` with its position only. */
export const parseJson = (source: Source, text: string): Effect.Effect<unknown, InvalidInput.InvalidInput> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) =>
      new InvalidInput.InvalidInput({
        reason: { source, issues: [{ field: "(input)", message: `not valid JSON${position(e)}` }] }
      })
  })

/** Reads and parses one JSON document named by `flag`. */
export const readJson = (
  flag: string,
  source: Source,
  path: string
): Effect.Effect<unknown, InputUnreadable | InvalidInput.InvalidInput, Io> =>
  Effect.flatMap(readText(flag, path), (text) => parseJson(source, text))
