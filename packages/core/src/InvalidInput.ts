/**
 * The error for input that brick refuses before touching the host: every
 * problem names its field (`data.target_iqn`, `target_luns[2]`, `iface.transport`).
 */
import { Data, Schema, SchemaIssue } from "effect"

/** One refused field and what was expected there. */
export interface FieldIssue {
  readonly field: string
  readonly message: string
}

/** Input that failed to decode; `reason.issues` names each offending field. */
export class InvalidInput extends Data.TaggedError("InvalidInput")<{
  readonly reason: {
    readonly source: "connection_info" | "options" | "device_info"
    readonly issues: ReadonlyArray<FieldIssue>
  }
}> {
  override get message(): string {
    return `invalid ${this.reason.source}: ` +
      this.reason.issues.map((i) => `${i.field}: ${i.message}`).join("; ")
  }
}

/** Renders a property path as `a.b[2].c`. */
export const fieldName = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, key) => typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`,
    ""
  ) || "(input)"

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Lists a schema issue as field issues. The messages come from the schemas'
 * own texts, which never quote the input, so no secret can leak through them.
 */
export const fieldIssues = (
  issue: SchemaIssue.Issue,
  prefix: ReadonlyArray<PropertyKey> = []
): ReadonlyArray<FieldIssue> =>
  standard(issue).issues.map((i) => ({
    field: fieldName([...prefix, ...(i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))]),
    message: i.message
  }))

/** Wraps a schema error as InvalidInput. */
export const fromSchemaError = (
  source: InvalidInput["reason"]["source"],
  error: Schema.SchemaError,
  prefix: ReadonlyArray<PropertyKey> = []
): InvalidInput => new InvalidInput({ reason: { source, issues: fieldIssues(error.issue, prefix) } })
