/**
 * The secrets of one CLI run (CHAP passwords read from input), kept so every
 * byte the CLI prints can be scrubbed of them — a second line of defence
 * behind `Redacted`, which keeps them out of errors and logs in the first place.
 */
import { Context, Redacted } from "effect"

/** The secrets seen so far in this run. */
export interface SecretsShape {
  readonly add: (secret: string | Redacted.Redacted<string>) => void
  readonly values: () => ReadonlyArray<string>
}

/** The secrets of one run. */
export class Secrets extends Context.Service<Secrets, SecretsShape>()("@brick/cli/Secrets") {}

/** The shortest secret scrubbed from text (shorter ones would mangle ordinary words). */
export const minimumLength = 4

/** A fresh, empty registry. */
export const make = (): SecretsShape => {
  const set = new Set<string>()
  return {
    add: (secret) => {
      const value = Redacted.isRedacted(secret) ? Redacted.value(secret) : secret
      if (value.length >= minimumLength) set.add(value)
    },
    values: () => [...set].sort((a, b) => b.length - a.length)
  }
}

const secretKey = /pass(word)?|secret/i

/**
 * Registers every string under a secret-looking key (`auth_password`,
 * `discovery_auth_password`, ...) of raw parsed input, before it is decoded.
 */
export const collect = (registry: SecretsShape, input: unknown, depth = 0): void => {
  if (depth > 8 || typeof input !== "object" || input === null) return
  for (const [key, value] of Object.entries(input)) {
    if (typeof value === "string" && secretKey.test(key)) registry.add(value)
    else collect(registry, value, depth + 1)
  }
}
