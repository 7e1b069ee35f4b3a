/**
 * What every path of one connect shares, and how a path fails (a
 * `PathFailure` naming the path, the iface and why).
 */
import type { Option, Ref } from "effect"
import type { PathFailure } from "../../BrickError.ts"
import type { ConnectorOptions } from "../../iscsi/ConnectorOptions.ts"
import type { PlannedPath } from "../../iscsi/ConnectPlan.ts"
import type { IfaceName } from "../../iscsi/IfaceName.ts"
import type { IscsiadmError, NodeRecord, NodeSettings } from "../../iscsi/Iscsiadm.ts"
import type { Transport } from "../../iscsi/Transport.ts"
import type { SysfsError } from "../../Sysfs.ts"
import type { Wwn } from "../../Wwn.ts"
import type { Ledger } from "../Ledger.ts"
import type { Entry } from "./IscsiUndo.ts"

/** What every path of one connect shares. */
export interface PathContext {
  /** The iface the plan chose. */
  readonly iface: IfaceName
  /** Its transport. */
  readonly transport: Transport
  /** Retry a failed login on `default` (ifaceFallback, and the iface is not `default`): see PathLogin.sessionFor. */
  readonly fallback: boolean
  readonly settings: NodeSettings
  readonly options: ConnectorOptions
  /** The node records that existed when the connect began. */
  readonly nodesBefore: ReadonlyArray<NodeRecord>
  /** Keys (IscsiUndo.nodeKey) of the records the connect made before the logins (in its own ledger). */
  readonly prepared: ReadonlySet<string>
  /**
   * The volume's WWN: the caller's (an earlier connect's device info), else
   * set by the first path that finds a device.
   */
  readonly volumeWwn: Ref.Ref<Option.Option<Wwn>>
  /** The connect's ledger; a path that succeeds merges its own into it. */
  readonly ledger: Ledger<Entry>
}

/** A path failed for `tag`'s reason. */
export const pathFailure = (path: PlannedPath, iface: IfaceName, tag: PathFailure["_tag"], detail: string) =>
  ({ _tag: tag, portal: path.portal, iqn: path.iqn, lun: path.lun, iface, detail }) satisfies PathFailure

/** A host read or write of one path failed. */
export const hostFailure = (path: PlannedPath, iface: IfaceName) => (e: SysfsError | IscsiadmError): PathFailure =>
  pathFailure(path, iface, "HostError", e.message)
