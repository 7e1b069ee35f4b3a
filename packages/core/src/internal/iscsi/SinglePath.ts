/**
 * The path device a connect returns when no map serves the volume: the first
 * path whose session reads LOGGED_IN and whose SCSI device reads `running`
 * in sysfs, so that a path that went down while the map was awaited (a
 * dropped portal's session FAILED, its disk `blocked`) is never the one
 * returned while a healthy one is there. When no path is up, the first.
 */
import { Effect, Option } from "effect"
import type * as Hctl from "../../Hctl.ts"
import type { Sysfs } from "../../Sysfs.ts"
import * as PathHealth from "./PathHealth.ts"

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

/** Why a path is not up (its session's and its disk's states), or none when it is. */
export const downDetail = (p: PathOnHost): Effect.Effect<Option.Option<string>, never, Sysfs> =>
  Effect.map(
    PathHealth.statesOf(p.sid, p.hctl).pipe(
      Effect.orElseSucceed((): PathHealth.PathStates => ({ state: "unreadable", session: "unreadable" }))
    ),
    (states) =>
      PathHealth.isUp(states) ? Option.none() : Option.some(`session ${states.session}, device ${states.state}`)
  )

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
