/**
 * extendVolume: after the target grew a LUN, make the host see the new
 * size — rescan every path device (`1` to device/rescan), resize the
 * multipath map, and return the new size in bytes (os-brick's
 * extend_volume). Works from the target and LUN like disconnect.
 */
import { Effect, Option } from "effect"
import { BlockDevice } from "../BlockDevice.ts"
import { ExtendError, type StepFailure } from "../BrickError.ts"
import { unsafeMake as devicePath } from "../DevicePath.ts"
import * as Hctl from "../Hctl.ts"
import { findVolume, volumeLuns } from "../internal/iscsi/VolumeDevices.ts"
import * as DmMaps from "../internal/multipath/DmMaps.ts"
import * as ScsiDevices from "../internal/scsi/ScsiDevices.ts"
import { Multipath } from "../Multipath.ts"
import * as ConnectionInfo from "./ConnectionInfo.ts"

const stepFailed = (step: StepFailure["step"], target: string) => (e: { readonly message: string }) =>
  new ExtendError({ reason: { _tag: "StepsFailed", failures: [{ step, target, detail: e.message }] } })

/** Extends a volume from decoded input; returns its new size in bytes. */
export const extend = Effect.fn("brick.extend")(function*(data: ConnectionInfo.ConnectionData) {
  const multipath = yield* Multipath
  const block = yield* BlockDevice
  const { devices } = yield* findVolume(volumeLuns(data), Option.none()).pipe(
    Effect.mapError(stepFailed("inspect", "sessions"))
  )
  const attached = devices.flatMap((d) => (Option.isSome(d.block) ? [{ ...d, name: d.block.value }] : []))
  if (attached.length === 0) return yield* Effect.fail(new ExtendError({ reason: { _tag: "NotAttached" } }))
  for (const d of attached) {
    yield* ScsiDevices.rescan(d.hctl).pipe(
      Effect.mapError(stepFailed("rescanDevice", Hctl.format(d.hctl)))
    )
  }
  const holder = yield* DmMaps.holderOf(attached[0]!.name).pipe(
    Effect.mapError(stepFailed("inspect", attached[0]!.name))
  )
  if (Option.isSome(holder)) {
    const map = yield* DmMaps.mapOf(holder.value).pipe(Effect.mapError(stepFailed("inspect", holder.value)))
    const name = Option.getOrElse(map.name, () => holder.value)
    const sizeOf = (dev: string) => block.size(devicePath(`/dev/${dev}`)).pipe(Effect.mapError(stepFailed("size", dev)))
    // multipathd answers "fail" to a resize that changes nothing: resize only when a path grew
    if ((yield* sizeOf(attached[0]!.name)) !== (yield* sizeOf(holder.value))) {
      yield* multipath.resizeMap(name).pipe(Effect.mapError(stepFailed("resizeMap", name)))
    }
    return yield* sizeOf(holder.value)
  }
  return yield* block.size(devicePath(`/dev/${attached[0]!.name}`)).pipe(
    Effect.mapError(stepFailed("size", attached[0]!.name))
  )
}, (effect, data) => Effect.annotateLogs(effect, { volume: data.volume_id ?? "" }))

/** Extends a volume: decodes `info` first; returns the new size in bytes. */
export const extendVolume = Effect.fn("brick.extendVolume")(function*(info: unknown) {
  const data = yield* ConnectionInfo.decode(info)
  return yield* extend(data)
})
