/**
 * Records of other ifaces in open-iscsi's database are never replaced or
 * removed (IscsiDbPlacement, GuardedRecords): beside an `<address>,<port>`
 * file of another iface, brick's record goes in a portal group's directory
 * and iscsiadm is never asked to write or delete there; in discovery's
 * layout (`<address>,<port>,<tpgt>/<iface>`) brick's record goes in the same
 * directory, as `-o new` would put it.
 */
import { IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Effect, Option } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { readNodeDb } from "../src/IscsiDb.ts"
import * as Placement from "../src/IscsiDbPlacement.ts"
import { calls, cleanup, fakeTool, runWith, tempDir } from "./support.ts"

let dir: string
let root: string
beforeEach(() => {
  dir = tempDir()
  root = NodePath.join(dir, "root")
  NodeFs.mkdirSync(NodePath.join(root, "etc/iscsi"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(root, "etc/iscsi/iscsid.conf"), "node.startup = manual\n")
  fakeTool(dir, "iscsiadm", "exit 0")
  process.env.PATH = `${dir}:${process.env.PATH}`
})
afterEach(() => cleanup(dir))

const iqn = Iqn.unsafeMake("iqn.2010-10.org.openstack:volume-1")
const ours: Iscsiadm.NodeRecord = { iqn, portal: Portal.unsafeMake("10.0.0.1:3260"), iface: IfaceName.defaultIface }
const settings: Iscsiadm.NodeSettings = { startup: "manual", scan: "manual", auth: Option.none() }
const target = () => NodePath.join(root, "etc/iscsi/nodes", iqn)
const theirText = "# BEGIN RECORD 2.1.8\nnode.name = x\niface.iscsi_ifacename = op0\nnode.tpgt = -1\n# END RECORD\n"

/** Another iface's record as `iscsiadm -o new -I op0` leaves it: the `<address>,<port>` file. */
const theirFlatRecord = () => {
  NodeFs.mkdirSync(target(), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(target(), "10.0.0.1,3260"), theirText)
}
/** A session of theirs to the portal, in a fake sysfs (its tpgt 7). */
const theirSession = () => {
  const s = NodePath.join(root, "sys/class/iscsi_session/session4")
  const c = NodePath.join(root, "sys/class/iscsi_connection/connection4:0")
  NodeFs.mkdirSync(s, { recursive: true })
  NodeFs.mkdirSync(c, { recursive: true })
  for (const [f, v] of [["targetname", iqn], ["tpgt", "7"], ["ifacename", "op0"]]) {
    NodeFs.writeFileSync(NodePath.join(s, f!), `${v}\n`)
  }
  NodeFs.writeFileSync(NodePath.join(c, "persistent_address"), "10.0.0.1\n")
  NodeFs.writeFileSync(NodePath.join(c, "persistent_port"), "3260\n")
}
const run = <A, E>(f: (i: Iscsiadm.Iscsiadm["Service"]) => Effect.Effect<A, E>, config: object = {}) =>
  runWith({ root, ...config }, Effect.result(Iscsiadm.Iscsiadm.use(f)))

describe("IscsiDbPlacement.of", () => {
  it("puts a record where `-o new` would, and guards a portal whose `<address>,<port>` file is another iface's", () => {
    expect(Placement.of(root, ours)).toMatchObject({ exists: false, guarded: false, tpgt: undefined })
    NodeFs.mkdirSync(NodePath.join(target(), "10.0.0.1,3260,1"), { recursive: true })
    NodeFs.writeFileSync(NodePath.join(target(), "10.0.0.1,3260,1/op0"), theirText)
    expect(Placement.of(root, ours)).toMatchObject({ exists: false, guarded: false, tpgt: 1 })
    expect(Placement.of(root, ours).file.endsWith("10.0.0.1,3260,1/default")).toBe(true)
    NodeFs.rmSync(target(), { recursive: true })
    theirFlatRecord()
    expect(Placement.of(root, ours)).toMatchObject({ exists: false, guarded: true, tpgt: undefined })
    expect(Placement.of(root, { ...ours, iface: IfaceName.unsafeMake("op0") })).toMatchObject({
      exists: true,
      guarded: false
    })
  })
})

describe("NodeIscsiadm beside another iface's record", () => {
  it("writes brick's record in a portal group's directory (the session's tpgt), updates and removes it itself; theirs stays", async () => {
    theirFlatRecord()
    theirSession()
    expect((await run((i) => i.createNode(ours, settings)))._tag).toBe("Success")
    const mine = NodePath.join(target(), "10.0.0.1,3260,7/default")
    expect(NodeFs.readFileSync(mine, "utf8")).toMatch(/^node\.tpgt = 7$/m)
    expect(NodeFs.readFileSync(NodePath.join(target(), "10.0.0.1,3260"), "utf8")).toBe(theirText)
    expect(readNodeDb(root)?.map((n) => n.iface).sort()).toEqual(["default", "op0"])
    expect((await run((i) => i.createNode(ours, { ...settings, scan: "auto" })))._tag).toBe("Success")
    expect(NodeFs.readFileSync(mine, "utf8")).toMatch(/^node\.session\.scan = auto$/m)
    // the fake session is theirs (iface op0): brick's record is not in use
    expect((await run((i) => i.deleteNode(ours)))._tag).toBe("Success")
    expect(NodeFs.existsSync(NodePath.dirname(mine))).toBe(false)
    expect(NodeFs.readFileSync(NodePath.join(target(), "10.0.0.1,3260"), "utf8")).toBe(theirText)
    expect(calls(dir, "iscsiadm")).toEqual([])
  })

  it("refuses (RecordConflict, naming their record) what it cannot write itself: never replaces theirs", async () => {
    theirFlatRecord()
    theirSession()
    const viaWrapper = await run((i) => i.createNode(ours, settings), { iscsiadmPath: NodePath.join(dir, "iscsiadm") })
    const otherIface = await run((i) => i.createNode({ ...ours, iface: IfaceName.unsafeMake("iser") }, settings))
    for (const r of [viaWrapper, otherIface]) {
      expect(r._tag).toBe("Failure")
      if (r._tag === "Failure") {
        expect(r.failure.reason._tag).toBe("RecordConflict")
        expect(r.failure.detail).toContain("10.0.0.1,3260 is iface op0's record")
      }
    }
    expect(NodeFs.readFileSync(NodePath.join(target(), "10.0.0.1,3260"), "utf8")).toBe(theirText)
    expect(calls(dir, "iscsiadm")).toEqual([])
  })

  it("in discovery's layout, writes brick's record in the portal group's directory, as `-o new` would", async () => {
    NodeFs.mkdirSync(NodePath.join(target(), "10.0.0.1,3260,1"), { recursive: true })
    NodeFs.writeFileSync(NodePath.join(target(), "10.0.0.1,3260,1/op0"), theirText)
    expect((await run((i) => i.createNode(ours, settings)))._tag).toBe("Success")
    expect(NodeFs.readFileSync(NodePath.join(target(), "10.0.0.1,3260,1/default"), "utf8")).toMatch(
      /^node\.tpgt = 1$/m
    )
    expect(NodeFs.existsSync(NodePath.join(target(), "10.0.0.1,3260"))).toBe(false)
    expect(calls(dir, "iscsiadm")).toEqual([])
  })
})
