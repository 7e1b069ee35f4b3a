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
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

// this file runs compiled, as dist/test/faults.lab.test.js. The one-file bundle (`node scripts/bundle.mjs`)
// starts in a fraction of the time over 9p; it is used only when it is newer than every compiled
// module it bundles (a stale bundle would test old code), else dist/src/bin.js.
const binJs = fileURLToPath(new URL("../src/bin.js", import.meta.url))
const bundle = fileURLToPath(new URL("../brick.mjs", import.meta.url))
const newestModule = () => {
  let newest = 0
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name))
      else if (e.name.endsWith(".js")) newest = Math.max(newest, fs.statSync(path.join(d, e.name)).mtimeMs)
    }
  }
  for (const pkg of ["core", "interpreter-node", "cli"]) {
    const d = fileURLToPath(new URL(`../../../${pkg}/dist/src/`, import.meta.url))
    if (fs.existsSync(d)) walk(d)
  }
  return newest
}
const bundleIsCurrent = fs.existsSync(bundle) && fs.statSync(bundle).mtimeMs >= newestModule()
const bin = bundleIsCurrent ? bundle : binJs

const P = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"] as const
const TA = "iqn.2003-01.org.brick:faults-a"
const TB = "iqn.2003-01.org.brick:faults-b"
const TC = "iqn.2003-01.org.brick:faults-chap"
const chapPassword = "Faults-Chap-S3cret-7"
const serialA = "0a1b2c3d-1111-4222-8333-444455556666"
const serialB = "9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff"
const inGuest = fs.existsSync("/sys/kernel/config/target") &&
  spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

let dir: string
const wwns = new Map<string, string>()

// ------------------------------------------------------------------ helpers

const sh = (command: string) => spawnSync("sh", ["-c", command], { encoding: "utf8" }).stdout.trim()
const labTarget = (...args: ReadonlyArray<string>) => execFileSync("lab-target", args, { encoding: "utf8" })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

// every brick run's stderr (its debug log) is kept in lab/.out/faults-logs/ (gitignored) for post-mortems
const logDir = fileURLToPath(new URL("../../../../lab/.out/faults-logs/", import.meta.url))
let runs = 0

/** Starts `brick args…` (cwd: the temp dir), killed after `limitMs`; `done` resolves when it exits. */
const start = (args: ReadonlyArray<string>, limitMs = 150_000) => {
  const t0 = Date.now()
  const n = ++runs
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (d) => (stdout += d))
  child.stderr.on("data", (d) => (stderr += d))
  const timer = setTimeout(() => child.kill("SIGKILL"), limitMs)
  const done = new Promise<Run>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      try {
        fs.mkdirSync(logDir, { recursive: true })
        fs.writeFileSync(
          path.join(logDir, `${String(n).padStart(2, "0")}-${args[0]}-${args[2] ?? ""}.log`),
          `brick ${args.join(" ")}\nexit ${code} ${signal ?? ""} after ${
            Date.now() - t0
          } ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`
        )
      } catch {
        // logs are a convenience
      }
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 })
    })
  })
  return { child, done }
}
const brick = (...args: ReadonlyArray<string>) => start(args).done

/** The flags every connect/disconnect gets: low timeouts, debug logs (searched for secrets). */
const fast = [
  "--login-timeout",
  "3",
  "--scan-attempts",
  "3",
  "--scan-interval",
  "1000",
  "--multipath-timeout",
  "15",
  "--lock-timeout",
  "240",
  "--log-level",
  "debug"
]
/** For attaches that must succeed: a login timeout the loaded, emulated guest always meets. */
const normal = [
  "--login-timeout",
  "15",
  "--scan-attempts",
  "5",
  "--scan-interval",
  "2000",
  "--multipath-timeout",
  "30",
  "--lock-timeout",
  "240",
  "--log-level",
  "debug"
]

const info = (name: string, data: Record<string, unknown>) => {
  fs.writeFileSync(path.join(dir, name), JSON.stringify({ driver_volume_type: "iscsi", data }))
  return name
}
/** `brick disconnect` of the volume in `vol` with the device `connected` printed (kept as `device-<vol>`). */
const disconnect = (vol: string, connected: Run) => {
  const device = `device-${vol}`
  fs.writeFileSync(path.join(dir, device), connected.stdout)
  return brick("disconnect", "--info", vol, "--device", device, "--multipath", ...normal)
}
const multi = (iqn: string, lun: number, portals: ReadonlyArray<string>, extra: Record<string, unknown> = {}) => ({
  target_portals: portals,
  target_iqns: portals.map(() => iqn),
  target_luns: portals.map(() => lun),
  target_portal: portals[0],
  target_iqn: iqn,
  target_lun: lun,
  ...extra
})

interface Device {
  readonly type: string
  readonly path: string
  readonly scsi_wwn: string
  readonly multipath_id?: string
}
const deviceOf = (r: Run): Device => {
  assert.equal(r.code, 0, `exit ${r.code} ${r.signal ?? ""}: ${r.stderr.slice(-4000)}`)
  return JSON.parse(r.stdout) as Device
}
/** The JSON error report: the last stderr line. */
const errorOf = (r: Run): Record<string, unknown> => {
  const lines = r.stderr.trim().split("\n")
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>
}
/** Kernel wwid `naa.6001405…` → the `3…` WWN brick reports. */
const scsiWwn = (naa: string) => `3${naa.replace(/^naa\./, "")}`

/** Everything of the host an attach can leave behind. */
const snapshot = () => ({
  sessions: sh("iscsiadm -m session 2>/dev/null | sed 's/\\[[0-9]*\\]//' | sort"),
  nodeDb: sh("find /etc/iscsi/nodes /etc/iscsi/send_targets /etc/iscsi/ifaces -mindepth 1 2>/dev/null | sort"),
  scsiDevices: sh("ls /sys/class/scsi_device 2>/dev/null | sort"),
  disks: sh("ls /sys/block | grep -v -E '^(vd|loop|ram)' | sort"),
  dmMaps: sh("dmsetup ls 2>/dev/null | grep -v 'No devices found' | sort"),
  byPath: sh("ls /dev/disk/by-path 2>/dev/null | grep iscsi | sort"),
  locks: sh("ls -A /run/brick/locks 2>/dev/null | sort")
})
type Snapshot = ReturnType<typeof snapshot>

/** Waits (udev removes links asynchronously) until the host equals `before`, then asserts it. */
const assertHostIs = async (before: Snapshot, what: string) => {
  const end = Date.now() + 10_000
  let now = snapshot()
  while (JSON.stringify(now) !== JSON.stringify(before) && Date.now() < end) {
    await sleep(300)
    now = snapshot()
  }
  assert.deepEqual(now, before, `${what}: the host differs`)
}

const waitUntil = async (what: string, seconds: number, check: () => boolean) => {
  const end = Date.now() + seconds * 1000
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds}s waiting for ${what}`)
    await sleep(20)
  }
}
const sessionsOf = (iqn: string) =>
  fs.readdirSync("/sys/class/iscsi_session").filter((s) => {
    try {
      return fs.readFileSync(`/sys/class/iscsi_session/${s}/targetname`, "utf8").trim() === iqn
    } catch {
      return false
    }
  })
const sessionStates = (iqn: string) =>
  sessionsOf(iqn).map((s) => fs.readFileSync(`/sys/class/iscsi_session/${s}/state`, "utf8").trim())
const slavesOf = (dm: string) => fs.readdirSync(`/sys/block/${path.basename(dm)}/slaves`).sort()
const byPathDevice = (portal: string, iqn: string, lun: number) => {
  try {
    return path.basename(fs.readlinkSync(`/dev/disk/by-path/ip-${portal}-iscsi-${iqn}-lun-${lun}`))
  } catch {
    return undefined
  }
}
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

const downed = new Set<string>()
const portalDown = (portal: string, mode: "drop" | "reject") => {
  downed.add(portal)
  labTarget("portal-down", "--portal", portal, "--mode", mode)
}
const portalUp = (portal: string) => {
  labTarget("portal-up", "--portal", portal)
  downed.delete(portal)
}

/** Deletes every sendtargets discovery record. */
const dropDiscoveryRecords = () =>
  spawnSync("sh", [
    "-c",
    `for p in /etc/iscsi/send_targets/*,*; do [ -e "$p" ] && iscsiadm -m discoverydb -t st -p "$(basename "$p" | tr , :)" -o delete; done; true`
  ], { encoding: "utf8", timeout: 60_000 })

/** After a failed scenario: back to a clean host, so the next scenario starts from one. */
const cleanupAll = () => {
  for (const p of [...downed]) portalUp(p)
  spawnSync("sh", [
    "-c",
    `multipath -F; iscsiadm -m node --logoutall=all; multipath -F; iscsiadm -m node -o delete; for p in /etc/iscsi/send_targets/*,*; do [ -e "$p" ] && iscsiadm -m discoverydb -t st -p "$(basename "$p" | tr , :)" -o delete; done; rm -f /run/brick/locks/*`
  ], { encoding: "utf8", timeout: 120_000 })
}

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
    console.error(
      `[faults] brick = ${bin}${
        bundleIsCurrent
          ? ""
          : " (dist/brick.mjs is missing or older than the compiled sources: run `node scripts/bundle.mjs` for faster starts)"
      }`
    )
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
