/**
 * Test harness for brick's programs on the simulated host: a host built from
 * a spec and a seed, layers per "process", a snapshot, op counters, a log
 * capture, and a runner that drives a TestClock until the program ends.
 */
import { Cause, Clock, Effect, Exit, Fiber, type Layer, Logger, References } from "effect"
import { TestClock } from "effect/testing"
import * as SimHost from "../src/SimHost.ts"
import type * as SimSnapshot from "../src/SimSnapshot.ts"
import type { OpName, SimSpec } from "../src/SimSpec.ts"

/** The services brick's programs need. */
export type Services = SimHost.SimServices

/** A simulated host for tests: the sim's `SimHost`, with a few conveniences. */
export interface TestHost {
  readonly host: SimHost.SimHost
  readonly state: SimHost.SimHost["state"]
  readonly faults: SimHost.SimHost["faults"]
  /** Operations counted (all processes). */
  readonly ops: { readonly get: (op: OpName) => number | undefined }
  readonly totalOps: () => number
  readonly layer: (process?: string) => Layer.Layer<Services>
  readonly snapshot: () => SimSnapshot.SimSnapshot
}

/** Builds a host. */
export const makeHost = (spec: SimSpec, seed = 1): TestHost => {
  const host = SimHost.make({ latency: "zero", ...spec }, { seed })
  return {
    host,
    state: host.state,
    faults: host.faults,
    ops: { get: (op) => host.counts()[op] },
    totalOps: () => host.totalOps(),
    layer: (process = "main") => host.process(process),
    snapshot: () => host.snapshot()
  }
}

/** Everything logged, as text lines (message + annotations). */
export const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make((o) => {
    lines.push(
      `${o.logLevel} ${JSON.stringify(o.message)} ${
        JSON.stringify(o.fiber.getRef(References.CurrentLogAnnotations) ?? {})
      } ${Cause.pretty(o.cause)}`
    )
  })
  return { lines, layer: Logger.layer([logger]) }
}

let epoch = 0

/** Lets `ms` of virtual time pass on a host (its udev/multipathd events run). */
export const settle = (host: { readonly settle: Effect.Effect<void> }, ms = 30_000) =>
  runVirtual(Effect.andThen(Effect.sleep(ms), host.settle), { stepMs: ms })

/**
 * Runs `effect` under a TestClock, advancing it in `stepMs` steps until the
 * effect ends (at most `maxMs` of virtual time).
 */
export const runVirtual = <A, E>(
  effect: Effect.Effect<A, E>,
  options: { readonly stepMs?: number; readonly maxMs?: number; readonly logs?: boolean } = {}
): Promise<Exit.Exit<A, E>> => {
  const step = options.stepMs ?? 5
  const max = options.maxMs ?? 10 * 60_000
  return Effect.runPromise(
    Effect.gen(function*() {
      // every run continues the virtual time of the previous one, so a
      // host's pending events (udev, multipathd) keep their meaning
      yield* TestClock.setTime(epoch)
      const fiber = yield* Effect.forkChild(options.logs === true ? effect : Effect.provide(effect, Logger.layer([])))
      let elapsed = 0
      for (;;) {
        yield* Effect.yieldNow
        const done = fiber.pollUnsafe()
        if (done !== undefined) {
          epoch = yield* Clock.currentTimeMillis
          return done
        }
        if (elapsed >= max) {
          yield* Fiber.interrupt(fiber)
          return Exit.failCause(Cause.die(new Error(`still running after ${max} ms of virtual time`))) as Exit.Exit<
            A,
            E
          >
        }
        yield* TestClock.adjust(step)
        elapsed += step
      }
    }).pipe(Effect.provide(TestClock.layer()))
  )
}

/** The time (virtual ms) an effect took, with its exit. */
export const timedVirtual = <A, E>(effect: Effect.Effect<A, E>, options: { readonly stepMs?: number } = {}) =>
  runVirtual(
    Effect.gen(function*() {
      const start = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const exit = yield* Effect.exit(effect)
      const end = yield* Effect.clockWith((c) => c.currentTimeMillis)
      return { exit, ms: end - start }
    }),
    options
  ).then((e) => {
    if (Exit.isFailure(e)) throw new Error(String(e.cause))
    return e.value
  })

/** The kernel wwids behind a returned device (a disk, or a map's paths), as the simulator knows them. */
export const wwidsBehind = (h: TestHost, device: string): ReadonlyArray<string | undefined> => {
  const name = device.slice("/dev/".length)
  const snap = h.snapshot()
  const disk = snap.scsiDevices.find((d) => d.name === name)
  if (disk) return [disk.wwid]
  const map = snap.maps.find((m) => m.dm === name)
  return (map?.paths ?? []).map((p) => snap.scsiDevices.find((d) => d.name === p)?.wwid)
}
