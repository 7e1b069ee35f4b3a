/**
 * The result of a connect, as os-brick returns it —
 * `{type: "block", path, scsi_wwn, multipath_id?}` — plus which iface served
 * it. `brick disconnect --device FILE` decodes it with `decode`.
 */
import { Effect, Result, Schema } from "effect"
import { DevicePath } from "../DevicePath.ts"
import * as InvalidInput from "../InvalidInput.ts"
import { Wwn } from "../Wwn.ts"
import { IfaceName } from "./IfaceName.ts"

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
  devices: Schema.optionalKey(Schema.Array(DevicePath))
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
