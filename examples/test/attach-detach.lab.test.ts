/**
 * Runs examples/attach-detach on the real kernel (inside the lab guest, as
 * root): a LIO target with two portals, attach with multipath, check the
 * device belongs to the LUN, detach, and the host has no session left.
 * Runs with node's test runner (lab/test.sh); skipped outside the guest.
 */
import * as assert from "node:assert/strict"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

// this file runs compiled, as dist/test/attach-detach.lab.test.js: the example is
// dist/attach-detach.js, or its one-file bundle dist/attach-detach.mjs when that is current
// (scripts/bundle.mjs; ~375 modules over 9p take minutes to load in a loaded guest)
const exampleJs = fileURLToPath(new URL("../attach-detach.js", import.meta.url))
const exampleBundle = fileURLToPath(new URL("../attach-detach.mjs", import.meta.url))
const example = fs.existsSync(exampleBundle) && fs.existsSync(exampleJs) &&
    fs.statSync(exampleBundle).mtimeMs >= fs.statSync(exampleJs).mtimeMs
  ? exampleBundle
  : exampleJs
const iqn = "iqn.2003-01.org.brick:example-attach"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]
let dir: string
let wwn: string

const sessions = (): string => {
  const r = spawnSync("iscsiadm", ["-m", "session"], { encoding: "utf8" })
  return r.status === 0 ? r.stdout : ""
}

const inGuest = fs.existsSync("/sys/kernel/config/target") &&
  spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

const setUp = () => {
  if (!fs.existsSync(example)) throw new Error(`${example} is missing: run \`npx tsc -b\` first`)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-example-"))
  execFileSync("lab-target", ["delete", "--iqn", iqn, "--if-exists"])
  const created = JSON.parse(
    execFileSync("lab-target", ["create", "--iqn", iqn, ...portals.flatMap((p) => ["--portal", p]), "--lun", "0:64M"], {
      encoding: "utf8"
    })
  ) as { luns: ReadonlyArray<{ lun: number; wwn: string }> }
  wwn = created.luns[0]!.wwn
  fs.writeFileSync(
    path.join(dir, "volume.json"),
    JSON.stringify({
      driver_volume_type: "iscsi",
      data: { target_portals: portals, target_iqns: [iqn, iqn], target_luns: [0, 0], volume_id: "example" }
    })
  )
}

describe("examples/attach-detach on the real kernel", { skip: !inGuest }, () => {
  before(setUp)
  after(() => {
    spawnSync("lab-target", ["delete", "--iqn", iqn, "--if-exists"])
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  it("attaches the LUN's multipath device and detaches it, leaving no session", { timeout: 480_000 }, () => {
    assert.equal(sessions(), "")
    const r = spawnSync(process.execPath, [example, path.join(dir, "volume.json"), "--multipath"], {
      encoding: "utf8",
      // a loaded guest takes minutes to load the example's ~400 modules over 9p
      timeout: 420_000
    })
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout) as {
      attached: { path: string; scsi_wwn: string; multipath_id?: string }
      paths: ReadonlyArray<string>
      size: number
      detached: boolean
    }
    assert.match(out.attached.path, /^\/dev\/dm-\d+$/)
    // lab-target prints naa.6001405…; multipath's form is 36001405…
    assert.equal(out.attached.scsi_wwn.slice(1), wwn.replace(/^naa\./, ""))
    assert.equal(out.paths.length, 2)
    assert.equal(out.size, 64 * 1024 * 1024)
    assert.equal(out.detached, true)
    assert.equal(sessions(), "")
  })
})
