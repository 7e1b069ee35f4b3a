import { Option } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import * as Output from "../src/IscsiadmOutput.ts"

/** Real outputs of iscsiadm 2.1.8 captured on the dev machine (see fixtures/devhost/README.md). */
const devhost = (name: string) =>
  NodeFs.readFileSync(NodePath.join(import.meta.dirname, "fixtures", "devhost", name), "utf8")

describe("IscsiadmOutput on real iscsiadm 2.1.8 output (dev machine)", () => {
  it("parses `-m node -P 1` into records with their iface", () => {
    expect(Output.parseNodeTree(devhost("node-tree.txt"))).toEqual([
      { iqn: "iqn.2003-01.org.linux-iscsi.brick.x8664:sn.5e4a3b2c1d0f", portal: "[fd00::1]:3260", iface: "iser" },
      { iqn: "iqn.2010-10.org.openstack:volume-00000001", portal: "10.99.0.1:3260", iface: "default" },
      { iqn: "iqn.2010-10.org.openstack:volume-00000001", portal: "10.99.0.2:3260", iface: "default" }
    ])
  })

  it("parses `-m node` flat lines, reading tpgt 4294967295 as -1", () => {
    expect(Output.parseTargets(devhost("node-flat.txt"))).toEqual([
      { portal: "[fd00::1]:3260", tpgt: -1, iqn: "iqn.2003-01.org.linux-iscsi.brick.x8664:sn.5e4a3b2c1d0f" },
      { portal: "10.99.0.1:3260", tpgt: -1, iqn: "iqn.2010-10.org.openstack:volume-00000001" },
      { portal: "10.99.0.2:3260", tpgt: -1, iqn: "iqn.2010-10.org.openstack:volume-00000001" }
    ])
  })

  it("parses `-m iface`", () => {
    expect(Output.parseIfaces(devhost("iface-flat.txt"))).toEqual([
      {
        name: "default",
        transport: "tcp",
        hwaddress: Option.none(),
        ipaddress: Option.none(),
        netIfacename: Option.none(),
        initiatorName: Option.none()
      },
      {
        name: "iser",
        transport: "iser",
        hwaddress: Option.none(),
        ipaddress: Option.none(),
        netIfacename: Option.none(),
        initiatorName: Option.none()
      }
    ])
  })

  it("parses an iface record dump (`-m iface -I default`)", () => {
    expect(Output.parseIfaceRecord(devhost("iface-show-default.txt"))).toEqual(Option.some({
      name: "default",
      transport: "tcp",
      hwaddress: Option.none(),
      ipaddress: Option.none(),
      netIfacename: Option.none(),
      initiatorName: Option.none()
    }))
  })

  it("parses a node record dump (`-o show`), passwords masked by iscsiadm", () => {
    const r = Output.parseRecord(devhost("node-show.txt"))
    expect(r.get("node.name")).toBe("iqn.2010-10.org.openstack:volume-00000001")
    expect(r.get("node.startup")).toBe("manual")
    expect(r.get("node.session.auth.authmethod")).toBe("CHAP")
    expect(r.get("node.session.auth.username")).toBe("brickuser")
    expect(r.get("node.session.auth.password")).toBe("********")
    expect(r.get("node.session.auth.username_in")).toBe("")
    expect(r.get("iface.iscsi_ifacename")).toBe("default")
    expect(r.get("node.conn[0].address")).toBe("10.99.0.1")
  })

  it("finds nothing in `-m session` without sessions (exit 21, message on stderr)", () => {
    expect(devhost("session-none.exit").trim()).toBe("exit=21")
    expect(devhost("session-none.stderr")).toContain("No active sessions")
    expect(Output.parseSessions(devhost("session-none.stdout"))).toEqual([])
  })
})

/**
 * Samples built on open-iscsi's format strings (idbm_print_node_flat,
 * session_info_print_flat in usr/idbm.c and usr/session_info.c), since
 * discovery and sessions need an iSCSI kernel.
 */
describe("IscsiadmOutput on samples from open-iscsi's format strings", () => {
  it("parses sendtargets discovery output, IPv4 and IPv6", () => {
    const text = [
      "10.99.0.1:3260,1 iqn.2003-01.org.linux-iscsi.guest.x8664:sn.0123456789ab",
      "10.99.0.2:3260,1 iqn.2003-01.org.linux-iscsi.guest.x8664:sn.0123456789ab",
      "[fd00::10]:3260,2 iqn.2003-01.org.linux-iscsi.guest.x8664:sn.0123456789ab",
      "::ffff:10.0.0.5:3260,3 iqn.2010-10.org.openstack:volume-2",
      "iscsiadm: some warning that is not a target",
      ""
    ].join("\n")
    expect(Output.parseTargets(text)).toEqual([
      { portal: "10.99.0.1:3260", tpgt: 1, iqn: "iqn.2003-01.org.linux-iscsi.guest.x8664:sn.0123456789ab" },
      { portal: "10.99.0.2:3260", tpgt: 1, iqn: "iqn.2003-01.org.linux-iscsi.guest.x8664:sn.0123456789ab" },
      { portal: "[fd00::10]:3260", tpgt: 2, iqn: "iqn.2003-01.org.linux-iscsi.guest.x8664:sn.0123456789ab" },
      { portal: "[::ffff:10.0.0.5]:3260", tpgt: 3, iqn: "iqn.2010-10.org.openstack:volume-2" }
    ])
  })

  it("skips lines whose target name is not an iSCSI name", () => {
    expect(Output.parseTargets("10.0.0.1:3260,1 -rf\n10.0.0.1:3260,1 not-an-iqn\n")).toEqual([])
  })

  it("parses `-m session` lines", () => {
    const text = [
      "tcp: [1] 10.99.0.1:3260,1 iqn.2003-01.org.linux-iscsi.guest.x8664:sn.0123456789ab (non-flash)",
      "tcp: [12] [fd00::10]:3260,1 iqn.2010-10.org.openstack:volume-2 (non-flash)",
      "iser: [3] 10.99.0.2:3260,1 iqn.2010-10.org.openstack:volume-3 (flash)"
    ].join("\n")
    expect(Output.parseSessions(text)).toEqual([
      {
        transport: "tcp",
        sid: 1,
        portal: "10.99.0.1:3260",
        tpgt: 1,
        iqn: "iqn.2003-01.org.linux-iscsi.guest.x8664:sn.0123456789ab",
        flash: false
      },
      {
        transport: "tcp",
        sid: 12,
        portal: "[fd00::10]:3260",
        tpgt: 1,
        iqn: "iqn.2010-10.org.openstack:volume-2",
        flash: false
      },
      {
        transport: "iser",
        sid: 3,
        portal: "10.99.0.2:3260",
        tpgt: 1,
        iqn: "iqn.2010-10.org.openstack:volume-3",
        flash: true
      }
    ])
  })

  it("parses a custom iface line with every field set", () => {
    expect(
      Output.parseIfaces(
        "bnx2i.00:10:18:aa:bb:cc bnx2i,00:10:18:aa:bb:cc,10.1.1.5,eth2,iqn.1993-08.org.debian:01:abc\n"
      )
    ).toEqual([{
      name: "bnx2i.00:10:18:aa:bb:cc",
      transport: "bnx2i",
      hwaddress: Option.some("00:10:18:aa:bb:cc"),
      ipaddress: Option.some("10.1.1.5"),
      netIfacename: Option.some("eth2"),
      initiatorName: Option.some("iqn.1993-08.org.debian:01:abc")
    }])
  })

  it("reads the initiator name file, comments ignored", () => {
    const text =
      "## DO NOT EDIT OR REMOVE THIS FILE!\n## If you remove this file, the iSCSI daemon will not start.\nInitiatorName=iqn.1993-08.org.debian:01:8621b55d74db\n"
    expect(Output.parseInitiatorName(text)).toEqual(Option.some("iqn.1993-08.org.debian:01:8621b55d74db"))
    expect(Output.parseInitiatorName("## nothing\n")).toEqual(Option.none())
  })

  it("reads portals as iscsiadm spells them", () => {
    expect(Output.parsePortal("10.0.0.1:3260")).toBe("10.0.0.1:3260")
    expect(Output.parsePortal("[FD00::1]:3260")).toBe("[fd00::1]:3260")
    expect(Output.parsePortal("fd00::1:3260")).toBe("[fd00::1]:3260")
    expect(Output.parsePortal("storage.example.com:3260")).toBe("storage.example.com:3260")
    expect(Output.parsePortal("nonsense")).toBeUndefined()
  })
})
