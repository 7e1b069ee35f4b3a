/**
 * The wrapper every simulated service operation runs in: count it, spend its
 * latency on the effect Clock, run the host's due events, apply scripted
 * faults, then the operation's own body.
 */
import { Effect, type Semaphore } from "effect"
import type { SimFailure, SimFaults } from "./SimFaults.ts"
import type { OpName } from "./SimSpec.ts"
import type { SimState } from "./SimState.ts"
import type { VNode } from "./SimTree.ts"

/** What the services need from a host. */
export interface SimRuntime {
  readonly state: SimState
  readonly faults: SimFaults
  readonly latency: Readonly<Record<OpName, number>>
  readonly count: (process: string, op: OpName) => void
  /** The host's /sys + /dev tree. */
  readonly view: VNode
  /** The host-wide lock named `name`. */
  readonly lock: (name: string) => Semaphore.Semaphore
  /** Whether `process` was killed (it starts no operation any more). */
  readonly killed: (process: string) => boolean
  /** Records that `process` holds (or, with `held` false, no longer holds) the lock `name`. */
  readonly holding: (process: string, name: string, held: boolean) => void
  /** When (Clock millis) the lock `name` last went to a new holder; undefined when never. */
  readonly lastHandoff: (name: string) => number | undefined
  /** Records that the lock `name` went to a new holder at `at` (Clock millis). */
  readonly handedOff: (name: string, at: number) => void
}

/** Reads the effect Clock and runs the host's events due by then; yields the time. */
export const tick = (rt: SimRuntime): Effect.Effect<number> =>
  Effect.clockWith((clock) => {
    rt.state.schedule.advance(clock.currentTimeMillisUnsafe())
    return Effect.succeed(rt.state.schedule.now)
  })

/**
 * Runs one counted, delayed, fault-injectable operation: after its latency,
 * count it, run the host's events due at the Clock's time, apply scripted
 * faults, then its body (zero-delay events the body causes run at once).
 * A killed process's operation never starts (nor ends): like SIGKILL, nothing
 * of the process runs any more, not even its cleanup.
 */
export const run = <A, E, R = never>(
  rt: SimRuntime,
  process: string,
  op: OpName,
  args: ReadonlyArray<unknown>,
  toError: (failure: SimFailure) => E,
  body: () => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const step = Effect.clockWith((clock) => {
    if (rt.killed(process)) return Effect.never
    rt.count(process, op)
    rt.state.schedule.advance(clock.currentTimeMillisUnsafe())
    const plan = rt.faults.begin(op, args)
    const after = plan.after
    const result = plan.fail ? Effect.fail(toError(plan.fail)) : body()
    return after.length === 0 ? result : Effect.ensuring(result, Effect.sync(() => after.forEach((f) => f())))
  })
  const latency = rt.latency[op]
  return latency > 0 ? Effect.andThen(Effect.sleep(latency), step) : step
}
