/**
 * The path device a connect returns when no map serves the volume: the first
 * path whose session reads LOGGED_IN and whose SCSI device reads `running`
 * in sysfs, so that a path that went down while the map was awaited (a
 * dropped portal's session FAILED, its disk `blocked`) is never the one
 * returned while a healthy one is there. When no path is up, the first.
 */
import { Effect, Option } from "effect"
import type * as Hctl from "../../Hctl.ts"
import type { HostPath } from "../../HostPath.ts"
import { Sysfs } from "../../Sysfs.ts"
import * as Layout from "../SysfsLayout.ts"
import * as IscsiLayout from "./IscsiLayout.ts"

/** What the choice needs of a path. */
export interface PathOnHost {
  readonly block: string
  readonly hctl: Hctl.Hctl
  readonly sid: number
}

/** A path that is not up, and what sysfs showed of it. */
export interface Down {
  readonly block: string
  /** e.g. `session FAILED, device blocked`. */
  readonly detail: string
}

/** The path chosen to serve, and the paths found down (by block name). */
export interface Choice<P> {
  readonly served: P
  readonly down: ReadonlyMap<string, Down>
}

const readState = (path: HostPath) =>
  Sysfs.use((s) => s.read(path)).pipe(
    Effect.map(Option.getOrElse(() => "gone")),
    Effect.orElseSucceed(() => "unreadable")
  )

/** Why a path is not up (its session's and its device's states), or none when it is. */
export const downDetail = (p: PathOnHost): Effect.Effect<Option.Option<string>, never, Sysfs> =>
  Effect.gen(function*() {
    const session = yield* readState(IscsiLayout.sessionFile(p.sid, "state"))
    const device = yield* readState(Layout.scsiDeviceFile(p.hctl, "state"))
    return session === "LOGGED_IN" && device === "running"
      ? Option.none()
      : Option.some(`session ${session}, device ${device}`)
  })

/** The first path that is up (in the order given), else the first, and every path that is down; `ok` not empty. */
export const choose = <P extends PathOnHost>(ok: ReadonlyArray<P>): Effect.Effect<Choice<P>, never, Sysfs> =>
  Effect.gen(function*() {
    const down = new Map<string, Down>()
    for (const p of ok) {
      const detail = yield* downDetail(p)
      if (Option.isSome(detail)) down.set(p.block, { block: p.block, detail: detail.value })
    }
    return { served: ok.find((p) => !down.has(p.block)) ?? ok[0]!, down }
  })
