/**
 * `brick extend` with a path down, on the real kernel (lab guest, as root),
 * through the built `brick`: the target grows the LUN, a portal is dropped
 * (its session FAILED, its disk `blocked`), and extend fails with
 * ExtendFailed (exit 9), reason PathDown naming the down path, instead of
 * the size from before; once the portal is back, extend returns the new
 * size and the map has it. With 2 paths (multipath) and with one.
 * Also records what the kernel and multipathd do meanwhile: how long a raw
 * `1` to device/rescan of the blocked disk takes, and multipathd's answer to
 * `resize map` with one path grown and the other blocked at the old size.
 * Runs with node's test runner (lab/test.sh); skipped outside the guest.
 */
import * as assert from "node:assert/strict"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { after, before, describe } from "node:test"
import {
  assertHostIs,
  deviceOf,
  errorOf,
  inGuest,
  labTarget,
  makeLab,
  multi,
  normal,
  P,
  sh,
  slavesOf,
  snapshot,
  waitUntil
} from "./labCli.ts"

const T = {
  two: "iqn.2003-01.org.brick:ext-two",
  one: "iqn.2003-01.org.brick:ext-one"
} as const
const MiB = 1024 ** 2
const lab = makeLab("extend")

const read = (file: string) => {
  try {
    return fs.readFileSync(file, "utf8").trim()
  } catch {
    return "(absent)"
  }
}
const hctlOf = (sd: string) => fs.readlinkSync(`/sys/block/${sd}/device`).split("/").pop()!
const deviceState = (sd: string) => read(`/sys/block/${sd}/device/state`)
const bytes = (dev: string) => Number(read(`/sys/class/block/${dev.replace(/^\/dev\//, "")}/size`)) * 512

/**
 * Writes `1` to the disk's rescan file in a child process and waits up to
 * `waitMs` for it: the time it took and how it ended, or that it still runs
 * (the child is left to finish when the path comes back).
 */
const rawRescan = (sd: string, waitMs: number) =>
  new Promise<string>((resolve) => {
    const t0 = Date.now()
    const child = spawn("sh", ["-c", `echo 1 > /sys/block/${sd}/device/rescan`], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    let err = ""
    child.stderr.on("data", (b) => (err += String(b)))
    const timer = setTimeout(() => resolve(`still blocked after ${waitMs} ms`), waitMs)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve(`exit ${code} after ${Date.now() - t0} ms${err.trim() === "" ? "" : `: ${err.trim()}`}`)
    })
  })

/** Drops `portal` and waits until the session through it is FAILED and its disk `sd` blocked. */
const dropAndWait = async (portal: string, sd: string) => {
  lab.portalDown(portal, "reject")
  await waitUntil(`${sd} blocked`, 60, () => deviceState(sd) !== "running")
}
const bringBack = async (portal: string, sd: string) => {
  lab.portalUp(portal)
  await waitUntil(`${sd} running again`, 120, () => deviceState(sd) === "running")
}

describe("extend with a path down, on the real kernel", { skip: !inGuest }, () => {
  before(() => {
    lab.open()
    for (const iqn of Object.values(T)) labTarget("delete", "--iqn", iqn, "--if-exists")
    labTarget("create", "--iqn", T.two, "--portal", P[0], "--portal", P[1], "--lun", "0:16M")
    labTarget("create", "--iqn", T.one, "--portal", P[0], "--lun", "0:16M")
  })
  after(() => {
    lab.close()
    for (const iqn of Object.values(T)) labTarget("delete", "--iqn", iqn, "--if-exists")
  })

  lab.scenario(
    "2 paths, the LUN grown, a portal dropped: PathDown naming it (exit 9); portal back: the new size",
    600_000,
    async (t) => {
      const before = snapshot()
      const vol = lab.info("two.json", multi(T.two, 0, [P[0], P[1]]))
      const connected = await lab.brick("connect", "--info", vol, "--multipath", ...normal)
      const device = deviceOf(connected)
      assert.match(device.path, /^\/dev\/dm-\d+$/)
      // the paths' disks as the connect reported them (udev may not have linked them yet), both in the map
      const diskOf = (portal: string) => {
        const report = device.paths?.find((p) => p.portal === portal)
        assert.ok(report?.device !== undefined, `no disk for ${portal}: ${JSON.stringify(device.paths)}`)
        return report.device.replace("/dev/", "")
      }
      const sd = diskOf(P[0])
      const other = diskOf(P[1])
      await waitUntil("both paths in the map", 60, () => slavesOf(device.path).length === 2)
      labTarget("resize", "--iqn", T.two, "--lun", "0", "--size", String(32 * MiB))
      await dropAndWait(P[0], sd)
      const session = sh(`cat /sys/block/${sd}/device/../../iscsi_session/*/state 2>/dev/null`)
      t.diagnostic(`${sd} (${hctlOf(sd)}) ${deviceState(sd)}, session ${session}`)
      t.diagnostic(`raw rescan of blocked ${sd}: ${await rawRescan(sd, 20_000)}`)

      const r = await lab.brick("extend", "--info", vol, "--log-level", "debug")
      t.diagnostic(`extend with ${sd} down: exit ${r.code} in ${r.ms} ms: ${r.stderr.trim().split("\n").pop()}`)
      assert.equal(r.code, 9, r.stderr.slice(-3000))
      const e = errorOf(r)
      assert.equal(e["kind"], "ExtendFailed")
      const reason = e["reason"] as { _tag: string; down: Array<{ device: string; hctl: string; state: string }> }
      assert.equal(reason._tag, "PathDown")
      assert.deepEqual(reason.down.map((p) => [p.device, p.hctl]), [[sd, hctlOf(sd)]])
      assert.notEqual(reason.down[0]!.state, "running")
      assert.match(String(e["message"]), new RegExp(`${sd}.*down`))
      assert.equal(bytes(device.path), 16 * MiB, "the map is left as it was")

      // what multipathd 0.9.4 answers with one path grown and the other blocked at the old size
      sh(`echo 1 > /sys/block/${other}/device/rescan`)
      const name = read(`/sys/block/${device.path.replace("/dev/", "")}/dm/name`)
      const answer = sh(`multipathd resize map ${name} 2>&1`)
      t.diagnostic(
        `paths ${sd} ${bytes(sd)} (${deviceState(sd)}), ${other} ${bytes(other)}; multipathd resize map: ${
          JSON.stringify(answer)
        }; map ${bytes(device.path)} bytes after`
      )

      await bringBack(P[0], sd)
      const again = await lab.brick("extend", "--info", vol, "--log-level", "debug")
      assert.equal(again.code, 0, again.stderr.slice(-3000))
      assert.deepEqual(JSON.parse(again.stdout), { size: 32 * MiB })
      assert.equal(bytes(device.path), 32 * MiB)
      assert.equal(bytes(sd), 32 * MiB)
      const off = await lab.disconnect(vol, connected)
      assert.equal(off.code, 0, off.stderr.slice(-3000))
      await assertHostIs(before, "after the 2-path extend")
    }
  )

  lab.scenario(
    "a single path, the LUN grown, its portal dropped: PathDown (exit 9); portal back: the new size",
    600_000,
    async (t) => {
      const before = snapshot()
      const vol = lab.info("one.json", {
        target_portal: P[0],
        target_iqn: T.one,
        target_lun: 0
      })
      const connected = await lab.brick("connect", "--info", vol, ...normal)
      const device = deviceOf(connected)
      const sd = device.path.replace("/dev/", "")
      labTarget("resize", "--iqn", T.one, "--lun", "0", "--size", String(24 * MiB))
      await dropAndWait(P[0], sd)
      const r = await lab.brick("extend", "--info", vol, "--log-level", "debug")
      t.diagnostic(`extend with ${sd} down: exit ${r.code} in ${r.ms} ms: ${r.stderr.trim().split("\n").pop()}`)
      assert.equal(r.code, 9, r.stderr.slice(-3000))
      const reason = errorOf(r)["reason"] as { _tag: string; down: Array<{ device: string; size: number }> }
      assert.equal(reason._tag, "PathDown")
      assert.deepEqual(reason.down.map((p) => [p.device, p.size]), [[sd, 16 * MiB]])

      await bringBack(P[0], sd)
      const again = await lab.brick("extend", "--info", vol, "--log-level", "debug")
      assert.equal(again.code, 0, again.stderr.slice(-3000))
      assert.deepEqual(JSON.parse(again.stdout), { size: 24 * MiB })
      const off = await lab.disconnect(vol, connected)
      assert.equal(off.code, 0, off.stderr.slice(-3000))
      await assertHostIs(before, "after the single-path extend")
    }
  )
})
