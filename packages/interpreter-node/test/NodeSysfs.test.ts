import { HostPath, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { makeWithRoot, toError } from "../src/NodeSysfs.ts"
import { cleanup, tempDir } from "./support.ts"

let root: string
const p = HostPath.make

/** A fake /sys and /dev: one iSCSI session, host, SCSI disk sdb held by dm-0, by-path link. */
const buildTree = (root: string) => {
  const mk = (rel: string) => NodeFs.mkdirSync(NodePath.join(root, rel), { recursive: true })
  const write = (rel: string, text: string, mode = 0o644) => {
    mk(NodePath.dirname(rel))
    NodeFs.writeFileSync(NodePath.join(root, rel), text, { mode })
  }
  const link = (rel: string, target: string) => {
    mk(NodePath.dirname(rel))
    NodeFs.symlinkSync(target, NodePath.join(root, rel))
  }
  const session = "sys/devices/platform/host2/session1/iscsi_session/session1"
  write(`${session}/targetname`, "iqn.2010-10.org.openstack:volume-1\n")
  write(`${session}/state`, "LOGGED_IN\n")
  link("sys/class/iscsi_session/session1", "../../devices/platform/host2/session1/iscsi_session/session1")
  const dev = "sys/devices/platform/host2/session1/target2:0:0/2:0:0:1"
  write(`${dev}/wwid`, "naa.6001405abcdef0123456789abcdef012\n")
  write(`${dev}/delete`, "", 0o200)
  mk(`${dev}/block/sdb/holders/dm-0`)
  write(`${dev}/block/sdb/size`, "2097152\n")
  link("sys/class/scsi_device/2:0:0:1", `../../devices/platform/host2/session1/target2:0:0/2:0:0:1`)
  write("sys/class/scsi_host/host2/scan", "", 0o200)
  link("dev/disk/by-path/ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1", "../../sdb")
  write("sys/secret/file", "x\n", 0o000)
}

beforeEach(() => {
  root = tempDir("brick-sysfs-")
  buildTree(root)
})
afterEach(() => cleanup(root))

const run = <A, E>(f: (s: Sysfs.Sysfs["Service"]) => Effect.Effect<A, E>) => Effect.runPromise(f(makeWithRoot(root)))
const flip = <A, E>(f: (s: Sysfs.Sysfs["Service"]) => Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.flip(f(makeWithRoot(root))))

describe("NodeSysfs under a temporary root", () => {
  it("reads files without their final newline, through symlinked directories", async () => {
    expect(await run((s) => s.read(p("/sys/class/iscsi_session/session1/targetname")))).toEqual(
      Option.some("iqn.2010-10.org.openstack:volume-1")
    )
    expect(await run((s) => s.read(p("/sys/class/scsi_device/2:0:0:1/wwid")))).toEqual(
      Option.some("naa.6001405abcdef0123456789abcdef012")
    )
  })

  it("absence is none / []", async () => {
    expect(await run((s) => s.read(p("/sys/class/iscsi_session/session9/targetname")))).toEqual(Option.none())
    expect(await run((s) => s.read(p("/sys/class/iscsi_session/session1/targetname/x")))).toEqual(Option.none())
    expect(await run((s) => s.list(p("/sys/class/iscsi_session/session9")))).toEqual([])
    expect(await run((s) => s.readlink(p("/dev/disk/by-path/none")))).toEqual(Option.none())
  })

  it("lists entries sorted", async () => {
    expect(await run((s) => s.list(p("/sys/class/scsi_device/2:0:0:1")))).toEqual(["block", "delete", "wwid"])
    expect(await run((s) => s.list(p("/sys/class/scsi_device/2:0:0:1/block/sdb/holders")))).toEqual(["dm-0"])
  })

  it("reads links as stored", async () => {
    expect(await run((s) => s.readlink(p("/sys/class/iscsi_session/session1")))).toEqual(
      Option.some("../../devices/platform/host2/session1/iscsi_session/session1")
    )
    expect(
      await run((s) =>
        s.readlink(p("/dev/disk/by-path/ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1"))
      )
    )
      .toEqual(Option.some("../../sdb"))
  })

  it("writes into existing write-only files, never creating one", async () => {
    await run((s) => s.write(p("/sys/class/scsi_host/host2/scan"), "0 0 1"))
    expect(NodeFs.readFileSync(NodePath.join(root, "sys/class/scsi_host/host2/scan"), "utf8")).toBe("0 0 1")
    const e = await flip((s) => s.write(p("/sys/class/scsi_host/host9/scan"), "- - -"))
    expect(e.reason).toEqual({ _tag: "Failed", detail: "ENOENT" })
    expect(NodeFs.existsSync(NodePath.join(root, "sys/class/scsi_host/host9"))).toBe(false)
  })

  it("readlink of a file that is no link fails", async () => {
    const e = await flip((s) => s.readlink(p("/sys/class/scsi_host/host2/scan")))
    expect(e.reason).toEqual({ _tag: "Failed", detail: "EINVAL" })
  })

  it.skipIf(process.getuid?.() === 0)(
    "EACCES is PermissionDenied (needs a non-root user: root reads a mode-000 file)",
    async () => {
      const e = await flip((s) => s.read(p("/sys/secret/file")))
      expect(e.reason._tag).toBe("PermissionDenied")
    }
  )

  it("maps EACCES and EPERM to PermissionDenied, other errnos to Failed with their code", () => {
    const err = (code: string) => Object.assign(new Error(code), { code })
    expect(toError("read", "/sys/x", err("EACCES")).reason).toEqual({ _tag: "PermissionDenied" })
    expect(toError("write", "/sys/x", err("EPERM")).reason).toEqual({ _tag: "PermissionDenied" })
    expect(toError("read", "/sys/x", err("EIO")).reason).toEqual({ _tag: "Failed", detail: "EIO" })
    expect(toError("list", "/sys/x", err("EIO")).message).toBe("sysfs list /sys/x failed: Failed: EIO")
  })

  it("resolves paths under the root, never the real /sys", async () => {
    const real = await Effect.runPromise(makeWithRoot("/").list(p("/sys/class/iscsi_session")))
    const fake = await run((s) => s.list(p("/sys/class/iscsi_session")))
    expect(fake).toEqual(["session1"])
    expect(real).not.toEqual(fake)
  })
})
