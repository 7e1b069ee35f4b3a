/**
 * Invariant 5 through the CLI: every case of the hand corpus
 * (packages/core/test/fixtures/malformed-connection-info.json), through every
 * command in-process (a host factory that fails if called), and a third of them
 * plus a fuzz of random inputs through the built `brick` binary, give exit 2
 * and ONE JSON error naming exactly the case's field, and no process is
 * spawned: a recording fake iscsiadm is given with
 * --iscsiadm and put on PATH with fake multipathd, multipath and blockdev, and
 * none of them is ever called. The CHAP secret of the input is never printed.
 * (Needs `tsc -b` first, as `pnpm test` does.)
 */
import fc from "fast-check"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { forbiddenHost, runCli } from "./CliHarness.ts"

interface CorpusCase {
  readonly name: string
  readonly set: Record<string, unknown>
  readonly options?: Record<string, unknown>
  readonly field: string
}
const corpus: { base: Record<string, unknown>; cases: ReadonlyArray<CorpusCase> } = JSON.parse(fs.readFileSync(
  fileURLToPath(new URL("../../core/test/fixtures/malformed-connection-info.json", import.meta.url)),
  "utf8"
))
const infoOf = (c: CorpusCase): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...corpus.base }
  for (const [k, v] of Object.entries(c.set)) {
    if (v === null && k !== "target_lun") delete out[k]
    else out[k] = v
  }
  return out
}
const secrets = ["Corpus-S3cret-pw", "Mutual-S3cret", "Disc-S3cret"]

const bin = fileURLToPath(new URL("../dist/src/bin.js", import.meta.url))
let dir: string
let calls: string
let fakeIscsiadm: string

const brick = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env["PATH"] ?? ""}` },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

let n = 0
/** Writes a JSON file in the temp dir, returns its name. */
const file = (value: unknown) => {
  const name = `in-${n++}.json`
  fs.writeFileSync(path.join(dir, name), JSON.stringify(value))
  return name
}

/** The one JSON error object on stderr (fails if there is anything else). */
const oneError = (stderr: string): { error: string; fields: ReadonlyArray<string> } => {
  const lines = stderr.split("\n").filter((l) => l.length > 0)
  expect(lines, stderr).toHaveLength(1)
  return JSON.parse(lines[0]!)
}

beforeAll(() => {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-badinput-"))
  calls = path.join(dir, "calls.log")
  fs.mkdirSync(path.join(dir, "bin"))
  fs.mkdirSync(path.join(dir, "root"))
  for (const tool of ["iscsiadm", "multipathd", "multipath", "blockdev"]) {
    fs.writeFileSync(path.join(dir, "bin", tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\nexit 0\n`, {
      mode: 0o755
    })
  }
  fakeIscsiadm = path.join(dir, "bin", "iscsiadm")
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const hostFlags = () => ["--iscsiadm", fakeIscsiadm, "--root", path.join(dir, "root"), "--log-level", "all"]
const others = ["disconnect", "paths", "plan", "extend"] as const

describe("bad input through brick in-process: every command, exit 2, the field named, no host built", () => {
  it.each(corpus.cases.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const info = infoOf(c)
    for (const wrapped of [false, true]) {
      const files = {
        "info.json": JSON.stringify(wrapped ? { driver_volume_type: "iscsi", data: info } : info),
        "options.json": JSON.stringify(c.options ?? {})
      }
      const optionFlags = c.options === undefined ? ["--multipath"] : ["--options", "options.json"]
      for (const command of ["connect", ...others]) {
        if (command === "extend" && c.options !== undefined) continue
        const r = await runCli([
          command,
          "--info",
          "info.json",
          ...(command === "extend" ? [] : optionFlags),
          "--log-level",
          "all"
        ], {
          files,
          hostFactory: forbiddenHost
        })
        const where = `${command} ${wrapped ? "wrapped" : "bare"}`
        expect(r.code, `${where}: ${r.stderr}`).toBe(2)
        expect(r.stdout).toBe("")
        const e = oneError(r.stderr)
        expect(e.error).toBe("InvalidInput")
        expect(new Set(e.fields), where).toEqual(
          new Set([wrapped && c.options === undefined ? `data.${c.field}` : c.field])
        )
        for (const s of secrets) expect(r.stderr).not.toContain(s)
      }
    }
  })
})

describe.concurrent("bad input through the built brick: exit 2, the field named, nothing spawned", () => {
  // one process per case is slow on a busy machine: every third case (the in-process run covers all)
  it.each(corpus.cases.filter((_, i) => i % 3 === 0).map((c, i) => [c.name, c, i] as const))("%s", async (_, c, i) => {
    const info = infoOf(c)
    const wrapped = i % 2 === 1
    const infoFile = file(wrapped ? { driver_volume_type: "iscsi", data: info } : info)
    const optionFlags = c.options === undefined ? ["--multipath"] : ["--options", file(c.options)]
    const other = c.options === undefined ? others[i % others.length]! : others[i % (others.length - 1)]!
    const runs = [
      await brick([
        i % 2 === 0 ? "connect" : other,
        "--info",
        infoFile,
        ...(other === "extend" && i % 2 === 1 ? [] : optionFlags),
        ...hostFlags()
      ])
    ]
    const expected = wrapped && c.options === undefined ? `data.${c.field}` : c.field
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(2)
      expect(r.stdout).toBe("")
      const e = oneError(r.stderr)
      expect(e.error).toBe("InvalidInput")
      expect(new Set(e.fields)).toEqual(new Set([expected]))
      for (const s of secrets) expect(r.stderr).not.toContain(s)
    }
    expect(fs.existsSync(calls), fs.existsSync(calls) ? fs.readFileSync(calls, "utf8") : "").toBe(false)
  })
})

describe("bad input fuzz through the built brick", () => {
  it("random JSON as connection info: exit 2, InvalidInput naming fields, nothing spawned", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(
            fc.constantFrom(
              "target_portal",
              "target_iqn",
              "target_lun",
              "target_portals",
              "target_iqns",
              "target_luns",
              "auth_method",
              "auth_username"
            ),
            fc.oneof(
              fc.string({ maxLength: 12 }),
              fc.integer(),
              fc.constantFrom("-o", "$(id)", "a b", "../x", -1, 1e9)
            ),
            { minKeys: 1 }
          )
        ),
        fc.constantFrom("connect", "disconnect", "paths"),
        async (input, command) => {
          const r = await brick([command, "--info", file(input), ...hostFlags()])
          expect(r.code, r.stderr).toBe(2)
          const e = oneError(r.stderr)
          expect(e.error).toBe("InvalidInput")
          expect(e.fields.length).toBeGreaterThan(0)
          expect(fs.existsSync(calls)).toBe(false)
        }
      ),
      { numRuns: 8 }
    )
  }, 120_000)
})
