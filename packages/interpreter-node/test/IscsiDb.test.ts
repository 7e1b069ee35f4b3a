import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { readNodeDb } from "../src/IscsiDb.ts"

describe("readNodeDb", () => {
  it(
    "lists discovered (dir/iface) and static (flat file) records, IPv6 bracketed; undefined without a " +
      "database",
    () => {
      const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "brick-nodedb-"))
      expect(readNodeDb(root)).toBeUndefined()
      const t = NodePath.join(root, "etc/iscsi/nodes/iqn.2024-01.org.example:vol")
      NodeFs.mkdirSync(NodePath.join(t, "10.0.0.1,3260,1"), { recursive: true })
      NodeFs.writeFileSync(NodePath.join(t, "10.0.0.1,3260,1", "default"), "node.name = x\n")
      NodeFs.writeFileSync(NodePath.join(t, "10.0.0.1,3260,1", "myiface"), "node.name = x\n")
      NodeFs.writeFileSync(NodePath.join(t, "10.0.0.2,3260"), "node.name = x\niface.iscsi_ifacename = other\n")
      NodeFs.writeFileSync(NodePath.join(t, "fd00::5,3261"), "node.name = x\n")
      NodeFs.writeFileSync(NodePath.join(t, "garbage"), "")
      const got = readNodeDb(root)!.map((r) => `${r.portal} ${r.iface}`).sort()
      expect(got).toEqual([
        "10.0.0.1:3260 default",
        "10.0.0.1:3260 myiface",
        "10.0.0.2:3260 other",
        "[fd00::5]:3261 default"
      ])
      expect(readNodeDb(root)!.every((r) => r.iqn === "iqn.2024-01.org.example:vol")).toBe(true)
      NodeFs.rmSync(root, { recursive: true })
    }
  )
})

describe("readNodeDb on a host without records", () => {
  it("is empty with /etc/iscsi/iscsid.conf and no /var/lib/iscsi, undefined when /var/lib/iscsi exists", () => {
    const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "brick-nodedb-"))
    NodeFs.mkdirSync(NodePath.join(root, "etc/iscsi"), { recursive: true })
    NodeFs.writeFileSync(NodePath.join(root, "etc/iscsi/iscsid.conf"), "")
    expect(readNodeDb(root)).toEqual([])
    NodeFs.mkdirSync(NodePath.join(root, "var/lib/iscsi"), { recursive: true })
    expect(readNodeDb(root)).toBeUndefined()
    NodeFs.rmSync(root, { recursive: true })
  })
})
