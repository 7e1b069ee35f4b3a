import * as NodeFsSync from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import * as MultipathConf from "../src/MultipathConf.ts"

const root = (files: Record<string, string>) => {
  const dir = NodeFsSync.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "brick-mpconf-"))
  for (const [file, text] of Object.entries(files)) {
    NodeFsSync.mkdirSync(NodePath.dirname(NodePath.join(dir, file)), { recursive: true })
    NodeFsSync.writeFileSync(NodePath.join(dir, file), text)
  }
  return dir
}

describe("multipath's configuration files", () => {
  it("find_multipaths: the defaults section's value, not another section's; its spellings", () => {
    const text = [
      "# find_multipaths no",
      "defaults {",
      "    user_friendly_names yes",
      "    find_multipaths \"yes\"",
      "}",
      "devices {",
      "    device {",
      "        find_multipaths no",
      "    }",
      "}",
      ""
    ].join("\n")
    expect(MultipathConf.findMultipathsOf(text)).toBe("yes")
    expect(MultipathConf.findMultipathsOf("defaults {\n find_multipaths on\n}\n")).toBe("yes")
    expect(MultipathConf.findMultipathsOf("defaults {\n find_multipaths off\n}\n")).toBe("no")
    expect(MultipathConf.findMultipathsOf("defaults {\n find_multipaths smart\n}\n")).toBe("smart")
    expect(MultipathConf.findMultipathsOf("defaults {\n user_friendly_names yes\n}\n")).toBeUndefined()
    expect(MultipathConf.findMultipathsOf("blacklist {\n find_multipaths greedy\n}\n")).toBeUndefined()
  })

  it("the effective value: built-in strict with no file; multipath.conf; conf.d files after it, in name order", () => {
    expect(MultipathConf.findMultipaths(root({}))).toBe("strict")
    expect(MultipathConf.findMultipaths(root({ "etc/multipath.conf": "defaults {\n find_multipaths no\n}\n" }))).toBe(
      "no"
    )
    const withDropIns = root({
      "etc/multipath.conf": "defaults {\n find_multipaths no\n}\n",
      "etc/multipath/conf.d/20-b.conf": "defaults {\n find_multipaths greedy\n}\n",
      "etc/multipath/conf.d/10-a.conf": "defaults {\n find_multipaths yes\n}\n",
      "etc/multipath/conf.d/30-c.txt": "defaults {\n find_multipaths smart\n}\n"
    })
    expect(MultipathConf.findMultipaths(withDropIns)).toBe("greedy")
  })

  it("the wwids file: one /WWID/ a line, comments skipped", () => {
    const dir = root({ "etc/multipath/wwids": "# Multipath wwids, Version : 1.0\n/36001405aa/\n/36001405bb/\n" })
    expect(MultipathConf.wwidKnown(dir, "36001405aa")).toBe(true)
    expect(MultipathConf.wwidKnown(dir, "36001405cc")).toBe(false)
    expect(MultipathConf.wwidKnown(root({}), "36001405aa")).toBe(false)
  })
})
