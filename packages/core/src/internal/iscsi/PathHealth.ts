/**
 * Whether an iSCSI path is up, as sysfs shows it now: its SCSI disk reads
 * `running` and its session LOGGED_IN. A dropped portal's session goes
 * FAILED and its disk `blocked` (later `transport-offline`).
 */
import { Effect, Option } from "effect"
import type * as Hctl from "../../Hctl.ts"
import type { HostPath } from "../../HostPath.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import * as Layout from "../SysfsLayout.ts"
import * as IscsiLayout from "./IscsiLayout.ts"

/** A path's disk state and its session's (`unknown` when a file is not there). */
export interface PathStates {
  readonly state: string
  readonly session: string
}

const read = (path: HostPath): Effect.Effect<string, SysfsError, Sysfs> =>
  Effect.map(Sysfs.use((s) => s.read(path)), (o) => Option.getOrElse(Option.map(o, (v) => v.trim()), () => "unknown"))

/** The states of the disk `hctl` and of its session `sid`. */
export const statesOf = (sid: number, hctl: Hctl.Hctl): Effect.Effect<PathStates, SysfsError, Sysfs> =>
  Effect.gen(function*() {
    return {
      state: yield* read(Layout.scsiDeviceFile(hctl, "state")),
      session: yield* read(IscsiLayout.sessionFile(sid, "state"))
    }
  })

/** Whether the path is up: its disk running, its session logged in. */
export const isUp = (p: PathStates): boolean => p.state === "running" && p.session === "LOGGED_IN"
