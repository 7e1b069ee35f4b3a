/**
 * Lock on a simulated host: named locks shared by every layer ("process")
 * built on the same host, acquired for a scope. A wait fails with Timeout
 * once the lock has had one holder for the timeout: every hand-off to a new
 * holder starts it anew.
 */
import { Lock } from "@brick/core"
import { Clock, type Context, Duration, Effect, Layer } from "effect"
import { run, type SimRuntime } from "./SimOps.ts"

/** The Lock service of `rt`'s host, as seen by `process`. */
export const make = (rt: SimRuntime, process = "main"): Context.Service.Shape<typeof Lock.Lock> => ({
  acquire: (name, timeout) => {
    const error = (reason: Lock.LockError["reason"]) => new Lock.LockError({ name, reason })
    const patience = Duration.toMillis(Duration.fromInputUnsafe(timeout))
    // ends in Timeout once neither this wait's start nor a hand-off lies within `patience`;
    // it first yields, so a free lock is taken even with a zero timeout
    const stalled = Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      yield* Effect.yieldNow
      while (true) {
        const since = Math.max(start, rt.lastHandoff(name) ?? start)
        const left = since + patience - (yield* Clock.currentTimeMillis)
        if (left <= 0) return yield* Effect.fail(error({ _tag: "Timeout" }))
        yield* Effect.sleep(left)
      }
    })
    return run(
      rt,
      process,
      "lock.acquire",
      [name],
      (f) => error(f.reason === "Timeout" ? { _tag: "Timeout" } : { _tag: "Failed", detail: f.detail ?? f.reason }),
      () =>
        Effect.raceFirst(rt.lock(name).takeScoped(1), stalled).pipe(
          Effect.andThen(
            Effect.acquireRelease(
              Effect.map(Clock.currentTimeMillis, (now) => {
                rt.handedOff(name, now)
                rt.holding(process, name, true)
              }),
              () => Effect.sync(() => rt.holding(process, name, false))
            )
          )
        )
    )
  }
})

/** A layer of the Lock service on `rt`'s host. */
export const layer = (rt: SimRuntime, process = "main"): Layer.Layer<Lock.Lock> =>
  Layer.succeed(Lock.Lock, make(rt, process))
