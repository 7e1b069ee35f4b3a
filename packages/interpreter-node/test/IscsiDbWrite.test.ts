import { IfaceName } from "@brick/core"
import { Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import * as Args from "../src/IscsiadmArgs.ts"
import * as IscsiDbWrite from "../src/IscsiDbWrite.ts"
import * as IscsidConf from "../src/IscsidConf.ts"
import { address, chap, linesOf, node, settings } from "./recordFixtures.ts"

describe("the record brick writes", () => {
  const params = Args.nodeParams(settings)

  it("holds the identity, iscsid.conf's settings and brick's, each once, the later source winning", () => {
    const conf = IscsidConf.confSettings(
      "node.session.scan = auto\nnode.session.timeo.replacement_timeout = 120\nnode.name = " +
        "iqn.2000-01.com.example:other\nnode.session.auth.authmethod = CHAP\nnode.session.auth.username = confuser\n"
    )
    const text = IscsiDbWrite.recordText(node, address, conf, params)
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
    const cleared = linesOf(IscsiDbWrite.recordText(node, address, conf, Args.nodeParams({ auth: Option.none() })))
    expect(cleared.get("node.session.auth.authmethod")).toBe("None")
    expect(cleared.has("node.session.auth.username")).toBe(false)
  })

  it("is refused for another iface, a portal that is not IPv4, and values idbm would change", () => {
    const host = "10.0.0.1"
    expect(IscsiDbWrite.refusal(node, host, params)).toBeUndefined()
    expect(IscsiDbWrite.refusal({ ...node, iface: IfaceName.unsafeMake("iser") }, host, params)).toMatch(/iface/)
    expect(IscsiDbWrite.refusal(node, "fd00::1", params)).toMatch(/IPv4/)
    expect(IscsiDbWrite.refusal(node, "storage.example.com", params)).toMatch(/IPv4/)
    for (const odd of [" lead", "trail ", "tab\there", "x".repeat(256)]) {
      const withOdd = Args.nodeParams({ auth: Option.some({ ...chap, password: Redacted.make(odd) }) })
      expect(IscsiDbWrite.refusal(node, host, withOdd), JSON.stringify(odd)).toMatch(/node\.session\.auth\.password/)
    }
    expect(IscsiDbWrite.keepsValue("x".repeat(255))).toBe(true)
  })
})
