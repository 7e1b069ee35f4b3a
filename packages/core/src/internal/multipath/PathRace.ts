/**
 * The attaches of a connect's paths run in parallel, each in a fiber of the
 * enclosing scope, and what they have come to so far: the paths that
 * succeeded, those that failed, and ways to wait for the next outcome, take
 * those already there, and stop the rest (an interrupted attach reports
 * nothing: it undoes its own work).
 */
import { Clock, Effect, Exit, Fiber, Option, Queue, type Scope } from "effect"

/** The paths' attaches running in parallel, and what they have come to so far. */
export interface Race<P, F> {
  readonly ok: ReadonlyArray<P>
  readonly failed: ReadonlyArray<F>
  /** The indices (in `attaches`) of the paths that have not come to anything (yet; after `stop`: interrupted). */
  readonly pending: () => ReadonlyArray<number>
  /** Whether every path has succeeded or failed. */
  readonly settled: () => boolean
  /** Takes the next outcome, waiting until `deadline` at most; false when the time ran out. */
  readonly next: (deadline: number) => Effect.Effect<boolean>
  /** Takes the outcomes already there. */
  readonly drain: Effect.Effect<void>
  /** Interrupts the paths still running, then takes what they came to. */
  readonly stop: Effect.Effect<void>
}

type Outcome<P, F> =
  | { readonly _tag: "Ok"; readonly index: number; readonly path: P }
  | { readonly _tag: "Failed"; readonly index: number; readonly failure: F }

/** Starts every attach in a fiber of the enclosing scope. */
export const start = <P, F, R>(
  attaches: ReadonlyArray<Effect.Effect<P, F, R>>
): Effect.Effect<Race<P, F>, never, R | Scope.Scope> =>
  Effect.gen(function*() {
    const outcomes = yield* Queue.unbounded<Outcome<P, F>>()
    const report = (index: number) => (exit: Exit.Exit<P, F>) =>
      Exit.isSuccess(exit)
        ? Queue.offer(outcomes, { _tag: "Ok", index, path: exit.value })
        : Option.match(Exit.findErrorOption(exit), {
          onNone: () => Effect.void, // interrupted: nothing to report
          onSome: (failure) => Queue.offer(outcomes, { _tag: "Failed", index, failure })
        })
    const fibers = yield* Effect.forEach(attaches, (attach, index) =>
      Effect.forkScoped(Effect.flatMap(Effect.exit(attach), report(index))))
    const ok: Array<P> = []
    const failed: Array<F> = []
    const done = new Set<number>()
    const take = (o: Outcome<P, F>) => {
      done.add(o.index)
      if (o._tag === "Ok") {
        ok.push(o.path)
      } else failed.push(o.failure)
    }
    const drain = Effect.gen(function*() {
      let o = yield* Queue.poll(outcomes)
      while (Option.isSome(o)) {
        take(o.value)
        o = yield* Queue.poll(outcomes)
      }
    })
    return {
      ok,
      failed,
      pending: () =>
        attaches.flatMap((_, i) => (done.has(i) ? [] : [i])),
      settled: () => done.size === attaches.length,
      next: (deadline) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          if (now >= deadline) return false
          const o = yield* Effect.timeoutOption(Queue.take(outcomes), deadline - now)
          if (Option.isSome(o)) take(o.value)
          return Option.isSome(o)
        }),
      drain,
      stop: Effect.andThen(Fiber.interruptAll(fibers), drain)
    }
  })
