/**
 * extendVolume: after the target grew a LUN, make the host see the new
 * size and return it in bytes (os-brick's extend_volume), never a size it
 * did not verify on every path:
 * - rescan every path that is up (`1` to device/rescan); a path whose device
 *   is not `running` or whose session is not `LOGGED_IN` is not rescanned
 *   (the kernel skips such a device and still answers the write with
 *   success: its size stays the old one) and fails the extend with
 *   `PathDown`, naming it;
 * - the paths must agree on one size after their rescan (else `SizeMismatch`);
 * - a multipath map of another size is resized (multipathd), then its size
 *   must be the paths' (else `SizeMismatch`, naming the map).
 * Works from the target and LUN like disconnect.
 */
import { Effect, Option } from "effect"
import { BlockDevice } from "../BlockDevice.ts"
import { ExtendError, type ExtendPath, type StepFailure } from "../BrickError.ts"
import { unsafeMake as devicePath } from "../DevicePath.ts"
import * as Hctl from "../Hctl.ts"
import * as PathHealth from "../internal/iscsi/PathHealth.ts"
import { findVolume, type VolumeDevice, volumeLuns } from "../internal/iscsi/VolumeDevices.ts"
import * as DmMaps from "../internal/multipath/DmMaps.ts"
import * as ScsiDevices from "../internal/scsi/ScsiDevices.ts"
import { Multipath } from "../Multipath.ts"
import * as ConnectionInfo from "./ConnectionInfo.ts"

const stepFailed = (step: StepFailure["step"], target: string) => (e: { readonly message: string }) =>
  new ExtendError({ reason: { _tag: "StepsFailed", failures: [{ step, target, detail: e.message }] } })

const fail = (reason: ExtendError["reason"]) => Effect.fail(new ExtendError({ reason }))

/** A path device's state and its session's, as sysfs shows them now. */
const statesOf = (d: VolumeDevice) =>
  PathHealth.statesOf(d.session.sid, d.hctl).pipe(Effect.mapError(stepFailed("inspect", Hctl.format(d.hctl))))

/** Extends a volume from decoded input; returns its new size in bytes. */
export const extend = Effect.fn("brick.extend")(function*(data: ConnectionInfo.ConnectionData) {
  const multipath = yield* Multipath
  const block = yield* BlockDevice
  const sizeOf = (dev: string) => block.size(devicePath(`/dev/${dev}`)).pipe(Effect.mapError(stepFailed("size", dev)))
  const { devices } = yield* findVolume(volumeLuns(data), Option.none()).pipe(
    Effect.mapError(stepFailed("inspect", "sessions"))
  )
  const attached = devices.flatMap((d) => (Option.isSome(d.block) ? [{ ...d, name: d.block.value }] : []))
  if (attached.length === 0) return yield* fail({ _tag: "NotAttached" })

  // rescan the paths that are up; read every path's state and size afterwards (a path that
  // went down during its rescan kept its old size: it counts as down)
  const paths: Array<ExtendPath> = []
  for (const d of attached) {
    const hctl = Hctl.format(d.hctl)
    if (PathHealth.isUp(yield* statesOf(d))) {
      const rescanned = yield* Effect.result(ScsiDevices.rescan(d.hctl))
      if (rescanned._tag === "Failure" && PathHealth.isUp(yield* statesOf(d))) {
        return yield* Effect.fail(stepFailed("rescanDevice", hctl)(rescanned.failure))
      }
    }
    const states = yield* statesOf(d)
    if (!PathHealth.isUp(states)) {
      yield* Effect.logWarning(`path ${d.name} (${hctl}) is down (device ${states.state}, session ${states.session})`)
    }
    paths.push({ hctl, device: d.name, ...states, size: yield* sizeOf(d.name) })
  }
  const down = paths.filter((p) => !PathHealth.isUp(p))
  if (down.length > 0) return yield* fail({ _tag: "PathDown", down, paths })
  const size = paths[0]!.size
  if (paths.some((p) => p.size !== size)) return yield* fail({ _tag: "SizeMismatch", paths, map: null })

  // the map holding the paths takes their size
  let holder = Option.none<string>()
  for (const p of paths) {
    if (Option.isSome(holder)) break
    holder = yield* DmMaps.holderOf(p.device).pipe(Effect.mapError(stepFailed("inspect", p.device)))
  }
  if (Option.isNone(holder)) return size
  const map = yield* DmMaps.mapOf(holder.value).pipe(Effect.mapError(stepFailed("inspect", holder.value)))
  const name = Option.getOrElse(map.name, () => holder.value)
  if ((yield* sizeOf(holder.value)) !== size) {
    yield* multipath.resizeMap(name).pipe(Effect.mapError(stepFailed("resizeMap", name)))
  }
  const mapSize = yield* sizeOf(holder.value)
  if (mapSize !== size) return yield* fail({ _tag: "SizeMismatch", paths, map: { name, size: mapSize } })
  return size
}, (effect, data) => Effect.annotateLogs(effect, { volume: data.volume_id ?? "" }))

/** Extends a volume: decodes `info` first; returns the new size in bytes. */
export const extendVolume = Effect.fn("brick.extendVolume")(function*(info: unknown) {
  const data = yield* ConnectionInfo.decode(info)
  return yield* extend(data)
})
