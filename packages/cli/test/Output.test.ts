/**
 * What brick writes besides results: JSON-lines logs with a level filter,
 * the TTY-only progress line, interruption (exit 130, nothing left behind),
 * and `plan --facts`.
 */
import { SimHost, SimSnapshot } from "@brick/interpreter-sim"
import { Effect, Logger } from "effect"
import { describe, expect, it } from "vitest"
import type { IoShape } from "../src/Io.ts"
import * as JsonLogger from "../src/JsonLogger.ts"
import * as Progress from "../src/Progress.ts"
import * as Secrets from "../src/Secrets.ts"
import { runCli, volume } from "./CliHarness.ts"

const iqn = volume.target_iqn
const plain = {
  target_portals: volume.target_portals,
  target_iqns: volume.target_iqns,
  target_luns: volume.target_luns
}
const files = { "vol.json": JSON.stringify(plain) }
const simSpec = (udevMs = 5) => ({
  targets: [{ iqn, portals: ["10.99.0.1:3260", "10.99.0.2:3260"], luns: [{ lun: 1 }] }],
  latency: "zero" as const,
  udev: { delayMs: udevMs },
  multipathd: { running: true, mapDelayMs: 5 },
  ifaces: [{ name: "iface0", transport: "tcp", netIfacename: "eth0" }]
})

const memoryIo = (tty: boolean) => {
  let err = ""
  const io: IoShape = {
    stdout: () => {},
    stderr: (t) => {
      err += t
    },
    readStdin: () => Promise.resolve(""),
    readFile: () => Promise.reject({ _tag: "NotFound" }),
    stderrIsTTY: tty
  }
  return { io, stderr: () => err }
}

describe("logs", () => {
  it("are JSON lines; the default level is info; --log-level warn filters", async () => {
    const sim = SimHost.make(simSpec(), { seed: 1 })
    const info = await runCli(["connect", "--info", "vol.json", "--multipath"], { files, hostFactory: () => sim.layer })
    expect(info.code).toBe(0)
    const levels = info.stderrJson.map((l) => l["level"])
    expect(levels).toContain("INFO")
    expect(levels).not.toContain("DEBUG")
    for (const l of info.stderrJson) expect(typeof l["time"]).toBe("string")

    const sim2 = SimHost.make(simSpec(), { seed: 2 })
    const warn = await runCli(["connect", "--info", "vol.json", "--multipath", "--log-level", "warn"], {
      files,
      hostFactory: () => sim2.layer
    })
    expect(warn.code).toBe(0)
    for (const l of warn.stderrJson) expect(["WARN", "ERROR", "FATAL"]).toContain(l["level"])
  })

  it("scrub every registered secret, even one a message quotes", () => {
    const { io, stderr } = memoryIo(false)
    const secrets = Secrets.make()
    secrets.add("Quoted-S3cret")
    const logger = JsonLogger.make(io, secrets, Progress.silent)
    Effect.runSync(Effect.logInfo("the password is Quoted-S3cret").pipe(Effect.provide(Logger.layer([logger]))))
    expect(stderr()).not.toContain("Quoted-S3cret")
    expect(JSON.parse(stderr())).toMatchObject({ level: "INFO", message: "the password is <redacted>" })
  })
})

describe("progress", () => {
  it("draws a line on a terminal and erases it when done", async () => {
    const { io, stderr } = memoryIo(true)
    const progress = Progress.make(io, { delayMs: 0, tickMs: 5 })
    await Effect.runPromise(progress.during("connecting vol-1")(Effect.sleep(60)))
    expect(stderr()).toContain("connecting vol-1")
    expect(stderr()).toMatch(/\d+\.\ds/)
    expect(stderr().endsWith("\r\x1b[2K")).toBe(true)
  })

  it("prints nothing when stderr is not a terminal", async () => {
    const { io, stderr } = memoryIo(false)
    const progress = Progress.make(io, { delayMs: 0, tickMs: 5 })
    await Effect.runPromise(progress.during("connecting vol-1")(Effect.sleep(30)))
    expect(stderr()).toBe("")
  })
})

describe("interruption", () => {
  it("SIGINT during a connect exits 130 with one JSON object, and the connect's work is undone", async () => {
    const sim = SimHost.make({ ...simSpec(), network: { "10.99.0.1:3260": "blackholed" } }, { seed: 3 })
    const before = sim.snapshot()
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    const r = await runCli(["connect", "--info", "vol.json", "--log-level", "none"], {
      files,
      hostFactory: () => sim.layer,
      signal: controller.signal
    })
    expect(r.code).toBe(130)
    expect(r.stderrJson).toEqual([{ error: "Interrupted", kind: "Interrupted", message: "interrupted" }])
    expect(SimSnapshot.isEmpty(SimSnapshot.diff(before, sim.snapshot()))).toBe(true)
  })
})

describe("plan --facts", () => {
  it("reads the iface records (only reads) and uses the requested iface", async () => {
    const sim = SimHost.make(simSpec(), { seed: 4 })
    const before = sim.snapshot()
    const r = await runCli(["plan", "--info", "vol.json", "--iface", "iface0", "--facts"], {
      files,
      hostFactory: () => sim.layer
    })
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.stdout)
    expect(plan.iface).toMatchObject({ decision: "use", name: "iface0" })
    expect(plan.commands[0]).toContain("-I iface0")
    expect(SimSnapshot.isEmpty(SimSnapshot.diff(before, sim.snapshot()))).toBe(true)
    const writes = Object.entries(sim.counts()).filter(([op]) =>
      !/list|read|isRunning|initiatorName|interfaces/.test(op)
    )
    expect(writes).toEqual([])
  })
})
