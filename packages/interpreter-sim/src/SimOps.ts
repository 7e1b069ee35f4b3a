/**
 * The wrapper every simulated service operation runs in: count it, spend its
 * latency on the effect Clock, run the host's due events, apply scripted
 * faults, then the operation's own body.
 */
import { Clock, Effect, type Semaphore } from "effect"
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
}

/** Reads the effect Clock and runs the host's events due by then; yields the time. */
export const tick = (rt: SimRuntime): Effect.Effect<number> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    rt.state.schedule.advance(now)
    return rt.state.schedule.now
  })

/** Runs one counted, delayed, fault-injectable operation. */
export const run = <A, E, R = never>(
  rt: SimRuntime,
  process: string,
  op: OpName,
  args: ReadonlyArray<unknown>,
  toError: (failure: SimFailure) => E,
  body: () => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    rt.count(process, op)
    const go = Effect.flatMap(tick(rt), () => {
      const plan = rt.faults.begin(op, args)
      if (plan.fail) {
        const failure = plan.fail
        return Effect.fail(toError(failure)).pipe(Effect.ensuring(Effect.sync(() => plan.after.forEach((f) => f()))))
      }
      const settled = Effect.map(body(), (a) => {
        rt.state.schedule.advance(rt.state.schedule.now)
        return a
      })
      return plan.after.length === 0 ? settled : Effect.ensuring(settled, Effect.sync(() => plan.after.forEach((f) => f())))
    })
    const latency = rt.latency[op]
    return latency > 0 ? Effect.andThen(Effect.sleep(latency), go) : go
  })
