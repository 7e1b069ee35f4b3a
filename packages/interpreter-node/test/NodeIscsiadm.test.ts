import { IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Effect, Option, Redacted } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { CommandRunner } from "../src/CommandRunner.ts"
import { calls, cleanup, failureWith, fakeTool, runWith, tempDir } from "./support.ts"

let dir: string
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => cleanup(dir))

const node: Iscsiadm.NodeRecord = {
  iqn: Iqn.unsafeMake("iqn.2010-10.org.openstack:volume-1"),
  portal: Portal.unsafeMake("10.0.0.1:3260"),
  iface: IfaceName.unsafeMake("default")
}
const selector = ["-T", node.iqn, "-p", node.portal, "-I", node.iface]
const chap: Iscsiadm.ChapCredentials = {
  username: "user1",
  password: Redacted.make("T0pS3cretChap"),
  usernameIn: Option.none(),
  passwordIn: Option.none()
}

const iscsiadm = (body: string) => ({ iscsiadmPath: fakeTool(dir, "iscsiadm", body) })
const use = <A, E>(f: (s: Iscsiadm.Iscsiadm["Service"]) => Effect.Effect<A, E>) => Iscsiadm.Iscsiadm.use(f)

describe("NodeIscsiadm", () => {
  it("creates a node record in two calls: new, then one update with every setting", async () => {
    const config = iscsiadm("exit 0")
    await runWith(
      config,
      use((i) => i.createNode(node, { startup: "manual", scan: "manual", auth: Option.some(chap) }))
    )
    const made = calls(dir, "iscsiadm")
    expect(made).toHaveLength(2)
    expect(made[0]).toEqual(["-m", "node", ...selector, "-o", "new"])
    expect(made[1]!.slice(0, 10)).toEqual(["-m", "node", ...selector, "-o", "update"])
    expect(made[1]).toContain("T0pS3cretChap")
  })

  it("only updates a record open-iscsi's database already holds (discovered or made by -o new)", async () => {
    const root = NodePath.join(dir, "root")
    const nodes = NodePath.join(root, "etc", "iscsi", "nodes", node.iqn)
    NodeFs.mkdirSync(NodePath.join(nodes, "10.0.0.1,3260,1"), { recursive: true })
    NodeFs.writeFileSync(
      NodePath.join(nodes, "10.0.0.1,3260,1", "default"),
      "# BEGIN RECORD 2.1.8\nnode.name = x\n# END RECORD\n"
    )
    NodeFs.writeFileSync(
      NodePath.join(nodes, "10.0.0.2,3260"),
      "# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = default\n# END RECORD\n"
    )
    NodeFs.writeFileSync(
      NodePath.join(nodes, "10.0.0.3,3260"),
      "# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = iser\n# END RECORD\n"
    )
    const config = { ...iscsiadm("exit 0"), root }
    const create = (portal: string) =>
      use((i) => i.createNode({ ...node, portal: Portal.unsafeMake(portal) }, { startup: "manual" }))
    for (const portal of ["10.0.0.1:3260", "10.0.0.2:3260", "10.0.0.4:3260"]) await runWith(config, create(portal))
    // 10.0.0.3's `<address>,<port>` file is iser's: `-o new -I default` would replace it, and through this
    // iscsiadm (not the host's own) brick cannot keep its record beside it: refused, naming the record
    const refused = await failureWith(config, create("10.0.0.3:3260"))
    expect(refused.reason._tag).toBe("RecordConflict")
    expect(refused.detail).toContain("10.0.0.3,3260 is iface iser's record")
    expect(calls(dir, "iscsiadm").map((argv) => `${argv[5]} ${argv[9]}`)).toEqual([
      "10.0.0.1:3260 update",
      "10.0.0.2:3260 update",
      "10.0.0.4:3260 new",
      "10.0.0.4:3260 update"
    ])
  })

  it("a new path is three calls: new, update, login", async () => {
    const counts = await runWith(
      iscsiadm("exit 0"),
      Effect.gen(function*() {
        const i = yield* Iscsiadm.Iscsiadm
        yield* i.createNode(node, { startup: "manual", loginTimeout: 5 })
        yield* i.login(node)
        return yield* CommandRunner.use((r) => r.spawnCounts)
      })
    )
    expect(counts).toEqual({ iscsiadm: 3 })
    expect(calls(dir, "iscsiadm")[2]).toEqual(["-m", "node", ...selector, "--login"])
  })

  it("maps exit codes to reasons and puts stderr, trimmed and redacted, into detail", async () => {
    const config = iscsiadm(`for a in "$@"; do echo "arg $a" >&2; done; exit 24`)
    const e = await failureWith(config, use((i) => i.updateNode(node, { auth: Option.some(chap) })))
    expect(e).toBeInstanceOf(Iscsiadm.IscsiadmError)
    expect(e.reason._tag).toBe("AuthenticationFailed")
    expect(e.exitCode).toBe(24)
    expect(e.detail).toContain("arg node.session.auth.password")
    expect(e.detail).toContain("arg <redacted>")
    expect(e.detail).not.toContain("T0pS3cretChap")
    expect(e.message).not.toContain("T0pS3cretChap")
    expect(e.detail!.endsWith("\n")).toBe(false)
  })

  it("login: 15 is SessionExists, 19 LoginRejected, 20 DaemonUnreachable", async () => {
    for (const [code, tag] of [[15, "SessionExists"], [19, "LoginRejected"], [20, "DaemonUnreachable"]] as const) {
      const e = await failureWith(iscsiadm(`echo "iscsiadm: failure $1" >&2; exit ${code}`), use((i) => i.login(node)))
      expect([code, e.reason._tag, e.operation]).toEqual([code, tag, "login"])
      expect(e.detail).toBe("iscsiadm: failure -m")
    }
  })

  it("logout and delete without a record are NotFound", async () => {
    const config = iscsiadm(`echo "iscsiadm: No matching sessions found" >&2; exit 21`)
    expect((await failureWith(config, use((i) => i.logout(node)))).reason._tag).toBe("NotFound")
    expect((await failureWith(config, use((i) => i.deleteNode(node)))).reason._tag).toBe("NotFound")
    expect(calls(dir, "iscsiadm")[1]).toEqual(["-m", "node", ...selector, "-o", "delete"])
  })

  it("lists node records from `-m node -P 1`, and none when iscsiadm finds none", async () => {
    const tree = NodeFs.readFileSync(NodePath.join(import.meta.dirname, "fixtures", "devhost", "node-tree.txt"), "utf8")
    NodeFs.writeFileSync(NodePath.join(dir, "tree.txt"), tree)
    const listed = await runWith(iscsiadm(`cat '${dir}/tree.txt'`), use((i) => i.listNodes))
    expect(listed).toHaveLength(3)
    expect(calls(dir, "iscsiadm")).toEqual([["-m", "node", "-P", "1"]])
    expect(await runWith(iscsiadm(`echo "iscsiadm: No records found" >&2; exit 21`), use((i) => i.listNodes))).toEqual(
      []
    )
  })

  describe("discovery leaves no record", () => {
    const discoverOutput = `echo "10.0.0.1:3260,1 ${node.iqn}"; echo "10.0.0.2:3260,1 ${node.iqn}"`
    const ops = () =>
      calls(dir, "iscsiadm").map((a) =>
        `${a[1]} ${
          a.slice(8).filter((w) => w.startsWith("-") || /^(new|update|delete|nonpersistent)$/.test(w)).filter((w) =>
            w !== "-n" && w !== "-v"
          ).join(" ")
        }`
      )
    const discover = (auth: Option.Option<Iscsiadm.ChapCredentials>) =>
      use((i) => i.discover({ portal: node.portal, iface: node.iface, auth }))

    it("without CHAP: one nonpersistent discovery, its targets parsed", async () => {
      const found = await runWith({ ...iscsiadm(discoverOutput), root: dir }, discover(Option.none()))
      expect(found.map((t) => t.portal)).toEqual(["10.0.0.1:3260", "10.0.0.2:3260"])
      expect(calls(dir, "iscsiadm")).toEqual([[
        "-m",
        "discovery",
        "-t",
        "sendtargets",
        "-p",
        node.portal,
        "-I",
        "default",
        "-o",
        "nonpersistent"
      ]])
    })

    it("with discovery CHAP and no record: makes one, sets the credentials, discovers, deletes it", async () => {
      const config = { ...iscsiadm(`case "$*" in *--discover*) ${discoverOutput};; esac`), root: dir }
      const found = await runWith(config, discover(Option.some(chap)))
      expect(found).toHaveLength(2)
      expect(ops()).toEqual([
        "discoverydb -o new",
        "discoverydb -o update",
        "discoverydb --discover -o nonpersistent",
        "discoverydb -o delete"
      ])
      // the host-wide lock of the portal's record was taken and released
      expect(NodeFs.readdirSync(NodePath.join(dir, "run", "brick", "locks"))).toEqual([])
    })

    it("with discovery CHAP and a failing discovery: the record brick made is deleted all the same", async () => {
      const config = {
        ...iscsiadm(
          `case "$*" in *--discover*) echo "iscsiadm: discovery login failed to authenticate" >&2; exit 24;; esac`
        ),
        root: dir
      }
      const e = await failureWith(config, discover(Option.some(chap)))
      expect(e.reason._tag).toBe("AuthenticationFailed")
      expect(ops().at(-1)).toBe("discoverydb -o delete")
    })

    it("with discovery CHAP and an existing record (the host's own): updates it, discovers, keeps it", async () => {
      NodeFs.mkdirSync(NodePath.join(dir, "etc", "iscsi", "send_targets", "10.0.0.1,3260"), { recursive: true })
      const config = { ...iscsiadm(`case "$*" in *--discover*) ${discoverOutput};; esac`), root: dir }
      await runWith(config, discover(Option.some(chap)))
      expect(ops()).toEqual(["discoverydb -o update", "discoverydb --discover -o nonpersistent"])
    })
  })

  it("kills an iscsiadm that hangs and reports Timeout", async () => {
    const e = await failureWith(
      { ...iscsiadm("sleep 30"), commandTimeout: "300 millis", killGrace: "100 millis" },
      use((i) => i.deleteNode(node))
    )
    expect(e.reason._tag).toBe("Timeout")
    expect(e.exitCode).toBeUndefined()
  })

  it("reports a missing iscsiadm as Failed", async () => {
    const e = await failureWith({ iscsiadmPath: NodePath.join(dir, "nope") }, use((i) => i.listIfaces))
    expect(e.reason._tag).toBe("Failed")
    expect(e.detail).toBeDefined()
  })

  it("refuses a value with a line break before spawning anything", async () => {
    const e = await failureWith(
      iscsiadm("exit 0"),
      use((i) => i.updateNode(node, { auth: Option.some({ ...chap, username: "u\nnode.startup = automatic" }) }))
    )
    expect(e.reason._tag).toBe("Failed")
    expect(e.detail).toContain("node.session.auth.username")
    expect(calls(dir, "iscsiadm")).toEqual([])
  })

  it("creates an iface with new + one update, and lists ifaces", async () => {
    const config = iscsiadm(
      `case "$*" in "-m iface") echo "default tcp,<empty>,<empty>,<empty>,<empty>"; echo "brick0 tcp,<empty>,<empty>,dummy0,<empty>";; esac`
    )
    const name = IfaceName.unsafeMake("brick0")
    const listed = await runWith(
      config,
      Effect.gen(function*() {
        const i = yield* Iscsiadm.Iscsiadm
        yield* i.createIface(name, {
          transport: "tcp",
          hwaddress: Option.none(),
          ipaddress: Option.none(),
          netIfacename: Option.some("dummy0")
        })
        yield* i.deleteIface(name)
        return yield* i.listIfaces
      })
    )
    expect(calls(dir, "iscsiadm")).toEqual([
      ["-m", "iface", "-I", "brick0", "-o", "new"],
      [
        "-m",
        "iface",
        "-I",
        "brick0",
        "-o",
        "update",
        "-n",
        "iface.transport_name",
        "-v",
        "tcp",
        "-n",
        "iface.net_ifacename",
        "-v",
        "dummy0"
      ],
      ["-m", "iface", "-I", "brick0", "-o", "delete"],
      ["-m", "iface"]
    ])
    expect(listed.map((r) => [r.name, Option.getOrNull(r.netIfacename)])).toEqual([["default", null], [
      "brick0",
      "dummy0"
    ]])
  })

  it("reads the initiator name under the root, none when the file is absent", async () => {
    NodeFs.mkdirSync(NodePath.join(dir, "etc", "iscsi"), { recursive: true })
    NodeFs.writeFileSync(
      NodePath.join(dir, "etc", "iscsi", "initiatorname.iscsi"),
      "## x\nInitiatorName=iqn.1993-08.org.debian:01:abc\n"
    )
    expect(await runWith({ root: dir }, use((i) => i.initiatorName))).toEqual(
      Option.some("iqn.1993-08.org.debian:01:abc")
    )
    expect(await runWith({ root: NodePath.join(dir, "empty") }, use((i) => i.initiatorName))).toEqual(Option.none())
  })
  describe("open-iscsi's database race (exit 6 while another process removes a record)", () => {
    /** A fake iscsiadm answering the codes of `codes` in turn (the last one from then on). */
    const answering = (...codes: ReadonlyArray<number>) => {
      const counter = NodePath.join(dir, "tries")
      const table = codes.map((c, n) => `${n + 1}) code=${c} ;;`).join(" ")
      return iscsiadm(
        `n=$(( $(cat '${counter}' 2>/dev/null || echo 0) + 1 )); echo $n > '${counter}'\n` +
          `case $n in ${table} *) code=${codes[codes.length - 1]} ;; esac\n` +
          `[ $code = 6 ] && echo "iscsiadm: Could not execute operation on all records: encountered iSCSI database failure" >&2\n` +
          `exit $code`
      )
    }

    it("retries an update until the walk of the database succeeds", async () => {
      await runWith(answering(6, 6, 0), use((i) => i.updateNode(node, { startup: "manual" })))
      expect(calls(dir, "iscsiadm")).toHaveLength(3)
    })

    it("retries a login; a session the raced try made answers SessionExists", async () => {
      const e = await failureWith(answering(6, 15), use((i) => i.login(node)))
      expect(e.reason._tag).toBe("SessionExists")
      expect(calls(dir, "iscsiadm")).toHaveLength(2)
    })

    it("a delete whose raced try removed the record succeeds (NotFound on the retry)", async () => {
      await runWith(answering(6, 21), use((i) => i.deleteNode(node)))
      expect(calls(dir, "iscsiadm")).toHaveLength(2)
    })

    it("a delete of a missing record without a race stays NotFound", async () => {
      const e = await failureWith(answering(21), use((i) => i.deleteNode(node)))
      expect(e.reason._tag).toBe("NotFound")
      expect(calls(dir, "iscsiadm")).toHaveLength(1)
    })

    it("gives up after 6 tries and keeps exit code and stderr", async () => {
      const e = await failureWith(answering(6), use((i) => i.logout(node)))
      expect(e.exitCode).toBe(6)
      expect(e.message).toContain("database failure")
      expect(calls(dir, "iscsiadm")).toHaveLength(6)
    })

    it("does not retry other failures", async () => {
      const e = await failureWith(answering(24, 0), use((i) => i.login(node)))
      expect(e.reason._tag).toBe("AuthenticationFailed")
      expect(calls(dir, "iscsiadm")).toHaveLength(1)
    })
  })
})
