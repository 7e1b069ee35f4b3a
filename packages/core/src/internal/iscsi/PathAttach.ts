/**
 * One path of a connect: its session (PathLogin.ts), then the LUN's device
 * on it (LunDevice.ts, while a login command that brought the session up
 * ends), which must carry the volume's WWN (the first path to find a device
 * fixes it). Each path keeps its own ledger: when it fails or is interrupted
 * it undoes what it created; when it succeeds it hands its entries to the
 * connect's ledger. Must run while the connect holds the path's target lock.
 */
import { Effect, Option, Ref } from "effect"
import type { PathFailure } from "../../BrickError.ts"
import * as Hctl from "../../Hctl.ts"
import * as ByPath from "../../iscsi/ByPath.ts"
import type { PlannedPath } from "../../iscsi/ConnectPlan.ts"
import type { IfaceName } from "../../iscsi/IfaceName.ts"
import type { Iscsiadm } from "../../iscsi/Iscsiadm.ts"
import type { Multipath } from "../../Multipath.ts"
import type { Sysfs } from "../../Sysfs.ts"
import type { Wwn } from "../../Wwn.ts"
import * as Ledger from "../Ledger.ts"
import * as DeviceIdentity from "../scsi/DeviceIdentity.ts"
import * as IscsiUndo from "./IscsiUndo.ts"
import * as LunDevice from "./LunDevice.ts"
import { hostFailure, type PathContext, pathFailure } from "./PathContext.ts"
import { alongsideLogin, sessionFor } from "./PathLogin.ts"

/** A path whose device was found. */
export interface AttachedPath extends LunDevice.LunDevice {
  readonly path: PlannedPath
  /** The iface that served it (`default` after a login fallback). */
  readonly iface: IfaceName
  readonly sid: number
  /** The device's /dev/disk/by-path link name. */
  readonly byPathName: string
  /** Sessions to the same portal and target through other ifaces (another tool's): left alone. */
  readonly others: ReadonlyArray<{ readonly sid: number; readonly iface: string }>
}

/** The key of the node record an attached path's session uses (IscsiUndo.nodeKey). */
export const nodeKeyOf = (p: AttachedPath): string =>
  IscsiUndo.nodeKey({ portal: p.path.portal, iqn: p.path.iqn, iface: p.iface })

/** Whether `wwn` is the volume's: the first device's WWN is. */
const acceptWwn = (ctx: PathContext, wwn: Wwn) =>
  Ref.modify(ctx.volumeWwn, (current) =>
    Option.isNone(current)
      ? [true, Option.some(wwn)] as const
      : [current.value === wwn, current] as const)

/**
 * Attaches one path. Fails with a `PathFailure` (never anything else) after
 * undoing what it created; on interruption undoes it as well.
 */
export const attachPath = (
  ctx: PathContext,
  path: PlannedPath
): Effect.Effect<AttachedPath, PathFailure, Iscsiadm | Sysfs | Multipath> =>
  Ledger.nested(ctx.ledger, IscsiUndo.undo, (ledger) =>
    Effect.gen(function*() {
      const { iface, loginEnd, others, session } = yield* sessionFor(ctx, ledger, path)
      const device = yield* alongsideLogin(loginEnd, LunDevice.find(ctx, ledger, path, session, iface))
      if (!(yield* acceptWwn(ctx, device.wwn))) {
        const expected = Option.getOrElse(yield* Ref.get(ctx.volumeWwn), () => "")
        const detail = `device ${device.block} has WWN ${device.wwn}, the volume's is ${expected}`
        return yield* Effect.fail(pathFailure(path, iface, "WwnMismatch", detail))
      }
      const noCapacity = yield* Effect.mapError(DeviceIdentity.missingCapacity(device), hostFailure(path, iface))
      if (Option.isSome(noCapacity)) {
        const detail = `device ${device.block} (${Hctl.format(device.hctl)}): ${noCapacity.value}`
        return yield* Effect.fail(pathFailure(path, iface, "DeviceNotFound", detail))
      }
      yield* Effect.logDebug(`path device ${device.block} (${Hctl.format(device.hctl)})`)
      // after a fallback to `default` the session is a software one: no HBA's pci- prefix
      const byPathName = iface === ctx.iface ? path.byPathName : ByPath.name({ ...path, pci: undefined })
      return {
        path,
        iface,
        sid: session.sid,
        byPathName,
        others: others.map((s) => ({ sid: s.sid, iface: s.iface })),
        ...device
      } satisfies AttachedPath
    })).pipe(
      Effect.annotateLogs({ portal: path.portal, iqn: path.iqn, lun: path.lun }),
      Effect.withSpan("brick.attachPath", { attributes: { portal: path.portal, iqn: path.iqn, lun: path.lun } })
    )
