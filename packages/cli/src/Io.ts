/**
 * Where the CLI reads and writes: stdout, stderr, stdin and files. A service
 * so the whole command can run in-process under test with captured streams.
 */
import { Context } from "effect"

/** Why a file or stdin could not be read. */
export type ReadFailure =
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "PermissionDenied" }
  | { readonly _tag: "IsDirectory" }
  | { readonly _tag: "Failed"; readonly detail: string }

/** The CLI's streams. Writes are synchronous (a CLI's output must not be lost at exit). */
export interface IoShape {
  /** Writes text to stdout as is. */
  readonly stdout: (text: string) => void
  /** Writes text to stderr as is. */
  readonly stderr: (text: string) => void
  /** Reads all of stdin. */
  readonly readStdin: () => Promise<string>
  /** Reads a whole file as UTF-8; rejects with a ReadFailure. */
  readonly readFile: (path: string) => Promise<string>
  /** Whether stderr is a terminal (progress is shown only then). */
  readonly stderrIsTTY: boolean
}

/** The CLI's streams. */
export class Io extends Context.Service<Io, IoShape>()("@brick/cli/Io") {}
