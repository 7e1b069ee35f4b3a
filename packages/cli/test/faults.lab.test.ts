/**
 * The invariants where they are hardest, on the real kernel (lab guest, as
 * root), through the built `brick` command: a portal dying in the middle of
 * a multipath connect, every portal dead or refusing, a LUN not exported, a
 * wrong CHAP secret, 8 concurrent connects/disconnects on shared targets, a
 * connect SIGKILLed half way, the whole target going away and coming back
 * while attached, and a LUN number reused for other storage. Each scenario
 * takes a whole-host snapshot (sessions, node DB, SCSI devices, block
 * devices, dm maps, by-path links, brick's lock files) before and compares it
 * after. Runs with node's test runner (lab/test.sh); skipped outside the guest.
 */
import * as assert from "node:assert/strict"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import {
  assertHostIs,
  bin,
  binNote,
  brickRunner,
  byPathDevice,
  cleanupAll,
  deviceOf,
  errorOf,
  fast,
  inGuest,
  labTarget,
  multi,
  normal,
  portalDown,
  portalUp,
  type Run,
  scsiWwn,
  sessionsOf,
  sessionStates,
  sh,
  slavesOf,
  snapshot,
  waitUntil
} from "./LabHost.ts"

const P = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"] as const
const TA = "iqn.2003-01.org.brick:faults-a"
const TB = "iqn.2003-01.org.brick:faults-b"
const TC = "iqn.2003-01.org.brick:faults-chap"
const chapPassword = "Faults-Chap-S3cret-7"
const serialA = "0a1b2c3d-1111-4222-8333-444455556666"
const serialB = "9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff"
let dir: string
const wwns = new Map<string, string>()

// ------------------------------------------------------------------ helpers

const { start, brick, info, disconnect } = brickRunner({ workDir: () => dir, logName: "faults-logs" })

/** No secret in anything brick printed. */
const noSecret = (r: Run, ...secrets: ReadonlyArray<string>) => {
  for (const s of secrets) assert.ok(!(r.stdout + r.stderr).includes(s), `a secret was printed: ${s}`)
}
/** No error-level log line, and nothing from iscsiadm's node database, leaked to stderr. */
const noDbErrors = (r: Run) => {
  for (const line of r.stderr.split("\n").filter((l) => l.trim() !== "")) {
    assert.doesNotMatch(line, /database|Could not (?:read|write|lock)|exit 6\b|"level":"(?:ERROR|FATAL)"/i, line)
  }
}

/** Deletes every sendtargets discovery record. */
const dropDiscoveryRecords = () =>
  spawnSync("sh", [
    "-c",
    `for p in /etc/iscsi/send_targets/*,*; do [ -e "$p" ] && iscsiadm -m discoverydb -t st -p "$(basename "$p" | tr , :)" -o delete; done; true`
  ], { encoding: "utf8", timeout: 60_000 })

/** BRICK_FAULTS_ONLY=a,b runs only the scenarios whose name contains a or b (BRICK_* reach the guest). */
const only = (process.env["BRICK_FAULTS_ONLY"] ?? "").split(",").filter((x) => x !== "")
const selected = (name: string) => only.length === 0 || only.some((o) => name.includes(o))

/** A scenario: a test that leaves a clean host behind even when it fails. */
const scenario = (name: string, timeout: number, body: (t: { diagnostic: (s: string) => void }) => Promise<void>) =>
  it(name, { timeout, skip: !selected(name) }, async (t) => {
    try {
      await body(t)
    } catch (e) {
      t.diagnostic(`failed; host before cleanup: ${JSON.stringify(snapshot())}`)
      cleanupAll()
      throw e
    }
  })

// ------------------------------------------------------------------ scenarios

describe("fault scenarios on the real kernel", { skip: !inGuest }, () => {
  before(() => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`)
    console.error(`[faults] ${binNote()}`)
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-faults-"))
    for (const iqn of [TA, TB, TC]) labTarget("delete", "--iqn", iqn, "--if-exists")
    const a = JSON.parse(
      labTarget(
        "create",
        "--iqn",
        TA,
        ...P.flatMap((p) => ["--portal", p]),
        "--lun",
        "0:16M",
        "--lun",
        "1:16M",
        "--lun",
        "2:16M",
        "--lun",
        "3:16M"
      )
    )
    const b = JSON.parse(
      labTarget(
        "create",
        "--iqn",
        TB,
        "--portal",
        P[0],
        "--portal",
        P[1],
        "--lun",
        "0:16M",
        "--lun",
        "1:16M",
        "--lun",
        "2:16M",
        "--lun",
        "3:16M",
        "--serial",
        `3:${serialA}`
      )
    )
    const c = JSON.parse(
      labTarget(
        "create",
        "--iqn",
        TC,
        "--portal",
        P[0],
        "--lun",
        "0:16M",
        "--chap-user",
        "brick",
        "--chap-password",
        chapPassword
      )
    )
    for (const [iqn, t] of [[TA, a], [TB, b], [TC, c]] as const) {
      for (const l of t.luns as ReadonlyArray<{ lun: number; wwn: string }>) wwns.set(`${iqn}/${l.lun}`, l.wwn)
    }
  })
  after(() => {
    cleanupAll()
    for (const iqn of [TA, TB, TC]) spawnSync("lab-target", ["delete", "--iqn", iqn, "--if-exists"])
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  scenario(
    "a portal dies in the middle of a multipath connect: the dm with the remaining paths; after disconnect nothing of the dead path remains",
    240_000,
    async (t) => {
      const before = snapshot()
      const vol = info("mid.json", multi(TA, 0, P))
      const connect = start(["connect", "--info", vol, "--multipath", ...normal])
      // the moment the first session of the target exists, the third portal goes dark
      await waitUntil("a first session", 60, () => sessionsOf(TA).length > 0)
      portalDown(P[2], "drop")
      const r = await connect.done
      const device = deviceOf(r)
      t.diagnostic(`connect ${r.ms} ms, sessions when it returned: ${sessionsOf(TA).length}`)
      assert.match(device.path, /^\/dev\/dm-\d+$/)
      assert.equal(device.scsi_wwn, scsiWwn(wwns.get(`${TA}/0`)!))
      const slaves = slavesOf(device.path)
      for (const p of [P[0], P[1]]) {
        const sd = byPathDevice(p, TA, 0)
        assert.ok(
          sd !== undefined && slaves.includes(sd),
          `the path through ${p} (${sd}) is in the map ${slaves.join(",")}`
        )
      }
      const d = await disconnect(vol, r)
      assert.equal(d.code, 0, d.stderr.slice(-4000))
      t.diagnostic(`disconnect ${d.ms} ms`)
      // before the portal comes back: no session, record, device or link of the dead path
      await assertHostIs(before, "after disconnect, portal still down")
      assert.doesNotMatch(
        sh("iscsiadm -m session 2>/dev/null; ls -R /etc/iscsi/nodes 2>/dev/null; ls /dev/disk/by-path 2>/dev/null"),
        /10\.99\.0\.3/
      )
      portalUp(P[2])
    }
  )

  for (const mode of ["drop", "reject"] as const) {
    scenario(
      `every portal ${
        mode === "drop" ? "dead (packets dropped)" : "refusing (RST)"
      }: a typed LoginFailed in bounded time, host unchanged`,
      240_000,
      async (t) => {
        const before = snapshot()
        for (const p of [P[0], P[1]]) portalDown(p, mode)
        try {
          const r = await brick(
            "connect",
            "--info",
            info(`dead-${mode}.json`, multi(TA, 1, [P[0], P[1]])),
            "--multipath",
            ...fast
          )
          t.diagnostic(`failed after ${r.ms} ms`)
          assert.equal(r.code, 3, r.stderr.slice(-4000))
          assert.equal(r.stdout, "")
          assert.equal(errorOf(r)["kind"], "LoginFailed")
          assert.ok(r.ms < 90_000, `took ${r.ms} ms`)
          await assertHostIs(before, `all portals ${mode}`)
        } finally {
          for (const p of [P[0], P[1]]) portalUp(p)
        }
      }
    )
  }

  scenario("the LUN is not exported: a typed DeviceNotFound, host unchanged", 240_000, async (t) => {
    const before = snapshot()
    const r = await brick("connect", "--info", info("nolun.json", multi(TA, 9, [P[0], P[1]])), "--multipath", ...fast)
    t.diagnostic(`failed after ${r.ms} ms`)
    assert.equal(r.code, 5, r.stderr.slice(-4000))
    assert.equal(errorOf(r)["kind"], "DeviceNotFound")
    await assertHostIs(before, "LUN not exported")
  })

  /** The sendtargets discovery records the wrong-CHAP scenario's multipath connect left (checked by the test below). */
  let discoveryLeftovers = ""
  scenario(
    "a wrong CHAP secret: a typed AuthenticationFailed, host unchanged, the secret nowhere",
    240_000,
    async (_t) => {
      // start without any discovery record (another tool's would hide brick's)
      dropDiscoveryRecords()
      const before = snapshot()
      const wrong = "Wrong-S3cret-Faults-42"
      const vol = info("wrongchap.json", {
        target_portal: P[0],
        target_iqn: TC,
        target_lun: 0,
        auth_method: "CHAP",
        auth_username: "brick",
        auth_password: wrong
      })
      // single path (node record + login), then multipath from one portal (sendtargets discovery first)
      for (const flags of [[], ["--multipath"]]) {
        const r = await brick("connect", "--info", vol, ...flags, ...fast)
        assert.equal(r.code, 4, r.stderr.slice(-4000))
        assert.equal(errorOf(r)["kind"], "AuthenticationFailed")
        assert.ok(r.stderr.split("\n").length > 3, "debug logs were captured")
        noSecret(r, wrong, chapPassword)
        if (flags.length > 0) discoveryLeftovers = sh("find /etc/iscsi/send_targets -mindepth 1 2>/dev/null | sort")
        await assertHostIs(before, `wrong CHAP ${flags.join(" ")}`)
      }
      assert.equal(sh(`grep -rl -- '${wrong}' /etc/iscsi /run/brick 2>/dev/null`), "")
    }
  )

  it("a failed connect that ran sendtargets discovery leaves no discovery record (/etc/iscsi/send_targets/<portal>)", {
    skip: !selected("wrong CHAP")
  }, () => {
    assert.equal(discoveryLeftovers, "")
  })

  scenario(
    "brick SIGKILLed in the middle of a connect: the same connect again returns the same device; disconnect leaves a clean host",
    300_000,
    async (t) => {
      const before = snapshot()
      const vol = info("killed.json", multi(TB, 0, [P[0], P[1]]))
      const first = start(["connect", "--info", vol, "--multipath", ...normal])
      await waitUntil("a first session", 60, () => sessionsOf(TB).length > 0)
      first.child.kill("SIGKILL")
      const killed = await first.done
      assert.equal(killed.signal, "SIGKILL")
      t.diagnostic(`killed after ${killed.ms} ms with ${sessionsOf(TB).length} session(s)`)
      const again = await brick("connect", "--info", vol, "--multipath", ...normal)
      const device = deviceOf(again)
      assert.equal(device.scsi_wwn, scsiWwn(wwns.get(`${TB}/0`)!))
      assert.match(device.path, /^\/dev\/dm-\d+$/)
      const third = deviceOf(await brick("connect", "--info", vol, "--multipath", ...normal))
      assert.deepEqual({ path: third.path, wwn: third.scsi_wwn }, { path: device.path, wwn: device.scsi_wwn })
      const d = await disconnect(vol, again)
      assert.equal(d.code, 0, d.stderr.slice(-4000))
      await assertHostIs(before, "after the killed connect, reconnect and disconnect")
    }
  )

  scenario(
    "the target goes away and comes back while attached: the multipath device survives; detach works",
    300_000,
    async (t) => {
      const before = snapshot()
      const vol = info("away.json", multi(TA, 2, [P[0], P[1]]))
      const r = await brick("connect", "--info", vol, "--multipath", ...normal)
      const device = deviceOf(r)
      const uuid = fs.readFileSync(`/sys/block/${path.basename(device.path)}/dm/uuid`, "utf8").trim()
      const t0 = Date.now()
      for (const p of [P[0], P[1]]) portalDown(p, "drop")
      await waitUntil("both sessions FAILED", 60, () => sessionStates(TA).every((s) => s !== "LOGGED_IN"))
      t.diagnostic(`sessions failed ${Date.now() - t0} ms after portal-down`)
      assert.ok(fs.existsSync(device.path), "the dm device is still there while every path is down")
      for (const p of [P[0], P[1]]) portalUp(p)
      await waitUntil(
        "both sessions LOGGED_IN again",
        120,
        () => sessionStates(TA).length === 2 && sessionStates(TA).every((s) => s === "LOGGED_IN")
      )
      t.diagnostic(`sessions back ${Date.now() - t0} ms after portal-down`)
      assert.equal(
        fs.readFileSync(`/sys/block/${path.basename(device.path)}/dm/uuid`, "utf8").trim(),
        uuid,
        "the same map"
      )
      const read = spawnSync("timeout", [
        "30",
        "dd",
        `if=${device.path}`,
        "of=/dev/null",
        "bs=4096",
        "count=16",
        "iflag=direct"
      ], { encoding: "utf8" })
      assert.equal(read.status, 0, `reading the map after the target came back: ${read.stderr}`)
      const d = await disconnect(vol, r)
      assert.equal(d.code, 0, d.stderr.slice(-4000))
      await assertHostIs(before, "after the target came back and the volume was detached")
    }
  )

  scenario(
    "LUN number reuse: detach LUN 3, the target puts other storage at LUN 3, attach: the new WWN, never a stale device",
    300_000,
    async (_t) => {
      const before = snapshot()
      const vol = info("reuse.json", multi(TB, 3, [P[0], P[1]]))
      const oldWwn = JSON.parse(labTarget("wwn", "--serial", serialA)).wwn as string
      const newWwn = JSON.parse(labTarget("wwn", "--serial", serialB)).wwn as string
      assert.equal(oldWwn, wwns.get(`${TB}/3`))
      const first = await brick("connect", "--info", vol, "--multipath", ...normal)
      const d1 = deviceOf(first)
      assert.equal(d1.scsi_wwn, scsiWwn(oldWwn))
      const off = await disconnect(vol, first)
      assert.equal(off.code, 0, off.stderr.slice(-3000))
      labTarget("remove-lun", "--iqn", TB, "--lun", "3")
      labTarget("add-lun", "--iqn", TB, "--lun", "3:32M", "--serial", `3:${serialB}`)
      wwns.set(`${TB}/3`, newWwn) // the LUN the later scenarios find at TB/3 now
      const second = await brick("connect", "--info", vol, "--multipath", ...normal)
      const d2 = deviceOf(second)
      assert.equal(d2.scsi_wwn, scsiWwn(newWwn))
      assert.notEqual(d2.scsi_wwn, d1.scsi_wwn)
      for (const sd of slavesOf(d2.path)) {
        assert.equal(fs.readFileSync(`/sys/block/${sd}/device/wwid`, "utf8").trim(), newWwn, `${sd} is the new storage`)
      }
      assert.equal(
        Number(fs.readFileSync(`/sys/block/${path.basename(d2.path)}/size`, "utf8").trim()) * 512,
        32 * 1024 * 1024
      )
      const off2 = await disconnect(vol, second)
      assert.equal(off2.code, 0, off2.stderr.slice(-3000))
      await assertHostIs(before, "after LUN reuse")
    }
  )
  scenario(
    "8 brick connects at once (8 LUNs, 2 shared targets), then 8 disconnects at once: all succeed, no node-DB error, host clean",
    1_300_000,
    async (t) => {
      const before = snapshot()
      const luns = [TA, TB].flatMap((iqn) =>
        [0, 1, 2, 3].map((lun) => ({
          iqn,
          lun,
          file: info(`c-${iqn.slice(-1)}${lun}.json`, multi(iqn, lun, [P[0], P[1]]))
        }))
      )
      // 8 processes at once on a 2-vCPU emulated guest: iscsiadm calls take seconds each (its node-DB lock),
      // so the login timeout is a realistic one here, not the low one of the failure scenarios
      const concurrent = [
        "--login-timeout",
        "30",
        "--lock-timeout",
        "600",
        "--multipath-timeout",
        "60",
        "--log-level",
        "debug"
      ]
      const connects = await Promise.all(
        luns.map((l) => start(["connect", "--info", l.file, "--multipath", ...concurrent], 600_000).done)
      )
      t.diagnostic(`connects: ${connects.map((r) => r.ms).join(", ")} ms`)
      const devices = connects.map(deviceOf)
      devices.forEach((d, i) => {
        assert.equal(d.scsi_wwn, scsiWwn(wwns.get(`${luns[i]!.iqn}/${luns[i]!.lun}`)!))
        assert.match(d.path, /^\/dev\/dm-\d+$/)
        assert.ok(slavesOf(d.path).length >= 1, `${d.path} has a path`)
      })
      // a map may be returned with one path while multipathd (busy: its `add path` answers "fail" under
      // this load) still adds the other; both paths' devices exist, and multipathd joins them
      t.diagnostic(`paths per map at return: ${devices.map((d) => slavesOf(d.path).length).join(", ")}`)
      await waitUntil("every map with both paths", 120, () => devices.every((d) => slavesOf(d.path).length === 2))
      assert.equal(new Set(devices.map((d) => d.path)).size, 8)
      connects.forEach(noDbErrors)
      assert.equal(sessionsOf(TA).length + sessionsOf(TB).length, 4, "one session per target and portal")
      luns.forEach((l, i) => fs.writeFileSync(path.join(dir, `d-${l.file}`), connects[i]!.stdout))
      const disconnects = await Promise.all(
        luns.map((l) =>
          start(["disconnect", "--info", l.file, "--device", `d-${l.file}`, "--multipath", ...concurrent], 600_000).done
        )
      )
      t.diagnostic(`disconnects: ${disconnects.map((r) => r.ms).join(", ")} ms`)
      for (const r of disconnects) assert.equal(r.code, 0, r.stderr.slice(-4000))
      disconnects.forEach(noDbErrors)
      await assertHostIs(before, "after 8 concurrent disconnects")
    }
  )

  scenario(
    "another tool making and deleting node records all the while (open-iscsi's database race): connects and disconnects succeed, no DB error leaks",
    600_000,
    async (t) => {
      const before = snapshot()
      // every `-m node` command walks every record: one removed meanwhile fails it with exit 6
      const churnIqn = "iqn.2003-01.org.brick:churn"
      const stop = path.join(dir, "stop-churn")
      const churn = spawn("sh", [
        "-c",
        `ok=0; raced=0; while [ ! -e '${stop}' ]; do ` +
        `for p in 10.99.0.201 10.99.0.202; do iscsiadm -m node -T ${churnIqn} -p $p -o new >/dev/null 2>&1; done; ` +
        `for p in 10.99.0.201 10.99.0.202; do iscsiadm -m node -T ${churnIqn} -p $p -o delete >/dev/null 2>&1 && ok=$((ok+1)) || raced=$((raced+1)); done; ` +
        `done; echo "$ok $raced"`
      ], { stdio: ["ignore", "pipe", "inherit"] })
      let churned = ""
      churn.stdout.on("data", (d) => (churned += d))
      const churnDone = new Promise<void>((resolve) => churn.on("close", () => resolve()))
      try {
        for (let round = 0; round < 3; round++) {
          const vol = info(`churn-${round}.json`, multi(TA, round, [P[0], P[1]]))
          const c = await brick("connect", "--info", vol, "--multipath", ...normal)
          assert.equal(c.code, 0, c.stderr.slice(-4000))
          noDbErrors(c)
          const d = await disconnect(vol, c)
          assert.equal(d.code, 0, d.stderr.slice(-4000))
          noDbErrors(d)
          t.diagnostic(`round ${round}: connect ${c.ms} ms, disconnect ${d.ms} ms`)
        }
      } finally {
        fs.writeFileSync(stop, "")
        await churnDone
        sh(`iscsiadm -m node -T ${churnIqn} -o delete 2>/dev/null`)
      }
      t.diagnostic(`the other tool's deletes: ${churned.trim()} (ok, failed)`)
      await assertHostIs(before, "after the churn rounds")
    }
  )
})
