/**
 * open-iscsi's administration interface as typed operations: discovery, node
 * records, logins and ifaces. Interpreters decide how (the node one spawns
 * `iscsiadm` with argv, always with `-I <iface>`); the core decides what.
 */
import { Context, Data, type Effect, type Option, type Redacted } from "effect"
import type { IfaceName } from "./IfaceName.ts"
import type { Iqn } from "./Iqn.ts"
import type { Portal } from "./Portal.ts"
import type { Transport } from "./Transport.ts"

/** One node record: a target reached through a portal over an iface. */
export interface NodeRecord {
  readonly portal: Portal
  readonly iqn: Iqn
  readonly iface: IfaceName
}

/** A target a sendtargets discovery returned. */
export interface DiscoveredTarget {
  readonly portal: Portal
  readonly tpgt: number
  readonly iqn: Iqn
}

/** CHAP credentials as iscsiadm records them; the `in` pair is mutual CHAP. */
export interface ChapCredentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly usernameIn: Option.Option<string>
  readonly passwordIn: Option.Option<Redacted.Redacted<string>>
}

/** Settings brick writes into a node record before logging in. */
export interface NodeSettings {
  /** `node.startup`: brick always records `manual` so nothing logs in at boot. */
  readonly startup?: "manual" | "automatic"
  /** `node.session.scan`: `manual` scans only what brick asks for. */
  readonly scan?: "manual" | "auto"
  /** `node.session.auth.*`: CHAP, or none to clear it. */
  readonly auth?: Option.Option<ChapCredentials>
  /** `node.conn[0].timeo.login_timeout`, seconds. */
  readonly loginTimeout?: number
  /** `node.session.initial_login_retry_max`. */
  readonly loginRetryMax?: number
}

/** An iface record (`iscsiadm -m iface`). */
export interface IfaceRecord {
  readonly name: IfaceName
  readonly transport: string
  readonly hwaddress: Option.Option<string>
  readonly ipaddress: Option.Option<string>
  readonly netIfacename: Option.Option<string>
  readonly initiatorName: Option.Option<string>
}

/** The hardware and network identity of an iface to create. */
export interface IfaceSettings {
  readonly transport: Transport
  readonly hwaddress: Option.Option<string>
  readonly ipaddress: Option.Option<string>
  readonly netIfacename: Option.Option<string>
}

/** Why an iscsiadm operation failed, independent of exit codes and wording. */
export type IscsiadmReason =
  | { readonly _tag: "SessionExists" }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "AuthenticationFailed" }
  | { readonly _tag: "LoginFailed" }
  /**
   * The login was ended for good, not retried (open-iscsi's "non-retryable
   * login failure"): the target said the target or the initiator is wrong,
   * or the initiator refused the target's mutual CHAP response.
   */
  | { readonly _tag: "LoginRejected" }
  | { readonly _tag: "TransportUnavailable" }
  /**
   * Another iface's node record is where this one would go, and open-iscsi
   * would replace or delete it: refused rather than done (`detail` names it).
   */
  | { readonly _tag: "RecordConflict" }
  | { readonly _tag: "Timeout" }
  | { readonly _tag: "DaemonUnreachable" }
  | { readonly _tag: "Busy" }
  | { readonly _tag: "Failed" }

/** An iscsiadm operation failed; `detail` never carries a secret. */
export class IscsiadmError extends Data.TaggedError("IscsiadmError")<{
  readonly operation: string
  readonly target: string
  readonly reason: IscsiadmReason
  readonly exitCode?: number
  readonly detail?: string
}> {
  override get message(): string {
    const code = this.exitCode === undefined ? "" : ` (exit ${this.exitCode})`
    const detail = this.detail ? `: ${this.detail}` : ""
    return `iscsiadm ${this.operation} ${this.target} failed: ${this.reason._tag}${code}${detail}`
  }
}

/** open-iscsi's administration operations. */
export class Iscsiadm extends Context.Service<Iscsiadm, {
  /**
   * Sendtargets discovery through `iface`: the targets the portal reports.
   * Leaves the host as it was: no node record, and no discovery record that
   * was not there before (discovery CHAP needs one: made for the discovery,
   * then removed).
   */
  readonly discover: (options: {
    readonly portal: Portal
    readonly iface: IfaceName
    readonly auth: Option.Option<ChapCredentials>
  }) => Effect.Effect<ReadonlyArray<DiscoveredTarget>, IscsiadmError>
  /** Creates a node record (no-op when it exists) and applies `settings`. */
  readonly createNode: (node: NodeRecord, settings: NodeSettings) => Effect.Effect<void, IscsiadmError>
  /** Applies `settings` to an existing node record. */
  readonly updateNode: (node: NodeRecord, settings: NodeSettings) => Effect.Effect<void, IscsiadmError>
  /** Deletes a node record; NotFound when there is none. */
  readonly deleteNode: (node: NodeRecord) => Effect.Effect<void, IscsiadmError>
  /** Lists node records. */
  readonly listNodes: Effect.Effect<ReadonlyArray<NodeRecord>, IscsiadmError>
  /** Logs in to one node; SessionExists when already logged in. */
  readonly login: (node: NodeRecord) => Effect.Effect<void, IscsiadmError>
  /** Logs out of one node's session; NotFound when there is none. */
  readonly logout: (node: NodeRecord) => Effect.Effect<void, IscsiadmError>
  /** Lists iface records. */
  readonly listIfaces: Effect.Effect<ReadonlyArray<IfaceRecord>, IscsiadmError>
  /** Creates (or updates) an iface record. */
  readonly createIface: (name: IfaceName, settings: IfaceSettings) => Effect.Effect<void, IscsiadmError>
  /** Deletes an iface record. */
  readonly deleteIface: (name: IfaceName) => Effect.Effect<void, IscsiadmError>
  /** The host's initiator name (/etc/iscsi/initiatorname.iscsi). */
  readonly initiatorName: Effect.Effect<Option.Option<string>, IscsiadmError>
}>()("@brick/core/Iscsiadm") {}
