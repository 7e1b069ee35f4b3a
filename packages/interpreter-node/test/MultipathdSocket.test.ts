import { Multipath } from "@brick/core"
import { Effect } from "effect"
import fc from "fast-check"
import * as NodeCrypto from "node:crypto"
import * as NodeNet from "node:net"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { CommandRunner } from "../src/CommandRunner.ts"
import { frame, parseReply, request } from "../src/MultipathdSocket.ts"
import { calls, cleanup, failureWith, fakeTool, runWith, tempDir } from "./support.ts"

/** A stand-in multipathd on a fresh abstract socket: records each command, answers with `answer`. */
const fakeDaemon = async (answer: (command: string) => string | undefined) => {
  const path = `\0brick-test-multipathd-${NodeCrypto.randomBytes(6).toString("hex")}`
  const commands: Array<string> = []
  const server = NodeNet.createServer((socket) => {
    let data = Buffer.alloc(0)
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk])
      const command = parseReply(data) // requests are framed like replies
      if (typeof command !== "string") return
      commands.push(command)
      const reply = answer(command)
      if (reply !== undefined) socket.end(frame(reply))
    })
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  return { path, commands, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

let dir: string
let daemons: Array<{ close: () => Promise<void> }> = []
beforeEach(() => {
  dir = tempDir()
})
afterEach(async () => {
  cleanup(dir)
  await Promise.all(daemons.map((d) => d.close()))
  daemons = []
})
const daemon = async (answer: (command: string) => string | undefined) => {
  const d = await fakeDaemon(answer)
  daemons.push(d)
  return d
}

describe("MultipathdSocket framing", () => {
  it("a frame is the length with the NUL as 8 bytes little endian, then the text and a NUL", () => {
    expect([...frame("add path sdb")]).toEqual([13, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from("add path sdb"), 0])
  })

  it("parses a whole reply back, waits on a partial one, refuses a zero length", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }).filter((s) => !s.includes("\0")), fc.nat({ max: 400 }), (text, cut) => {
        const bytes = frame(text)
        expect(parseReply(bytes)).toBe(text)
        expect(parseReply(Buffer.concat([bytes, Buffer.from("next")]))).toBe(text)
        if (cut < bytes.length) expect(parseReply(bytes.subarray(0, cut))).toBeUndefined()
      }),
      { numRuns: 500 }
    )
    expect(parseReply(Buffer.alloc(8))).toBeInstanceOf(Error)
  })
})

describe("MultipathdSocket.request", () => {
  it("sends the command and resolves to the reply", async () => {
    const d = await daemon((c) => (c === "show daemon" ? "pid 42 idle\n" : "fail\n"))
    expect(await Effect.runPromise(request("show daemon", "2 seconds", d.path))).toBe("pid 42 idle\n")
    expect(d.commands).toEqual(["show daemon"])
  })

  it("is Unreachable when nothing listens, Timeout when the daemon never answers", async () => {
    const none = await Effect.runPromise(Effect.flip(request("show daemon", "2 seconds", "\0brick-test-nobody-listens")))
    expect(none.reason._tag).toBe("Unreachable")
    const d = await daemon(() => undefined)
    const silent = await Effect.runPromise(Effect.flip(request("show daemon", "200 millis", d.path)))
    expect(silent.reason._tag).toBe("Timeout")
  })
})

describe("NodeMultipath through the socket", () => {
  const use = <A, E>(f: (m: Multipath.Multipath["Service"]) => Effect.Effect<A, E>) => Multipath.Multipath.use(f)
  const spawned = CommandRunner.use((r) => r.spawnCounts)

  it("adds a path without starting a process; a `fail` reply is a typed error", async () => {
    const d = await daemon((c) => (c === "add path sdb" ? "ok\n" : "fail\n"))
    const config = { multipathdSocket: d.path, multipathPath: fakeTool(dir, "multipath", "exit 0") }
    expect(await runWith(config, Effect.andThen(use((m) => m.addPath("sdb")), spawned))).toEqual({})
    const e = await failureWith(config, use((m) => m.addPath("sdc")))
    expect(e).toBeInstanceOf(Multipath.MultipathError)
    expect(e.reason._tag).toBe("Failed")
    expect(d.commands).toEqual(["add path sdb", "add path sdc"])
  })

  it("flushes with `del map`; when the daemon does not remove it, `multipath -f` does (and says why)", async () => {
    const d = await daemon((c) => (c === "del map mpatha" ? "ok\n" : "fail\n"))
    const multipath = fakeTool(dir, "multipath", `case "$2" in mpathb) echo "mpathb: map in use" >&2; exit 1;; esac; exit 0`)
    const config = { multipathdSocket: d.path, multipathPath: multipath }
    await runWith(config, use((m) => m.flushMap("mpatha")))
    expect(calls(dir, "multipath")).toEqual([])
    const e = await failureWith(config, use((m) => m.flushMap("mpathb")))
    expect(e.reason._tag).toBe("InUse")
    expect(calls(dir, "multipath")).toEqual([["-f", "mpathb"]])
    expect(d.commands).toEqual(["del map mpatha", "del map mpathb"])
  })

  it("an unreachable socket falls back to the `multipathd` process", async () => {
    const config = { multipathdSocket: "\0brick-test-nobody-listens", multipathPath: fakeTool(dir, "multipath", "exit 0") }
    // whatever the multipathd on PATH (if any) answers, it was asked
    const counts = await runWith(config, Effect.andThen(Effect.ignore(use((m) => m.addPath("sdb"))), spawned))
    expect(counts).toEqual({ multipathd: 1 })
  })
})
