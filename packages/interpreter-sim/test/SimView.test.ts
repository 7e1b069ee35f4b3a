/**
 * The /sys + /dev view is derived from the host's state on every lookup and
 * keeps nothing of its own: whatever the host went through, the live view
 * shows exactly what a view derived afresh from the same state shows, and
 * every entry a directory lists can be looked up.
 */
import { Iscsiadm, Sysfs } from "@brick/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { SimHost, SimMultipathd } from "../src/index.ts"
import { iqn, node, p1, p2, path, runTest, spec } from "./helpers.ts"
import { dump, liveAndFresh, workout } from "./TreeWalk.ts"

const scale = Number(process.env["BRICK_PROP_SCALE"] ?? 1)

/** Paths a directory lists but cannot look up. */
const listedButAbsent = (dumped: Record<string, string>) =>
  Object.keys(dumped).filter((p) => dumped[p] === "listed but absent")
const hba = "bnx2i.00:10:18:aa:bb:cc"
const richSpec = () =>
  spec({
    transports: ["tcp", "bnx2i"],
    hbas: [{ transport: "bnx2i", hwaddress: "00:10:18:AA:BB:CC", pciAddress: "0000:03:00.1", ipaddress: "10.99.0.50" }],
    ifaces: [{ name: "eth0-iscsi", transport: "tcp", netIfacename: "eth0" }],
    udev: { delayMs: 300 },
    multipathd: { mapDelayMs: 200 }
  })

describe("the live sysfs view equals a freshly derived one", () => {
  it("at every step of a scripted workout (logins, HBA, udev, maps, faults, deletes, rescans, logouts)", async () => {
    const host = SimHost.make(richSpec(), { seed: 7 })
    const steps: Array<string> = []
    await runTest(
      host,
      workout(host, iqn, [p1, p2], [hba, "eth0-iscsi"], (label) => {
        const { fresh, live } = liveAndFresh(host)
        expect(live, label).toEqual(fresh)
        expect(listedButAbsent(live), label).toEqual([])
        steps.push(label)
      })
    )
    expect(steps.length).toBe(14)
  })

  it("the workout's view is a large tree (the comparison is not vacuous)", async () => {
    const host = SimHost.make(richSpec(), { seed: 7 })
    const sizes: Array<number> = []
    await runTest(host, workout(host, iqn, [p1, p2], [hba], () => sizes.push(Object.keys(dump(host.view)).length)))
    expect(Math.max(...sizes)).toBeGreaterThan(2000)
    const last = dump(host.view)
    expect(last["/sys/class/iscsi_session"]).toMatch(/^dir: session/)
  })

  type Step =
    | { readonly _tag: "login"; readonly portal: string; readonly iface: string }
    | { readonly _tag: "logout"; readonly portal: string; readonly iface: string }
    | { readonly _tag: "scan"; readonly lun: number | undefined }
    | { readonly _tag: "delete"; readonly pick: number }
    | { readonly _tag: "rescan"; readonly pick: number }
    | { readonly _tag: "wait"; readonly ms: number }
    | { readonly _tag: "portal"; readonly portal: string; readonly up: boolean }
    | { readonly _tag: "flushMaps" }
    | { readonly _tag: "resize"; readonly lun: number; readonly gib: number }
    | { readonly _tag: "replaceLun"; readonly lun: number }
    | { readonly _tag: "multipathd"; readonly running: boolean }
    | { readonly _tag: "recoveryTmo"; readonly pick: number; readonly value: number }

  const portal = fc.constantFrom(p1, p2)
  const iface = fc.constantFrom("default", hba, "eth0-iscsi")
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ _tag: fc.constant("login" as const), portal, iface }) },
    { weight: 2, arbitrary: fc.record({ _tag: fc.constant("logout" as const), portal, iface }) },
    { weight: 3, arbitrary: fc.record({ _tag: fc.constant("scan" as const), lun: fc.constantFrom(undefined, 1, 2) }) },
    fc.record({ _tag: fc.constant("delete" as const), pick: fc.nat() }),
    fc.record({ _tag: fc.constant("rescan" as const), pick: fc.nat() }),
    {
      weight: 3,
      arbitrary: fc.record({ _tag: fc.constant("wait" as const), ms: fc.constantFrom(0, 100, 250, 1000, 6000) })
    },
    fc.record({ _tag: fc.constant("portal" as const), portal, up: fc.boolean() }),
    fc.record({ _tag: fc.constant("flushMaps" as const) }),
    fc.record({
      _tag: fc.constant("resize" as const),
      lun: fc.constantFrom(1, 2),
      gib: fc.integer({ min: 1, max: 4 })
    }),
    fc.record({ _tag: fc.constant("replaceLun" as const), lun: fc.constantFrom(1, 2) }),
    fc.record({ _tag: fc.constant("multipathd" as const), running: fc.boolean() }),
    fc.record({ _tag: fc.constant("recoveryTmo" as const), pick: fc.nat(), value: fc.integer({ min: 1, max: 200 }) })
  )

  const apply = (host: SimHost.SimHost, s: Step) =>
    Effect.gen(function*() {
      const adm = yield* Iscsiadm.Iscsiadm
      const fs = yield* Sysfs.Sysfs
      const st = host.state
      const pick = <A>(
        xs: ReadonlyArray<A>,
        i: number
      ): A | undefined => (xs.length === 0 ? undefined : xs[i % xs.length])
      switch (s._tag) {
        case "login":
          yield* Effect.ignore(adm.createNode(node(s.portal, iqn, s.iface), {}))
          yield* Effect.ignore(adm.login(node(s.portal, iqn, s.iface)))
          break
        case "logout":
          yield* Effect.ignore(adm.logout(node(s.portal, iqn, s.iface)))
          break
        case "scan":
          for (const h of Array.from(st.hosts.values())) {
            yield* fs.write(path(`/sys/class/scsi_host/host${h.no}/scan`), `- - ${s.lun ?? "-"}`)
          }
          break
        case "delete": {
          const d = pick(Array.from(st.disks.values()), s.pick)
          if (d) yield* fs.write(path(`/sys/block/${d.name}/device/delete`), "1")
          break
        }
        case "rescan": {
          const d = pick(Array.from(st.disks.values()), s.pick)
          if (d) yield* fs.write(path(`/sys/block/${d.name}/device/rescan`), "1")
          break
        }
        case "wait":
          yield* TestClock.adjust(s.ms)
          yield* host.settle
          break
        case "portal":
          if (s.up) host.portalUp(s.portal)
          // refused at once (a blackholed or slow refusal would sleep on the TestClock)
          else host.setNetwork(s.portal, { state: "refusing", fast: true })
          break
        case "flushMaps":
          for (const m of Array.from(st.maps.values())) SimMultipathd.flushMap(st, m)
          break
        case "resize":
          host.resizeLun(iqn, s.lun, s.gib << 30)
          break
        case "replaceLun":
          host.removeLun(iqn, s.lun)
          host.addLun(iqn, { lun: s.lun })
          break
        case "multipathd":
          host.setMultipathd({ running: s.running })
          break
        case "recoveryTmo": {
          const sess = pick(Array.from(st.sessions.values()), s.pick)
          if (sess) yield* fs.write(path(`/sys/class/iscsi_session/session${sess.sid}/recovery_tmo`), String(s.value))
          break
        }
      }
    })

  it("after any sequence of host operations and faults (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 0, max: 3 }),
        async (steps, others) => {
          const host = SimHost.make(richSpec(), { seed: 3 })
          host.preattach(others, { multipath: others % 2 === 1 })
          await runTest(
            host,
            Effect.gen(function*() {
              for (const s of steps) {
                yield* apply(host, s)
                const { fresh, live } = liveAndFresh(host)
                // compared as text first (fast); toEqual only to show a difference
                if (JSON.stringify(live) !== JSON.stringify(fresh)) expect(live).toEqual(fresh)
                expect(listedButAbsent(live)).toEqual([])
              }
            })
          )
        }
      ),
      { numRuns: Math.max(1, Math.round(100 * scale)) }
    )
  }, 120_000)
})
