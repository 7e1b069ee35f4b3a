/**
 * Lock on a simulated host: named locks shared by every layer ("process")
 * built on the same host, acquired for a scope, with a timeout.
 */
import { Lock } from "@brick/core"
import { type Context, Effect, Layer } from "effect"
import { run, type SimRuntime } from "./SimOps.ts"

/** The Lock service of `rt`'s host, as seen by `process`. */
export const make = (rt: SimRuntime, process = "main"): Context.Service.Shape<typeof Lock.Lock> => ({
  acquire: (name, timeout) => {
    const error = (reason: Lock.LockError["reason"]) => new Lock.LockError({ name, reason })
    return run(
      rt,
      process,
      "lock.acquire",
      [name],
      (f) => error(f.reason === "Timeout" ? { _tag: "Timeout" } : { _tag: "Failed", detail: f.detail ?? f.reason }),
      () =>
        rt.lock(name).takeScoped(1).pipe(
          Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(error({ _tag: "Timeout" })) }),
          Effect.andThen(
            Effect.acquireRelease(
              Effect.sync(() => rt.holding(process, name, true)),
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
