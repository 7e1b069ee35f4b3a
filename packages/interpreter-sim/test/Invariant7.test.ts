/**
 * design.md's invariant 7 as a property on the simulated host: what brick
 * did not create stays as it was. An operator has an iface of their own, node
 * records through it to some of the volume's portals, and is logged in on
 * some of them (automatic scan: the volume's LUN is there through their
 * sessions too). brick connects the volume (through `default`, single path
 * or multipath, some portals faulty) and disconnects it: the operator's
 * iface, records, sessions and devices are untouched throughout, and after
 * the disconnect the host is exactly as before the connect.
 */
import { connectVolume, disconnectVolume, IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Cause, Effect, Exit, Option } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { SimSnapshot } from "../src/index.ts"
import { makeHost, runVirtual } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:operated"
const allPortals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"]
const theirs = "operator0"
const scale = Number(process.env["BRICK_PROP_SCALE"] ?? 1)

const arbCase = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  portals: fc.integer({ min: 1, max: 3 }),
  multipath: fc.boolean(),
  /** Per portal: the operator has a record through their iface, and is logged in with it. */
  operator: fc.array(fc.constantFrom("none", "record", "session"), { minLength: 3, maxLength: 3 }),
  /** Per portal: refusing logins (the operator's sessions are made before). */
  refusing: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  multipathd: fc.constantFrom("normal", "never")
})

const nodeOf = (portal: string) => ({
  portal: Portal.unsafeMake(portal),
  iqn: Iqn.unsafeMake(iqn),
  iface: IfaceName.unsafeMake(theirs)
})

/** The operator's own iface, records and sessions, made with iscsiadm as they would. */
const operator = (plan: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const adm = yield* Iscsiadm.Iscsiadm
    yield* adm.createIface(IfaceName.unsafeMake(theirs), {
      transport: "default",
      hwaddress: Option.none(),
      ipaddress: Option.none(),
      netIfacename: Option.some("eth0")
    })
    for (const [i, what] of plan.entries()) {
      if (what === "none") continue
      yield* adm.createNode(nodeOf(allPortals[i]!), { startup: "manual", scan: "auto" })
      if (what === "session") yield* adm.login(nodeOf(allPortals[i]!))
    }
  })

/** The operator's part of a snapshot: their iface, records, sessions and the devices on those sessions. */
const theirPart = (snap: SimSnapshot.SimSnapshot) => ({
  ifaces: snap.ifaces.filter((i) => i.name === theirs),
  nodes: snap.nodes.filter((n) => n.iface === theirs),
  sessions: snap.sessions.filter((s) => s.iface === theirs),
  devices: snap.scsiDevices.filter((d) =>
    snap.sessions.some((s) => s.iface === theirs && d.hctl.startsWith(`${s.host}:`))
  ).map((d) => ({ hctl: d.hctl, name: d.name, wwid: d.wwid }))
})

describe("invariant 7 (property tests on the simulated host)", { timeout: 600_000 }, () => {
  it("7: another iface's records, sessions and devices stay as they were through brick's connect and disconnect", async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async (c) => {
        const h = makeHost({
          targets: [{ iqn, portals: allPortals, luns: [{ lun: 1 }, { lun: 2 }] }],
          multipathd: { mode: c.multipathd as "normal" | "never" },
          udev: { delayMs: 5 },
          latency: "zero"
        }, c.seed)
        const ps = allPortals.slice(0, c.portals)
        const info = c.multipath
          ? { target_portals: ps, target_iqns: ps.map(() => iqn), target_luns: ps.map(() => 1) }
          : { target_portal: ps[0], target_iqn: iqn, target_lun: 1 }
        const options = { useMultipath: c.multipath, loginTimeout: 1, multipathWaitTimeout: 2, multipathAddDelay: 200 }
        const run = await runVirtual(
          Effect.gen(function*() {
            yield* operator(c.operator)
            yield* Effect.sleep(1000)
            yield* h.host.settle
            c.refusing.forEach((r, i) => {
              if (r) h.host.setNetwork(allPortals[i]!, { state: "refusing", fast: true })
            })
            const before = h.snapshot()
            const connected = yield* Effect.exit(connectVolume(info, options))
            const during = h.snapshot()
            const device = Exit.isSuccess(connected) ? connected.value : undefined
            if (device !== undefined) yield* disconnectVolume(info, device, {}, options)
            yield* Effect.sleep(1000)
            yield* h.host.settle
            return { before, during, connected, after: h.snapshot() }
          }).pipe(Effect.provide(h.layer())),
          { stepMs: 100 }
        )
        if (Exit.isFailure(run)) throw new Error(Cause.pretty(run.cause))
        const { after, before, connected, during } = run.value
        expect(theirPart(during)).toEqual(theirPart(before))
        expect(theirPart(after)).toEqual(theirPart(before))
        if (Exit.isSuccess(connected)) {
          for (const p of connected.value.paths ?? []) expect(p.iface).not.toBe(theirs)
        }
        // multipathd that forms no map by itself: brick's `add map` forms the volume's map of every path of
        // its WWID, the operator's too; that map stays, holding only their paths (docs/programs.md)
        const theirMapStays = c.multipathd === "never" && c.multipath && Exit.isSuccess(connected) &&
          c.operator.includes("session")
        if (!theirMapStays) expect(after).toEqual(before)
        else {
          const withoutMaps = (snap: SimSnapshot.SimSnapshot) => ({
            ...snap,
            maps: [],
            scsiDevices: snap.scsiDevices.map((d) => ({ ...d, map: null }))
          })
          expect(withoutMaps(after)).toEqual(withoutMaps(before))
          const theirDevices = new Set(theirPart(after).devices.map((d) => d.name))
          for (const m of after.maps) for (const p of m.paths) expect(theirDevices.has(p)).toBe(true)
        }
      }),
      { numRuns: Math.max(1, Math.round(300 * scale)) }
    )
  })
})
