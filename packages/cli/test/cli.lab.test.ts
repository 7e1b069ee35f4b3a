/**
 * The built `brick` command on the real kernel (inside the lab guest, as
 * root): connect with multipath and CHAP, paths, extend after the target
 * grew the LUN, disconnect, and a refused CHAP password — checking stdout
 * JSON, exit codes, and that the host is clean and no secret was printed.
 * Runs with node's test runner (lab/test.sh); skipped outside the guest.
 */
import * as assert from "node:assert/strict"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import * as StartupSnapshot from "../src/internal/StartupSnapshot.ts"

// this file runs compiled, as dist/test/cli.lab.test.js: the CLI is dist/src/bin.js, or its
// one-file bundle dist/brick.mjs when that is current (375 modules over 9p take minutes to load
// in a loaded guest)
const binJs = fileURLToPath(new URL("../src/bin.js", import.meta.url))
const bundle = fileURLToPath(new URL("../brick.mjs", import.meta.url))
const bin = fs.existsSync(bundle) && fs.existsSync(binJs) && fs.statSync(bundle).mtimeMs >= fs.statSync(binJs).mtimeMs
  ? bundle
  : binJs
const iqn = "iqn.2003-01.org.brick:cli-lab"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]
const password = "Lab-Chap-S3cret-1"
let dir: string
let wwn: string

type Brick = (...args: ReadonlyArray<string>) => { code: number | null; stdout: string; stderr: string }
/** `brick` run as `node BIN ARGS`, or as the executable bundle (its shell prologue first) with `executable`. */
const brickBy = (executable: boolean): Brick => (...args) => {
  const [command, argv] = executable ? [bundle, args] : [process.execPath, [bin, ...args]]
  const r = spawnSync(command, argv, { cwd: dir, encoding: "utf8", timeout: 300_000 })
  assert.ok(!(r.stdout + r.stderr).includes(password), "the CHAP password was printed")
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const brick = brickBy(false)
/** Where the bundle keeps its startup snapshots here. */
const snapshotDir = StartupSnapshot.directory()
const snapshotsBuilt = () =>
  snapshotDir !== undefined && fs.existsSync(snapshotDir)
    ? fs.readdirSync(snapshotDir).filter((f) => /^snapshot-.*\.blob$/.test(f))
    : []
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

const inGuest = fs.existsSync("/sys/kernel/config/target") &&
  spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

const setUp = () => {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-cli-lab-"))
  execFileSync("lab-target", ["delete", "--iqn", iqn, "--if-exists"])
  const created = JSON.parse(
    execFileSync("lab-target", [
      "create",
      "--iqn",
      iqn,
      ...portals.flatMap((p) => ["--portal", p]),
      "--lun",
      "0:64M",
      "--chap-user",
      "brick",
      "--chap-password",
      password
    ], { encoding: "utf8" })
  ) as { luns: ReadonlyArray<{ lun: number; wwn: string }> }
  wwn = created.luns[0]!.wwn
  fs.writeFileSync(path.join(dir, "vol.json"), JSON.stringify(volume(password)))
  fs.writeFileSync(path.join(dir, "wrong.json"), JSON.stringify(volume("Not-The-Password-9")))
}

describe("brick on the real kernel", { skip: !inGuest }, () => {
  before(setUp)
  after(() => {
    spawnSync("lab-target", ["delete", "--iqn", iqn, "--if-exists"])
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  /** connect, paths, extend (the LUN grown to `grown` MiB), disconnect, through `brick`. */
  const cycle = (brick: Brick, grown: number) => {
    assert.equal(sessions(), "")
    const c = brick("connect", "--info", "vol.json", "--multipath")
    assert.equal(c.code, 0, c.stderr)
    const device = JSON.parse(c.stdout) as { path: string; scsi_wwn: string; multipath_id?: string }
    assert.match(device.path, /^\/dev\/dm-\d+$/)
    assert.equal(device.scsi_wwn.slice(1), wwn.replace(/^naa\./, ""))
    fs.writeFileSync(path.join(dir, "device.json"), c.stdout)
    assert.equal(sessions().trim().split("\n").length, 2)

    const p = brick("paths", "--info", "vol.json", "--multipath")
    assert.equal(p.code, 0, p.stderr)
    for (const link of JSON.parse(p.stdout) as Array<string>) assert.ok(fs.existsSync(link), link)

    execFileSync("lab-target", ["resize", "--iqn", iqn, "--lun", "0", "--size", `${grown}M`])
    const e = brick("extend", "--info", "vol.json")
    assert.equal(e.code, 0, e.stderr)
    assert.deepEqual(JSON.parse(e.stdout), { size: grown * 1024 * 1024 })

    const d = brick("disconnect", "--info", "vol.json", "--device", "device.json", "--multipath")
    assert.equal(d.code, 0, d.stderr)
    assert.deepEqual(JSON.parse(d.stdout), { disconnected: true })
    assert.equal(sessions(), "")
    assert.equal(fs.existsSync(device.path), false)
  }

  it("connect, paths, extend, disconnect", { timeout: 600_000 }, () => cycle(brick, 128))

  it("the executable bundle builds its startup snapshot here and runs connect, paths, extend, disconnect from it", {
    timeout: 600_000,
    skip: bin === bundle ? false : "needs the one-file bundle (dist/brick.mjs), current"
  }, async () => {
    const executable = brickBy(true)
    assert.equal(executable("--version").code, 0)
    const deadline = Date.now() + 240_000
    while (snapshotsBuilt().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500))
    assert.notDeepEqual(snapshotsBuilt(), [], `no startup snapshot in ${snapshotDir}`)
    const traced = spawnSync("sh", ["-x", bundle, "--version"], { encoding: "utf8" })
    const execLine = traced.stderr.split("\n").find((l) => l.startsWith("+ exec ")) ?? ""
    assert.match(execLine, /--snapshot-blob \S+\/snapshot-[0-9a-f]+-\S+\.blob -- --version$/)
    assert.equal(traced.stdout, brick("--version").stdout)
    cycle(executable, 192)
  })

  it("a refused CHAP password exits 4 with one JSON error and leaves nothing", { timeout: 600_000 }, () => {
    const c = brick("connect", "--info", "wrong.json", "--multipath", "--log-level", "none")
    assert.equal(c.code, 4, c.stderr)
    const lines = c.stderr.trim().split("\n")
    assert.equal(lines.length, 1)
    const report = JSON.parse(lines[0]!) as Record<string, unknown>
    assert.deepEqual({ error: report["error"], kind: report["kind"] }, {
      error: "ConnectError",
      kind: "AuthenticationFailed"
    })
    assert.ok(!c.stderr.includes("Not-The-Password-9"))
    assert.equal(sessions(), "")
  })
})
