/**
 * brick's host-wide locks: one per target IQN, never a global one. A program
 * touching several targets takes their locks in sorted order, so two
 * programs can never wait for each other in a cycle.
 */
import { Effect } from "effect"
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
