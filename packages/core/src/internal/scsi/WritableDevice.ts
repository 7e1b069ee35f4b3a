/**
 * Waiting for a writable device, for a volume attached read-write. The
 * kernel marks a SCSI disk read-only (sysfs `ro` 1) while its LUN is
 * write-protected, and reads that again only when the disk is rescanned; a
 * dm map is read-only when a path was when its table was last loaded, until
 * the table is loaded again. So while a device is read-only its read-only
 * paths are rescanned, and a map whose paths are all writable is reloaded.
 */
import { Clock, Effect, Option } from "effect"
import type * as Hctl from "../../Hctl.ts"
import { Multipath } from "../../Multipath.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import * as DmMaps from "../multipath/DmMaps.ts"
import * as Layout from "../SysfsLayout.ts"
import * as ScsiDevices from "./ScsiDevices.ts"

/** The device a connect returns: a path's disk, or a map over the paths. */
export interface Served {
  /** The map (`dm-3`) when one serves the volume. */
  readonly map: Option.Option<string>
  /** The path devices: block name (`sdb`) and SCSI address. */
  readonly paths: ReadonlyArray<{ readonly block: string; readonly hctl: Hctl.Hctl }>
}

/** The block devices still read-only when the wait ended, each with why. */
export interface StillReadOnly {
  readonly devices: ReadonlyArray<string>
  readonly detail: string
}

/** How long to wait (ms) and the first gap between checks (ms; it doubles, as os-brick's retries do). */
export interface Settings {
  readonly timeoutMs: number
  readonly firstGapMs: number
}

const isReadOnly = (block: string) =>
  Effect.map(Sysfs.use((s) => s.read(Layout.blockFile(block, "ro"))), (v) => Option.getOrUndefined(v)?.trim() === "1")

/** Which of `served`'s devices are read-only now: the map (when it serves) and its paths. */
const readOnlyNow = (served: Served) =>
  Effect.gen(function*() {
    const paths: Array<Served["paths"][number]> = []
    for (const p of served.paths) if (yield* isReadOnly(p.block)) paths.push(p)
    const map = Option.isSome(served.map) && (yield* isReadOnly(served.map.value))
    return { paths, map }
  })

/** Why each of `ro`'s devices is read-only. */
const describe = (served: Served, ro: { readonly paths: Served["paths"]; readonly map: boolean }): StillReadOnly => {
  const map = ro.map && Option.isSome(served.map) ? [served.map.value] : []
  return {
    devices: [...map, ...ro.paths.map((p) => p.block)],
    detail: [
      ...ro.paths.map((p) => `${p.block}: read-only after a rescan (the LUN is write-protected)`),
      ...map.map((dm) => `${dm}: the map's table is read-only${ro.paths.length > 0 ? "" : " after a reload"}`)
    ].join("; ")
  }
}

/** Asks multipathd to reload the map `dm` (by its name when it has one). */
const reload = (dm: string) =>
  Effect.gen(function*() {
    const name = Option.getOrElse((yield* DmMaps.mapOf(dm)).name, () => dm).trim()
    yield* Multipath.use((m) => m.reloadMap(name))
  }).pipe(Effect.catch((e) => Effect.logWarning(`reloading map ${dm}: ${e.message}`)))

/**
 * Waits until the device `served` describes is writable: its map and every
 * path `ro` 0. Succeeds at once when they are (one read each); otherwise
 * rescans the read-only paths, reloads the map once its paths are all
 * writable, and checks again after gaps of `firstGapMs`, doubling, until
 * `timeoutMs`. Returns what is still read-only then, or none.
 */
export const waitForWritable = (
  served: Served,
  settings: Settings
): Effect.Effect<Option.Option<StillReadOnly>, SysfsError, Sysfs | Multipath> =>
  Effect.gen(function*() {
    const deadline = (yield* Clock.currentTimeMillis) + settings.timeoutMs
    let ro = yield* readOnlyNow(served)
    for (let gap = settings.firstGapMs; ro.paths.length > 0 || ro.map; gap *= 2) {
      yield* Effect.logInfo(`read-only: ${describe(served, ro).devices.join(", ")}; waiting for it to be writable`)
      for (const p of ro.paths) {
        yield* ScsiDevices.rescan(p.hctl).pipe(
          Effect.catch((e) => Effect.logWarning(`rescanning ${p.block}: ${e.message}`))
        )
      }
      if (ro.paths.length > 0) ro = yield* readOnlyNow(served)
      if (ro.map && ro.paths.length === 0 && Option.isSome(served.map)) {
        yield* reload(served.map.value)
        ro = yield* readOnlyNow(served)
      }
      if (ro.paths.length === 0 && !ro.map) break
      const left = deadline - (yield* Clock.currentTimeMillis)
      if (left <= 0) return Option.some(describe(served, ro))
      yield* Effect.sleep(Math.min(gap, left))
      ro = yield* readOnlyNow(served)
    }
    return Option.none()
  })
