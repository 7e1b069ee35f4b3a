/**
 * The errors of brick's programs. Each is a tagged error whose `reason` says
 * what failed and why; the tags (`ConnectError`, `DisconnectError`,
 * `ExtendError`, `PropertiesError`, `StatusError`) and their reasons'
 * `_tag`s are stable: the CLI maps them to exit codes. Details come from the services' own
 * messages, which never carry a secret.
 */
import { Data } from "effect"

/** Why one path of a volume could not be used (`_tag`), and which path it was. */
export interface PathFailure {
  readonly _tag:
    | "LoginFailed"
    | "AuthenticationFailed"
    | "LoginTimeout"
    | "DeviceNotFound"
    | "WwnMismatch"
    | "HostError"
  readonly portal: string
  readonly iqn: string
  readonly lun: number
  readonly iface: string
  readonly detail: string
}

/** Why a connect failed. */
export type ConnectReason =
  /** The requested iface cannot be used and `ifaceFallback` is off. */
  | { readonly _tag: "IfaceUnusable"; readonly requested: string; readonly detail: string }
  /** enforceMultipath was asked for but multipathd is not running. */
  | { readonly _tag: "MultipathUnavailable" }
  /** No path could log in. */
  | { readonly _tag: "LoginFailed"; readonly paths: ReadonlyArray<PathFailure> }
  /** Some path logged in, but no path produced a device of this volume. */
  | { readonly _tag: "DeviceNotFound"; readonly paths: ReadonlyArray<PathFailure> }
  /** enforceMultipath, and no multipath map formed in time. */
  | { readonly _tag: "MultipathRequired"; readonly wwn: string; readonly detail: string }
  /** A target lock could not be had. */
  | { readonly _tag: "LockFailed"; readonly lock: string; readonly detail: string }
  /** access_mode rw, and the device stayed read-only through the wait (`devices`: those still read-only). */
  | {
    readonly _tag: "ReadOnly"
    readonly device: string
    readonly devices: ReadonlyArray<string>
    readonly detail: string
  }
  /** The host could not be read or written outside any single path. */
  | { readonly _tag: "HostError"; readonly operation: string; readonly detail: string }

const describePaths = (paths: ReadonlyArray<PathFailure>): string =>
  paths.map((p) => `${p.portal} ${p.iqn} lun ${p.lun} via ${p.iface}: ${p._tag}: ${p.detail}`).join("; ")

/** A connect failed; everything it created has been removed. */
export class ConnectError extends Data.TaggedError("ConnectError")<{
  readonly reason: ConnectReason
}> {
  override get message(): string {
    const r = this.reason
    switch (r._tag) {
      case "IfaceUnusable":
        return `iface ${r.requested} cannot be used: ${r.detail}`
      case "MultipathUnavailable":
        return "multipath is enforced but multipathd is not running"
      case "LoginFailed":
        return `no path could log in: ${describePaths(r.paths)}`
      case "DeviceNotFound":
        return `no device of the volume appeared: ${describePaths(r.paths)}`
      case "MultipathRequired":
        return `no multipath map formed for ${r.wwn}: ${r.detail}`
      case "LockFailed":
        return `lock ${r.lock}: ${r.detail}`
      case "ReadOnly":
        return `${r.device} stayed read-only for a read-write attach: ${r.detail}`
      case "HostError":
        return `${r.operation} failed: ${r.detail}`
    }
  }
}

/** The `HostError` of a connect: reading or writing the host failed outside any single path. */
export const connectHostError = (operation: string) => (e: { readonly message: string }): ConnectError =>
  new ConnectError({ reason: { _tag: "HostError", operation, detail: e.message } })

/** One step of a disconnect (or extend) that failed. */
export interface StepFailure {
  readonly step:
    | "inspect"
    | "flushMap"
    | "flushDevice"
    | "deleteDevice"
    | "logout"
    | "deleteNode"
    | "deleteIface"
    | "rescanDevice"
    | "resizeMap"
    | "size"
  /** The device, map, session or node the step acted on. */
  readonly target: string
  readonly detail: string
}

/** Why a disconnect failed. */
export type DisconnectReason =
  /** Steps failed (the first one, or with `force` every one). */
  | { readonly _tag: "StepsFailed"; readonly failures: ReadonlyArray<StepFailure> }
  /** A target lock could not be had. */
  | { readonly _tag: "LockFailed"; readonly lock: string; readonly detail: string }

const describeSteps = (failures: ReadonlyArray<StepFailure>): string =>
  failures.map((f) => `${f.step} ${f.target}: ${f.detail}`).join("; ")

/** A disconnect did not complete. */
export class DisconnectError extends Data.TaggedError("DisconnectError")<{
  readonly reason: DisconnectReason
}> {
  override get message(): string {
    const r = this.reason
    return r._tag === "LockFailed" ? `lock ${r.lock}: ${r.detail}` : `disconnect failed: ${describeSteps(r.failures)}`
  }
}

/** One path device of a volume as an extend saw it. */
export interface ExtendPath {
  readonly hctl: string
  /** The block device, `sdX`. */
  readonly device: string
  /** The SCSI device's state (`running`, `blocked`, `transport-offline` …; `unknown` when unreadable). */
  readonly state: string
  /** Its session's state (`LOGGED_IN`, `FAILED` …; `unknown` when unreadable). */
  readonly session: string
  /** Its size in bytes as the kernel reports it after the rescan (a down path keeps what it read last). */
  readonly size: number
}

/** Why an extend failed. */
export type ExtendReason =
  /** No device of the volume is attached. */
  | { readonly _tag: "NotAttached" }
  | { readonly _tag: "StepsFailed"; readonly failures: ReadonlyArray<StepFailure> }
  /**
   * A path of the volume is down (`down`: its device is not `running` or its session not
   * `LOGGED_IN`): its size cannot be read anew, so the new size is not verified and nothing
   * was resized. `paths`: every path with what was seen.
   */
  | { readonly _tag: "PathDown"; readonly down: ReadonlyArray<ExtendPath>; readonly paths: ReadonlyArray<ExtendPath> }
  /**
   * Every path is up but the sizes disagree: the paths among themselves after their rescan,
   * or the map (`map`, its size) with its paths after the resize.
   */
  | {
    readonly _tag: "SizeMismatch"
    readonly paths: ReadonlyArray<ExtendPath>
    readonly map: { readonly name: string; readonly size: number } | null
  }

const describeExtendPath = (p: ExtendPath): string =>
  `${p.device} (${p.hctl}, device ${p.state}, session ${p.session}): ${p.size} bytes`

/** An extend did not complete. */
export class ExtendError extends Data.TaggedError("ExtendError")<{
  readonly reason: ExtendReason
}> {
  override get message(): string {
    const r = this.reason
    switch (r._tag) {
      case "NotAttached":
        return "the volume is not attached"
      case "StepsFailed":
        return `extend failed: ${describeSteps(r.failures)}`
      case "PathDown":
        return `path ${r.down.map((p) => `${p.device} (${p.hctl})`).join(", ")} of the volume is down: ` +
          `the new size cannot be verified on every path; paths seen: ${r.paths.map(describeExtendPath).join("; ")}`
      case "SizeMismatch":
        return `the sizes disagree after the rescan${r.map === null ? "" : ` and resize of map ${r.map.name}`}: ` +
          `${r.map === null ? "" : `map ${r.map.size} bytes; `}${r.paths.map(describeExtendPath).join("; ")}`
    }
  }
}

/** Why a volume's status could not be read. */
export type StatusReason = { readonly _tag: "HostError"; readonly operation: string; readonly detail: string }

/** A volume's status could not be read. */
export class StatusError extends Data.TaggedError("StatusError")<{
  readonly reason: StatusReason
}> {
  override get message(): string {
    return `${this.reason.operation} the volume's status failed: ${this.reason.detail}`
  }
}

/** Why the connector properties could not be read. */
export type PropertiesReason =
  /** enforceMultipath was asked for but multipathd is not running. */
  | { readonly _tag: "MultipathUnavailable" }
  | { readonly _tag: "HostError"; readonly operation: string; readonly detail: string }

/** The connector properties could not be read. */
export class PropertiesError extends Data.TaggedError("PropertiesError")<{
  readonly reason: PropertiesReason
}> {
  override get message(): string {
    const r = this.reason
    return r._tag === "MultipathUnavailable"
      ? "multipath is enforced but multipathd is not running"
      : `${r.operation} failed: ${r.detail}`
  }
}
