/**
 * brick's host-wide locks: one per target IQN, never a global one. A program
 * touching several targets takes their locks in sorted order, so two
 * programs can never wait for each other in a cycle.
 */
import { Effect, Exit, Option, Ref, Scope } from "effect"
import { Lock, type LockError } from "../../Lock.ts"

/** The lock name of a target. */
export const name = (iqn: string): string => `brick-iscsi-${iqn}`

/** The lock names of targets, deduplicated and sorted. */
export const names = (iqns: Iterable<string>): ReadonlyArray<string> => [...new Set([...iqns].map(name))].sort()

/**
 * Runs `effect` while holding the locks of `iqns` (taken in sorted order,
 * released in reverse when `effect` ends, however it ends).
 */
export const withTargets =
  (iqns: Iterable<string>, timeoutSeconds: number) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | LockError, R | Lock> =>
    Effect.scoped(
      Effect.gen(function*() {
        const lock = yield* Lock
        for (const n of names(iqns)) {
          yield* lock.acquire(n, `${timeoutSeconds} seconds`).pipe(
            Effect.withSpan("brick.lock", { attributes: { lock: n } })
          )
        }
        return yield* effect
      })
    )

/** Target locks held by a program that may let them go before it ends. */
export interface Held {
  /** Lets the locks go now (nothing when they are not held). */
  readonly release: Effect.Effect<void>
  /** Takes them again when they were let go; when that fails it is logged and the caller goes on. */
  readonly retake: Effect.Effect<void>
  /** Whether `release` has let them go. */
  readonly released: Effect.Effect<boolean>
}

/**
 * Takes the locks of `iqns` (sorted order) for the enclosing scope, with a
 * way to let them go earlier and to take them again.
 */
export const hold = (
  iqns: Iterable<string>,
  timeoutSeconds: number
): Effect.Effect<Held, LockError, Lock | Scope.Scope> =>
  Effect.gen(function*() {
    const lock = yield* Lock
    const lockNames = names(iqns)
    const current = yield* Ref.make(Option.none<Scope.Closeable>())
    const everReleased = yield* Ref.make(false)
    const take = Effect.gen(function*() {
      const scope = yield* Scope.make()
      yield* Effect.forEach(lockNames, (n) =>
        lock.acquire(n, `${timeoutSeconds} seconds`).pipe(
          Effect.withSpan("brick.lock", { attributes: { lock: n } })
        ), { discard: true }).pipe(
          Scope.provide(scope),
          Effect.onExit((
            exit
          ) => (Exit.isSuccess(exit) ? Ref.set(current, Option.some(scope)) : Scope.close(scope, exit)))
        )
    })
    const release = Effect.flatMap(Ref.getAndSet(current, Option.none()), (held) =>
      Option.isSome(held)
        ? Effect.andThen(Ref.set(everReleased, true), Scope.close(held.value, Exit.void))
        : Effect.void)
    yield* take
    yield* Effect.addFinalizer(() => release)
    const retake = Effect.flatMap(Ref.get(current), (held) =>
      Option.isSome(held)
        ? Effect.void
        : take.pipe(
          Effect.catch((e: LockError) => Effect.logWarning(`undoing without the target locks: ${e.message}`))
        ))
    return { release, retake, released: Ref.get(everReleased) } satisfies Held
  })
