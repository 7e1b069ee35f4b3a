/**
 * An input file (or stdin) named on the command line could not be read.
 * Its content is never quoted: it may hold CHAP secrets.
 */
import { Data } from "effect"
import type { ReadFailure } from "./Io.ts"

/** `--info`, `--device` or `--options` could not be read. */
export class InputUnreadable extends Data.TaggedError("InputUnreadable")<{
  readonly flag: string
  readonly path: string
  readonly reason: ReadFailure
}> {
  override get message(): string {
    const why = this.reason._tag === "Failed" ? this.reason.detail : this.reason._tag
    return `cannot read ${this.flag} ${this.path === "-" ? "(stdin)" : this.path}: ${why}`
  }
}
