/**
 * The built `brick` command on the real kernel (inside the lab guest, as
 * root): connect with multipath and CHAP, paths, extend after the target
 * grew the LUN, disconnect, and a refused CHAP password — checking stdout
 * JSON, exit codes, and that the host is clean and no secret was printed.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const bin = fileURLToPath(new URL("../dist/src/bin.js", import.meta.url))
const iqn = "iqn.2003-01.org.brick:cli-lab"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]
const password = "Lab-Chap-S3cret-1"
let dir: string
let wwn: string

const brick = (...args: ReadonlyArray<string>) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: "utf8", timeout: 180_000 })
  expect(r.stdout + r.stderr).not.toContain(password)
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const sessions = (): string => {
  const r = spawnSync("iscsiadm", ["-m", "session"], { encoding: "utf8" })
  return r.status === 0 ? r.stdout : ""
}
const volume = (auth_password: string) => ({
  driver_volume_type: "iscsi",
  data: {
    target_portals: portals,
    target_iqns: [iqn, iqn],
    target_luns: [0, 0],
    auth_method: "CHAP",
    auth_username: "brick",
    auth_password,
    volume_id: "cli-lab"
  }
})

beforeAll(() => {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-cli-lab-"))
  execFileSync("lab-target", ["delete", "--iqn", iqn, "--if-exists"])
  const created = JSON.parse(
    execFileSync("lab-target", [
      "create", "--iqn", iqn, ...portals.flatMap((p) => ["--portal", p]), "--lun", "0:64M",
      "--chap-user", "brick", "--chap-password", password
    ], { encoding: "utf8" })
  ) as { luns: ReadonlyArray<{ lun: number; wwn: string }> }
  wwn = created.luns[0]!.wwn
  fs.writeFileSync(path.join(dir, "vol.json"), JSON.stringify(volume(password)))
  fs.writeFileSync(path.join(dir, "wrong.json"), JSON.stringify(volume("Not-The-Password-9")))
}, 60_000)

afterAll(() => {
  spawnSync("lab-target", ["delete", "--iqn", iqn, "--if-exists"])
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

describe("brick on the real kernel", () => {
  it("connect, paths, extend, disconnect", () => {
    expect(sessions()).toBe("")
    const c = brick("connect", "--info", "vol.json", "--multipath")
    expect(c.code, c.stderr).toBe(0)
    const device = JSON.parse(c.stdout) as { path: string; scsi_wwn: string; multipath_id?: string }
    expect(device.path).toMatch(/^\/dev\/dm-\d+$/)
    expect(device.scsi_wwn.slice(1)).toBe(wwn.replace(/^naa\./, ""))
    fs.writeFileSync(path.join(dir, "device.json"), c.stdout)
    expect(sessions().trim().split("\n")).toHaveLength(2)

    const p = brick("paths", "--info", "vol.json", "--multipath")
    expect(p.code, p.stderr).toBe(0)
    for (const link of JSON.parse(p.stdout) as Array<string>) expect(fs.existsSync(link)).toBe(true)

    execFileSync("lab-target", ["resize", "--iqn", iqn, "--lun", "0", "--size", "128M"])
    const e = brick("extend", "--info", "vol.json")
    expect(e.code, e.stderr).toBe(0)
    expect(JSON.parse(e.stdout)).toEqual({ size: 128 * 1024 * 1024 })

    const d = brick("disconnect", "--info", "vol.json", "--device", "device.json", "--multipath")
    expect(d.code, d.stderr).toBe(0)
    expect(JSON.parse(d.stdout)).toEqual({ disconnected: true })
    expect(sessions()).toBe("")
    expect(fs.existsSync(device.path)).toBe(false)
  }, 300_000)

  it("a refused CHAP password exits 4 with one JSON error and leaves nothing", () => {
    const c = brick("connect", "--info", "wrong.json", "--multipath", "--log-level", "none")
    expect(c.code).toBe(4)
    const lines = c.stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ error: "ConnectError", kind: "AuthenticationFailed" })
    expect(c.stderr).not.toContain("Not-The-Password-9")
    expect(sessions()).toBe("")
  }, 300_000)
})
