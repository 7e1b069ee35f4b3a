/**
 * The generic part of undoing a connect, for any transport: the SCSI devices
 * the connect made and the multipath maps formed of them. Needs only `Sysfs`
 * and `Multipath`. Best effort, like every undo step (Ledger.undoStep).
 */
import { Effect, Option } from "effect"
import * as Hctl from "../../Hctl.ts"
import { Multipath } from "../../Multipath.ts"
import type { Sysfs } from "../../Sysfs.ts"
import type { Wwn } from "../../Wwn.ts"
import { undoStep } from "../Ledger.ts"
import * as DmMaps from "../multipath/DmMaps.ts"
import type { MapAsked, WwidAdded } from "../multipath/MultipathAssembly.ts"
import * as ScsiDevices from "./ScsiDevices.ts"

/**
 * Removes `devices`, all made by the connect: first the maps formed only of
 * them (flushed), then the devices; then any map of their WWNs (or of the
 * maps multipathd was `asked` for) that multipathd formed after we looked
 * and that is left without paths.
 */
export const removeDevices = (
  devices: ReadonlyArray<ScsiDevices.ScsiDevice>,
  asked: ReadonlyArray<MapAsked>
): Effect.Effect<void, never, Sysfs | Multipath> =>
  Effect.gen(function*() {
    const flushed = yield* flushOwnMaps(devices)
    for (const d of devices) {
      yield* Effect.logInfo(`undo: deleting SCSI device ${Hctl.format(d.hctl)}`)
      yield* undoStep(`deleting device ${Hctl.format(d.hctl)}`, ScsiDevices.remove(d.hctl))
    }
    const wwns = new Set([...devices.flatMap((d) => Option.toArray(d.wwn)), ...asked.map((a) => a.wwn)])
    yield* flushPathlessMaps(wwns, flushed)
  })

/** Flushes the maps whose paths are all among `devices`; returns them (dm names). */
const flushOwnMaps = (devices: ReadonlyArray<ScsiDevices.ScsiDevice>) =>
  Effect.gen(function*() {
    const multipath = yield* Multipath
    const blocks = new Set(devices.flatMap((d) => Option.toArray(d.block)))
    const flushed = new Set<string>()
    for (const block of blocks) {
      const holder = Option.flatten(yield* undoStep("reading holders", DmMaps.holderOf(block)))
      if (Option.isNone(holder) || flushed.has(holder.value)) continue
      const dm = holder.value
      const slaves = Option.getOrElse(yield* undoStep("listing map slaves", DmMaps.slavesOf(dm)), () => [])
      if (!slaves.every((s) => blocks.has(s))) continue
      const map = Option.getOrUndefined(yield* undoStep("reading a map", DmMaps.mapOf(dm)))
      const name = map === undefined ? dm : Option.getOrElse(map.name, () => dm)
      flushed.add(dm)
      yield* Effect.logInfo(`undo: flushing map ${name}`)
      yield* undoStep(`flushing map ${name}`, multipath.flushMap(name))
    }
    return flushed
  })

/** Flushes the maps of `wwns` that are left without paths (except those already `flushed`). */
const flushPathlessMaps = (wwns: ReadonlySet<Wwn>, flushed: Set<string>) =>
  Effect.gen(function*() {
    const multipath = yield* Multipath
    for (const wwn of wwns) {
      const dm = Option.flatten(yield* undoStep("looking up a map", DmMaps.mapOfWwn(wwn)))
      if (Option.isNone(dm) || flushed.has(dm.value)) continue
      const slaves = yield* undoStep("listing map slaves", DmMaps.slavesOf(dm.value))
      if (Option.isNone(slaves) || slaves.value.length > 0) continue
      flushed.add(dm.value)
      const map = Option.getOrUndefined(yield* undoStep("reading a map", DmMaps.mapOf(dm.value)))
      const name = map === undefined ? dm.value : Option.getOrElse(map.name, () => dm.value)
      yield* Effect.logInfo(`undo: flushing the pathless map ${name} (${wwn})`)
      yield* undoStep(`flushing map ${name}`, multipath.flushMap(name))
    }
  })

/** Removes from multipath's wwids file the WWIDs the connect added there. */
export const forgetWwids = (added: ReadonlyArray<WwidAdded>): Effect.Effect<void, never, Multipath> =>
  Effect.forEach(added, (a) =>
    Effect.gen(function*() {
      const multipath = yield* Multipath
      yield* Effect.logInfo(`undo: removing ${a.wwn} from multipath's wwids`)
      yield* undoStep(`removing WWID ${a.wwn}`, multipath.removeWwid(a.wwn))
    }), { discard: true })
