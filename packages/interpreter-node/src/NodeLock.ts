/**
 * A host-wide named lock shared by every brick process on the host, as a
 * file `<root>/<lockDirectory>/<safe-name>.lock`.
 *
 * Scheme:
 * - acquire: write an owner record `{pid, start, boot, token}` to a private
 *   temporary file and `link(2)` it to the lock path: atomic, fails with
 *   EEXIST when the lock is held, and the lock never exists half-written;
 * - release (scope close): unlink the lock path if it still carries our token;
 * - stale: the owner is gone when the boot id differs, `kill(pid, 0)` says
 *   ESRCH, or /proc/<pid>/stat shows another start time (the pid was reused).
 *   A SIGKILLed holder leaves its file behind; the next waiter breaks it:
 *   under a short-lived breaker file (`…lock.break`, O_EXCL, itself dropped
 *   after 10 s when its creator died) it re-reads the lock and unlinks it only
 *   if it still holds the very record judged stale, so a fresh lock taken in
 *   between is never broken;
 * - waiting polls with a growing delay (1 ms doubling up to lockPollInterval)
 *   and fails with LockError Timeout once the lock file has carried one
 *   holder's token for the timeout: a hand-off (another token) starts the
 *   wait anew.
 * Processes sharing the lock directory must share a pid namespace (hostPID
 * for containerised node plugins), since liveness is judged by pid.
 */
import { Lock } from "@brick/core"
import { Clock, Duration, Effect, Layer } from "effect"
import * as NodeCrypto from "node:crypto"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { NodeHostConfig } from "./NodeHostConfig.ts"
import * as RootPath from "./RootPath.ts"

/** What a lock file records about its holder. */
export interface Owner {
  readonly pid: number
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22), or null. */
  readonly start: string | null
  readonly boot: string | null
  readonly token: string
}

/** A file name for a lock name: safe characters only, plus a hash so that distinct names never collide. */
export const safeName = (name: string): string => {
  const readable = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80)
  const hash = NodeCrypto.createHash("sha256").update(name).digest("hex").slice(0, 16)
  return `${readable}-${hash}`
}

const readOrNull = (path: string) => NodeFs.readFile(path, "utf8").then((s) => s.trim(), () => null)

/** A process's start time from /proc/<pid>/stat (field 22), or null. */
export const startTime = async (pid: number): Promise<string | null> => {
  const stat = await readOrNull(`/proc/${pid}/stat`)
  if (stat === null) return null
  // the command name (field 2) is in parentheses and may hold spaces
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return fields[19] ?? null
}

const bootId = () => readOrNull("/proc/sys/kernel/random/boot_id")

/** Whether the recorded owner is certainly gone. */
export const isStale = async (owner: Owner): Promise<boolean> => {
  const boot = await bootId()
  if (owner.boot !== null && boot !== null && owner.boot !== boot) return true
  try {
    process.kill(owner.pid, 0)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return true
  }
  if (owner.start === null) return false
  const start = await startTime(owner.pid)
  return start !== null && start !== owner.start
}

const parseOwner = (text: string): Owner | undefined => {
  try {
    const o = JSON.parse(text) as Owner
    return typeof o.pid === "number" && typeof o.token === "string" ? o : undefined
  } catch {
    return undefined
  }
}

const breakerMaxAgeMillis = 10_000
/** A lock file that cannot be parsed (written by something else) is stale after this age. */
const unreadableMaxAgeMillis = 10_000

/** Lock files in one directory. */
export const makeInDirectory = (directory: string, pollInterval: Duration.Duration): Lock.Lock["Service"] => {
  let self: Promise<{ start: string | null; boot: string | null }> | undefined
  const identity =
    () => (self ??= Promise.all([startTime(process.pid), bootId()]).then(([start, boot]) => ({ start, boot })))
  let ready: Promise<unknown> | undefined
  const ensureDirectory = () => (ready ??= NodeFs.mkdir(directory, { recursive: true, mode: 0o755 }).catch((e) => {
    ready = undefined
    throw e
  }))

  /**
   * One attempt; resolves to our token when we hold the lock, or undefined.
   * The three file operations are synchronous: on the lock directory (a
   * tmpfs under /run) each takes microseconds, far less than a round trip
   * through libuv's thread pool (BENCHMARKS.md, "Interpreter choices").
   */
  const tryAcquire = async (path: string): Promise<string | undefined> => {
    await ensureDirectory()
    const { start, boot } = await identity()
    const token = NodeCrypto.randomBytes(12).toString("hex")
    const owner: Owner = { pid: process.pid, start, boot, token }
    const temporary = `${path}.${token}.tmp`
    NodeFsSync.writeFileSync(temporary, JSON.stringify(owner), { flag: "wx", mode: 0o644 })
    try {
      NodeFsSync.linkSync(temporary, path)
      return token
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return undefined
      throw e
    } finally {
      try {
        NodeFsSync.unlinkSync(temporary)
      } catch {
        // already gone
      }
    }
  }

  /**
   * Breaks the lock at `path` if its holder is gone: broken when it was (or
   * the lock had vanished), else the token of the holder it keeps (undefined
   * when the file cannot be read as an owner record).
   */
  const breakIfStale = async (
    path: string
  ): Promise<{ readonly broken: true } | { readonly broken: false; readonly holder: string | undefined }> => {
    const text = await readOrNull(path)
    if (text === null) return { broken: true }
    const owner = parseOwner(text)
    const kept = { broken: false, holder: owner?.token } as const
    if (owner === undefined) {
      const stat = await NodeFs.stat(path).catch(() => undefined)
      if (stat === undefined || Date.now() - stat.mtimeMs < unreadableMaxAgeMillis) return kept
    } else if (!(await isStale(owner))) {
      return kept
    }
    const breaker = `${path}.break`
    try {
      await NodeFs.writeFile(breaker, String(process.pid), { flag: "wx" })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      const stat = await NodeFs.stat(breaker).catch(() => undefined)
      if (stat !== undefined && Date.now() - stat.mtimeMs > breakerMaxAgeMillis) {
        await NodeFs.unlink(breaker).catch(() => undefined)
      }
      return kept
    }
    try {
      if ((await readOrNull(path)) === text) await NodeFs.unlink(path).catch(() => undefined)
      return { broken: true }
    } finally {
      await NodeFs.unlink(breaker).catch(() => undefined)
    }
  }

  /** Unlinks the lock if it is still ours (synchronously, as tryAcquire). */
  const release = async (path: string, token: string) => {
    let text = ""
    try {
      text = NodeFsSync.readFileSync(path, "utf8")
    } catch {
      return
    }
    if (parseOwner(text)?.token !== token) return
    try {
      NodeFsSync.unlinkSync(path)
    } catch {
      // already gone
    }
  }

  return Lock.Lock.of({
    acquire: (name, timeout) => {
      const path = NodePath.join(directory, `${safeName(name)}.lock`)
      const failed = (e: unknown) =>
        new Lock.LockError({ name, reason: { _tag: "Failed", detail: (e as NodeJS.ErrnoException).code ?? String(e) } })
      const attempt = Effect.tryPromise({ try: () => tryAcquire(path), catch: failed })
      return Effect.gen(function*() {
        const patience = Duration.toMillis(Duration.fromInputUnsafe(timeout))
        let deadline = (yield* Clock.currentTimeMillis) + patience
        let holder: string | undefined
        let delay = 1
        while (true) {
          const token = yield* Effect.uninterruptible(
            attempt.pipe(
              Effect.tap((t) =>
                t === undefined ? Effect.void : Effect.addFinalizer(() => Effect.promise(() => release(path, t)))
              )
            )
          )
          if (token !== undefined) return
          const look = yield* Effect.tryPromise({ try: () => breakIfStale(path), catch: failed })
          if (look.broken) continue
          const now = yield* Clock.currentTimeMillis
          if (look.holder !== undefined && look.holder !== holder) {
            if (holder !== undefined) deadline = now + patience
            holder = look.holder
          }
          if (now >= deadline) return yield* Effect.fail(new Lock.LockError({ name, reason: { _tag: "Timeout" } }))
          yield* Effect.sleep(Math.min(delay, deadline - now))
          delay = Math.min(delay * 2, Math.max(1, Duration.toMillis(pollInterval)))
        }
      }).pipe(Effect.withSpan("Lock.acquire", { attributes: { name } }))
    }
  })
}

/** Locks under `<root>/<lockDirectory>`. */
export const layer: Layer.Layer<Lock.Lock, never, NodeHostConfig> = Layer.effect(
  Lock.Lock,
  Effect.map(
    NodeHostConfig,
    (c) => makeInDirectory(RootPath.resolve(c.root, `/${c.lockDirectory}`), c.lockPollInterval)
  )
)
