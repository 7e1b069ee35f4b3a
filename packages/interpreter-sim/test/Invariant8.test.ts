/**
 * design.md's invariant 8 as a property on the simulated host: a device is
 * returned only after its identity (WWN) was read fresh and agrees across
 * its paths. A volume is attached, the target may then unmap its LUN and map
 * another volume at the same number (sessions stay up), and the volume is
 * connected again, with or without the first connect's device info. Whatever
 * happened, a returned device reads the LUN's current WWN on every path, no
 * device of the old WWN is left once the LUN was remapped, a connect pinned
 * to the old WWN fails, and disconnecting everything restores the host.
 */
import { type BrickError, connectVolume, disconnectVolume } from "@brick/core"
import { Cause, Effect, Exit, Option } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, wwidsBehind } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:identity"
const allPortals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"]
const scale = Number(process.env["BRICK_PROP_SCALE"] ?? 1)

const arbCase = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  portals: fc.integer({ min: 1, max: 3 }),
  multipath: fc.boolean(),
  /** Another LUN of the target attached throughout (its sessions are shared). */
  neighbour: fc.boolean(),
  remap: fc.boolean(),
  /** The second connect passes the first's device info. */
  pinned: fc.boolean(),
  multipathd: fc.constantFrom("normal", "never")
})

const infoOf = (lun: number, portals: number, multipath: boolean) => {
  const ps = allPortals.slice(0, portals)
  return multipath
    ? { target_portals: ps, target_iqns: ps.map(() => iqn), target_luns: ps.map(() => lun) }
    : { target_portal: ps[0], target_iqn: iqn, target_lun: lun }
}

describe("invariant 8 (property tests on the simulated host)", { timeout: 600_000 }, () => {
  it("8: a device is returned only with its WWN read fresh; a remapped LUN's stale devices never survive", async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async (c) => {
        const h = makeHost({
          targets: [{ iqn, portals: allPortals, luns: [{ lun: 1 }, { lun: 2 }] }],
          multipathd: { mode: c.multipathd as "normal" | "never" },
          udev: { delayMs: 20 },
          latency: "zero"
        }, c.seed)
        const before = h.snapshot()
        const options = { useMultipath: c.multipath, multipathAddDelay: 200, multipathWaitTimeout: 2 }
        const volume = infoOf(1, c.portals, c.multipath)
        const neighbour = infoOf(2, c.portals, c.multipath)
        const run = await runVirtual(
          Effect.gen(function*() {
            const near = c.neighbour ? yield* connectVolume(neighbour, options) : undefined
            const first = yield* connectVolume(volume, options)
            const oldWwid = h.host.wwid(iqn, 1)
            if (c.remap) {
              h.host.removeLun(iqn, 1)
              h.host.addLun(iqn, { lun: 1 })
            }
            const again = yield* Effect.exit(connectVolume(volume, options, c.pinned ? first : undefined))
            const seen = Exit.isSuccess(again) ? wwidsBehind(h, again.value.path) : []
            const left = h.snapshot().scsiDevices.map((d) => d.wwid)
            yield* disconnectVolume(volume, Exit.isSuccess(again) ? again.value : undefined)
            if (near !== undefined) yield* disconnectVolume(neighbour, near)
            return { oldWwid, again, seen, left }
          }).pipe(Effect.provide(h.layer())),
          { stepMs: 200 }
        )
        if (Exit.isFailure(run)) throw new Error(Cause.pretty(run.cause))
        const { again, left, oldWwid, seen } = run.value
        const currentWwid = h.host.wwid(iqn, 1)
        if (c.remap && c.pinned) {
          expect(Exit.isFailure(again), "pinned to a WWN the LUN no longer has").toBe(true)
          const error = Exit.isFailure(again) ? Exit.findErrorOption(again) : Option.none()
          expect(Option.map(error, (e) => (e as BrickError.ConnectError).reason._tag)).toEqual(
            Option.some("DeviceNotFound")
          )
        } else {
          if (Exit.isFailure(again)) throw new Error(Cause.pretty(again.cause))
          expect(again.value.scsi_wwn).toBe(h.host.wwn(iqn, 1))
          expect(seen.length).toBeGreaterThan(0)
          for (const w of seen) expect(w).toBe(currentWwid)
        }
        if (c.remap) expect(left).not.toContain(oldWwid)
        expect(h.snapshot()).toEqual(before)
      }),
      { numRuns: Math.max(1, Math.round(200 * scale)) }
    )
  })
})
