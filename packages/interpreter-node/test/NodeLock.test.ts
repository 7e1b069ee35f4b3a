import { Lock } from "@brick/core"
import { Duration, Effect, Fiber } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { isStale, makeInDirectory, safeName, startTime } from "../src/NodeLock.ts"
import { cleanup, runWith, tempDir } from "./support.ts"

let dir: string
beforeEach(() => {
  dir = tempDir("brick-lock-")
})
afterEach(() => cleanup(dir))

const lock = () => makeInDirectory(dir, Duration.millis(10))
const lockFile = (name: string) => NodePath.join(dir, `${safeName(name)}.lock`)

/** A `brick`-like child process taking the lock (see child/lockChild.ts). */
const child = (name: string, timeoutMs: number, holdMs: number) => {
  const p = NodeChild.spawn(
    process.execPath,
    [
      NodePath.join(import.meta.dirname, "child", "runTs.mjs"),
      NodePath.join(import.meta.dirname, "child", "lockChild.ts"),
      dir,
      name,
      String(timeoutMs),
      String(holdMs)
    ],
    { stdio: ["ignore", "pipe", "inherit"] }
  )
  let out = ""
  const waiters: Array<() => void> = []
  p.stdout.on("data", (d) => {
    out += String(d)
    waiters.splice(0).forEach((w) => w())
  })
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not print ${text}: ${out}`)), 30_000)
      const check = () => (out.includes(text) ? (clearTimeout(timer), resolve()) : waiters.push(check))
      check()
    })
  const exited = new Promise<void>((resolve) => p.on("exit", () => resolve()))
  return { process: p, waitFor, exited, output: () => out }
}

const holdFor = (l: Lock.Lock["Service"], name: string, ms: number, log: Array<string>, tag: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      yield* l.acquire(name, "5 seconds")
      log.push(`${tag} in`)
      yield* Effect.sleep(ms)
      log.push(`${tag} out`)
    })
  )

describe("NodeLock", () => {
  it("excludes fibers of one process and releases on scope close", async () => {
    const l = lock()
    const log: Array<string> = []
    await Effect.runPromise(
      Effect.all([
        holdFor(l, "iqn.2010-10.org.openstack:volume-1", 150, log, "a"),
        holdFor(l, "iqn.2010-10.org.openstack:volume-1", 10, log, "b")
      ], {
        concurrency: "unbounded"
      })
    )
    // whoever came first, the two critical sections never interleave
    expect([["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"]]).toContainEqual(log)
    expect(NodeFs.existsSync(lockFile("iqn.2010-10.org.openstack:volume-1"))).toBe(false)
  })

  it("does not make different names wait on each other", async () => {
    const l = lock()
    const log: Array<string> = []
    await Effect.runPromise(
      Effect.all([holdFor(l, "x", 150, log, "x"), Effect.andThen(Effect.sleep(20), holdFor(l, "y", 10, log, "y"))], {
        concurrency: "unbounded"
      })
    )
    expect(log).toEqual(["x in", "y in", "y out", "x out"])
  })

  it("fails with Timeout when the lock stays held", async () => {
    const l = lock()
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function*() {
          yield* l.acquire("t", "1 second")
          const started = Date.now()
          const error = yield* Effect.flip(Effect.scoped(l.acquire("t", "150 millis")))
          return { error, waited: Date.now() - started }
        })
      )
    )
    expect(result.error.reason._tag).toBe("Timeout")
    expect(result.error.message).toBe("lock t: timed out")
    expect(result.waited).toBeGreaterThanOrEqual(140)
    expect(result.waited).toBeLessThan(1000)
  })

  it("waits out a queue that moves: each hand-off starts the timeout anew", async () => {
    const file = lockFile("queue")
    const holder = (token: string) => JSON.stringify({ pid: process.pid, start: null, boot: null, token })
    // four holders in turn, 200 ms each, against a waiter's timeout of 300 ms
    NodeFs.writeFileSync(file, holder("h0"))
    const relay = (async () => {
      for (const token of ["h1", "h2", "h3"]) {
        await new Promise((r) => setTimeout(r, 200))
        NodeFs.writeFileSync(file, holder(token))
      }
      await new Promise((r) => setTimeout(r, 200))
      NodeFs.unlinkSync(file)
    })()
    const started = Date.now()
    const exit = await Effect.runPromise(Effect.exit(Effect.scoped(lock().acquire("queue", "300 millis"))))
    const waited = Date.now() - started
    await relay
    expect(exit._tag).toBe("Success")
    expect(waited).toBeGreaterThanOrEqual(750)
  })

  it("a zero timeout tries once", async () => {
    const l = lock()
    const e = await Effect.runPromise(
      Effect.scoped(Effect.andThen(l.acquire("z", 0), Effect.flip(Effect.scoped(l.acquire("z", 0)))))
    )
    expect(e.reason._tag).toBe("Timeout")
    expect(e.name).toBe("z")
  })

  it("sanitises names: the lock file stays in the directory", async () => {
    const names = ["../../etc/passwd", "/abs/path", "..", "a/b", "iqn.2010-10.org.openstack:vol-1@10.0.0.1:3260"]
    for (const n of names) {
      expect(safeName(n)).toMatch(/^[A-Za-z0-9_-]+$/)
    }
    expect(new Set(names.map(safeName)).size).toBe(names.length)
    expect(safeName("a:b")).not.toBe(safeName("a_b"))
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const l = lock()
      yield* l.acquire("../../escape", "1 second")
      expect(NodeFs.readdirSync(dir)).toEqual([`${safeName("../../escape")}.lock`])
    })))
  })

  it("records pid, start time and boot id; a dead or reused pid is stale, a live one is not", async () => {
    const self = { pid: process.pid, start: await startTime(process.pid), boot: null, token: "t" }
    expect(self.start).not.toBeNull()
    expect(await isStale(self)).toBe(false)
    expect(await isStale({ ...self, start: "1" })).toBe(true)
    const dead = NodeChild.spawnSync("true").pid!
    expect(await isStale({ ...self, pid: dead, start: null })).toBe(true)
    expect(await isStale({ ...self, boot: "another-boot" })).toBe(true)
  })

  it("takes over a lock file left by a dead holder, never one held by a live process", async () => {
    const dead = NodeChild.spawnSync("true").pid!
    NodeFs.writeFileSync(lockFile("s"), JSON.stringify({ pid: dead, start: null, boot: null, token: "old" }))
    await Effect.runPromise(Effect.scoped(lock().acquire("s", "200 millis")))
    NodeFs.writeFileSync(
      lockFile("live"),
      JSON.stringify({ pid: process.pid, start: await startTime(process.pid), boot: null, token: "other" })
    )
    const e = await Effect.runPromise(Effect.flip(Effect.scoped(lock().acquire("live", "100 millis"))))
    expect(e.reason._tag).toBe("Timeout")
    expect(JSON.parse(NodeFs.readFileSync(lockFile("live"), "utf8")).token).toBe("other")
  })

  it("excludes another process, and takes the lock over after that process is SIGKILLed", async () => {
    const holder = child("shared", 5000, -1)
    try {
      await holder.waitFor("acquired")
      const e = await Effect.runPromise(Effect.flip(Effect.scoped(lock().acquire("shared", "300 millis"))))
      expect(e.reason._tag).toBe("Timeout")
      holder.process.kill("SIGKILL")
      await holder.exited
      expect(NodeFs.existsSync(lockFile("shared"))).toBe(true)
      const started = Date.now()
      await Effect.runPromise(Effect.scoped(lock().acquire("shared", "2 seconds")))
      expect(Date.now() - started).toBeLessThan(1000)
    } finally {
      holder.process.kill("SIGKILL")
    }
  })

  it("makes another process wait until this one releases", async () => {
    const l = lock()
    const fiber = Effect.runFork(
      Effect.scoped(Effect.andThen(l.acquire("handoff", "1 second"), Effect.sleep("2500 millis")))
    )
    await new Promise((r) => setTimeout(r, 50))
    const waiter = child("handoff", 20_000, 0)
    try {
      await waiter.waitFor("acquired")
      // the child could only get the lock after our fiber's scope closed
      expect(fiber.pollUnsafe()).toBeDefined()
      await waiter.exited
      expect(waiter.output()).toContain("released")
    } finally {
      waiter.process.kill("SIGKILL")
      await Effect.runPromise(Fiber.interrupt(fiber))
    }
  })

  it("the node host layer puts locks under <root>/run/brick/locks", async () => {
    await runWith(
      { root: dir },
      Effect.scoped(Effect.gen(function*() {
        yield* Lock.Lock.use((l) => l.acquire("rooted", "1 second"))
        expect(NodeFs.readdirSync(NodePath.join(dir, "run", "brick", "locks"))).toEqual([`${safeName("rooted")}.lock`])
      }))
    )
    expect(NodeFs.readdirSync(NodePath.join(dir, "run", "brick", "locks"))).toEqual([])
  })
})
