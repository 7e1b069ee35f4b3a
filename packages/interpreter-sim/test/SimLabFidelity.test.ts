/**
 * The sim against facts captured from the real lab guest (lab/fixtures,
 * kernel 6.1, open-iscsi 2.1.8, LIO target, multipath-tools with
 * find_multipaths no): same target, same LUN serials, same names.
 */
import { Iscsiadm, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { SimHost, SimTree } from "../src/index.ts"
import { node, path, runTest } from "./helpers.ts"
import { fixture, grepValues, lines, lsListing } from "./LabFixtures.ts"

const iqn = "iqn.2003-01.org.brick:fixtures"
const p1 = "10.99.0.1:3260"
const p2 = "10.99.0.2:3260"
const serial0 = "032d99e0-4333-40d1-be28-3fcb3b6f85dc"
const serial1 = "c07a840f-492f-4d83-9e70-8ac4e407bcf4"

// lab/fixtures/lab-target-create.json
const labHost = () =>
  SimHost.make({
    targets: [{
      iqn,
      portals: [p2, p1],
      luns: [{ lun: 0, sizeBytes: 67108864, serial: serial0 }, { lun: 1, sizeBytes: 33554432, serial: serial1 }]
    }],
    latency: "zero",
    udev: { delayMs: 500 },
    multipathd: { mapDelayMs: 200 },
    initiatorName: "iqn.2004-10.com.brick:lab-initiator",
    // the lab's target runs on the initiator's own dummy0, so sessions come from 10.99.0.1
    localAddress: { ipv4: "10.99.0.1" }
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
    const out = await runTest(
      host,
      Effect.gen(function*() {
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
      })
    )
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
    const out = await runTest(
      host,
      Effect.gen(function*() {
        yield* loginBoth
        const fs = yield* Sysfs.Sysfs
        return {
          devices: yield* fs.list(path("/sys/class/scsi_device")),
          blocks: yield* fs.list(path("/sys/class/iscsi_session/session2/device/target1:0:0/1:0:0:1/block")),
          recovery: yield* fs.read(path("/sys/class/iscsi_session/session1/recovery_tmo"))
        }
      })
    )
    expect(out.devices).toEqual(["0:0:0:0", "0:0:0:1", "1:0:0:0", "1:0:0:1"])
    expect(out.blocks).toEqual(["sdd"])
    expect(out.recovery).toEqual(Option.some("5"))
  })

  it("has the same /sys/devices/platform/host0 tree (find -maxdepth 4, links not followed)", async () => {
    const host = labHost()
    const found = await runTest(
      host,
      Effect.gen(function*() {
        yield* loginBoth
        const fs = yield* Sysfs.Sysfs
        const out: Array<string> = []
        const walk = (dir: string, depth: number): Effect.Effect<void, Sysfs.SysfsError, Sysfs.Sysfs> =>
          Effect.gen(function*() {
            out.push(dir)
            const isLink = Option.isSome(
              yield* Effect.orElseSucceed(fs.readlink(path(dir)), () => Option.none<string>())
            )
            if (depth === 0 || isLink) return
            const entries = yield* Effect.orElseSucceed(fs.list(path(dir)), () => [] as ReadonlyArray<string>)
            for (const e of entries) yield* walk(`${dir}/${e}`, depth - 1)
          })
        yield* walk("/sys/devices/platform/host0", 4)
        return out
      })
    )
    const real = lines("find-sys-devices-platform-host0.txt")
    expect([...found].sort()).toEqual([...real].sort())
  })

  /** Attribute values the sim cannot (and need not) reproduce: pids, counters, random TCP state. */
  const volatile =
    /\/(creator|exp_statsn|local_port|iodone_cnt|ioerr_cnt|iorequest_cnt|iotmo_cnt|diskseq|stat|inflight)$/

  /**
   * Which map becomes dm-0 varies from boot to boot (multipathd forms them in
   * parallel): dm names are compared through the WWID each map carries.
   */
  const realDmWwn = new Map([...grepValues("sysfs-dm0-dm.txt")]
    .flatMap(([p, v]) => {
      const m = /^\/sys\/block\/(dm-\d+)\/dm\/name$/.exec(p)
      return m ? [[m[1]!, v] as const] : []
    }))
  const simDmNames = Effect.gen(function*() {
    const fs = yield* Sysfs.Sysfs
    const byWwn = new Map<string, string>()
    for (const dm of (yield* fs.list(path("/sys/block"))).filter((n) => n.startsWith("dm-"))) {
      byWwn.set(Option.getOrThrow(yield* fs.read(path(`/sys/block/${dm}/dm/name`))), dm)
    }
    return byWwn
  })
  /** Rewrites every dm-N of the real host into the sim's name for the same map. */
  const toSimDm = (simByWwn: ReadonlyMap<string, string>) => (text: string): string =>
    renameDm(text, (dm) => simByWwn.get(realDmWwn.get(dm) ?? "") ?? dm)
  /** Renames dm-N (and its device number 253:N) through `rename`. */
  const renameDm = (text: string, rename: (dm: string) => string): string =>
    text.replace(/\b(dm-|253:)(\d+)\b/g, (_, kind: string, n: string) => {
      const to = rename(`dm-${n}`).slice("dm-".length)
      return `${kind}${to}`
    })

  for (
    const name of [
      "sysfs-session-attrs.txt",
      "sysfs-connection-attrs.txt",
      "sysfs-iscsi-host-attrs.txt",
      "sysfs-scsi-host-attrs.txt",
      "sysfs-scsi-device-attrs.txt",
      "sysfs-wwids.txt",
      "sysfs-dm0-dm.txt",
      "sysfs-block-sizes.txt"
    ]
  ) {
    it(`reads the same attribute values (${name})`, async () => {
      const host = labHost()
      const real = [...grepValues(name)].filter(([p]) => !volatile.test(p))
      expect(real.length).toBeGreaterThan(0)
      const sim = await runTest(
        host,
        Effect.gen(function*() {
          yield* loginBoth
          const fs = yield* Sysfs.Sysfs
          const simPath = toSimDm(yield* simDmNames)
          const out: Array<[string, string | undefined]> = []
          for (const [p] of real) out.push([p, Option.getOrUndefined(yield* fs.read(path(simPath(p))))])
          return out
        })
      )
      expect(sim).toEqual(real)
    })
  }

  for (
    const name of [
      "sysfs-ls-session1.txt",
      "sysfs-ls-session1-target.txt",
      "sysfs-ls-block-sda-dm0.txt",
      "sysfs-ls-block-sda-device.txt",
      "sysfs-ls-class-iscsi_session.txt",
      "sysfs-block-holders-slaves.txt"
    ]
  ) {
    it(`lists the same entries and link texts (${name})`, async () => {
      const host = labHost()
      const real = lsListing(name)
      expect(real.size).toBeGreaterThan(0)
      const sim = await runTest(
        host,
        Effect.gen(function*() {
          yield* loginBoth
          const fs = yield* Sysfs.Sysfs
          const simByWwn = yield* simDmNames
          const simPath = toSimDm(simByWwn)
          // and back: the sim's dm names as the real host's
          const realByWwn = new Map([...realDmWwn].map(([dm, wwn]) => [wwn, dm]))
          const simToReal = (text: string) =>
            renameDm(text, (dm) => realByWwn.get([...simByWwn].find(([, d]) => d === dm)?.[0] ?? "") ?? dm)
          const out = new Map<string, Array<{ name: string; target?: string }>>()
          for (const dir of real.keys()) {
            const entries: Array<{ name: string; target?: string }> = []
            for (const e of yield* fs.list(path(simPath(dir)))) {
              const target = yield* Effect.orElseSucceed(
                fs.readlink(path(`${simPath(dir)}/${e}`)),
                () => Option.none<string>()
              )
              entries.push({
                name: simToReal(e),
                ...(Option.isSome(target) ? { target: simToReal(target.value) } : {})
              })
            }
            out.set(dir, entries)
          }
          return out
        })
      )
      const strip = (m: Map<string, ReadonlyArray<{ name: string; target?: string }>>) =>
        new Map(
          [...m].map((
            [d, es]
          ) => [
            d,
            [...es].map((e) => ({ name: e.name, ...(e.target === undefined ? {} : { target: e.target }) })).sort((
              a,
              b
            ) => (a.name < b.name ? -1 : 1))
          ])
        )
      expect(strip(sim)).toEqual(strip(real))
    })
  }

  it("resolves class links to the same device paths (sysfs-readlink-session1, readlink -f)", async () => {
    const host = labHost()
    const cmd = fixture("sysfs-readlink-session1.cmd").split("\n").find((l) => l.startsWith("$ readlink -f "))!
    const paths = cmd.slice("$ readlink -f ".length).split(" ")
    await runTest(host, Effect.andThen(loginBoth, host.settle))
    const resolved = paths.map((p) => SimTree.resolve(host.view, p, true)?.path)
    expect(resolved).toEqual(lines("sysfs-readlink-session1.txt"))
  })
})
