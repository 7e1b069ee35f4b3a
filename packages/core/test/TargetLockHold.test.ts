import { Lock } from "@brick/core"
import { Effect, Fiber, Latch, Semaphore } from "effect"
import { describe, expect, it } from "vitest"
import * as TargetLock from "../src/internal/iscsi/TargetLock.ts"

const iqn = "iqn.2010-10.org.a:y"

/** One in-memory lock for every name: enough to see who waits for whom. */
const oneLock = Effect.map(Semaphore.make(1), (sem): Lock.Lock["Service"] => ({
  acquire: () => Effect.asVoid(Effect.acquireRelease(Semaphore.take(sem, 1), () => Semaphore.release(sem, 1)))
}))

const settle = Effect.forEach(Array.from({ length: 20 }), () => Effect.yieldNow, { discard: true })

describe("TargetLock.hold", () => {
  it("holds the locks until released; another program gets them then; retake waits for it", async () => {
    const events: Array<string> = []
    const program = Effect.gen(function*() {
      const lock = yield* oneLock
      yield* Effect.scoped(Effect.gen(function*() {
        const held = yield* TargetLock.hold([iqn], 5)
        const done = yield* Latch.make(false)
        const other = yield* Effect.forkChild(
          TargetLock.withTargets([iqn], 5)(
            Effect.andThen(Effect.sync(() => events.push("other has it")), done.await)
          )
        )
        yield* settle
        events.push("still held")
        expect(yield* held.released).toBe(false)
        yield* held.release
        yield* settle
        expect(yield* held.released).toBe(true)
        const retaken = yield* Effect.forkChild(Effect.andThen(held.retake, Effect.sync(() => events.push("retaken"))))
        yield* settle
        events.push("other finishes")
        yield* done.open
        yield* Fiber.join(other)
        yield* Fiber.join(retaken)
        // held again: a third program waits until the scope ends
        const third = yield* Effect.forkChild(TargetLock.withTargets([iqn], 5)(Effect.sync(() => events.push("third"))))
        yield* settle
        events.push("scope ends")
        return third
      })).pipe(Effect.flatMap(Fiber.join), Effect.provideService(Lock.Lock, lock))
    })
    await Effect.runPromise(program)
    expect(events).toEqual(["still held", "other has it", "other finishes", "retaken", "scope ends", "third"])
  })

  it("retake does nothing while the locks are held", async () => {
    const program = Effect.gen(function*() {
      const lock = yield* oneLock
      return yield* Effect.scoped(Effect.gen(function*() {
        const held = yield* TargetLock.hold([iqn], 5)
        yield* held.retake
        return yield* held.released
      })).pipe(Effect.provideService(Lock.Lock, lock))
    })
    expect(await Effect.runPromise(program)).toBe(false)
  })
})
