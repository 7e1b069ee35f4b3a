/**
 * How long a connect waits for a LUN's device after the login (the scans
 * back off, LunDevice.scanGap), measured in virtual time on the simulated
 * host: with the defaults a LUN mapped late on the array is still found, one
 * that never comes is given up after ~50 s (os-brick: ~54 s), and a LUN that
 * is there costs exactly what it cost with the old defaults (3 scans, 2 s apart).
 */
import { type BrickError, connectVolume, disconnectVolume } from "@brick/core"
import { Effect, Exit, Fiber, Option } from "effect"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, timedVirtual } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:volume-1"
const portal = "10.99.0.1:3260"
const info = { target_portal: portal, target_iqn: iqn, target_lun: 1 }
const hostWith = (exported: boolean, latency: "zero" | "lab" = "zero") =>
  makeHost({ targets: [{ iqn, portals: [portal], luns: [{ lun: 1, exported }] }], latency })

const reasonOf = (exit: Exit.Exit<unknown, unknown>) => {
  const e = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
  return Option.isSome(e) ? (e.value as BrickError.ConnectError).reason._tag : "success"
}

describe("waiting for the LUN after the login", () => {
  it("with the defaults, a LUN that never appears is given up after 6 scans, 50.4 s after the login", async () => {
    const h = hostWith(false)
    const before = h.snapshot()
    const { exit, ms } = await timedVirtual(connectVolume(info).pipe(Effect.provide(h.layer())), { stepMs: 100 })
    expect(reasonOf(exit)).toBe("DeviceNotFound")
    expect(h.ops.get("sysfs.write")).toBe(6)
    expect(ms).toBeGreaterThanOrEqual(50_400)
    expect(ms).toBeLessThan(51_000)
    expect(h.snapshot()).toEqual(before)
  })

  it("with the defaults, a LUN mapped 20 s after the login is found at the next scan (24.8 s)", async () => {
    const h = hostWith(false)
    const run = await runVirtual(
      Effect.gen(function*() {
        const start = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const fiber = yield* Effect.forkChild(connectVolume(info))
        yield* Effect.sleep(20_000)
        h.host.setLunExported(iqn, 1, true)
        const device = yield* Fiber.join(fiber)
        return { device, ms: (yield* Effect.clockWith((c) => c.currentTimeMillis)) - start }
      }).pipe(Effect.provide(h.layer())),
      { stepMs: 100 }
    )
    if (Exit.isFailure(run)) throw new Error(String(run.cause))
    expect(run.value.device.scsi_wwn).toBe(h.host.wwn(iqn, 1))
    expect(run.value.ms).toBeGreaterThanOrEqual(24_800)
    expect(run.value.ms).toBeLessThan(25_500)
    expect(Exit.isSuccess(await runVirtual(disconnectVolume(info).pipe(Effect.provide(h.layer()))))).toBe(true)
  })

  it("a LUN that is there costs the same with the new defaults as with the old (3 scans, 2 s apart)", async () => {
    const timed = async (options: object) => {
      const h = hostWith(true, "lab")
      const { exit, ms } = await timedVirtual(connectVolume(info, options).pipe(Effect.provide(h.layer())), {
        stepMs: 1
      })
      expect(reasonOf(exit)).toBe("success")
      return { ms, scans: h.ops.get("sysfs.write") }
    }
    const now = await timed({})
    const old = await timed({ deviceScanAttempts: 3, deviceScanInterval: 2000 })
    expect(now).toEqual(old)
    expect(now.scans).toBe(1)
  })
})
