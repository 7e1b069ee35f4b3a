/**
 * A host-wide named lock, held across processes (two `brick` commands on one
 * host exclude each other). brick locks per target, never globally.
 */
import { Context, Data, type Duration, Effect, type Scope } from "effect"

/** The lock could not be had in time, or its backing store failed. */
export class LockError extends Data.TaggedError("LockError")<{
  readonly name: string
  readonly reason: { readonly _tag: "Timeout" } | { readonly _tag: "Failed"; readonly detail: string }
}> {
  override get message(): string {
    return `lock ${this.name}: ${this.reason._tag === "Timeout" ? "timed out" : this.reason.detail}`
  }
}

/** Host-wide named locks. */
export class Lock extends Context.Service<Lock, {
  /**
   * Holds the lock named `name` for the enclosing scope. Fails with Timeout
   * when the lock has had one holder for `timeout`: each hand-off to another
   * holder starts the wait anew, so a queue that moves is waited out and only
   * a holder that keeps the lock that long fails its waiters.
   */
  readonly acquire: (name: string, timeout: Duration.Input) => Effect.Effect<void, LockError, Scope.Scope>
}>()("@brick/core/Lock") {}

/** Runs `effect` while holding the lock named `name`. */
export const withLock =
  (name: string, timeout: Duration.Input) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | LockError, R | Lock> =>
    Effect.scoped(Effect.andThen(Lock.use((lock) => lock.acquire(name, timeout)), effect))
