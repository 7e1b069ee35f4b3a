/**
 * device-mapper map queries through `Sysfs`: which map holds a block
 * device, a map's name and uuid, a map by its name, its path devices, and
 * whether it is the multipath map of a WWN. Nothing here writes.
 */
import { Effect, Option } from "effect"
import * as HostPath from "../../HostPath.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import type { Wwn } from "../../Wwn.ts"
import * as Layout from "../SysfsLayout.ts"

type Q<A> = Effect.Effect<A, SysfsError, Sysfs>

/** A dm map's name and uuid. */
export interface DmMap {
  readonly name: Option.Option<string>
  /** `mpath-<wwid>` for multipath maps. */
  readonly uuid: Option.Option<string>
}

/** The dm map holding a block device (`dm-3`), if any. */
export const holderOf = (block: string): Q<Option.Option<string>> =>
  Effect.map(
    Sysfs.use((s) => s.list(Layout.blockFile(block, "holders"))),
    (names) => Option.fromUndefinedOr(names.find(Layout.isDmName))
  )

/** A dm map's name and uuid. */
export const mapOf = (dm: string): Q<DmMap> =>
  Effect.all({
    name: Sysfs.use((s) => s.read(Layout.blockFile(dm, "dm/name"))),
    uuid: Sysfs.use((s) => s.read(Layout.blockFile(dm, "dm/uuid")))
  })

/** The dm device (`dm-3`) of the map named `name` (/dev/mapper/NAME), if it exists. */
export const mapByName = (name: string): Q<Option.Option<string>> =>
  /^[A-Za-z0-9._:-]{1,128}$/.test(name)
    ? Effect.map(
      Sysfs.use((s) => s.readlink(HostPath.join(Layout.mapperDir, name))),
      (link) => Option.filter(Option.map(link, Layout.linkBaseName), Layout.isDmName)
    )
    : Effect.succeed(Option.none())

/**
 * The dm device of the multipath map of `wwn` whatever its name (the WWID, or
 * `mpathN` with user_friendly_names): by name first, else by uuid among /sys/block.
 */
export const mapOfWwn = (wwn: Wwn): Q<Option.Option<string>> =>
  Effect.flatMap(mapByName(wwn), (byName) =>
    Option.isSome(byName)
      ? Effect.succeed(byName)
      : Effect.gen(function*() {
        const sysfs = yield* Sysfs
        for (const dm of (yield* sysfs.list(Layout.blocksDir)).filter(Layout.isDmName)) {
          if (isMultipathMapOf(yield* sysfs.read(Layout.blockFile(dm, "dm/uuid")), wwn)) return Option.some(dm)
        }
        return Option.none<string>()
      }))

/** The path devices (`sdb`) under a dm map. */
export const slavesOf = (dm: string): Q<ReadonlyArray<string>> =>
  Sysfs.use((s) => s.list(Layout.blockFile(dm, "slaves")))

/** Whether a dm map (by its uuid) is the multipath map of `wwn`. */
export const isMultipathMapOf = (uuid: Option.Option<string>, wwn: Wwn): boolean =>
  Option.isSome(uuid) && uuid.value === `mpath-${wwn}`
