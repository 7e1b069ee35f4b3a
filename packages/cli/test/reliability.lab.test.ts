/**
 * Never the wrong device, never another tool's state, never a silent
 * half-attach — on the real kernel (lab guest, as root), through the built
 * `brick`:
 * - an operator's node record and session through their own iface (record
 *   made by `iscsiadm -o new -I <iface>`, and made by discovery) stay as they
 *   were through brick's connect and disconnect through `default`;
 * - a stale device (the LUN unmapped and another volume mapped at its number
 *   while the sessions stay up) is never returned;
 * - single path over listed portals: the first refuses, the second serves;
 * - a path cut while still logging in is added back by a second connect, and
 *   `brick status` says which paths serve;
 * - no map forms (multipathd frozen) and a portal drops once both paths have
 *   their devices: the device returned is the path that is up, the other is
 *   reported down; a second connect, all back, returns the map over both;
 * - mutual CHAP where the target proves a wrong secret: AuthenticationFailed
 *   (exit 4), no secret printed, the host as before;
 * - access_mode rw on a write-protected LUN: ReadOnlyDevice (exit 14) after
 *   the bounded wait, the host as before; access_mode ro returns it read-only;
 *   a LUN write-protected at attach and made writable during the wait is
 *   returned writable;
 * Runs with node's test runner (lab/test.sh); skipped outside the guest.
 * BRICK_RELIABILITY_ONLY=a,b runs only the scenarios whose name contains a or b.
 */
import * as assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { after, before, describe } from "node:test"
import {
  assertHostIs,
  byPathDevice,
  deviceOf,
  errorOf,
  fast,
  inGuest,
  labTarget,
  makeLab,
  multi,
  normal,
  P,
  scsiWwn,
  sessionsOf,
  sh,
  slavesOf,
  snapshot,
  waitUntil
} from "./labCli.ts"

const T = {
  op: "iqn.2003-01.org.brick:rel-op",
  disc: "iqn.2003-01.org.brick:rel-disc",
  stale: "iqn.2003-01.org.brick:rel-stale",
  failover: "iqn.2003-01.org.brick:rel-failover",
  slow: "iqn.2003-01.org.brick:rel-slow",
  mutual: "iqn.2003-01.org.brick:rel-mutual",
  ro: "iqn.2003-01.org.brick:rel-ro",
  nomap: "iqn.2003-01.org.brick:rel-nomap",
  wp: "iqn.2003-01.org.brick:rel-wp"
} as const
const serialOld = "5e1ab1e0-1111-4222-8333-444455556666"
const serialNew = "0dd5e1a7-aaaa-4bbb-8ccc-ddddeeeeffff"
const theirs = "brick-lab-op"

const lab = makeLab("reliability")
const only = (process.env["BRICK_RELIABILITY_ONLY"] ?? "").split(",").filter((x) => x !== "")
const selected = (name: string) => only.length === 0 || only.some((o) => name.includes(o))
const scenario = (name: string, timeout: number, body: (t: { diagnostic: (s: string) => void }) => Promise<void>) =>
  lab.scenario(name, timeout, body, selected)

const iscsiadm = (...args: ReadonlyArray<string>) => {
  const r = spawnSync("iscsiadm", args, { encoding: "utf8", timeout: 120_000 })
  if (r.status !== 0) throw new Error(`iscsiadm ${args.join(" ")}: rc ${r.status}: ${r.stderr}`)
  return r.stdout
}
const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(absent)")
/** The operator's sessions: `sessionN state` of the target through their iface. */
const theirSessions = (iqn: string) =>
  sessionsOf(iqn).filter((s) => read(`/sys/class/iscsi_session/${s}/ifacename`).trim() === theirs)
    .map((s) => `${s} ${read(`/sys/class/iscsi_session/${s}/state`).trim()}`)
/** The operator's iface (bound to dummy0, as software iSCSI needs). */
const makeTheirIface = () => {
  iscsiadm("-m", "iface", "-I", theirs, "-o", "new")
  iscsiadm("-m", "iface", "-I", theirs, "-o", "update", "-n", "iface.net_ifacename", "-v", "dummy0")
}
/** Logs the operator out of `iqn`, deletes their records of it and their iface (whatever is left). */
const dropTheirs = (iqn: string) =>
  spawnSync("sh", [
    "-c",
    `iscsiadm -m node -T ${iqn} -I ${theirs} --logout; iscsiadm -m node -T ${iqn} -I ${theirs} -o delete; ` +
    `iscsiadm -m discoverydb -t st -p ${P[0]} -I ${theirs} -o delete; iscsiadm -m iface -I ${theirs} -o delete; true`
  ], { encoding: "utf8", timeout: 120_000 })

describe("reliability on the real kernel", { skip: !inGuest }, () => {
  before(() => {
    lab.open()
    for (const iqn of Object.values(T)) labTarget("delete", "--iqn", iqn, "--if-exists")
    labTarget("create", "--iqn", T.op, "--portal", P[0], "--lun", "0:16M", "--lun", "1:16M")
    labTarget("create", "--iqn", T.disc, "--portal", P[0], "--portal", P[1], "--lun", "0:16M")
    labTarget(
      "create",
      "--iqn",
      T.stale,
      "--portal",
      P[0],
      "--portal",
      P[1],
      "--lun",
      "0:16M",
      "--lun",
      "1:16M",
      "--serial",
      `1:${serialOld}`
    )
    labTarget("create", "--iqn", T.failover, "--portal", P[0], "--portal", P[1], "--lun", "0:16M")
    labTarget(
      "create",
      "--iqn",
      T.mutual,
      "--portal",
      P[0],
      "--portal",
      P[1],
      "--lun",
      "0:16M",
      "--chap-user",
      "brickuser",
      "--chap-password",
      "Right-Secret-123",
      "--mutual-user",
      "targetuser",
      "--mutual-password",
      "Target-Secret-789"
    )
  })
  after(() => {
    for (const iqn of [T.op, T.disc]) dropTheirs(iqn)
    lab.close()
    for (const iqn of Object.values(T)) spawnSync("lab-target", ["delete", "--iqn", iqn, "--if-exists"])
  })

  scenario(
    "an operator's record (iscsiadm -o new -I theirs) and session: brick's connect and disconnect through default leave them as they were",
    300_000,
    async (t) => {
      makeTheirIface()
      try {
        iscsiadm("-m", "node", "-o", "new", "-T", T.op, "-p", P[0], "-I", theirs)
        iscsiadm(
          "-m",
          "node",
          "-T",
          T.op,
          "-p",
          P[0],
          "-I",
          theirs,
          "-o",
          "update",
          "-n",
          "node.session.scan",
          "-v",
          "auto"
        )
        const record = `/etc/iscsi/nodes/${T.op}/${P[0].replace(":", ",")}`
        assert.match(read(record), /^iface\.iscsi_ifacename = brick-lab-op$/m, "their record is the -o new file")
        iscsiadm("-m", "node", "-T", T.op, "-p", P[0], "-I", theirs, "--login")
        await waitUntil("their LUN devices", 60, () => sh(`ls /dev/disk/by-path | grep -c '${T.op}'`) === "2")
        const theirRecord = read(record)
        const theirSession = theirSessions(T.op)
        assert.equal(theirSession.length, 1)
        const before = snapshot()
        const vol = lab.info("op.json", { target_portal: P[0], target_iqn: T.op, target_lun: 1 })
        const r = await lab.brick("connect", "--info", vol, ...normal)
        const device = deviceOf(r)
        t.diagnostic(`connect ${r.ms} ms: ${JSON.stringify(device.paths)}`)
        assert.equal(device.paths?.[0]?.iface, "default")
        assert.deepEqual(device.paths?.[0]?.otherIfaces?.map((o) => o.iface), [theirs])
        assert.equal(read(record), theirRecord, "their record is untouched by the connect")
        assert.deepEqual(theirSessions(T.op), theirSession)
        assert.equal(sessionsOf(T.op).length, 2, "brick's own session beside theirs")
        const d = await lab.disconnect(vol, r)
        assert.equal(d.code, 0, d.stderr.slice(-4000))
        assert.equal(read(record), theirRecord, "their record is untouched by the disconnect")
        assert.deepEqual(theirSessions(T.op), theirSession, "their session is still logged in")
        await assertHostIs(before, "after brick's connect and disconnect beside the operator's")
      } finally {
        dropTheirs(T.op)
      }
    }
  )

  scenario(
    "an operator's records made by discovery (…,tpgt/theirs) and session: brick's disconnect does not log it out",
    300_000,
    async (t) => {
      makeTheirIface()
      try {
        iscsiadm("-m", "discovery", "-t", "st", "-p", P[0], "-I", theirs)
        const dirOf = (portal: string) => `/etc/iscsi/nodes/${T.disc}/${portal.replace(":", ",")},1`
        for (const p of [P[0], P[1]]) assert.ok(fs.existsSync(`${dirOf(p)}/${theirs}`), `their record of ${p}`)
        iscsiadm("-m", "node", "-T", T.disc, "-p", P[0], "-I", theirs, "--login")
        await waitUntil("their LUN device", 60, () => sh(`ls /dev/disk/by-path | grep -c '${T.disc}'`) === "1")
        const theirRecords = [P[0], P[1]].map((p) => read(`${dirOf(p)}/${theirs}`))
        const theirSession = theirSessions(T.disc)
        const before = snapshot()
        const vol = lab.info("disc.json", { target_portal: P[0], target_iqn: T.disc, target_lun: 0 })
        const r = await lab.brick("connect", "--info", vol, ...normal)
        const device = deviceOf(r)
        t.diagnostic(`connect ${r.ms} ms; records: ${sh(`find /etc/iscsi/nodes/${T.disc} | sort`)}`)
        assert.equal(device.scsi_wwn.length > 0, true)
        const d = await lab.disconnect(vol, r)
        assert.equal(d.code, 0, d.stderr.slice(-4000))
        assert.deepEqual([P[0], P[1]].map((p) => read(`${dirOf(p)}/${theirs}`)), theirRecords)
        assert.deepEqual(theirSessions(T.disc), theirSession, "their session is still logged in")
        await assertHostIs(before, "after brick's connect and disconnect beside the operator's discovered records")
      } finally {
        dropTheirs(T.disc)
      }
    }
  )

  scenario(
    "a stale device: LUN 1 unmapped and another volume mapped at 1 while the sessions stay up; never returned",
    420_000,
    async (t) => {
      const before = snapshot()
      const oldWwid = JSON.parse(labTarget("wwn", "--serial", serialOld)).wwn as string
      const newWwid = JSON.parse(labTarget("wwn", "--serial", serialNew)).wwn as string
      const neighbour = lab.info("stale-0.json", multi(T.stale, 0, [P[0], P[1]]))
      const vol = lab.info("stale-1.json", multi(T.stale, 1, [P[0], P[1]]))
      const n = await lab.brick("connect", "--info", neighbour, "--multipath", ...normal)
      deviceOf(n)
      const first = await lab.brick("connect", "--info", vol, "--multipath", ...normal)
      const d1 = deviceOf(first)
      assert.equal(d1.scsi_wwn, scsiWwn(oldWwid))
      const oldSlaves = slavesOf(d1.path)
      labTarget("remove-lun", "--iqn", T.stale, "--lun", "1")
      labTarget("add-lun", "--iqn", T.stale, "--lun", "1:32M", "--serial", `1:${serialNew}`)
      // the kernel still holds the old volume's identity for those devices
      for (const sd of oldSlaves) assert.equal(read(`/sys/block/${sd}/device/wwid`).trim(), oldWwid)
      const sessions = sh("iscsiadm -m session 2>/dev/null | sort")
      // pinned to the old volume's WWN: refused, nothing of the other volume returned
      const pinned = await lab.brick(
        "connect",
        "--info",
        vol,
        "--device",
        lab.file("stale-device-1.json", first.stdout),
        "--multipath",
        ...normal
      )
      assert.equal(pinned.code, 5, pinned.stderr.slice(-3000))
      assert.equal(errorOf(pinned)["kind"], "DeviceNotFound")
      const second = await lab.brick("connect", "--info", vol, "--multipath", ...normal)
      const d2 = deviceOf(second)
      t.diagnostic(`reconnect ${second.ms} ms: ${d2.path} over ${slavesOf(d2.path).join(",")}`)
      assert.equal(d2.scsi_wwn, scsiWwn(newWwid))
      assert.equal(sh("iscsiadm -m session 2>/dev/null | sort"), sessions, "the sessions were reused")
      for (const sd of slavesOf(d2.path)) assert.equal(read(`/sys/block/${sd}/device/wwid`).trim(), newWwid)
      assert.equal(Number(read(`/sys/block/${path.basename(d2.path)}/size`).trim()) * 512, 32 * 1024 * 1024)
      assert.equal(sh(`grep -l '${oldWwid}' /sys/class/scsi_device/*/device/wwid`), "", "no device of the old volume")
      assert.equal(sh(`dmsetup ls | grep -c '${scsiWwn(oldWwid)}'`), "0", "no map of the old volume")
      for (const [v, r] of [[vol, second], [neighbour, n]] as const) {
        const off = await lab.disconnect(v, r)
        assert.equal(off.code, 0, off.stderr.slice(-3000))
      }
      await assertHostIs(before, "after the stale device scenario")
    }
  )

  scenario(
    "single path over listed portals: the first refuses, the second serves; nothing of the first is left",
    300_000,
    async (t) => {
      const before = snapshot()
      const vol = lab.info("failover.json", multi(T.failover, 0, [P[0], P[1]]))
      lab.portalDown(P[0], "reject")
      try {
        const r = await lab.brick("connect", "--info", vol, ...fast)
        const device = deviceOf(r)
        t.diagnostic(`connect ${r.ms} ms: ${JSON.stringify(device.paths)}`)
        assert.deepEqual(device.paths?.map((p) => [p.portal, p.state]), [[P[0], "failed"], [P[1], "serving"]])
        assert.match(device.path, /^\/dev\/sd[a-z]+$/)
        assert.doesNotMatch(sh(`iscsiadm -m session 2>/dev/null | grep '${T.failover}'`), /10\.99\.0\.1/)
        assert.doesNotMatch(sh(`ls /etc/iscsi/nodes/${T.failover} 2>/dev/null`), /10\.99\.0\.1/)
        const d = await lab.disconnect(vol, r)
        assert.equal(d.code, 0, d.stderr.slice(-4000))
      } finally {
        lab.portalUp(P[0])
      }
      await assertHostIs(before, "after the failover")
    }
  )

  scenario(
    "a path still logging in when the grace ends is cut; a second connect adds it back, and status says which serve",
    420_000,
    async (t) => {
      labTarget("create", "--iqn", T.slow, "--portal", P[0], "--portal", P[1], "--portal", P[2], "--lun", "0:16M")
      const before = snapshot()
      const vol = lab.info("slow.json", multi(T.slow, 0, [P[0], P[1], P[2]]))
      lab.portalDown(P[2], "drop")
      // a login timeout longer than the grace: the dark portal's login is still running when the grace ends
      const patient = normal.map((f, i) => (normal[i - 1] === "--login-timeout" ? "120" : f))
      const first = await lab.brick("connect", "--info", vol, "--multipath", ...patient)
      const d1 = deviceOf(first)
      t.diagnostic(`first connect ${first.ms} ms: ${JSON.stringify(d1.paths)}`)
      // a path multipathd had not put in the map yet is reported joining (it adds it on its own)
      assert.deepEqual(d1.paths?.map((p) => [p.portal, p.state === "joining" ? "serving" : p.state]), [
        [P[0], "serving"],
        [P[1], "serving"],
        [P[2], "stopped"]
      ])
      await waitUntil("both live paths in the map", 60, () => slavesOf(d1.path).length === 2)
      const statusBefore = JSON.parse((await lab.brick("status", "--info", vol, "--multipath")).stdout)
      assert.deepEqual(statusBefore.missing.map((m: { portal: string }) => m.portal), [P[2]])
      lab.portalUp(P[2])
      // iscsid goes on with the login brick cut (its record deleted, its TCP connect retried): it completes once
      // the portal answers (a session without a device), or gives up; either way the second connect adds the path
      await waitUntil("iscsid to complete the cut login", 150, () => sessionsOf(T.slow).length === 3).catch(() => {})
      t.diagnostic(`sessions before the second connect: ${sh("iscsiadm -m session 2>/dev/null | grep rel-slow")}`)
      const kept = sh(`iscsiadm -m session 2>/dev/null | grep '${T.slow}' | sort`)
      const second = await lab.brick(
        "connect",
        "--info",
        vol,
        "--device",
        lab.file("slow-device.json", first.stdout),
        "--multipath",
        ...normal
      )
      const d2 = deviceOf(second)
      t.diagnostic(`second connect ${second.ms} ms: ${JSON.stringify(d2.paths)}`)
      assert.equal(d2.path, d1.path)
      assert.deepEqual(d2.paths?.map((p) => p.state), ["serving", "serving", "serving"])
      assert.equal(slavesOf(d2.path).length, 3)
      for (const line of kept.split("\n").filter((l) => !l.includes("10.99.0.3"))) {
        assert.ok(sh("iscsiadm -m session 2>/dev/null").includes(line.split(" ").slice(0, 3).join(" ")), line)
      }
      const status = JSON.parse((await lab.brick("status", "--info", vol, "--multipath")).stdout)
      t.diagnostic(`status: ${JSON.stringify(status)}`)
      assert.deepEqual(status.missing, [])
      const devices = status.sessions.flatMap((s: { devices: ReadonlyArray<{ dmState: string }> }) => s.devices)
      assert.equal(devices.length, 3)
      for (const s of status.sessions) assert.equal(s.state, "LOGGED_IN")
      const off = await lab.disconnect(vol, second)
      assert.equal(off.code, 0, off.stderr.slice(-3000))
      await assertHostIs(before, "after the slow path scenario")
    }
  )

  scenario(
    "no map forms and a portal drops after both paths have their devices: the path that is up serves, the other is reported down; a second connect returns the map",
    420_000,
    async (t) => {
      labTarget("create", "--iqn", T.nomap, "--portal", P[0], "--portal", P[1], "--lun", "0:16M")
      const before = snapshot()
      const vol = lab.info("nomap.json", multi(T.nomap, 0, [P[0], P[1]]))
      const multipathd = sh("pidof multipathd")
      assert.match(multipathd, /^\d+$/, "multipathd runs in the lab")
      // frozen, multipathd forms no map and answers no command (they time out), as when it is stuck on a dead path
      sh(`kill -STOP ${multipathd}`)
      let dropped: string | undefined
      let r
      try {
        const wait = normal.map((f, i) => (normal[i - 1] === "--multipath-timeout" ? "45" : f))
        const run = lab.start(["connect", "--info", vol, "--multipath", ...wait], 300_000)
        // the portal whose path udev linked first: the path the connect found first
        await waitUntil("a path's by-path link", 120, () => P.slice(0, 2).some((p) => byPathDevice(p, T.nomap, 0)))
        dropped = P.slice(0, 2).find((p) => byPathDevice(p, T.nomap, 0) !== undefined)!
        await waitUntil("both by-path links", 120, () => P.slice(0, 2).every((p) => byPathDevice(p, T.nomap, 0)))
        lab.portalDown(dropped, "drop")
        t.diagnostic(`both paths linked; ${dropped} dropped`)
        r = await run.done
      } finally {
        sh(`kill -CONT ${multipathd}`)
        if (dropped !== undefined) lab.portalUp(dropped)
      }
      const up = P.slice(0, 2).find((p) => p !== dropped)!
      const device = deviceOf(r)
      t.diagnostic(`connect ${r.ms} ms: ${device.path} ${JSON.stringify(device.paths)}`)
      assert.equal(device.path, `/dev/${byPathDevice(up, T.nomap, 0)}`, "the path that is up serves")
      const report = (portal: string) => device.paths?.find((p) => p.portal === portal)
      assert.equal(report(up)?.state, "serving")
      assert.deepEqual([report(dropped!)?.state, report(dropped!)?.reason], ["unused", "PathDown"])
      await waitUntil(
        "the dropped path's session back",
        120,
        () => sessionsOf(T.nomap).every((s) => sh(`cat /sys/class/iscsi_session/${s}/state`) === "LOGGED_IN")
      )
      const second = await lab.brick(
        "connect",
        "--info",
        vol,
        "--device",
        lab.file("nomap-device.json", r.stdout),
        "--multipath",
        ...normal
      )
      const healed = deviceOf(second)
      t.diagnostic(`second connect ${second.ms} ms: ${healed.path} ${JSON.stringify(healed.paths)}`)
      assert.match(healed.path, /^\/dev\/dm-\d+$/)
      assert.deepEqual(healed.paths?.map((p) => p.state), ["serving", "serving"])
      assert.equal(slavesOf(healed.path).length, 2)
      const off = await lab.disconnect(vol, second)
      assert.equal(off.code, 0, off.stderr.slice(-3000))
      await assertHostIs(before, "after the no-map scenario")
    }
  )

  scenario(
    "mutual CHAP, the target proves a wrong secret: AuthenticationFailed on every path, no secret printed, host unchanged",
    300_000,
    async (t) => {
      const before = snapshot()
      const chap = {
        auth_method: "CHAP",
        auth_username: "brickuser",
        auth_password: "Right-Secret-123",
        auth_username_in: "targetuser",
        auth_password_in: "Other-Secret-000"
      }
      const vol = lab.info("mutual.json", multi(T.mutual, 0, [P[0], P[1]], chap))
      const r = await lab.brick("connect", "--info", vol, "--multipath", ...normal)
      t.diagnostic(`connect ${r.ms} ms, exit ${r.code}: ${r.stderr.trim().split("\n").slice(-1)[0]}`)
      assert.equal(r.code, 4, r.stderr.slice(-3000))
      const report = errorOf(r)
      assert.equal(report["kind"], "AuthenticationFailed")
      const paths = (report["reason"] as { paths?: ReadonlyArray<{ _tag: string }> } | undefined)?.paths ?? []
      assert.deepEqual(paths.map((p) => p._tag), ["AuthenticationFailed", "AuthenticationFailed"])
      for (const secret of ["Right-Secret-123", "Other-Secret-000"]) {
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), "no secret in brick's output")
      }
      await assertHostIs(before, "after the refused mutual-CHAP connect")
    }
  )

  scenario(
    "access_mode rw on a write-protected LUN: ReadOnlyDevice (exit 14) after the wait, host unchanged; ro returns it",
    300_000,
    async (t) => {
      labTarget("create", "--iqn", T.ro, "--portal", P[0], "--portal", P[1], "--lun", "0:16M")
      // demo mode: the sessions' dynamic ACLs map the LUN write-protected (the WP bit the kernel reads)
      fs.writeFileSync(`/sys/kernel/config/target/iscsi/${T.ro}/tpgt_1/attrib/demo_mode_write_protect`, "1")
      const before = snapshot()
      const options = lab.file("rw-options.json", JSON.stringify({ writableWaitTimeout: 5 }))
      const rw = lab.info("rw.json", multi(T.ro, 0, [P[0], P[1]], { access_mode: "rw" }))
      const r = await lab.brick("connect", "--info", rw, "--options", options, "--multipath", ...normal)
      t.diagnostic(`rw connect ${r.ms} ms, exit ${r.code}: ${r.stderr.trim().split("\n").slice(-1)[0]}`)
      assert.equal(r.code, 14, r.stderr.slice(-3000))
      const report = errorOf(r)
      assert.equal(report["kind"], "ReadOnlyDevice")
      assert.ok(((report["reason"] as { devices?: ReadonlyArray<string> }).devices ?? []).length > 0)
      await assertHostIs(before, "after the refused read-write connect")
      const ro = lab.info("ro.json", multi(T.ro, 0, [P[0], P[1]], { access_mode: "ro" }))
      const ok = await lab.brick("connect", "--info", ro, "--multipath", ...normal)
      const device = deviceOf(ok)
      assert.equal(read(`/sys/block/${path.basename(device.path)}/ro`).trim(), "1", "returned read-only, as asked")
      const off = await lab.disconnect(ro, ok)
      assert.equal(off.code, 0, off.stderr.slice(-3000))
      await assertHostIs(before, "after the read-only attach and detach")
    }
  )

  scenario(
    "access_mode rw on a LUN write-protected at attach, made writable during the wait: the map is returned writable",
    300_000,
    async (t) => {
      const initiator = sh("sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi")
      // an explicit ACL: its mapped LUN's write_protect changes at once for the sessions there are
      labTarget("create", "--iqn", T.wp, "--portal", P[0], "--portal", P[1], "--lun", "0:16M", "--initiator", initiator)
      const wp = `/sys/kernel/config/target/iscsi/${T.wp}/tpgt_1/acls/${initiator}/lun_0/write_protect`
      fs.writeFileSync(wp, "1")
      const before = snapshot()
      const options = lab.file("wp-options.json", JSON.stringify({ writableWaitTimeout: 90 }))
      const vol = lab.info("wp.json", multi(T.wp, 0, [P[0], P[1]], { access_mode: "rw" }))
      const run = lab.start(["connect", "--info", vol, "--options", options, "--multipath", ...normal], 300_000)
      const readOnly = (p: string) => {
        const sd = byPathDevice(p, T.wp, 0)
        return sd !== undefined && read(`/sys/block/${sd}/ro`).trim() === "1"
      }
      await waitUntil("a path's disk read-only", 120, () => readOnly(P[0]) || readOnly(P[1]))
      fs.writeFileSync(wp, "0")
      t.diagnostic("a path's disk was read-only; the LUN made writable")
      const r = await run.done
      const device = deviceOf(r)
      t.diagnostic(`rw connect ${r.ms} ms: ${device.path} ${JSON.stringify(device.paths)}`)
      assert.match(device.path, /^\/dev\/dm-\d+$/)
      assert.equal(read(`/sys/block/${path.basename(device.path)}/ro`).trim(), "0", "returned writable")
      assert.match(r.stderr, /read-only: .*waiting for it to be writable/, "the wait saw the device read-only")
      const off = await lab.disconnect(vol, r)
      assert.equal(off.code, 0, off.stderr.slice(-3000))
      await assertHostIs(before, "after the write-protection lifted during the wait")
    }
  )
})
