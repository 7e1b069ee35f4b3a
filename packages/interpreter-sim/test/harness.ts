/**
 * Test harness for brick's programs on the simulated host: a host built from
 * a spec and a seed, layers per "process", a snapshot, op counters, a log
 * capture, and a runner that drives a TestClock until the program ends.
 */
import { Cause, Effect, Exit, Fiber, Layer, Logger, References, Semaphore } from "effect"
import { TestClock } from "effect/testing"
import type { BlockDevice, Iscsiadm, Lock, Multipath, Sysfs } from "@brick/core"
import * as SimBlockDevice from "../src/SimBlockDevice.ts"
import { SimFaults } from "../src/SimFaults.ts"
import * as SimIscsiadm from "../src/SimIscsiadm.ts"
import * as SimLock from "../src/SimLock.ts"
import * as SimMultipath from "../src/SimMultipath.ts"
import type { SimRuntime } from "../src/SimOps.ts"
import * as SimSnapshot from "../src/SimSnapshot.ts"
import { latencyTable, type SimSpec } from "../src/SimSpec.ts"
import { SimState } from "../src/SimState.ts"
import * as SimSysfs from "../src/SimSysfs.ts"
import * as SimView from "../src/SimView.ts"

/** The services brick's programs need. */
export type Services = Iscsiadm.Iscsiadm | Sysfs.Sysfs | Multipath.Multipath | BlockDevice.BlockDevice | Lock.Lock

/** A simulated host for tests. */
export interface TestHost {
  readonly state: SimState
  readonly faults: SimFaults
  readonly rt: SimRuntime
  /** Operations counted per process. */
  readonly ops: Map<string, number>
  readonly totalOps: () => number
  readonly layer: (process?: string) => Layer.Layer<Services>
  readonly snapshot: () => SimSnapshot.SimSnapshot
}

/** Builds a host. */
export const makeHost = (spec: SimSpec, seed = 1): TestHost => {
  const state = new SimState(spec, seed)
  const faults = new SimFaults()
  const locks = new Map<string, Semaphore.Semaphore>()
  const ops = new Map<string, number>()
  const rt: SimRuntime = {
    state,
    faults,
    latency: latencyTable(spec.latency ?? "zero"),
    count: (_process, op) => {
      ops.set(op, (ops.get(op) ?? 0) + 1)
    },
    view: SimView.make(state),
    lock: (name) => {
      let s = locks.get(name)
      if (s === undefined) {
        s = Semaphore.makeUnsafe(1)
        locks.set(name, s)
      }
      return s
    }
  }
  return {
    state,
    faults,
    rt,
    ops,
    totalOps: () => [...ops.values()].reduce((a, b) => a + b, 0),
    layer: (process = "main") =>
      Layer.mergeAll(
        SimSysfs.layer(rt, process),
        SimIscsiadm.layer(rt, process),
        SimMultipath.layer(rt, process),
        SimBlockDevice.layer(rt, process),
        SimLock.layer(rt, process)
      ),
    snapshot: () => SimSnapshot.take(state)
  }
}

/** Everything logged, as text lines (message + annotations). */
export const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make((o) => {
    lines.push(`${o.logLevel} ${JSON.stringify(o.message)} ${JSON.stringify(o.fiber.getRef(References.CurrentLogAnnotations) ?? {})} ${Cause.pretty(o.cause)}`)
  })
  return { lines, layer: Logger.layer([logger]) }
}

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
      const fiber = yield* Effect.forkChild(options.logs === true ? effect : Effect.provide(effect, Logger.layer([])))
      let elapsed = 0
      for (;;) {
        yield* Effect.yieldNow
        const done = fiber.pollUnsafe()
        if (done !== undefined) return done
        if (elapsed >= max) {
          yield* Fiber.interrupt(fiber)
          return Exit.failCause(Cause.die(new Error(`still running after ${max} ms of virtual time`))) as Exit.Exit<A, E>
        }
        yield* TestClock.adjust(step)
        elapsed += step
      }
    }).pipe(Effect.provide(TestClock.layer()))
  )
}

/** The time (virtual ms) an effect took, with its exit. */
export const timedVirtual = <A, E>(effect: Effect.Effect<A, E>, options: { readonly stepMs?: number } = {}) =>
  runVirtual(Effect.gen(function*() {
    const start = yield* Effect.clockWith((c) => c.currentTimeMillis)
    const exit = yield* Effect.exit(effect)
    const end = yield* Effect.clockWith((c) => c.currentTimeMillis)
    return { exit, ms: end - start }
  }), options).then((e) => {
    if (Exit.isFailure(e)) throw new Error(String(e.cause))
    return e.value
  })
