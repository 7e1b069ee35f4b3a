import { IfaceName, Iscsiadm, Portal } from "@brick/core"
import { Effect, Option, Redacted } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { CommandRunner } from "../src/CommandRunner.ts"
import { readNodeDb } from "../src/IscsiDb.ts"
import * as IscsiDbLock from "../src/IscsiDbLock.ts"
import * as IscsiDbRemove from "../src/IscsiDbRemove.ts"
import { chap, linesOf, node, settings } from "./recordFixtures.ts"
import { calls, cleanup, fakeTool, runWith, tempDir } from "./support.ts"

let dir: string
let root: string
beforeEach(() => {
  dir = tempDir()
  root = NodePath.join(dir, "root")
})
afterEach(() => cleanup(dir))

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

  it(
    "is not used with nodeRecordWrites iscsiadm, another iscsiadm, a command prefix or a database in " +
      "/var/lib/iscsi",
    async () => {
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
    }
  )

  it(
    "never writes a value that would inject a record line: " + "such a value is refused as it is on iscsiadm's way",
    async () => {
      debianHost()
      const injected = {
        ...settings,
        auth: Option.some({ ...chap, password: Redacted.make("x\nnode.session.auth.authmethod = None") })
      }
      const e = await runWith({ root }, Effect.flip(Iscsiadm.Iscsiadm.use((i) => i.createNode(node, injected))))
      expect(e.detail).toMatch(/line break or NUL/)
      expect(readNodeDb(root)).toEqual([])
      expect(calls(dir, "iscsiadm").filter((argv) => argv.includes("update"))).toEqual([])
    }
  )

  it("fails Busy when open-iscsi's lock stays taken, writing nothing", async () => {
    debianHost()
    expect(IscsiDbLock.tryLock(root)).toBe(true)
    const e = await runWith(
      { root, commandTimeout: "100 millis" },
      Effect.flip(Iscsiadm.Iscsiadm.use((i) => i.createNode(node, settings)))
    )
    expect(e.reason._tag).toBe("Busy")
    expect(e.detail).toMatch(/lock\.write/)
    expect(readNodeDb(root)).toEqual([])
    IscsiDbLock.unlock(root)
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

  it(
    "removes a record it may without a process (and the target's directory once empty), as iscsiadm -o delete " +
      "does",
    async () => {
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
    }
  )

  it(
    "leaves to iscsiadm a record a session may use, one of another iface or made by discovery, and one that " +
      "is absent",
    async () => {
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
      expect(IscsiDbRemove.removable("node.discovery_type = static\niface.iscsi_ifacename = iser\n")).toBe(false)
      expect(IscsiDbRemove.removable("node.discovery_type = static\n")).toBe(true)
    }
  )
})
