/**
 * The result of a connect, as os-brick returns it —
 * `{type: "block", path, scsi_wwn, multipath_id?}` — plus which iface served
 * it, the path devices and every path's outcome (`paths`). `brick disconnect
 * --device FILE` decodes it with `decode`.
 */
import { Effect, Result, Schema } from "effect"
import { DevicePath } from "../DevicePath.ts"
import * as InvalidInput from "../InvalidInput.ts"
import { Wwn } from "../Wwn.ts"
import { IfaceName } from "./IfaceName.ts"
import { Iqn } from "./Iqn.ts"
import { Portal } from "./Portal.ts"

/**
 * How a path of the volume ended up: `serving` (its device is the result,
 * or in the result's map), `joining` (its device is there but multipathd had
 * not put it in the map yet), `unused` (its device is there but the result
 * is another path's: no map formed), `failed` (`reason` says why), or
 * `stopped` (still logging in or scanning when the grace for slow paths
 * ended: a later connect adds it).
 */
export const PathState = Schema.Literals(["serving", "joining", "unused", "failed", "stopped"])
/** How a path of the volume ended up. */
export type PathState = typeof PathState.Type

/** One path of the volume in a connect's result. */
export const PathReport = Schema.Struct({
  portal: Portal,
  iqn: Iqn,
  lun: Schema.Int,
  /** The iface it went (or would have gone) through. */
  iface: Schema.optionalKey(IfaceName),
  state: PathState,
  /** Its SCSI device (`/dev/sdX`), when it has one. */
  device: Schema.optionalKey(DevicePath),
  /** Its session id, when it has one. */
  session: Schema.optionalKey(Schema.Int),
  /** Why it does not serve: a PathFailure tag (`LoginFailed`, `WwnMismatch` …), `Stopped`, `NotInMap`, `NoMap`, `PathDown`. */
  reason: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(64))),
  detail: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(4096))),
  /**
   * Sessions to the same portal and target through other ifaces (another
   * tool's): left alone; brick used its own iface's session beside them.
   */
  otherIfaces: Schema.optionalKey(
    Schema.Array(Schema.Struct({ iface: Schema.String.check(Schema.isMaxLength(64)), session: Schema.Int })).check(
      Schema.isMaxLength(64)
    )
  )
})
/** One path of the volume in a connect's result. */
export type PathReport = typeof PathReport.Type

/** A connected volume's device. */
export const DeviceInfo = Schema.Struct({
  type: Schema.Literal("block"),
  /** `/dev/dm-N` with multipath, else `/dev/sdX`. */
  path: DevicePath,
  /** The volume's WWN in multipath's form. */
  scsi_wwn: Wwn,
  /** The multipath map's WWID, when `path` is the map. */
  multipath_id: Schema.optionalKey(Wwn),
  /** The iface that served the (first) path: `default` after a fallback. */
  iface: Schema.optionalKey(IfaceName),
  /** brick made the `iface` record for this connect: a disconnect given this device info deletes it once unused. */
  iface_created: Schema.optionalKey(Schema.Boolean),
  /** The SCSI path devices (`/dev/sdX`) the connect saw, for information only. */
  devices: Schema.optionalKey(Schema.Array(DevicePath)),
  /** Every path of the volume the connect tried, those that serve and those that do not (and why). */
  paths: Schema.optionalKey(Schema.Array(PathReport).check(Schema.isMaxLength(64)))
})
/** A connected volume's device. */
export type DeviceInfo = typeof DeviceInfo.Type

const decodeInfo = Schema.decodeUnknownResult(DeviceInfo)

/** Decodes a device info (e.g. the JSON a connect printed), naming each offending field. */
export const decode = (input: unknown): Effect.Effect<DeviceInfo, InvalidInput.InvalidInput> => {
  const result = decodeInfo(input, { errors: "all" })
  return Result.isFailure(result)
    ? Effect.fail(InvalidInput.fromSchemaError("device_info", result.failure))
    : Effect.succeed(result.success)
}

/** The JSON form of a device info. */
export const encode = (info: DeviceInfo): unknown => Schema.encodeSync(DeviceInfo)(info)
