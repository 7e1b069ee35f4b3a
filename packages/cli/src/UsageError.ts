/**
 * The command line itself is wrong: unknown command or flag, a missing or
 * malformed flag value, or flags that exclude each other.
 */
import { Data } from "effect"

/** A wrong command line; `problems` lists each one. */
export class UsageError extends Data.TaggedError("UsageError")<{
  readonly command: string
  readonly problems: ReadonlyArray<string>
}> {
  override get message(): string {
    return this.problems.length === 0 ? `usage: ${this.command}` : this.problems.join("; ")
  }
}
