/**
 * The sim against facts captured from the real lab guest (lab/fixtures,
 * kernel 6.1, open-iscsi 2.1.8, LIO target, multipath-tools with
 * find_multipaths no): same target, same LUN serials, same names.
 */
import { readFileSync } from "node:fs"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Iscsiadm, Sysfs } from "@brick/core"
import { SimHost } from "../src/index.ts"
import { node, path, runTest } from "./helpers.ts"

const fixture = (name: string): string => readFileSync(new URL(`../../../lab/fixtures/${name}`, import.meta.url), "utf8")

const iqn = "iqn.2003-01.org.brick:fixtures"
const p1 = "10.99.0.1:3260"
const p2 = "10.99.0.2:3260"
const serial0 = "032d99e0-4333-40d1-be28-3fcb3b6f85dc"
const serial1 = "c07a840f-492f-4d83-9e70-8ac4e407bcf4"

// lab/fixtures/lab-target-create.json
const labHost = () =>
  SimHost.make({
    targets: [{ iqn, portals: [p2, p1], luns: [{ lun: 0, sizeBytes: 67108864, serial: serial0 }, { lun: 1, sizeBytes: 33554432, serial: serial1 }] }],
    latency: "zero",
    udev: { delayMs: 500 },
    multipathd: { mapDelayMs: 200 },
    initiatorName: "iqn.2004-10.com.brick:lab-initiator"
  })

const loginBoth = Effect.gen(function*() {
  const adm = yield* Iscsiadm.Iscsiadm
  for (const p of [p1, p2]) {
    yield* adm.createNode(node(p, iqn), {})
    yield* adm.login(node(p, iqn))
  }
  yield* TestClock.adjust("2 seconds")
})

describe("the sim matches the lab guest", () => {
  it("derives LIO's WWN from the unit serial", () => {
    const host = labHost()
    expect(host.wwid(iqn, 0)).toBe("naa.6001405032d99e0433340d1be283fcb3")
    expect(host.wwid(iqn, 1)).toBe("naa.6001405c07a840f492f4d839e708ac4e")
  })

  it("has the same by-path and by-id links (ls-dev-disk-by-path, ls-dev-disk-by-id)", async () => {
    const host = labHost()
    const out = await runTest(host, Effect.gen(function*() {
      yield* loginBoth
      const fs = yield* Sysfs.Sysfs
      const read = (dir: string) =>
        Effect.gen(function*() {
          const names = yield* fs.list(path(dir))
          const out: Record<string, string> = {}
          for (const n of names) out[n] = Option.getOrThrow(yield* fs.readlink(path(`${dir}/${n}`)))
          return out
        })
      return { byPath: yield* read("/dev/disk/by-path"), byId: yield* read("/dev/disk/by-id") }
    }))
    expect(out.byPath).toEqual({
      "ip-10.99.0.1:3260-iscsi-iqn.2003-01.org.brick:fixtures-lun-0": "../../sda",
      "ip-10.99.0.1:3260-iscsi-iqn.2003-01.org.brick:fixtures-lun-1": "../../sdb",
      "ip-10.99.0.2:3260-iscsi-iqn.2003-01.org.brick:fixtures-lun-0": "../../sdc",
      "ip-10.99.0.2:3260-iscsi-iqn.2003-01.org.brick:fixtures-lun-1": "../../sdd"
    })
    // the lab's dm numbering depends on multipathd's timing; compare the shape with dm names resolved
    const dmOf = (wwn: string) => out.byId[`dm-name-${wwn}`]!
    const w0 = "36001405032d99e0433340d1be283fcb3"
    const w1 = "36001405c07a840f492f4d839e708ac4e"
    expect(new Set([dmOf(w0), dmOf(w1)])).toEqual(new Set(["../../dm-0", "../../dm-1"]))
    expect(out.byId).toEqual({
      [`dm-name-${w0}`]: dmOf(w0),
      [`dm-name-${w1}`]: dmOf(w1),
      [`dm-uuid-mpath-${w0}`]: dmOf(w0),
      [`dm-uuid-mpath-${w1}`]: dmOf(w1),
      [`scsi-1LIO-ORG_FILEIO:${serial0}`]: "../../sdc",
      [`scsi-1LIO-ORG_FILEIO:${serial1}`]: "../../sdd",
      [`scsi-${w0}`]: dmOf(w0),
      [`scsi-${w1}`]: dmOf(w1),
      [`scsi-SLIO-ORG_FILEIO_${serial0}`]: "../../sdc",
      [`scsi-SLIO-ORG_FILEIO_${serial1}`]: "../../sdd",
      [`wwn-0x${w0.slice(1)}`]: dmOf(w0),
      [`wwn-0x${w1.slice(1)}`]: dmOf(w1)
    })
  })

  it("has the same SCSI addresses and recovery timeout (lsscsi-t, session-P3)", async () => {
    const host = labHost()
    const out = await runTest(host, Effect.gen(function*() {
      yield* loginBoth
      const fs = yield* Sysfs.Sysfs
      return {
        devices: yield* fs.list(path("/sys/class/scsi_device")),
        blocks: yield* fs.list(path("/sys/class/iscsi_session/session2/device/target1:0:0/1:0:0:1/block")),
        recovery: yield* fs.read(path("/sys/class/iscsi_session/session1/recovery_tmo"))
      }
    }))
    expect(out.devices).toEqual(["0:0:0:0", "0:0:0:1", "1:0:0:0", "1:0:0:1"])
    expect(out.blocks).toEqual(["sdd"])
    expect(out.recovery).toEqual(Option.some("5"))
  })

  it("shows a session's entries and attribute values as the kernel does (sysfs-find-session1, sysfs-session-attrs)", async () => {
    const host = labHost()
    const out = await runTest(host, Effect.gen(function*() {
      yield* loginBoth
      const fs = yield* Sysfs.Sysfs
      const entries = yield* fs.list(path("/sys/class/iscsi_session/session1"))
      const values: Record<string, string> = {}
      for (const e of entries) {
        const v = yield* Effect.option(fs.read(path(`/sys/class/iscsi_session/session1/${e}`)))
        if (Option.isSome(v) && Option.isSome(v.value)) values[e] = v.value.value
      }
      return { entries, values }
    }))
    const real = fixture("sysfs-find-session1.txt").trim().split("\n").slice(1).map((l) => l.slice(l.lastIndexOf("/") + 1))
    expect(out.entries).toEqual([...real].sort())
    const realValues = Object.fromEntries(
      fixture("sysfs-session-attrs.txt").trim().split("\n")
        .filter((l) => l.startsWith("/sys/class/iscsi_session/session1/"))
        .map((l) => {
          const [k, ...v] = l.slice("/sys/class/iscsi_session/session1/".length).split(": ")
          return [k!, v.join(": ").trimEnd()]
        })
    )
    expect({ ...out.values, creator: "(pid)" }).toEqual({ ...realValues, creator: "(pid)" })
  })

  it("shows connection, iscsi_host, scsi_host and SCSI device attributes as the kernel does", async () => {
    const host = labHost()
    const attrs = (dir: string) =>
      Effect.gen(function*() {
        const fs = yield* Sysfs.Sysfs
        const values: Record<string, string> = {}
        for (const e of yield* fs.list(path(dir))) {
          const v = yield* Effect.exit(fs.read(path(`${dir}/${e}`)))
          if (v._tag === "Failure") {
            if (String(v.cause).includes("PermissionDenied")) values[e] = "<write-only>"
          } else if (Option.isSome(v.value)) values[e] = v.value.value
        }
        return values
      })
    const out = await runTest(host, Effect.gen(function*() {
      yield* loginBoth
      return {
        connection: yield* attrs("/sys/class/iscsi_connection/connection1:0"),
        iscsiHost: yield* attrs("/sys/class/iscsi_host/host0"),
        scsiHost: yield* attrs("/sys/class/scsi_host/host0"),
        device: yield* attrs("/sys/class/scsi_device/0:0:0:0/device")
      }
    }))
    const real = (name: string, prefix: string) =>
      Object.fromEntries(
        fixture(name).split("\n").filter((l) => l.startsWith(prefix)).map((l) => {
          const [k, ...v] = l.slice(prefix.length).split(": ")
          const value = v.join(": ")
          // the capture prints each value with its newlines as spaces; unreadable files as cat's error
          return [k!, value.includes("Permission denied") ? "<write-only>" : value.startsWith("<binary") ? value : value.slice(0, -1)]
        })
      )
    const binary = (o: Record<string, string>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, /^(inquiry|vpd_pg)/.test(k) ? `<binary ${v.length} bytes>` : v.replaceAll("\n", " ")]))
    const volatile = { exp_statsn: "", local_port: "", iodone_cnt: "", ioerr_cnt: "", iorequest_cnt: "" }
    expect({ ...out.connection, ...pick(volatile, out.connection) }).toEqual({ ...real("sysfs-connection-attrs.txt", "/sys/class/iscsi_connection/connection1:0/"), ...pick(volatile, out.connection) })
    expect({ ...out.iscsiHost, ipaddress: "" }).toEqual({ ...real("sysfs-iscsi-host-attrs.txt", "/sys/class/iscsi_host/host0/"), ipaddress: "" })
    expect(out.scsiHost).toEqual(real("sysfs-scsi-host-attrs.txt", "/sys/class/scsi_host/host0/"))
    expect({ ...binary(out.device), ...pick(volatile, out.device) }).toEqual({ ...real("sysfs-scsi-device-attrs.txt", "/sys/class/scsi_device/0:0:0:0/device/"), ...pick(volatile, out.device) })
  })
})

/** The keys of `keys` that `o` has, with `o`'s values. */
const pick = (keys: Record<string, string>, o: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.keys(keys).filter((k) => k in o).map((k) => [k, o[k]!]))
