/**
 * Parsers, exit-code mapping and whole service paths on REAL output captured
 * in the lab guest (kernel 6.1, open-iscsi 2.1.8, multipath-tools 0.9.4) by
 * lab/capture-fixtures.sh into lab/fixtures/. Each fixture `NAME` has
 * NAME.txt (stdout), NAME.stderr.txt (stderr, if any) and NAME.cmd (the
 * command and `# exit status: N`). The fixtures are committed: a test whose fixture is absent fails.
 * The service tests replay a fixture through a fake tool: same stdout, stderr
 * and exit status as the real command had.
 */
import { IfaceName, Iqn, Iscsiadm, Multipath, Network, Portal } from "@brick/core"
import { Effect, Option } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { reasonFor } from "../src/IscsiadmExit.ts"
import * as Output from "../src/IscsiadmOutput.ts"
import * as NodeNetwork from "../src/NodeNetwork.ts"
import { calls, cleanup, failureWith, fakeTool, runWith, tempDir } from "./support.ts"

const fixtures = NodePath.resolve(import.meta.dirname, "../../../lab/fixtures")
const has = (name: string) => NodeFs.existsSync(NodePath.join(fixtures, `${name}.cmd`))
const stdout = (name: string) => NodeFs.readFileSync(NodePath.join(fixtures, `${name}.txt`), "utf8")
const stderrPath = (name: string) => NodePath.join(fixtures, `${name}.stderr.txt`)
const exitStatus = (name: string): number => {
  const m = /^# exit status: (\d+)/m.exec(NodeFs.readFileSync(NodePath.join(fixtures, `${name}.cmd`), "utf8"))
  if (!m) throw new Error(`${name}.cmd has no exit status`)
  return Number(m[1])
}
/** The command line the lab ran for fixture `name` (its `$ ` line), as words. */
const command = (name: string): ReadonlyArray<string> => {
  const m = /^\$ (.+)$/m.exec(NodeFs.readFileSync(NodePath.join(fixtures, `${name}.cmd`), "utf8"))
  if (!m) throw new Error(`${name}.cmd has no command line`)
  return m[1]!.split(" ")
}
/** A test on fixture `name`, failing (not skipped) when the fixture is absent: a misspelt name. */
const withFixture = (name: string) => (title: string, body: () => unknown) =>
  it(title, () => {
    if (!has(name)) throw new Error(`no fixture ${name} in lab/fixtures`)
    return body()
  })

let dir: string
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => cleanup(dir))

/** A fake tool that answers like the real command of fixture `name` did. */
const replay = (tool: string, name: string) =>
  fakeTool(
    dir,
    tool,
    `cat '${NodePath.join(fixtures, `${name}.txt`)}'\n` +
      (NodeFs.existsSync(stderrPath(name)) ? `cat '${stderrPath(name)}' >&2\n` : "") +
      `exit ${exitStatus(name)}`
  )

const IQN = "iqn.2003-01.org.brick:fixtures"
const node: Iscsiadm.NodeRecord = {
  iqn: Iqn.unsafeMake(IQN),
  portal: Portal.unsafeMake("10.99.0.1:3260"),
  iface: IfaceName.defaultIface
}
const use = <A, E>(f: (i: Iscsiadm.Iscsiadm["Service"]) => Effect.Effect<A, E>) => Iscsiadm.Iscsiadm.use(f)

describe("parsers on lab output", () => {
  withFixture("discovery-sendtargets")("sendtargets discovery", () => {
    expect(Output.parseTargets(stdout("discovery-sendtargets"))).toEqual([
      { portal: "10.99.0.1:3260", tpgt: 1, iqn: IQN },
      { portal: "10.99.0.2:3260", tpgt: 1, iqn: IQN },
      { portal: "10.99.0.3:3260", tpgt: 1, iqn: `${IQN}-chap` }
    ])
  })

  withFixture("node-list")("`-m node`", () => {
    expect(Output.parseTargets(stdout("node-list")).map((t) => `${t.portal} ${t.iqn}`)).toEqual([
      `10.99.0.1:3260 ${IQN}`,
      `10.99.0.2:3260 ${IQN}`,
      `10.99.0.3:3260 ${IQN}-chap`
    ])
  })

  withFixture("node-list-P1")("`-m node -P 1`", () => {
    const records = Output.parseNodeTree(stdout("node-list-P1"))
    expect(records).toContainEqual({ iqn: IQN, portal: "10.99.0.1:3260", iface: "default" })
    expect(records).toContainEqual({ iqn: IQN, portal: "10.99.0.2:3260", iface: "default" })
    expect(records.every((r) => r.iface === "default")).toBe(true)
  })

  withFixture("session")("`-m session`", () => {
    const sessions = Output.parseSessions(stdout("session"))
    expect(sessions.map((s) => [s.transport, s.portal, s.tpgt, s.iqn, s.flash])).toEqual([
      ["tcp", "10.99.0.1:3260", 1, IQN, false],
      ["tcp", "10.99.0.2:3260", 1, IQN, false]
    ])
    expect(sessions.every((s) => Number.isInteger(s.sid) && s.sid > 0)).toBe(true)
  })

  withFixture("session-none")("`-m session` without sessions: exit 21, nothing parsed", () => {
    expect(reasonFor(exitStatus("session-none"))._tag).toBe("NotFound")
    expect(Output.parseSessions(stdout("session-none"))).toEqual([])
  })

  withFixture("iface-list")("`-m iface`", () => {
    expect(Output.parseIfaces(stdout("iface-list")).map((r) => [r.name, r.transport])).toEqual([["default", "tcp"], [
      "iser",
      "iser"
    ]])
  })

  withFixture("iface-show-default")("`-m iface -I default`", () => {
    const r = Output.parseIfaceRecord(stdout("iface-show-default"))
    expect(Option.map(r, (x) => [x.name, x.transport, Option.isNone(x.netIfacename)])).toEqual(
      Option.some(["default", "tcp", true])
    )
  })

  withFixture("iface-show-custom")("custom iface bound to a netdev", () => {
    const r = Output.parseIfaceRecord(stdout("iface-show-custom"))
    expect(Option.map(r, (x) => [x.name, Option.getOrNull(x.netIfacename)])).toEqual(Option.some(["brick0", "dummy0"]))
  })

  withFixture("node-show")("a node record dump", () => {
    const r = Output.parseRecord(stdout("node-show"))
    expect([r.get("node.name"), r.get("node.tpgt"), r.get("iface.iscsi_ifacename"), r.get("node.conn[0].address")])
      .toEqual([
        IQN,
        "1",
        "default",
        "10.99.0.1"
      ])
  })

  withFixture("node-show-chap")("a CHAP record dump shows the password masked", () => {
    const r = Output.parseRecord(stdout("node-show-chap"))
    expect(r.get("node.session.auth.authmethod")).toBe("CHAP")
    expect(r.get("node.session.auth.password")).toBe("********")
    expect(stdout("node-show-chap")).not.toContain("wrongpassword1")
  })

  withFixture("initiatorname")("the initiator name file", () => {
    expect(Output.parseInitiatorName(stdout("initiatorname"))).toEqual(
      Option.some("iqn.2004-10.com.brick:lab-initiator")
    )
  })
})

describe("exit statuses of real failures", () => {
  const cases: ReadonlyArray<readonly [string, Iscsiadm.IscsiadmReason["_tag"]]> = [
    ["login-P1-again", "SessionExists"],
    ["login-chap-wrong", "AuthenticationFailed"],
    ["login-no-chap-on-chap-target", "AuthenticationFailed"],
    ["login-mutual-chap-wrong", "LoginRejected"],
    ["login-refused", "Timeout"],
    ["discovery-refused", "Timeout"],
    ["logout-not-logged-in", "NotFound"],
    ["logout-P1-again", "NotFound"],
    ["node-none", "NotFound"],
    ["node-show-missing", "NotFound"],
    ["node-delete-missing", "NotFound"],
    ["iface-show-missing", "Failed"]
  ]
  for (const [name, tag] of cases) {
    withFixture(name)(`${name} is ${tag}`, () => {
      expect(reasonFor(exitStatus(name))._tag).toBe(tag)
    })
  }
})

describe("NodeIscsiadm replaying lab output", () => {
  withFixture("discovery-sendtargets")("discover", async () => {
    const found = await runWith(
      { iscsiadmPath: replay("iscsiadm", "discovery-sendtargets") },
      use((i) => i.discover({ portal: node.portal, iface: node.iface, auth: Option.none() }))
    )
    expect(found.map((t) => t.portal)).toEqual(["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"])
  })

  withFixture("login-chap-wrong")("login with a wrong CHAP secret", async () => {
    const e = await failureWith({ iscsiadmPath: replay("iscsiadm", "login-chap-wrong") }, use((i) => i.login(node)))
    expect(e.reason._tag).toBe("AuthenticationFailed")
    expect(e.exitCode).toBe(24)
    expect(e.detail).toContain("authorization failure")
  })

  withFixture("login-mutual-chap-wrong")("login whose target proves a wrong mutual CHAP secret", async () => {
    const e = await failureWith(
      { iscsiadmPath: replay("iscsiadm", "login-mutual-chap-wrong") },
      use((i) => i.login(node))
    )
    expect(e.reason._tag).toBe("LoginRejected")
    expect(e.exitCode).toBe(19)
    expect(e.detail).toContain("non-retryable")
  })

  withFixture("login-P1-again")("login when logged in", async () => {
    const e = await failureWith({ iscsiadmPath: replay("iscsiadm", "login-P1-again") }, use((i) => i.login(node)))
    expect(e.reason._tag).toBe("SessionExists")
    expect(e.detail).toContain("already present")
  })

  withFixture("node-list-P1")("listNodes", async () => {
    const nodes = await runWith({ iscsiadmPath: replay("iscsiadm", "node-list-P1") }, use((i) => i.listNodes))
    expect(nodes).toContainEqual(node)
  })

  withFixture("node-none")("listNodes without records", async () => {
    expect(await runWith({ iscsiadmPath: replay("iscsiadm", "node-none") }, use((i) => i.listNodes))).toEqual([])
  })

  withFixture("iface-list")("listIfaces", async () => {
    const ifaces = await runWith({ iscsiadmPath: replay("iscsiadm", "iface-list") }, use((i) => i.listIfaces))
    expect(ifaces.map((r) => r.name)).toEqual(["default", "iser"])
  })
})

describe("NodeMultipath replaying lab output", () => {
  withFixture("multipathd-show-daemon")("isRunning on `multipathd show daemon`", async () => {
    const running = await runWith(
      { multipathdPath: replay("multipathd", "multipathd-show-daemon") },
      Multipath.Multipath.use((m) => m.isRunning)
    )
    expect(running).toBe(true)
  })

  withFixture("resize-3-multipathd-resize")(
    "resizeMap runs the lab's `multipathd resize map` and takes its `ok`",
    async () => {
      const [tool, ...args] = command("resize-3-multipathd-resize")
      expect(tool).toBe("multipathd")
      expect(stdout("resize-3-multipathd-resize").trim()).toBe("ok")
      await runWith(
        { multipathdPath: replay("multipathd", "resize-3-multipathd-resize") },
        Multipath.Multipath.use((m) => m.resizeMap(args.at(-1)!))
      )
      expect(calls(dir, "multipathd")).toEqual([args])
    }
  )

  withFixture("multipath-f-missing")("flushing a map that does not exist is NotFound", async () => {
    const e = await failureWith(
      { multipathPath: replay("multipath", "multipath-f-missing") },
      Multipath.Multipath.use((m) => m.flushMap("3600140500000000000000000000000000"))
    )
    expect(e.reason._tag).toBe("NotFound")
  })
})

describe("NodeNetwork replaying lab output", () => {
  withFixture("ip-json-address")("interfaces: names, MACs (none for lo), every IPv4 and IPv6 address", async () => {
    const found = await runWith({ ipPath: replay("ip", "ip-json-address") }, Network.Network.use((n) => n.interfaces))
    expect(command("ip-json-address").slice(1)).toEqual([...NodeNetwork.addressArgs])
    expect(found.map((n) => n.name)).toEqual(["lo", "dummy0", "dummy1"])
    expect(found[0]).toEqual({ name: "lo", hwaddress: Option.none(), addresses: ["127.0.0.1", "::1"] })
    expect(Option.getOrThrow(found[1]!.hwaddress)).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/)
    expect(found[1]!.addresses).toEqual(expect.arrayContaining(["10.99.0.1", "10.99.0.4", "fd00:99::1", "fd00:99::4"]))
    expect(found[2]!.addresses.filter((a) => !a.startsWith("fe80:"))).toEqual(["10.99.1.1", "10.99.1.2"])
  })

  it("refuses output that is not ip's JSON", () => {
    expect(NodeNetwork.parseInterfaces("1: lo: <LOOPBACK,UP>")).toBeUndefined()
    expect(NodeNetwork.parseInterfaces("{}")).toBeUndefined()
    expect(NodeNetwork.parseInterfaces("[{\"ifname\": 3}, {\"ifname\": \"eth0\"}]")).toEqual([
      { name: "eth0", hwaddress: Option.none(), addresses: [] }
    ])
  })
})
