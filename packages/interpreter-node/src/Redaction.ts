/**
 * Rendering of argv for logs and errors with every secret hidden, and
 * scrubbing of secrets from text a command printed.
 */
import { Redacted } from "effect"
import { CommandLine } from "effect/process"

/** One argv word: plain, or a secret passed to the child but never shown. */
export type Word = CommandLine.Word

/** The placeholder a secret is shown as. */
export const placeholder = "<redacted>"

/** `program arg …` with every Redacted word shown as `<redacted>`, shell-quoted where needed. */
export const render = (argv: ReadonlyArray<Word>): string => CommandLine.display(argv)

/** The secret values among `argv`. */
export const secrets = (argv: ReadonlyArray<Word>): ReadonlyArray<string> =>
  argv.flatMap((w) => (Redacted.isRedacted(w) ? [Redacted.value(w)].filter((s) => s.length > 0) : []))

/** `text` with every occurrence of each secret replaced by `<redacted>`. */
export const scrub = (text: string, secretValues: ReadonlyArray<string>): string =>
  [...secretValues].sort((a, b) => b.length - a.length).reduce((acc, s) => acc.split(s).join(placeholder), text)
