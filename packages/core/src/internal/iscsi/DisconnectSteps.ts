/**
 * The steps of a disconnect: each failure is logged and recorded; without
 * `force` or `ignoreErrors` the first one stops the disconnect, with `force`
 * every step is tried and one error lists every failure, with `ignoreErrors`
 * the disconnect succeeds.
 */
import { Effect, Option, Ref } from "effect"
import { DisconnectError, type StepFailure } from "../../BrickError.ts"

/** `effect`, with the service's NotFound (nothing left to remove) counted as done. */
export const ignoreNotFound = <E extends { readonly reason: { readonly _tag: string } }, R>(
  effect: Effect.Effect<void, E, R>
): Effect.Effect<void, E, R> =>
  Effect.catch(effect, (e) => (e.reason._tag === "NotFound" ? Effect.void : Effect.fail(e)))

/**
 * Runs one step: its value, or none after its failure was recorded (and,
 * without force/ignoreErrors, raised).
 */
export type Step = <A, E extends { readonly message: string }, R>(
  name: StepFailure["step"],
  target: string,
  effect: Effect.Effect<A, E, R>
) => Effect.Effect<Option.Option<A>, DisconnectError, R>

/** The steps of one disconnect and the failures they recorded. */
export const makeSteps = (flags: { readonly force?: boolean; readonly ignoreErrors?: boolean }) =>
  Effect.gen(function*() {
    const goOn = flags.force === true || flags.ignoreErrors === true
    const failures = yield* Ref.make<ReadonlyArray<StepFailure>>([])
    const step: Step = (name, target, effect) =>
      effect.pipe(
        Effect.map(Option.some),
        Effect.catch((e) =>
          Effect.gen(function*() {
            yield* Effect.logError(`${name} ${target} failed: ${e.message}`)
            const all = yield* Ref.updateAndGet(failures, (l) => [...l, { step: name, target, detail: e.message }])
            if (!goOn) {
              return yield* Effect.fail(new DisconnectError({ reason: { _tag: "StepsFailed", failures: all } }))
            }
            return Option.none()
          })
        ),
        Effect.withSpan(`brick.disconnect.${name}`, { attributes: { target } })
      )
    /** Succeeds unless a step failed (with ignoreErrors: logs the failures and succeeds). */
    const finish = Effect.gen(function*() {
      const all = yield* Ref.get(failures)
      if (all.length === 0) return
      if (flags.ignoreErrors === true) return yield* Effect.logWarning(`disconnect ignored ${all.length} failure(s)`)
      return yield* Effect.fail(new DisconnectError({ reason: { _tag: "StepsFailed", failures: all } }))
    })
    return { step, finish }
  })
