/**
 * A second brick process for lock tests: `lockChild.ts <dir> <name> <timeoutMs> <holdMs>`.
 * Prints `acquired <pid>` once it holds the lock (then holds it `holdMs`, or
 * until killed when holdMs < 0) or `timeout` when it could not get it.
 */
import { Duration, Effect } from "effect"
import { makeInDirectory } from "../../src/NodeLock.ts"

export const main = async ([dir, name, timeoutMs, holdMs]: Array<string>) => {
  const lock = makeInDirectory(dir!, Duration.millis(10))
  const hold = Number(holdMs)
  const program = Effect.scoped(
    Effect.gen(function*() {
      yield* lock.acquire(name!, Duration.millis(Number(timeoutMs)))
      process.stdout.write(`acquired ${process.pid}\n`)
      // a pending timer keeps the process alive (Effect.never alone would let node exit)
      yield* Effect.sleep(hold < 0 ? Duration.hours(1) : Duration.millis(hold))
    })
  ).pipe(
    Effect.catchTag(
      "LockError",
      (e) => Effect.sync(() => process.stdout.write(`${e.reason._tag === "Timeout" ? "timeout" : "failed"}\n`))
    )
  )
  await Effect.runPromise(program)
  process.stdout.write("released\n")
}
