/**
 * Flushing a multipath map that may be held open for a while: udev probing
 * it, multipathd reloading it just after a connect, or a probe's I/O stuck on
 * a path that just died until that path fails (about 10 s with the 5 s
 * nop-out and recovery timeouts multipathd sets). See BENCHMARKS.md, "Why
 * the code does what it does".
 */
import { Effect, Result } from "effect"
import { Multipath } from "../../Multipath.ts"

/** How long a flush of a map in use is retried (milliseconds). */
export const inUseBudgetMillis = 20_000

/**
 * `multipath -f NAME`, retried while the map is in use: backoff from 50 ms
 * doubling up to 2 s between attempts, for up to `inUseBudgetMillis` in all.
 * Any other failure is raised at once.
 */
export const flushRetrying = (name: string) =>
  Effect.gen(function*() {
    const multipath = yield* Multipath
    let waited = 0
    for (let attempt = 0;; attempt++) {
      const r = yield* Effect.result(multipath.flushMap(name))
      if (Result.isSuccess(r)) return
      if (r.failure.reason._tag !== "InUse" || waited >= inUseBudgetMillis) return yield* Effect.fail(r.failure)
      const pause = Math.min(50 * 2 ** attempt, 2000)
      yield* Effect.logDebug(`map ${name} in use, retrying the flush in ${pause} ms`)
      yield* Effect.sleep(pause)
      waited += pause
    }
  })
