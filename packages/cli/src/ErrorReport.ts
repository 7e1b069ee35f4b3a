/**
 * How a failure is shown: ONE JSON object on stderr,
 * `{"error": TAG, "kind": KIND, "message": ..., ...fields}`, with no stack
 * trace and no secret; the process exits with the status of its kind.
 * (`exitCode`, when present, is a field of the error: e.g. iscsiadm's.)
 */
import type { Kind } from "./ExitCodes.ts"
import * as Json from "./Json.ts"

/** What is printed for a failure. */
export interface ErrorReport {
  readonly error: string
  readonly kind: Kind
  readonly message: string
  readonly [field: string]: unknown
}

const tagOf = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && typeof (e as { _tag?: unknown })._tag === "string"
    ? (e as { _tag: string })._tag
    : undefined

const reasonOf = (e: unknown): string | undefined => tagOf((e as { reason?: unknown } | undefined)?.reason)

/**
 * Classification rules, first match wins: `[error tag, reason tag or "*", kind]`.
 * Errors of the core programs carry the failing service's error as their
 * `cause`/`error` field; those are classified by the rules below too.
 */
export const rules: ReadonlyArray<readonly [string, string, Kind]> = [
  ["InvalidInput", "*", "InvalidInput"],
  ["UsageError", "*", "Usage"],
  ["InputUnreadable", "*", "InputUnreadable"],
  ["LockError", "Timeout", "LockTimeout"],
  ["LockError", "*", "HostToolFailed"],
  ["IscsiadmError", "AuthenticationFailed", "AuthenticationFailed"],
  ["IscsiadmError", "LoginFailed", "LoginFailed"],
  ["IscsiadmError", "LoginRejected", "LoginFailed"],
  ["IscsiadmError", "Timeout", "LoginFailed"],
  ["IscsiadmError", "TransportUnavailable", "LoginFailed"],
  ["IscsiadmError", "*", "HostToolFailed"],
  ["SysfsError", "PermissionDenied", "PermissionDenied"],
  ["SysfsError", "*", "HostToolFailed"],
  ["MultipathError", "*", "HostToolFailed"],
  ["BlockDeviceError", "*", "HostToolFailed"],
  ["CommandError", "*", "HostToolFailed"],
  ["NetworkError", "*", "HostToolFailed"],
  // the core programs' errors (packages/core/src/BrickError.ts)
  ["ConnectError", "IfaceUnusable", "IfaceUnusable"],
  ["ConnectError", "MultipathUnavailable", "MultipathNotFormed"],
  ["ConnectError", "LoginFailed", "LoginFailed"],
  ["ConnectError", "DeviceNotFound", "DeviceNotFound"],
  ["ConnectError", "MultipathRequired", "MultipathNotFormed"],
  ["ConnectError", "LockFailed", "LockTimeout"],
  ["ConnectError", "ReadOnly", "ReadOnlyDevice"],
  ["ConnectError", "HostError", "HostToolFailed"],
  ["DisconnectError", "LockFailed", "LockTimeout"],
  ["DisconnectError", "*", "DisconnectFailed"],
  ["ExtendError", "*", "ExtendFailed"],
  ["PropertiesError", "MultipathUnavailable", "MultipathNotFormed"],
  ["PropertiesError", "*", "HostToolFailed"],
  ["StatusError", "*", "HostToolFailed"]
]

/** Whether every path of a failed login was refused its CHAP credentials. */
const allAuthFailures = (error: unknown): boolean => {
  const paths = (error as { reason?: { paths?: unknown } }).reason?.paths
  return Array.isArray(paths) && paths.length > 0 &&
    paths.every((p) => (p as { _tag?: unknown })._tag === "AuthenticationFailed")
}

/** The kind of a failure (`Failed` when no rule matches). */
export const classify = (error: unknown): Kind => {
  const tag = tagOf(error)
  const reason = reasonOf(error)
  if (tag === "ConnectError" && reason === "LoginFailed" && allAuthFailures(error)) return "AuthenticationFailed"
  for (const [t, r, kind] of rules) {
    if (t === tag && (r === "*" || r === reason)) return kind
  }
  return "Failed"
}

const messageOf = (e: unknown): string =>
  e instanceof Error ||
    (typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string")
    ? String((e as { message: string }).message)
    : String(e)

/** The report of a typed failure: its tag, kind, message and own fields, scrubbed. */
export const fromFailure = (error: unknown, secrets: ReadonlyArray<string>): ErrorReport => {
  const kind = classify(error)
  const fields = Json.toJson(error, secrets)
  const own = typeof fields === "object" && fields !== null && !Array.isArray(fields)
    ? Object.fromEntries(Object.entries(fields).filter(([k]) => k !== "error" && k !== "kind" && k !== "message"))
    : {}
  const issues = (error as { reason?: { issues?: ReadonlyArray<{ field: string }> } }).reason?.issues
  const fieldNames = kind === "InvalidInput" && Array.isArray(issues) ? { fields: issues.map((i) => i.field) } : {}
  return {
    error: tagOf(error) ?? "Error",
    kind,
    message: Json.scrub(messageOf(error) || kind, secrets),
    ...fieldNames,
    ...own
  }
}

/** The report of a defect (a bug): its message only, never its stack. */
export const fromDefect = (defect: unknown, secrets: ReadonlyArray<string>): ErrorReport => ({
  error: "InternalError",
  kind: "Internal",
  message: Json.scrub(`internal error: ${messageOf(defect).split("\n")[0] ?? ""}`, secrets)
})

/** The report of an interruption. */
export const interrupted: ErrorReport = {
  error: "Interrupted",
  kind: "Interrupted",
  message: "interrupted"
}
