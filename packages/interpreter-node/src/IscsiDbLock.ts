/**
 * open-iscsi's database lock, taken as iscsiadm and iscsid take it: every
 * reader and writer of the database links `lock` to `lock.write` in
 * /run/lock/iscsi, retrying every 10 ms, and releases it by unlinking
 * `lock.write` (usr/idbm.c, idbm_lock).
 */
import { Effect } from "effect"
import * as NodeFsSync from "node:fs"
import * as RootPath from "./RootPath.ts"

/** Where open-iscsi keeps its database lock (LOCK_DIR of Debian's and upstream's builds). */
export const lockDirectory = "/run/lock/iscsi"

/** How often the lock is tried, as iscsiadm does (DB_LOCK_USECS_WAIT). */
export const lockRetryMillis = 10

/** Takes the lock once: true when taken (lock.write linked). */
export const tryLock = (root: string): boolean => {
  const dir = RootPath.resolve(root, lockDirectory)
  NodeFsSync.mkdirSync(dir, { recursive: true, mode: 0o770 })
  NodeFsSync.closeSync(NodeFsSync.openSync(`${dir}/lock`, "a", 0o666))
  try {
    NodeFsSync.linkSync(`${dir}/lock`, `${dir}/lock.write`)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
    throw e
  }
}

/** Releases the lock. */
export const unlock = (root: string): void => {
  NodeFsSync.rmSync(RootPath.resolve(root, `${lockDirectory}/lock.write`), { force: true })
}

/**
 * Holds the lock around `body` (synchronous, so nothing else of this process
 * runs while the lock is held), trying every `lockRetryMillis` until
 * `timeoutMillis`. Undefined when the lock stayed taken.
 */
export const withDatabaseLock = <A>(root: string, timeoutMillis: number, body: () => A) =>
  Effect.gen(function*() {
    for (let waited = 0;; waited += lockRetryMillis) {
      const done = yield* Effect.sync(() => {
        if (!tryLock(root)) return undefined
        try {
          return { value: body() }
        } finally {
          unlock(root)
        }
      })
      if (done !== undefined) return done.value
      if (waited >= timeoutMillis) return undefined
      yield* Effect.sleep(lockRetryMillis)
    }
  })
