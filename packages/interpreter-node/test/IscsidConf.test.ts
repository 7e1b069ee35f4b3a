import { describe, expect, it } from "vitest"
import * as IscsidConf from "../src/IscsidConf.ts"

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
    expect(IscsidConf.confLine(line)).toEqual(expected)
  })

  it(
    "keeps node.* settings in order, skipping other sections, a last line without a line break and over-long " +
      "lines",
    () => {
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
      expect(IscsidConf.confSettings(text)).toEqual([
        ["node.startup", "automatic"],
        ["node.session.timeo.replacement_timeout", "120"],
        ["node.startup", "manual"]
      ])
      expect(IscsidConf.confSettings(`${text}\n`).at(-1)).toEqual(["node.conn[0].timeo.noop_out_interval", "5"])
    }
  )
})
