import { Effect, Redacted } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { CommandRunner } from "../src/CommandRunner.ts"
import { calls, cleanup, failureWith, fakeTool, runWith, tempDir } from "./support.ts"

let dir: string
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => cleanup(dir))

const run = (...args: Parameters<CommandRunner["Service"]["run"]>) => CommandRunner.use((r) => r.run(...args))

describe("CommandRunner", () => {
  it("spawns argv without a shell and captures stdout, stderr and the exit code", async () => {
    const tool = fakeTool(dir, "iscsiadm", `echo "out $1"; echo "err" >&2; exit 3`)
    const r = await runWith({ iscsiadmPath: tool }, run("iscsiadm", ["a b;$(touch x)", "-m"]))
    expect(r.exitCode).toBe(3)
    expect(r.stdout).toBe("out a b;$(touch x)\n")
    expect(r.stderr).toBe("err\n")
    expect(calls(dir, "iscsiadm")).toEqual([["a b;$(touch x)", "-m"]])
    expect(NodeFs.existsSync(NodePath.join(process.cwd(), "x"))).toBe(false)
    expect(r.command).toContain("iscsiadm")
  })

  it("applies the command prefix to every command", async () => {
    const prefix = fakeTool(dir, "prefix", `shift; exec "$@"`)
    const tool = fakeTool(dir, "blockdev", `echo ok`)
    const r = await runWith(
      { commandPrefix: [prefix, "--"], blockdevPath: tool },
      run("blockdev", ["--flushbufs", "/dev/sdb"])
    )
    expect(r.stdout).toBe("ok\n")
    expect(calls(dir, "prefix")).toEqual([["--", tool, "--flushbufs", "/dev/sdb"]])
    expect(calls(dir, "blockdev")).toEqual([["--flushbufs", "/dev/sdb"]])
    expect(r.command.startsWith(prefix)).toBe(true)
  })

  it("passes secrets to the child but hides them in the rendering and in stderr", async () => {
    const tool = fakeTool(dir, "iscsiadm", `echo "bad value $2" >&2; exit 7`)
    const r = await runWith(
      { iscsiadmPath: tool },
      run("iscsiadm", ["-v", Redacted.make("Sup3rS3cret!")])
    )
    expect(calls(dir, "iscsiadm")).toEqual([["-v", "Sup3rS3cret!"]])
    expect(r.command).not.toContain("Sup3rS3cret!")
    expect(r.command).toContain("<redacted>")
    expect(r.stderr).toBe("bad value <redacted>\n")
  })

  it("kills a command that outlives its timeout (and its children)", async () => {
    const marker = NodePath.join(dir, "survived")
    const tool = fakeTool(dir, "iscsiadm", `(sleep 2; touch '${marker}') & sleep 30`)
    const started = Date.now()
    const e = await failureWith(
      { iscsiadmPath: tool, killGrace: "200 millis" },
      run("iscsiadm", ["x"], { timeout: "300 millis" })
    )
    expect(e._tag).toBe("CommandError")
    expect(e.reason._tag).toBe("TimedOut")
    expect(Date.now() - started).toBeLessThan(5000)
    await new Promise((r) => setTimeout(r, 2500))
    expect(NodeFs.existsSync(marker)).toBe(false)
  })

  it("escalates to SIGKILL when the command ignores SIGTERM", async () => {
    const tool = fakeTool(dir, "iscsiadm", `trap '' TERM; sleep 30 & wait; sleep 30`)
    const started = Date.now()
    const e = await failureWith(
      { iscsiadmPath: tool, killGrace: "200 millis" },
      run("iscsiadm", [], { timeout: "200 millis" })
    )
    expect(e.reason._tag).toBe("TimedOut")
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it("reports a program that cannot be spawned", async () => {
    const e = await failureWith(
      { multipathdPath: NodePath.join(dir, "missing") },
      run("multipathd", ["show", "daemon"])
    )
    expect(e.reason._tag).toBe("SpawnFailed")
  })

  it("counts spawned processes by program", async () => {
    const tool = fakeTool(dir, "t", "exit 0")
    const counts = await runWith(
      { iscsiadmPath: tool, blockdevPath: tool },
      Effect.gen(function*() {
        const r = yield* CommandRunner
        yield* r.run("iscsiadm", [])
        yield* r.run("iscsiadm", [])
        yield* r.run("blockdev", [])
        const before = yield* r.spawnCounts
        yield* r.resetCounts
        return [before, yield* r.spawnCounts]
      })
    )
    expect(counts).toEqual([{ iscsiadm: 2, blockdev: 1 }, {}])
  })
})
