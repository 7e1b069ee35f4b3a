/**
 * The built `brick` executable as a real child process: malformed input is
 * refused before any host layer exists, so a fake iscsiadm that records its
 * calls records nothing; the error is exactly one JSON object on stderr.
 * (Needs `tsc -b` first, as `pnpm test` does.)
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const bin = fileURLToPath(new URL("../dist/src/bin.js", import.meta.url))
let dir: string
let fake: string
let calls: string

const brick = (args: ReadonlyArray<string>, input?: string) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    input: input ?? "",
    encoding: "utf8",
    timeout: 30_000
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const oneJsonObject = (stderr: string): Record<string, unknown> => {
  const lines = stderr.split("\n").filter((l) => l.length > 0)
  expect(lines).toHaveLength(1)
  const parsed = JSON.parse(lines[0]!) as unknown
  expect(typeof parsed).toBe("object")
  return parsed as Record<string, unknown>
}

const password = "Very-S3cret-Chap"

beforeAll(() => {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-bin-"))
  calls = path.join(dir, "calls.log")
  fake = path.join(dir, "fake-iscsiadm")
  fs.writeFileSync(fake, `#!/bin/sh\necho "$@" >> '${calls}'\nexit 0\n`, { mode: 0o755 })
  fs.writeFileSync(
    path.join(dir, "bad.json"),
    JSON.stringify({
      target_portal: "10.99.0.1:3260",
      target_iqn: "iqn.2003-01.org.linux-iscsi.lab:vol1",
      target_lun: 70000,
      auth_method: "CHAP",
      auth_username: "u",
      auth_password: password
    })
  )
  fs.mkdirSync(path.join(dir, "root"))
})

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe("brick (built, as a child process)", () => {
  it("plan --info bad.json: exit 2, one JSON object naming the field, no stack", () => {
    const r = brick(["plan", "--info", "bad.json"])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe("")
    const e = oneJsonObject(r.stderr)
    expect(e).toMatchObject({ error: "InvalidInput", kind: "InvalidInput", fields: ["target_lun"] })
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stderr).not.toContain(password)
  })

  it("connect --info bad.json --iscsiadm FAKE: the same, and the fake recorded nothing", () => {
    const r = brick(["connect", "--info", "bad.json", "--iscsiadm", fake, "--root", path.join(dir, "root")])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe("")
    const e = oneJsonObject(r.stderr)
    expect(e).toMatchObject({ error: "InvalidInput", fields: ["target_lun"] })
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stderr).not.toContain(password)
    expect(fs.existsSync(calls)).toBe(false)
  })

  it("connect with malformed JSON on stdin: exit 2, the fake recorded nothing", () => {
    const r = brick(["connect", "--info", "-", "--iscsiadm", fake], `{"auth_password": "${password}"`)
    expect(r.code).toBe(2)
    const e = oneJsonObject(r.stderr)
    expect(e["fields"]).toEqual(["(input)"])
    expect(r.stderr).not.toContain(password)
    expect(fs.existsSync(calls)).toBe(false)
  })

  it("an unknown flag: exit 64, one JSON object", () => {
    const r = brick(["connect", "--info", "bad.json", "--frobnicate"])
    expect(r.code).toBe(64)
    expect(oneJsonObject(r.stderr)).toMatchObject({ error: "UsageError" })
    expect(fs.existsSync(calls)).toBe(false)
  })

  it("--help: exit 0, nothing on stderr", () => {
    const r = brick(["connect", "--help"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("brick connect")
    expect(r.stderr).toBe("")
  })

  it("new node records: written and removed by brick on the host's own iscsiadm; --iscsiadm-records uses -o new, -o update, -o delete", () => {
    // a Debian-layout root, `iscsiadm` on PATH (a fake whose logins fail: exit 24), no sessions
    const root = path.join(dir, "debian-root")
    fs.mkdirSync(path.join(root, "etc/iscsi"), { recursive: true })
    fs.mkdirSync(path.join(root, "sys/class/iscsi_session"), { recursive: true })
    fs.writeFileSync(path.join(root, "etc/iscsi/iscsid.conf"), "node.session.timeo.replacement_timeout = 120\n")
    const tools = path.join(dir, "tools")
    const log = path.join(dir, "own-iscsiadm.log")
    fs.mkdirSync(tools, { recursive: true })
    const record = path.join(root, "etc/iscsi/nodes/iqn.2003-01.org.linux-iscsi.lab:vol9/10.99.0.1,3260")
    const seen = path.join(dir, "record-at-login")
    // at login the fake keeps a copy of the record it would log in with
    fs.writeFileSync(
      path.join(tools, "iscsiadm"),
      `#!/bin/sh\necho "$@" >> '${log}'\ncase "$*" in *--login*) cp '${record}' '${seen}' 2>/dev/null; exit 24;; esac\nexit 0\n`,
      { mode: 0o755 }
    )
    const info = JSON.stringify({
      target_portal: "10.99.0.1:3260",
      target_iqn: "iqn.2003-01.org.linux-iscsi.lab:vol9",
      target_lun: 0
    })
    const run = (extra: ReadonlyArray<string>) => {
      fs.rmSync(log, { force: true })
      const r = spawnSync(process.execPath, [bin, "connect", "--info", "-", "--root", root, ...extra], {
        cwd: dir,
        input: info,
        encoding: "utf8",
        timeout: 30_000,
        env: { ...process.env, PATH: `${tools}:${process.env.PATH}` }
      })
      return { code: r.status, calls: fs.readFileSync(log, "utf8").split("\n").filter((l) => l !== "") }
    }

    // the failed connect's undo removes the record it wrote, also without iscsiadm
    const direct = run([])
    expect(direct.code).not.toBe(0)
    expect(direct.calls.map((c) => c.split(" ").at(-1))).toEqual(["--login"])
    expect(fs.readFileSync(seen, "utf8")).toMatch(/^node\.session\.timeo\.replacement_timeout = 120$/m)
    expect(fs.existsSync(record)).toBe(false)
    fs.rmSync(seen)

    const viaIscsiadm = run(["--iscsiadm-records"])
    expect(viaIscsiadm.code).toBe(direct.code)
    expect(
      viaIscsiadm.calls.filter((c) => / -o (new|update)$| -o update /.test(c)).map((
        c
      ) => (c.includes("-o new") ? "new" : "update"))
    )
      .toEqual(["new", "update"])
    expect(viaIscsiadm.calls.some((c) => c.endsWith("-o delete"))).toBe(true)
    expect(fs.existsSync(seen)).toBe(false) // the fake's `-o new` made no record
  })
})
