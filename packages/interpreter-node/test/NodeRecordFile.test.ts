import { IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Effect, Fiber, Option, Redacted } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { CommandRunner } from "../src/CommandRunner.ts"
import * as Args from "../src/IscsiadmArgs.ts"
import { readNodeDb } from "../src/NodeIscsiadm.ts"
import * as RecordFile from "../src/NodeRecordFile.ts"
import { calls, cleanup, fakeTool, runWith, tempDir } from "./support.ts"

let dir: string
let root: string
beforeEach(() => {
  dir = tempDir()
  root = NodePath.join(dir, "root")
})
afterEach(() => cleanup(dir))

const node: Iscsiadm.NodeRecord = {
  iqn: Iqn.unsafeMake("iqn.2010-10.org.openstack:volume-1"),
  portal: Portal.unsafeMake("10.0.0.1:3260"),
  iface: IfaceName.defaultIface
}
const address = { host: "10.0.0.1", port: 3260 }
const chap: Iscsiadm.ChapCredentials = {
  username: "user1",
  password: Redacted.make("T0pS3cretChap"),
  usernameIn: Option.none(),
  passwordIn: Option.none()
}
const settings: Iscsiadm.NodeSettings = {
  startup: "manual",
  scan: "manual",
  loginTimeout: 15,
  loginRetryMax: 1,
  auth: Option.some(chap)
}

/** name → value of a record's text (each name must appear once). */
const linesOf = (text: string): Map<string, string> => {
  const m = new Map<string, string>()
  for (const line of text.split("\n")) {
    const hit = /^(\S+) = (.*)$/.exec(line)
    if (hit === null) continue
    expect(m.has(hit[1]!), `${hit[1]} twice`).toBe(false)
    m.set(hit[1]!, hit[2]!)
  }
  return m
}

describe("iscsid.conf as open-iscsi reads it", () => {
  it.each([
    ["node.session.scan = manual", ["node.session.scan", "manual"]],
    ["  node.a   =   x y  ", ["node.a", "x y"]],
    ["node.a =1", ["node.a", "1"]],
    ["node.a\t=\t1", ["node.a", "1"]],
    ["node.a == 1", ["node.a", "= 1"]],
    ["node.a=1", undefined],
    ["node.a= 1", undefined],
    ["node.a =", undefined],
    ["node.a", undefined],
    ["# node.a = 1", undefined],
    ["", undefined]
  ])("%j → %j", (line, expected) => {
    expect(RecordFile.confLine(line)).toEqual(expected)
  })

  it("keeps node.* settings in order, skipping other sections, a last line without a line break and over-long lines", () => {
    const long = `node.long = ${"x".repeat(2040)}`
    const text = [
      "iscsid.startup = /bin/systemctl start iscsid.socket",
      "node.startup = automatic",
      "discovery.sendtargets.auth.authmethod = CHAP",
      "node.session.timeo.replacement_timeout = 120",
      long,
      "node.startup = manual",
      "node.conn[0].timeo.noop_out_interval = 5"
    ].join("\n")
    expect(RecordFile.confSettings(text)).toEqual([
      ["node.startup", "automatic"],
      ["node.session.timeo.replacement_timeout", "120"],
      ["node.startup", "manual"]
    ])
    expect(RecordFile.confSettings(`${text}\n`).at(-1)).toEqual(["node.conn[0].timeo.noop_out_interval", "5"])
  })
})

describe("the record brick writes", () => {
  const params = Args.nodeParams(settings)

  it("holds the identity, iscsid.conf's settings and brick's, each once, the later source winning", () => {
    const conf = RecordFile.confSettings(
      "node.session.scan = auto\nnode.session.timeo.replacement_timeout = 120\nnode.name = iqn.2000-01.com.example:other\nnode.session.auth.authmethod = CHAP\nnode.session.auth.username = confuser\n"
    )
    const text = RecordFile.recordText(node, address, conf, params)
    expect(text.startsWith("# BEGIN RECORD")).toBe(true)
    expect(text.endsWith("# END RECORD\n")).toBe(true)
    const m = linesOf(text)
    expect(m.get("node.name")).toBe(node.iqn)
    expect(m.get("node.tpgt")).toBe("-1")
    expect(m.get("iface.iscsi_ifacename")).toBe("default")
    expect(m.get("iface.transport_name")).toBe("tcp")
    expect(m.get("node.conn[0].address")).toBe("10.0.0.1")
    expect(m.get("node.conn[0].port")).toBe("3260")
    expect(m.get("node.session.timeo.replacement_timeout")).toBe("120")
    expect(m.get("node.session.scan")).toBe("manual")
    expect(m.get("node.startup")).toBe("manual")
    expect(m.get("node.conn[0].timeo.login_timeout")).toBe("15")
    expect(m.get("node.session.initial_login_retry_max")).toBe("1")
    expect(m.get("node.session.auth.username")).toBe("user1")
    expect(m.get("node.session.auth.password")).toBe("T0pS3cretChap")
    // empty: no line (as open-iscsi writes it; `<empty>` would be read as that text)
    expect(m.has("node.session.auth.username_in")).toBe(false)
    expect(m.has("node.session.auth.password_in")).toBe(false)
    expect(text).not.toContain("<empty>")
    const cleared = linesOf(RecordFile.recordText(node, address, conf, Args.nodeParams({ auth: Option.none() })))
    expect(cleared.get("node.session.auth.authmethod")).toBe("None")
    expect(cleared.has("node.session.auth.username")).toBe(false)
  })

  it("is refused for another iface, a portal that is not IPv4, and values idbm would change", () => {
    const host = "10.0.0.1"
    expect(RecordFile.refusal(node, host, params)).toBeUndefined()
    expect(RecordFile.refusal({ ...node, iface: IfaceName.unsafeMake("iser") }, host, params)).toMatch(/iface/)
    expect(RecordFile.refusal(node, "fd00::1", params)).toMatch(/IPv4/)
    expect(RecordFile.refusal(node, "storage.example.com", params)).toMatch(/IPv4/)
    for (const odd of [" lead", "trail ", "tab\there", "x".repeat(256)]) {
      const withOdd = Args.nodeParams({ auth: Option.some({ ...chap, password: Redacted.make(odd) }) })
      expect(RecordFile.refusal(node, host, withOdd), JSON.stringify(odd)).toMatch(/node\.session\.auth\.password/)
    }
    expect(RecordFile.keepsValue("x".repeat(255))).toBe(true)
  })
})

describe("open-iscsi's database lock", () => {
  const lockWrite = () => NodePath.join(root, "run/lock/iscsi/lock.write")

  it("is held (lock.write linked to lock) while the body runs, and released after", async () => {
    const seen = await Effect.runPromise(RecordFile.withDatabaseLock(root, 1000, () => {
      const a = NodeFs.statSync(lockWrite())
      const b = NodeFs.statSync(NodePath.join(root, "run/lock/iscsi/lock"))
      return a.ino === b.ino
    }))
    expect(seen).toBe(true)
    expect(NodeFs.existsSync(lockWrite())).toBe(false)
  })

  it("waits while another holds it, then takes it; gives up after the time limit", async () => {
    expect(RecordFile.tryLock(root)).toBe(true)
    expect(RecordFile.tryLock(root)).toBe(false)
    const waited = await Effect.runPromise(Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(RecordFile.withDatabaseLock(root, 5000, () => "ran"))
      yield* Effect.sleep(60)
      const early = fiber.pollUnsafe()
      RecordFile.unlock(root)
      return { early, late: yield* Fiber.join(fiber) }
    }))
    expect(waited.early).toBeUndefined()
    expect(waited.late).toBe("ran")
    expect(RecordFile.tryLock(root)).toBe(true)
    expect(await Effect.runPromise(RecordFile.withDatabaseLock(root, 50, () => "ran"))).toBeUndefined()
    RecordFile.unlock(root)
  })
})

describe("NodeIscsiadm.createNode with direct record writes", () => {
  /** A Debian-layout root and the host's `iscsiadm` (a fake on PATH). */
  const debianHost = (conf = "node.session.timeo.replacement_timeout = 120\n") => {
    NodeFs.mkdirSync(NodePath.join(root, "etc/iscsi"), { recursive: true })
    NodeFs.writeFileSync(NodePath.join(root, "etc/iscsi/iscsid.conf"), conf)
    fakeTool(dir, "iscsiadm", "exit 0")
    process.env.PATH = `${dir}:${process.env.PATH}`
  }
  const create = (n: Iscsiadm.NodeRecord, config: object = {}) =>
    runWith(
      { root, ...config },
      Effect.gen(function*() {
        const i = yield* Iscsiadm.Iscsiadm
        const runner = yield* CommandRunner
        yield* i.createNode(n, settings)
        return yield* runner.spawnCounts
      })
    )

  it("writes a new record without a process: mode 0600 in 0700 directories, read back by listNodes", async () => {
    debianHost()
    const counts = await create(node)
    expect(counts).toEqual({})
    expect(calls(dir, "iscsiadm")).toEqual([])
    const path = NodePath.join(root, "etc/iscsi/nodes", node.iqn, "10.0.0.1,3260")
    expect(NodeFs.statSync(path).mode & 0o777).toBe(0o600)
    expect(NodeFs.statSync(NodePath.dirname(path)).mode & 0o777).toBe(0o700)
    const m = linesOf(NodeFs.readFileSync(path, "utf8"))
    expect(m.get("node.session.timeo.replacement_timeout")).toBe("120")
    expect(m.get("node.session.auth.password")).toBe("T0pS3cretChap")
    expect(readNodeDb(root)).toEqual([node])
    expect(NodeFs.existsSync(NodePath.join(root, "run/lock/iscsi/lock.write"))).toBe(false)
  })

  it("updates through iscsiadm a record that exists, and leaves to iscsiadm what it cannot write exactly", async () => {
    debianHost()
    await create(node)
    await create(node)
    await create({ ...node, portal: Portal.unsafeMake("[fd00::1]:3260") })
    // (at 10.0.0.1 the `<address>,<port>` file is default's: `-o new -I iser` would replace it, see GuardedRecords.test.ts)
    await create({ ...node, portal: Portal.unsafeMake("10.0.0.5:3260"), iface: IfaceName.unsafeMake("iser") })
    expect(calls(dir, "iscsiadm").map((argv) => `${argv[5]} ${argv[7]} ${argv[9]}`)).toEqual([
      "10.0.0.1:3260 default update",
      "[fd00::1]:3260 default new",
      "[fd00::1]:3260 default update",
      "10.0.0.5:3260 iser new",
      "10.0.0.5:3260 iser update"
    ])
  })

  it("is not used with nodeRecordWrites iscsiadm, another iscsiadm, a command prefix or a database in /var/lib/iscsi", async () => {
    debianHost()
    await create(node, { nodeRecordWrites: "iscsiadm" })
    await create({ ...node, portal: Portal.unsafeMake("10.0.0.2:3260") }, { commandPrefix: ["env"] })
    await create({ ...node, portal: Portal.unsafeMake("10.0.0.3:3260") }, {
      iscsiadmPath: NodePath.join(dir, "iscsiadm")
    })
    NodeFs.mkdirSync(NodePath.join(root, "var/lib/iscsi"), { recursive: true })
    await create({ ...node, portal: Portal.unsafeMake("10.0.0.4:3260") })
    expect(calls(dir, "iscsiadm").filter((argv) => argv.includes("new")).map((argv) => argv[5])).toEqual([
      "10.0.0.1:3260",
      "10.0.0.2:3260",
      "10.0.0.3:3260",
      "10.0.0.4:3260"
    ])
    expect(NodeFs.existsSync(NodePath.join(root, "etc/iscsi/nodes"))).toBe(false)
  })

  it("never writes a value that would inject a record line: such a value is refused as it is on iscsiadm's way", async () => {
    debianHost()
    const injected = {
      ...settings,
      auth: Option.some({ ...chap, password: Redacted.make("x\nnode.session.auth.authmethod = None") })
    }
    const e = await runWith({ root }, Effect.flip(Iscsiadm.Iscsiadm.use((i) => i.createNode(node, injected))))
    expect(e.detail).toMatch(/line break or NUL/)
    expect(readNodeDb(root)).toEqual([])
    expect(calls(dir, "iscsiadm").filter((argv) => argv.includes("update"))).toEqual([])
  })

  it("fails Busy when open-iscsi's lock stays taken, writing nothing", async () => {
    debianHost()
    expect(RecordFile.tryLock(root)).toBe(true)
    const e = await runWith(
      { root, commandTimeout: "100 millis" },
      Effect.flip(Iscsiadm.Iscsiadm.use((i) => i.createNode(node, settings)))
    )
    expect(e.reason._tag).toBe("Busy")
    expect(e.detail).toMatch(/lock\.write/)
    expect(readNodeDb(root)).toEqual([])
    RecordFile.unlock(root)
  })

  /** A session of `iqn` at `address:port` in the root's sysfs. */
  const session = (sid: number, iqn: string, address: string, port: number) => {
    const dir = NodePath.join(root, `sys/class/iscsi_session/session${sid}`)
    NodeFs.mkdirSync(dir, { recursive: true })
    NodeFs.writeFileSync(NodePath.join(dir, "targetname"), `${iqn}\n`)
    NodeFs.writeFileSync(NodePath.join(dir, "ifacename"), "default\n")
    const conn = NodePath.join(root, `sys/class/iscsi_connection/connection${sid}:0`)
    NodeFs.mkdirSync(conn, { recursive: true })
    NodeFs.writeFileSync(NodePath.join(conn, "persistent_address"), `${address}\n`)
    NodeFs.writeFileSync(NodePath.join(conn, "persistent_port"), `${port}\n`)
  }
  const remove = (n: Iscsiadm.NodeRecord) => runWith({ root }, Iscsiadm.Iscsiadm.use((i) => i.deleteNode(n)))
  const targetDir = () => NodePath.join(root, "etc/iscsi/nodes", node.iqn)

  it("removes a record it may without a process (and the target's directory once empty), as iscsiadm -o delete does", async () => {
    debianHost()
    const other = { ...node, portal: Portal.unsafeMake("10.0.0.2:3260") }
    await create(node)
    await create(other)
    session(7, node.iqn, "10.0.0.9", 3260) // another portal's session does not hold it
    await remove(node)
    expect(readNodeDb(root)).toEqual([other])
    await remove(other)
    expect(NodeFs.existsSync(targetDir())).toBe(false)
    expect(calls(dir, "iscsiadm")).toEqual([])
  })

  it("leaves to iscsiadm a record a session may use, one of another iface or made by discovery, and one that is absent", async () => {
    debianHost()
    await create(node)
    session(3, node.iqn, "10.0.0.1", 3260)
    await remove(node)
    expect(readNodeDb(root)).toEqual([node]) // the fake iscsiadm removes nothing
    const discovered = NodePath.join(targetDir(), "10.0.0.5,3260,1")
    NodeFs.mkdirSync(discovered)
    NodeFs.writeFileSync(
      NodePath.join(discovered, "default"),
      "# BEGIN RECORD 2.1.8\nnode.discovery_type = send_targets\n# END RECORD\n"
    )
    await remove({ ...node, portal: Portal.unsafeMake("10.0.0.5:3260") })
    await remove({ ...node, portal: Portal.unsafeMake("10.0.0.6:3260") })
    expect(calls(dir, "iscsiadm").map((argv) => `${argv[5]} ${argv.at(-1)}`)).toEqual([
      "10.0.0.1:3260 delete",
      "10.0.0.5:3260 delete",
      "10.0.0.6:3260 delete"
    ])
    expect(RecordFile.removable("node.discovery_type = static\niface.iscsi_ifacename = iser\n")).toBe(false)
    expect(RecordFile.removable("node.discovery_type = static\n")).toBe(true)
  })
})
