/**
 * interpreter-node against a real kernel, inside the lab guest (LIO target on
 * dummy0 portals, iscsid, multipathd): discovery, node records, login with
 * CHAP, the session and disk in sysfs, by-path links, block device size and
 * flush, multipathd, logout and record deletion. Uses only the node services,
 * not core's programs. Runs with node's test runner (lab/test.sh); skipped
 * outside the guest.
 */
import { BlockDevice, DevicePath, HostPath, IfaceName, Iqn, Iscsiadm, Multipath, Portal, Sysfs } from "@brick/core"
import { Effect, Option, Redacted } from "effect"
import * as assert from "node:assert/strict"
import * as NodeChild from "node:child_process"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import { after, before, describe, it } from "node:test"
import { CommandRunner } from "../src/CommandRunner.ts"
import * as IscsiDbLock from "../src/IscsiDbLock.ts"
import { runWith } from "./support.ts"

const inGuest = NodeFs.existsSync("/sys/kernel/config/target") &&
  NodeChild.spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

const suffix = NodeCrypto.randomBytes(3).toString("hex")
const IQN = Iqn.unsafeMake(`iqn.2003-01.org.brick:node-lab-${suffix}`)
const P1 = Portal.unsafeMake("10.99.0.1:3260")
const P2 = Portal.unsafeMake("10.99.0.2:3260")
const iface = IfaceName.defaultIface
const chap = (password: string): Iscsiadm.ChapCredentials => ({
  username: "brickuser",
  password: Redacted.make(password),
  usernameIn: Option.none(),
  passwordIn: Option.none()
})

const labTarget = (...args: Array<string>) => {
  const r = NodeChild.spawnSync("lab-target", args, { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`lab-target ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}

const run = <A, E>(
  effect: Effect.Effect<
    A,
    E,
    Iscsiadm.Iscsiadm | Sysfs.Sysfs | Multipath.Multipath | BlockDevice.BlockDevice | CommandRunner
  >
) => runWith({}, effect)

/** Polls `check` every 100 ms until it yields a value, for `seconds`. */
const waitFor = <A, E, R>(what: string, seconds: number, check: Effect.Effect<Option.Option<A>, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds * 10; i++) {
      const v = yield* check
      if (Option.isSome(v)) return v.value
      yield* Effect.sleep(100)
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

/** The session (name) of IQN at portal, read from sysfs. */
const sessionOf = (portal: string) =>
  Effect.gen(function*() {
    const sysfs = yield* Sysfs.Sysfs
    for (const s of yield* sysfs.list(HostPath.make("/sys/class/iscsi_session"))) {
      const dir = HostPath.make(`/sys/class/iscsi_session/${s}`)
      const name = yield* sysfs.read(HostPath.join(dir, "targetname"))
      const address = yield* sysfs.read(
        HostPath.make(`/sys/class/iscsi_connection/connection${s.slice("session".length)}:0/persistent_address`)
      )
      if (
        Option.getOrNull(name) === IQN && portal.startsWith(`${Option.getOrElse(address, () => "?")}:`)
      ) return Option.some(s)
    }
    return Option.none<string>()
  })

describe("NodeHost in the lab guest", { skip: !inGuest }, () => {
  let wwn = ""
  before(() => {
    const created = JSON.parse(
      labTarget(
        "create",
        "--iqn",
        IQN,
        "--portal",
        P1,
        "--portal",
        P2,
        "--lun",
        "0:16M",
        "--chap-user",
        "brickuser",
        "--chap-password",
        "brickpass1234"
      )
    )
    wwn = created.luns[0].wwn
  })
  after(() => {
    for (const p of [P1, P2]) {
      NodeChild.spawnSync("iscsiadm", ["-m", "node", "-T", IQN, "-p", p, "--logout"])
      NodeChild.spawnSync("iscsiadm", ["-m", "node", "-T", IQN, "-p", p, "-o", "delete"])
    }
    NodeChild.spawnSync("lab-target", ["delete", "--iqn", IQN])
  })

  it("discovers both portals through the default iface, recording nothing", { timeout: 180_000 }, async () => {
    const found = await run(Iscsiadm.Iscsiadm.use((i) => i.discover({ portal: P1, iface, auth: Option.none() })))
    assert.deepEqual(found.filter((t) => t.iqn === IQN).map((t) => t.portal).sort(), [P1, P2])
    const nodes = await run(Iscsiadm.Iscsiadm.use((i) => i.listNodes))
    assert.deepEqual(nodes.filter((n) => n.iqn === IQN), [])
    assert.equal(NodeFs.existsSync(`/etc/iscsi/send_targets/${P1.replace(":", ",")}`), false)
  })

  it("a wrong CHAP secret is AuthenticationFailed and leaves no session", { timeout: 180_000 }, async () => {
    const node = { iqn: IQN, portal: P1, iface }
    const e = await runWith(
      {},
      Effect.flip(Iscsiadm.Iscsiadm.use((i) =>
        Effect.andThen(
          i.createNode(node, { startup: "manual", auth: Option.some(chap("wrong-password-99")), loginRetryMax: 1 }),
          i.login(node)
        )
      ))
    )
    assert.equal(e.reason._tag, "AuthenticationFailed")
    assert.ok(!(e.detail ?? "").includes("wrong-password-99"))
    assert.equal(Option.getOrNull(await run(sessionOf(P1))), null)
  })

  it(
    "logs in with CHAP in two iscsiadm calls (the record the test before made: update, login); sysfs, by-path, size, flush, multipathd see the disk",
    { timeout: 180_000 },
    async () => {
      const node = { iqn: IQN, portal: P1, iface }
      const result = await run(Effect.gen(function*() {
        const runner = yield* CommandRunner
        const i = yield* Iscsiadm.Iscsiadm
        yield* runner.resetCounts
        yield* i.createNode(node, { startup: "manual", scan: "auto", auth: Option.some(chap("brickpass1234")) })
        yield* i.login(node)
        const counts = yield* runner.spawnCounts
        const session = yield* waitFor("session", 10, sessionOf(P1))
        const sysfs = yield* Sysfs.Sysfs
        const ifacename = yield* sysfs.read(HostPath.make(`/sys/class/iscsi_session/${session}/ifacename`))
        const byPath = `/dev/disk/by-path/ip-${P1}-iscsi-${IQN}-lun-0`
        const link = yield* waitFor("by-path link", 20, sysfs.readlink(HostPath.make(byPath)))
        const size = yield* BlockDevice.BlockDevice.use((b) => b.size(DevicePath.unsafeMake(byPath)))
        yield* BlockDevice.BlockDevice.use((b) => b.flush(DevicePath.unsafeMake(byPath)))
        const device = link.split("/").pop()!
        const wwid = yield* sysfs.read(HostPath.make(`/sys/block/${device}/device/wwid`))
        const running = yield* Multipath.Multipath.use((m) => m.isRunning)
        const again = yield* Effect.flip(i.login(node))
        return { counts, ifacename, link, size, wwid, running, again: again.reason._tag }
      }))
      assert.deepEqual(result.counts, { iscsiadm: 2 })
      assert.equal(Option.getOrNull(result.ifacename), "default")
      assert.match(result.link, /^\.\.\/\.\.\/sd[a-z]+$/)
      assert.equal(result.size, 16 * 1024 * 1024)
      assert.equal(Option.getOrNull(result.wwid), wwn)
      assert.equal(result.running, true)
      assert.equal(result.again, "SessionExists")
    }
  )

  it("logs out and deletes the record; a second logout is NotFound", { timeout: 180_000 }, async () => {
    const node = { iqn: IQN, portal: P1, iface }
    const second = await run(Effect.gen(function*() {
      const i = yield* Iscsiadm.Iscsiadm
      yield* i.logout(node)
      yield* i.deleteNode(node)
      return yield* Effect.flip(i.logout(node))
    }))
    assert.equal(second.reason._tag, "NotFound")
    assert.equal(Option.getOrNull(await run(sessionOf(P1))), null)
    const nodes = await run(Iscsiadm.Iscsiadm.use((i) => i.listNodes))
    assert.ok(!nodes.some((n) => n.iqn === IQN && n.portal === P1 && n.iface === iface), JSON.stringify(nodes))
  })
})

describe("node records brick writes itself (DirectRecords) in the lab guest", { skip: !inGuest }, () => {
  const PARITY_IQN = Iqn.unsafeMake(`iqn.2003-01.org.brick:records-${suffix}`)
  const conf = "/etc/iscsi/iscsid.conf"
  let confBefore = ""
  before(() => {
    confBefore = NodeFs.readFileSync(conf, "utf8")
    labTarget("create", "--iqn", PARITY_IQN, "--portal", P1, "--lun", "0:16M")
  })
  after(() => {
    NodeFs.writeFileSync(conf, confBefore)
    NodeChild.spawnSync("iscsiadm", ["-m", "node", "-T", PARITY_IQN, "-o", "delete"])
    NodeChild.spawnSync("lab-target", ["delete", "--iqn", PARITY_IQN])
  })

  /** What iscsiadm reads of the record, secrets shown (`-o show -S`). */
  const shown = (portal: string) => {
    const r = NodeChild.spawnSync("iscsiadm", [
      "-m",
      "node",
      "-T",
      PARITY_IQN,
      "-p",
      portal,
      "-I",
      "default",
      "-o",
      "show",
      "-S"
    ], { encoding: "utf8" })
    assert.equal(r.status, 0, r.stderr)
    return r.stdout
  }
  const deleted = (portal: string) => {
    const r = NodeChild.spawnSync("iscsiadm", [
      "-m",
      "node",
      "-T",
      PARITY_IQN,
      "-p",
      portal,
      "-I",
      "default",
      "-o",
      "delete"
    ], { encoding: "utf8" })
    assert.equal(r.status, 0, r.stderr)
  }
  /** Makes the record of P1 with `writes`; returns the spawns and what iscsiadm reads of it. */
  const made = (writes: "direct" | "iscsiadm", settings: Iscsiadm.NodeSettings) =>
    runWith(
      { nodeRecordWrites: writes },
      Effect.gen(function*() {
        const runner = yield* CommandRunner
        yield* runner.resetCounts
        yield* Iscsiadm.Iscsiadm.use((i) => i.createNode({ iqn: PARITY_IQN, portal: P1, iface }, settings))
        return yield* runner.spawnCounts
      })
    ).then((counts) => ({ counts, record: shown(P1), file: recordFile(P1) }))

  /** The record file's `name = value` lines (the file `-o new` writes without a tpgt). */
  const recordFile = (portal: string) => {
    const text = NodeFs.readFileSync(`/etc/iscsi/nodes/${PARITY_IQN}/${portal.replace(":", ",")}`, "utf8")
    return new Map(
      text.split("\n").flatMap((l) => {
        const m = /^(\S+) = (.*)$/.exec(l)
        return m === null ? [] : [[m[1]!, m[2]!] as const]
      })
    )
  }

  const variants: ReadonlyArray<[string, string, Iscsiadm.NodeSettings]> = [
    ["no CHAP, Debian's iscsid.conf", "", {
      startup: "manual",
      scan: "manual",
      loginTimeout: 15,
      loginRetryMax: 1,
      auth: Option.none()
    }],
    [
      "CHAP and mutual CHAP, iscsid.conf with more node settings and its own CHAP",
      [
        "node.session.timeo.replacement_timeout = 17",
        "node.session.cmds_max = 64",
        "node.conn[0].timeo.noop_out_interval =3",
        "node.session.auth.authmethod = CHAP",
        "node.session.auth.username = confuser",
        "node.session.queue_depth=99",
        ""
      ].join("\n"),
      {
        startup: "manual",
        scan: "auto",
        loginTimeout: 5,
        loginRetryMax: 2,
        auth: Option.some({
          username: "brickuser",
          password: Redacted.make("brick pass 1234"),
          usernameIn: Option.some("targetuser"),
          passwordIn: Option.some(Redacted.make("target-pass-5678"))
        })
      }
    ]
  ]
  for (const [name, extraConf, settings] of variants) {
    it(
      `reads back through iscsiadm exactly as the record -o new and -o update make (${name})`,
      { timeout: 120_000 },
      async () => {
        NodeFs.writeFileSync(conf, confBefore + extraConf)
        const byIscsiadm = await made("iscsiadm", settings)
        deleted(P1)
        const byBrick = await made("direct", settings)
        assert.deepEqual(byIscsiadm.counts, { iscsiadm: 2 })
        assert.deepEqual(byBrick.counts, {})
        assert.equal(byBrick.record, byIscsiadm.record)
        // and line for line (`-o show` prints an empty value and the text `<empty>` alike):
        // every line brick wrote is iscsiadm's; the lines it left out hold built-in defaults
        for (const [k, v] of byBrick.file) assert.equal(byIscsiadm.file.get(k), v, k)
        if (extraConf !== "") {
          assert.match(byBrick.record, /^node\.session\.timeo\.replacement_timeout = 17$/m)
          assert.match(byBrick.record, /^node\.session\.queue_depth = 32$/m) // `=99` without a blank: idbm skips it
        }
        deleted(P1)
        NodeFs.writeFileSync(conf, confBefore)
      }
    )
  }

  it(
    "a record brick wrote logs in (scan auto finds the LUN); while the session is up it cannot be deleted; after logout brick removes it",
    { timeout: 120_000 },
    async () => {
      const node = { iqn: PARITY_IQN, portal: P1, iface }
      const sid = await run(Effect.gen(function*() {
        const i = yield* Iscsiadm.Iscsiadm
        yield* i.createNode(node, { startup: "manual", scan: "auto", loginRetryMax: 1, auth: Option.none() })
        yield* i.login(node)
        const s = yield* waitFor(
          "session",
          10,
          Effect.gen(function*() {
            const sysfs = yield* Sysfs.Sysfs
            for (const name of yield* sysfs.list(HostPath.make("/sys/class/iscsi_session"))) {
              const t = yield* sysfs.read(HostPath.make(`/sys/class/iscsi_session/${name}/targetname`))
              if (Option.getOrNull(t) === PARITY_IQN) return Option.some(name)
            }
            return Option.none<string>()
          })
        )
        yield* waitFor(
          "by-path link",
          20,
          Sysfs.Sysfs.use((f) => f.readlink(HostPath.make(`/dev/disk/by-path/ip-${P1}-iscsi-${PARITY_IQN}-lun-0`)))
        )
        const refused = yield* Effect.flip(i.deleteNode(node))
        const kept = NodeFs.existsSync(`/etc/iscsi/nodes/${PARITY_IQN}/10.99.0.1,3260`)
        yield* i.logout(node)
        const runner = yield* CommandRunner
        yield* runner.resetCounts
        yield* i.deleteNode(node)
        return { s, refused: refused.reason._tag, kept, deleteSpawns: yield* runner.spawnCounts }
      }))
      assert.match(sid.s, /^session\d+$/)
      assert.equal(sid.refused, "SessionExists")
      assert.equal(sid.kept, true)
      assert.deepEqual(sid.deleteSpawns, {})
      assert.equal(NodeFs.existsSync(`/etc/iscsi/nodes/${PARITY_IQN}`), false)
      const listed = NodeChild.spawnSync("iscsiadm", ["-m", "node", "-T", PARITY_IQN], { encoding: "utf8" })
      assert.equal(listed.status, 21, listed.stdout + listed.stderr)
    }
  )

  it(
    "takes the same lock as iscsiadm: an iscsiadm -o new waits while brick holds it",
    { timeout: 60_000 },
    async () => {
      assert.equal(IscsiDbLock.tryLock("/"), true)
      let exited: number | null | undefined
      const child = NodeChild.spawn("iscsiadm", ["-m", "node", "-T", PARITY_IQN, "-p", P2, "-o", "new"], {
        stdio: "ignore"
      })
      const done = new Promise<void>((resolve) => child.on("exit", (code) => ((exited = code), resolve())))
      await new Promise((r) => setTimeout(r, 1500))
      const whileHeld = exited
      IscsiDbLock.unlock("/")
      await done
      assert.equal(whileHeld, undefined)
      assert.equal(exited, 0)
      deleted(P2)
    }
  )
})
