import { IfaceName, Iqn, Portal } from "@brick/core"
import type { Iscsiadm } from "@brick/core"
import { Option, Redacted } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Args from "../src/IscsiadmArgs.ts"
import { render, type Word } from "../src/Redaction.ts"

const node: Iscsiadm.NodeRecord = {
  iqn: Iqn.unsafeMake("iqn.2010-10.org.openstack:volume-1"),
  portal: Portal.unsafeMake("10.0.0.1:3260"),
  iface: IfaceName.unsafeMake("default")
}
const v6node: Iscsiadm.NodeRecord = {
  ...node,
  portal: Portal.unsafeMake("[fd00::1]:3260"),
  iface: IfaceName.unsafeMake("iface0")
}

const chap = (password: string, passwordIn?: string): Iscsiadm.ChapCredentials => ({
  username: "user1",
  password: Redacted.make(password),
  usernameIn: passwordIn === undefined ? Option.none() : Option.some("target1"),
  passwordIn: passwordIn === undefined ? Option.none() : Option.some(Redacted.make(passwordIn))
})

/** Options after which iscsiadm's getopt takes the next word as its value. */
const takesValue = new Set(["-T", "-p", "-I", "-n", "-v", "-m", "-o", "-t", "-P"])

/** Every word that is not an option is the value of the option just before it. */
const assertValuesFollowOptions = (argv: ReadonlyArray<Word>) => {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!
    const text = Redacted.isRedacted(w) ? undefined : w
    if (text !== undefined && text.startsWith("-")) continue
    const previous = argv[i - 1]
    expect(typeof previous === "string" && takesValue.has(previous), `word ${i} of ${render(argv)}`).toBe(true)
  }
}

const allNodeCommands = (n: Iscsiadm.NodeRecord, settings: Iscsiadm.NodeSettings) => [
  Args.nodeNew(n),
  Args.nodeUpdate(n, settings)!,
  Args.nodeDelete(n),
  Args.login(n),
  Args.logout(n)
]

describe("IscsiadmArgs", () => {
  it("addresses node records by -T iqn -p portal -I iface", () => {
    expect(Args.nodeNew(node)).toEqual([
      "-m",
      "node",
      "-T",
      "iqn.2010-10.org.openstack:volume-1",
      "-p",
      "10.0.0.1:3260",
      "-I",
      "default",
      "-o",
      "new"
    ])
    expect(Args.login(v6node)).toEqual([
      "-m",
      "node",
      "-T",
      "iqn.2010-10.org.openstack:volume-1",
      "-p",
      "[fd00::1]:3260",
      "-I",
      "iface0",
      "--login"
    ])
    expect(Args.logout(node).slice(-1)).toEqual(["--logout"])
    expect(Args.nodeDelete(node).slice(-2)).toEqual(["-o", "delete"])
    expect(Args.nodeList).toEqual(["-m", "node", "-P", "1"])
  })

  it("puts every setting into one update", () => {
    const argv = Args.nodeUpdate(node, {
      startup: "manual",
      scan: "manual",
      loginTimeout: 7,
      loginRetryMax: 2,
      auth: Option.some(chap("S3cretPassw0rd", "InS3cretPassw0rd"))
    })!
    expect(argv.slice(0, 10)).toEqual(Args.nodeNew(node).slice(0, 8).concat(["-o", "update"]))
    const pairs = argv.slice(10)
    const names = pairs.filter((_, i) => i % 4 === 1)
    expect(names).toEqual([
      "node.startup",
      "node.session.scan",
      "node.conn[0].timeo.login_timeout",
      "node.session.initial_login_retry_max",
      "node.session.auth.authmethod",
      "node.session.auth.username",
      "node.session.auth.password",
      "node.session.auth.username_in",
      "node.session.auth.password_in"
    ])
    expect(pairs.filter((_, i) => i % 4 === 0).every((w) => w === "-n")).toBe(true)
    expect(pairs.filter((_, i) => i % 4 === 2).every((w) => w === "-v")).toBe(true)
    const password = pairs[4 * 6 + 3]!
    expect(Redacted.isRedacted(password) && Redacted.value(password)).toBe("S3cretPassw0rd")
    const passwordIn = pairs[4 * 8 + 3]!
    expect(Redacted.isRedacted(passwordIn) && Redacted.value(passwordIn)).toBe("InS3cretPassw0rd")
    // only the two passwords are secret
    expect(argv.filter(Redacted.isRedacted)).toHaveLength(2)
    const shown = render(["iscsiadm", ...argv])
    expect(shown).not.toContain("S3cretPassw0rd")
    expect(shown).toContain("node.session.auth.password -v <redacted>")
    expect(shown).toContain("-v user1")
  })

  it("clears every credential when auth is none", () => {
    const argv = Args.nodeUpdate(node, { auth: Option.none() })!
    expect(render(argv)).toBe(
      "-m node -T iqn.2010-10.org.openstack:volume-1 -p 10.0.0.1:3260 -I default -o update " +
        "-n node.session.auth.authmethod -v None -n node.session.auth.username -v '' " +
        "-n node.session.auth.password -v '' -n node.session.auth.username_in -v '' " +
        "-n node.session.auth.password_in -v ''"
    )
  })

  it("has no update when settings set nothing", () => {
    expect(Args.nodeUpdate(node, {})).toBeUndefined()
  })

  it("discovers nonpersistently through the iface; discovery CHAP in a discovery record made and deleted", () => {
    const base = ["-t", "sendtargets", "-p", "10.0.0.1:3260", "-I", "default"]
    const plain = Args.discoveryCommands({ portal: node.portal, iface: node.iface, auth: Option.none() })
    expect(plain).toEqual([["-m", "discovery", ...base, "-o", "nonpersistent"]])
    const withChap = Args.discoveryCommands({
      portal: node.portal,
      iface: node.iface,
      auth: Option.some(chap("D1scSecret!!"))
    })
    expect(withChap).toHaveLength(4)
    expect(withChap[0]).toEqual(["-m", "discoverydb", ...base, "-o", "new"])
    expect(withChap[1]!.slice(0, 10)).toEqual(["-m", "discoverydb", ...base, "-o", "update"])
    expect(withChap[1]).toContain("discovery.sendtargets.auth.password")
    expect(withChap[2]).toEqual(["-m", "discoverydb", ...base, "--discover", "-o", "nonpersistent"])
    expect(withChap[3]).toEqual(["-m", "discoverydb", ...base, "-o", "delete"])
    for (const argv of withChap) expect(render(argv)).not.toContain("D1scSecret!!")
  })

  it("builds iface commands; `default` transport is tcp", () => {
    const name = IfaceName.unsafeMake("brick-tcp0")
    expect(Args.ifaceNew(name)).toEqual(["-m", "iface", "-I", "brick-tcp0", "-o", "new"])
    expect(Args.ifaceUpdate(name, {
      transport: "default",
      hwaddress: Option.none(),
      ipaddress: Option.none(),
      netIfacename: Option.some("eth1")
    })).toEqual([
      "-m",
      "iface",
      "-I",
      "brick-tcp0",
      "-o",
      "update",
      "-n",
      "iface.transport_name",
      "-v",
      "tcp",
      "-n",
      "iface.net_ifacename",
      "-v",
      "eth1"
    ])
    expect(Args.ifaceDelete(name)).toEqual(["-m", "iface", "-I", "brick-tcp0", "-o", "delete"])
  })

  it("refuses values that would inject lines into a record", () => {
    expect(() =>
      Args.nodeUpdate(node, { auth: Option.some({ ...chap("x"), username: "a\nnode.startup = automatic" }) })
    )
      .toThrow(Args.UnsafeValue)
    expect(() => Args.nodeUpdate(node, { auth: Option.some(chap("pass\rword")) })).toThrow(/node.session.auth.password/)
    expect(() => Args.nodeUpdate(node, { auth: Option.some(chap("pass\0word")) })).toThrow(Args.UnsafeValue)
  })

  it("property: values from input never stand where an option could be read, -I is always there, secrets never show", () => {
    const iqn = fc.tuple(
      fc.integer({ min: 1990, max: 2099 }),
      fc.integer({ min: 1, max: 12 }),
      fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}$/),
      fc.stringMatching(/^[A-Za-z0-9.:_-]{0,20}$/)
    )
      .map(([y, m, d, id]) => `iqn.${y}-${String(m).padStart(2, "0")}.${d}${id ? `:${id}` : ""}`)
      .filter(Iqn.isIqn).map((s) => s as Iqn.Iqn)
    const portal = fc.oneof(
      fc.ipV4().map((h) => `${h}:3260`),
      fc.ipV6().map((h) => `[${h}]:3261`),
      fc.domain().map((h) => `${h}:860`)
    ).filter((s) => Portal.parse(s) !== undefined).map((s) => Portal.normalize(s) as Portal.Portal)
    const iface = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._:-]{0,20}$/).map((s) => s as IfaceName.IfaceName)
    const username = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n\0]/.test(s))
    fc.assert(
      fc.property(
        iqn,
        portal,
        iface,
        username,
        fc.string({ minLength: 1, maxLength: 20 }),
        (iqn, portal, iface, user, pw) => {
          fc.pre(!/[\r\n\0]/.test(pw))
          const secret = `PW<${pw}>`
          const n = { iqn, portal, iface }
          const auth = Option.some({ ...chap(secret), username: user })
          for (const argv of allNodeCommands(n, { startup: "manual", auth })) {
            assertValuesFollowOptions(argv)
            const i = argv.indexOf("-I")
            expect(argv[i + 1]).toBe(iface)
            for (const w of [iqn, portal, iface]) expect(w.startsWith("-")).toBe(false)
            expect(render(argv)).not.toContain(secret)
          }
          for (const argv of Args.discoveryCommands({ portal, iface, auth })) {
            assertValuesFollowOptions(argv)
            expect(argv[argv.indexOf("-I") + 1]).toBe(iface)
            expect(render(argv)).not.toContain(secret)
          }
        }
      ),
      { numRuns: 300 }
    )
  })
})
