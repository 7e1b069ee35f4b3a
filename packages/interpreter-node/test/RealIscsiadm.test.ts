/**
 * NodeIscsiadm against the real `iscsiadm` binary, for what works without an
 * iSCSI kernel: node records (new / update / list / delete). Runs only as root
 * with iscsiadm installed (scripts/setup.sh installs it); when it skips, the
 * suite's title names what is missing. iscsiadm has no config-dir override, so
 * this edits the machine's /etc/iscsi: it touches only records of a unique test
 * target and deletes every one of them, whatever happens.
 */
import { IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Effect, Option, Redacted } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeCrypto from "node:crypto"
import { afterAll, describe, expect, it } from "vitest"
import { runWith } from "./support.ts"

const iscsiadmPath = ["/usr/sbin/iscsiadm", "/sbin/iscsiadm"].find((p) =>
  NodeChild.spawnSync(p, ["--version"]).status === 0
)
/** What this machine lacks for these tests (named in the suite's title when they skip). */
const missing = [
  ...(iscsiadmPath === undefined ? ["iscsiadm (open-iscsi)"] : []),
  ...(process.getuid?.() === 0 ? [] : ["root"]),
  ...(process.env.BRICK_SKIP_REAL_ISCSIADM === "1" ? ["BRICK_SKIP_REAL_ISCSIADM unset"] : [])
]
const enabled = missing.length === 0

const iqn = Iqn.unsafeMake(`iqn.2099-01.test.brick:${NodeCrypto.randomBytes(6).toString("hex")}`)
const portals = [
  Portal.unsafeMake("192.0.2.10:3260"),
  Portal.unsafeMake("192.0.2.11:3260"),
  Portal.unsafeMake("[2001:db8::10]:3260")
]
const iface = IfaceName.defaultIface

/** The record as iscsiadm shows it (`-o show`, secrets masked unless -S). */
const show = (portal: string, secrets = false) => {
  const r = NodeChild.spawnSync(iscsiadmPath!, [
    "-m",
    "node",
    "-T",
    iqn,
    "-p",
    portal,
    "-I",
    iface,
    ...(secrets ? ["-S"] : [])
  ], { encoding: "utf8" })
  return new Map(
    r.stdout.split("\n").flatMap((l) => {
      const i = l.indexOf(" = ")
      return i > 0 ? [[l.slice(0, i), l.slice(i + 3)] as const] : []
    })
  )
}

afterAll(() => {
  if (!enabled) return
  for (const p of portals) NodeChild.spawnSync(iscsiadmPath!, ["-m", "node", "-T", iqn, "-p", p, "-o", "delete"])
})

const title = "NodeIscsiadm on the real iscsiadm (node records only)"
describe.skipIf(!enabled)(enabled ? title : `${title}: needs ${missing.join(", ")}`, () => {
  const use = <A, E>(f: (i: Iscsiadm.Iscsiadm["Service"]) => Effect.Effect<A, E>) =>
    runWith({ iscsiadmPath: iscsiadmPath! }, Iscsiadm.Iscsiadm.use(f))

  it("creates records with every setting in one update, lists them with their iface, deletes them", async () => {
    const auth = Option.some<Iscsiadm.ChapCredentials>({
      username: "brickuser",
      password: Redacted.make("brick-S3cret-1234"),
      usernameIn: Option.some("targetuser"),
      passwordIn: Option.some(Redacted.make("target-S3cret-5678"))
    })
    for (const portal of portals) {
      await use((i) =>
        i.createNode({ iqn, portal, iface }, {
          startup: "manual",
          scan: "manual",
          loginTimeout: 7,
          loginRetryMax: 2,
          auth
        })
      )
    }
    const r = show(portals[0]!, true)
    expect(r.get("node.startup")).toBe("manual")
    expect(r.get("node.session.scan")).toBe("manual")
    expect(r.get("node.conn[0].timeo.login_timeout")).toBe("7")
    expect(r.get("node.session.initial_login_retry_max")).toBe("2")
    expect(r.get("node.session.auth.authmethod")).toBe("CHAP")
    expect(r.get("node.session.auth.username")).toBe("brickuser")
    expect(r.get("node.session.auth.password")).toBe("brick-S3cret-1234")
    expect(r.get("node.session.auth.username_in")).toBe("targetuser")
    expect(r.get("node.session.auth.password_in")).toBe("target-S3cret-5678")
    expect(show(portals[2]!).get("node.conn[0].address")).toBe("2001:db8::10")

    const listed = (await use((i) => i.listNodes)).filter((n) => n.iqn === iqn)
    expect(listed).toEqual(expect.arrayContaining(portals.map((portal) => ({ iqn, portal, iface }))))
    expect(listed).toHaveLength(3)

    // clearing auth leaves no secret in the record
    await use((i) => i.updateNode({ iqn, portal: portals[0]!, iface }, { auth: Option.none() }))
    const cleared = show(portals[0]!, true)
    expect(cleared.get("node.session.auth.authmethod")).toBe("None")
    expect(cleared.get("node.session.auth.password")).toBe("<empty>")

    for (const portal of portals) await use((i) => i.deleteNode({ iqn, portal, iface }))
    expect((await use((i) => i.listNodes)).filter((n) => n.iqn === iqn)).toEqual([])
  })

  it("reports a missing record as NotFound for update, delete, login and logout", async () => {
    const node = { iqn, portal: portals[0]!, iface }
    for (
      const op of [
        (i: Iscsiadm.Iscsiadm["Service"]) => i.updateNode(node, { startup: "manual" }),
        (i: Iscsiadm.Iscsiadm["Service"]) => i.deleteNode(node),
        (i: Iscsiadm.Iscsiadm["Service"]) => i.login(node),
        (i: Iscsiadm.Iscsiadm["Service"]) => i.logout(node)
      ]
    ) {
      const e = await runWith({ iscsiadmPath: iscsiadmPath! }, Effect.flip(Iscsiadm.Iscsiadm.use(op)))
      expect([e.reason._tag, e.exitCode]).toEqual(["NotFound", 21])
    }
  })

  it("`-o new` on an existing record resets it to iscsid.conf defaults (why createNode always updates after)", async () => {
    const node = { iqn, portal: portals[1]!, iface }
    await use((i) => i.createNode(node, { scan: "manual" }))
    expect(show(portals[1]!).get("node.session.scan")).toBe("manual")
    NodeChild.spawnSync(iscsiadmPath!, ["-m", "node", "-T", iqn, "-p", portals[1]!, "-I", iface, "-o", "new"])
    expect(show(portals[1]!).get("node.session.scan")).not.toBe("manual")
    await use((i) => i.createNode(node, { scan: "manual" }))
    expect(show(portals[1]!).get("node.session.scan")).toBe("manual")
    await use((i) => i.deleteNode(node))
  })

  it("lists the built-in ifaces", async () => {
    const ifaces = await use((i) => i.listIfaces)
    expect(ifaces.map((r) => [r.name, r.transport])).toEqual(
      expect.arrayContaining([["default", "tcp"], ["iser", "iser"]])
    )
  })
})
