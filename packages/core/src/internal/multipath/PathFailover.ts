/**
 * The single-path counterpart of MultipathAssembly: the paths' attaches
 * tried one after another, in the order given, until one succeeds (as
 * os-brick's single-path connect goes through the listed portals). Each
 * attach that fails has undone its own work before the next starts.
 */
import { Effect, Option, Result } from "effect"
import type { Assembly } from "./MultipathAssembly.ts"

/** The first attach that succeeds, with the failures of those tried before it. */
export const firstThatWorks = <P, F, R>(
  attaches: ReadonlyArray<Effect.Effect<P, F, R>>
): Effect.Effect<Assembly<P, F>, never, R> =>
  Effect.gen(function*() {
    const failed: Array<F> = []
    for (const attach of attaches) {
      if (failed.length > 0) yield* Effect.logInfo(`path ${failed.length} failed: trying the next listed path`)
      const outcome = yield* Effect.result(attach)
      if (Result.isSuccess(outcome)) return { ok: [outcome.success], failed, stopped: [], map: Option.none() }
      failed.push(outcome.failure)
    }
    return { ok: [], failed, stopped: [], map: Option.none() }
  })
