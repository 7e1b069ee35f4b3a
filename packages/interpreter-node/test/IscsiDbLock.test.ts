import { Effect, Fiber } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as IscsiDbLock from "../src/IscsiDbLock.ts"
import { cleanup, tempDir } from "./support.ts"

/** The host root of each test: a fresh temporary directory. */
let root: string
beforeEach(() => {
  root = tempDir()
})
afterEach(() => cleanup(root))

describe("open-iscsi's database lock", () => {
  const lockWrite = () => NodePath.join(root, "run/lock/iscsi/lock.write")

  it("is held (lock.write linked to lock) while the body runs, and released after", async () => {
    const seen = await Effect.runPromise(IscsiDbLock.withDatabaseLock(root, 1000, () => {
      const a = NodeFs.statSync(lockWrite())
      const b = NodeFs.statSync(NodePath.join(root, "run/lock/iscsi/lock"))
      return a.ino === b.ino
    }))
    expect(seen).toBe(true)
    expect(NodeFs.existsSync(lockWrite())).toBe(false)
  })

  it("waits while another holds it, then takes it; gives up after the time limit", async () => {
    expect(IscsiDbLock.tryLock(root)).toBe(true)
    expect(IscsiDbLock.tryLock(root)).toBe(false)
    const waited = await Effect.runPromise(Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(IscsiDbLock.withDatabaseLock(root, 5000, () => "ran"))
      yield* Effect.sleep(60)
      const early = fiber.pollUnsafe()
      IscsiDbLock.unlock(root)
      return { early, late: yield* Fiber.join(fiber) }
    }))
    expect(waited.early).toBeUndefined()
    expect(waited.late).toBe("ran")
    expect(IscsiDbLock.tryLock(root)).toBe(true)
    expect(await Effect.runPromise(IscsiDbLock.withDatabaseLock(root, 50, () => "ran"))).toBeUndefined()
    IscsiDbLock.unlock(root)
  })
})
