import { BrickError, DeviceInfo, IfaceName, Iqn, Portal } from "@brick/core"
import { Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as Sessions from "../src/internal/iscsi/Sessions.ts"
import * as TargetLock from "../src/internal/iscsi/TargetLock.ts"
import * as Poll from "../src/internal/Poll.ts"

describe("TargetLock.names", () => {
  it("derives one lock per target, deduplicated and sorted", () => {
    expect(TargetLock.names(["iqn.2010-10.org.b:x", "iqn.2010-10.org.a:y", "iqn.2010-10.org.b:x"])).toEqual([
      "brick-iscsi-iqn.2010-10.org.a:y",
      "brick-iscsi-iqn.2010-10.org.b:x"
    ])
  })
})

describe("Sessions.portalOf", () => {
  it("formats sysfs addresses as canonical portals", () => {
    expect(Sessions.portalOf("10.0.0.1", "3260")).toEqual(Option.some("10.0.0.1:3260"))
    expect(Sessions.portalOf("fd00::1", "3260\n")).toEqual(Option.some("[fd00::1]:3260"))
    expect(Sessions.portalOf("not an address!", "3260")).toEqual(Option.none())
  })
})

describe("Sessions.isSessionOf", () => {
  const node = {
    portal: Portal.unsafeMake("10.0.0.1:3260"),
    iqn: Iqn.unsafeMake("iqn.2010-10.org.a:y"),
    iface: IfaceName.unsafeMake("default")
  }
  const session: Sessions.Session = {
    sid: 3,
    iqn: node.iqn,
    portal: Option.some("10.0.0.1:3260"),
    iface: "default",
    host: Option.some(2)
  }
  it("is the same target, canonical portal and iface", () => {
    expect(Sessions.isSessionOf(session, node)).toBe(true)
    expect(Sessions.isSessionOf({ ...session, iqn: "iqn.2010-10.org.a:z" }, node)).toBe(false)
    expect(Sessions.isSessionOf({ ...session, portal: Option.some("10.0.0.2:3260") }, node)).toBe(false)
    expect(Sessions.isSessionOf({ ...session, portal: Option.none() }, node)).toBe(false)
    expect(Sessions.isSessionOf({ ...session, iface: "tcp.eth1" }, node)).toBe(false)
  })
  it("reads an unset ifacename as default", () => {
    for (const text of ["", "<empty>", "default"]) expect(Sessions.ifaceOfSession(Option.some(text))).toBe("default")
    expect(Sessions.ifaceOfSession(Option.none())).toBe("default")
    expect(Sessions.ifaceOfSession(Option.some("tcp.eth1"))).toBe("tcp.eth1")
  })
})

describe("DeviceInfo.decode", () => {
  it("accepts what connect returns", () => {
    const info = {
      type: "block",
      path: "/dev/dm-3",
      scsi_wwn: "36001405abc",
      multipath_id: "36001405abc",
      iface: "default"
    }
    const exit = Effect.runSyncExit(DeviceInfo.decode(info))
    expect(Exit.isSuccess(exit)).toBe(true)
  })
  it("names the offending fields", () => {
    const exit = Effect.runSyncExit(DeviceInfo.decode({ type: "file", path: "/etc/passwd", scsi_wwn: "" }))
    const text = String(Exit.isFailure(exit) ? exit.cause : "")
    expect(text).toContain("type")
    expect(text).toContain("path")
    expect(text).toContain("scsi_wwn")
  })
})

describe("errors", () => {
  it("say what failed on which path", () => {
    const e = new BrickError.ConnectError({
      reason: {
        _tag: "LoginFailed",
        paths: [{
          _tag: "LoginTimeout",
          portal: "10.0.0.1:3260",
          iqn: "iqn.2010-10.org.a:y",
          lun: 1,
          iface: "default",
          detail: "no answer"
        }]
      }
    })
    expect(e._tag).toBe("ConnectError")
    expect(e.message).toContain("10.0.0.1:3260")
    expect(e.message).toContain("LoginTimeout")
    const d = new BrickError.DisconnectError({
      reason: { _tag: "StepsFailed", failures: [{ step: "flushMap", target: "3600", detail: "InUse" }] }
    })
    expect(d.message).toContain("flushMap 3600: InUse")
  })
})

describe("Poll.delay", () => {
  it("re-checks at once, then backs off exponentially up to the poll interval", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((a) => Poll.delay(a, 25))).toEqual([0, 1, 2, 4, 8, 16, 25, 25, 25])
    expect(Poll.delay(1000, 25)).toBe(25)
  })
})
