/**
 * A SCSI device's identity read fresh before the device is trusted
 * (design.md, invariant 8). The kernel keeps what it read when it found the
 * device; `rescan` makes it read the device again (its VPD pages, so its
 * WWN, and its capacity). A device whose WWN changed since (its LUN was
 * unmapped and another volume mapped at its address on the target), or
 * that has no capacity any more (its LUN is gone), is stale: it is taken out
 * of its map and deleted, never handed out.
 */
import { Effect, Option } from "effect"
import * as Hctl from "../../Hctl.ts"
import { Multipath } from "../../Multipath.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import type { Wwn } from "../../Wwn.ts"
import * as DmMaps from "../multipath/DmMaps.ts"
import * as MapFlush from "../multipath/MapFlush.ts"
import * as Layout from "../SysfsLayout.ts"
import * as ScsiDevices from "./ScsiDevices.ts"

/** A device with the identity the kernel had for it. */
export interface KnownDevice {
  readonly hctl: Hctl.Hctl
  readonly block: string
  readonly wwn: Wwn
}

/** What a fresh read says of a device: still the same LUN, or stale (and why). */
export type Identity = { readonly _tag: "Same" } | { readonly _tag: "Stale"; readonly detail: string }

const same: Identity = { _tag: "Same" }
const stale = (detail: string): Identity => ({ _tag: "Stale", detail })

/** Rescans `device` and reads its WWN and capacity again. */
export const confirm = (device: KnownDevice): Effect.Effect<Identity, SysfsError, Sysfs> =>
  Effect.gen(function*() {
    const rescan = yield* Effect.result(ScsiDevices.rescan(device.hctl))
    if (rescan._tag === "Failure") return stale(`its rescan failed (${rescan.failure.message})`)
    const { wwn } = yield* ScsiDevices.deviceOf(device.hctl)
    if (Option.isNone(wwn)) return stale("it has no WWN any more")
    if (wwn.value !== device.wwn) return stale(`its WWN was ${device.wwn}, it reads ${wwn.value} now`)
    const sectors = yield* Sysfs.use((s) => s.read(Layout.blockFile(device.block, "size")))
    if (Option.isSome(sectors) && Number(sectors.value.trim()) === 0) {
      return stale("it has no capacity any more (its LUN is gone)")
    }
    return same
  }).pipe(Effect.withSpan("brick.confirmIdentity", { attributes: { device: Hctl.format(device.hctl) } }))

const sectorsOf = (block: string) =>
  Effect.map(
    Sysfs.use((s) => s.read(Layout.blockFile(block, "size"))),
    (sectors) => (Option.isSome(sectors) ? Number(sectors.value.trim()) : 0)
  )

/**
 * Why a found device cannot be handed out for want of a capacity, or none.
 * The kernel reads a disk's capacity (READ CAPACITY) when it adds it, after
 * its INQUIRY: a path that drops in between leaves a disk of 0 sectors with
 * the right WWN. Such a disk is rescanned once when it is `running` (a
 * rescan of a blocked one would wait for its path); a disk still without a
 * capacity, or whose path is down, is not the volume's device.
 */
export const missingCapacity = (device: KnownDevice): Effect.Effect<Option.Option<string>, SysfsError, Sysfs> =>
  Effect.gen(function*() {
    if ((yield* sectorsOf(device.block)) > 0) return Option.none()
    const state = Option.getOrElse(
      yield* Sysfs.use((s) => s.read(Layout.scsiDeviceFile(device.hctl, "state"))),
      () => "gone"
    ).trim()
    if (state !== "running") return Option.some(`it has no capacity and its path is down (device ${state})`)
    const rescan = yield* Effect.result(ScsiDevices.rescan(device.hctl))
    if (rescan._tag === "Failure") {
      return Option.some(`it has no capacity and its rescan failed (${rescan.failure.message})`)
    }
    return (yield* sectorsOf(device.block)) > 0
      ? Option.none()
      : Option.some("it has no capacity after a rescan (READ CAPACITY fails)")
  })

/**
 * Takes a stale device out of its map (when one holds it) and deletes it; a
 * map left without paths is flushed, as multipathd does after a map's last
 * path is removed, retried while it is in use (udev probes it right after its
 * last path goes: seen in the lab), even when the path's attach is being
 * stopped; a map still open then stays, with a warning.
 */
export const remove = (device: KnownDevice): Effect.Effect<void, SysfsError, Sysfs | Multipath> =>
  Effect.gen(function*() {
    const multipath = yield* Multipath
    const holder = yield* DmMaps.holderOf(device.block)
    if (Option.isSome(holder)) {
      yield* multipath.removePath(device.block).pipe(
        Effect.catch((e) => Effect.logWarning(`multipathd remove path ${device.block} failed: ${e.message}`))
      )
    }
    yield* ScsiDevices.remove(device.hctl)
    if (Option.isNone(holder) || (yield* DmMaps.slavesOf(holder.value)).length > 0) return
    const name = Option.getOrElse((yield* DmMaps.mapOf(holder.value)).name, () => holder.value)
    // not cut short when the connect stops its stragglers: nothing else would remove the map
    yield* MapFlush.flushRetrying(name).pipe(
      Effect.catch((e) =>
        e.reason._tag === "NotFound" ? Effect.void : Effect.logWarning(`the stale map ${name} stays: ${e.message}`)
      ),
      Effect.uninterruptible
    )
  })
