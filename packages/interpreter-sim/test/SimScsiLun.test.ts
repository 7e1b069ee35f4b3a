/**
 * The simulator's LUN encoding (SimScsiLun, its own code) against the
 * kernel's and LIO's known values, then end to end: brick's
 * `addressing_mode` against targets that report flat space LUNs (SAM2,
 * SAM3-flat) and against LIO, whose peripheral form of LUN 300 makes the
 * flat modes miss (as in the lab). Core's `kernelLun` is compared with the
 * sim's independent computation: agreement between the two means something.
 */
import { connectVolume, disconnectVolume, Lun } from "@brick/core"
import { Effect, Exit } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as SimScsiLun from "../src/SimScsiLun.ts"
import type { SimSpec } from "../src/SimSpec.ts"
import { makeHost, runVirtual } from "./harness.ts"

const runs = Math.max(10, Math.round(200 * Number(process.env["BRICK_PROP_SCALE"] ?? 1)))

describe("SimScsiLun: the kernel's and the targets' LUN encodings", () => {
  it("known values: LIO's 300 is 012c… (kernel 300); flat 300 is 412c… (kernel 0x412c); SAM2 keeps 5 peripheral", () => {
    expect(SimScsiLun.hex(SimScsiLun.reportedLun("SAM", 300))).toBe("012c000000000000")
    expect(SimScsiLun.kernelLunOf("SAM", 300)).toBe(300)
    expect(SimScsiLun.hex(SimScsiLun.reportedLun("SAM3-flat", 300))).toBe("412c000000000000")
    expect(SimScsiLun.kernelLunOf("SAM3-flat", 300)).toBe(0x412c)
    expect(SimScsiLun.kernelLunOf("SAM3-flat", 5)).toBe(0x4005)
    expect(SimScsiLun.kernelLunOf("SAM2", 5)).toBe(5)
    expect(SimScsiLun.kernelLunOf("SAM2", 300)).toBe(0x412c)
    // a two-level LUN: the second level lands in bits 16-31 of the kernel's integer
    expect(SimScsiLun.scsilunToInt(Uint8Array.of(0, 1, 0, 2, 0, 0, 0, 0))).toBe(0x20001)
    expect(SimScsiLun.hex(SimScsiLun.intToScsilun(0x20001))).toBe("0001000200000000")
  })

  it("int_to_scsilun and scsilun_to_int are inverse; each target reads back the LUN it reported", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        (n) => SimScsiLun.scsilunToInt(SimScsiLun.intToScsilun(n)) === n
      ),
      { numRuns: runs }
    )
    fc.assert(
      fc.property(
        fc.constantFrom("SAM", "transparent", "SAM2", "SAM3-flat" as const),
        fc.integer({ min: 0, max: Lun.maxLun }),
        (mode, n) => {
          const kernel = SimScsiLun.kernelLunOf(mode, n)
          return SimScsiLun.addressedLun(mode, SimScsiLun.intToScsilun(kernel)) === n
        }
      ),
      { numRuns: runs }
    )
  })

  it("core's kernelLun agrees with the kernel's integer of the target's REPORT LUNS entry, for every mode", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("SAM", "transparent", "SAM2", "SAM3-flat" as const),
        fc.integer({ min: 0, max: Lun.maxLun }),
        (mode, n) => Lun.kernelLun(Lun.unsafeMake(n), mode) === SimScsiLun.kernelLunOf(mode, n)
      ),
      { numRuns: runs }
    )
  })

  it("a flat-space target does not answer the peripheral form of LUN 300 (bus 1), LIO does not answer 0x412c", () => {
    expect(SimScsiLun.addressedLun("SAM3-flat", SimScsiLun.intToScsilun(300))).toBeUndefined()
    expect(SimScsiLun.addressedLun("SAM", SimScsiLun.intToScsilun(0x412c))).toBe(0x412c)
  })
})

const iqn = "iqn.2010-10.org.openstack:volume-flat"
const portal = "10.99.0.1:3260"
const hostWith = (addressingMode: "SAM" | "SAM2" | "SAM3-flat") =>
  makeHost(
    {
      targets: [{ iqn, portals: [portal], luns: [{ lun: 5 }, { lun: 300 }], addressingMode }],
      latency: "zero"
    } satisfies SimSpec
  )
const info = (lun: number, mode?: string) => ({
  target_portal: portal,
  target_iqn: iqn,
  target_lun: lun,
  volume_id: "vol-flat",
  ...(mode === undefined ? {} : { addressing_mode: mode })
})
const options = { deviceScanAttempts: 2, deviceScanInterval: 500 }

/** connect, the device's H:C:T:L and by-path link, disconnect; the host must be as before. */
const attach = async (target: "SAM" | "SAM2" | "SAM3-flat", lun: number, mode?: string) => {
  const h = hostWith(target)
  const before = h.snapshot()
  const exit = await runVirtual(connectVolume(info(lun, mode), options).pipe(Effect.provide(h.layer())))
  const during = h.snapshot()
  if (Exit.isSuccess(exit)) {
    const out = await runVirtual(disconnectVolume(info(lun, mode), exit.value).pipe(Effect.provide(h.layer())))
    expect(Exit.isSuccess(out)).toBe(true)
  }
  const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : undefined
  const reason = error?._tag === "Some" ? (error.value as { reason?: { _tag?: string } }).reason?._tag : undefined
  const dev = Exit.isSuccess(exit) ? during.scsiDevices.find((d) => `/dev/${d.name}` === exit.value.path) : undefined
  return {
    hctlLun: dev?.hctl.split(":")[3],
    links: Object.keys(during.byPath).filter((l) => l.includes(iqn)),
    reason,
    clean: JSON.stringify(h.snapshot()) === JSON.stringify(before)
  }
}

describe("addressing_mode end to end on the simulator", () => {
  it("SAM3-flat target, addressing_mode SAM3-flat: LUN 300 is the kernel's 16684, by-path lun-0x412c…", async () => {
    const out = await attach("SAM3-flat", 300, "SAM3-flat")
    expect(out.hctlLun).toBe(String(0x412c))
    expect(out.links).toContain(`ip-${portal}-iscsi-${iqn}-lun-0x412c000000000000`)
    expect(out.clean).toBe(true)
  })

  it("SAM3-flat target, addressing_mode SAM3-flat: LUN 5 is the kernel's 16389 (flat even below 256)", async () => {
    const out = await attach("SAM3-flat", 5, "SAM3-flat")
    expect(out.hctlLun).toBe(String(0x4005))
    expect(out.clean).toBe(true)
  })

  it("SAM2 target, addressing_mode SAM2: LUN 5 peripheral (5), LUN 300 flat (16684)", async () => {
    expect((await attach("SAM2", 5, "SAM2")).hctlLun).toBe("5")
    const out = await attach("SAM2", 300, "SAM2")
    expect(out.hctlLun).toBe(String(0x412c))
    expect(out.clean).toBe(true)
  })

  it("SAM3-flat target, no addressing_mode: LUN 300 is not found (its peripheral form names no LUN), host unchanged", async () => {
    const out = await attach("SAM3-flat", 300)
    expect(out.reason).toBe("DeviceNotFound")
    expect(out.clean).toBe(true)
  })

  it("LIO-like target (SAM), addressing_mode SAM3-flat: LUN 300 is not found (as in the lab), host unchanged", async () => {
    const out = await attach("SAM", 300, "SAM3-flat")
    expect(out.reason).toBe("DeviceNotFound")
    expect(out.clean).toBe(true)
  })

  it("LIO-like target (SAM), default addressing: LUN 300 is the kernel's 300, by-path lun-0x012c…", async () => {
    const out = await attach("SAM", 300)
    expect(out.hctlLun).toBe("300")
    expect(out.links).toContain(`ip-${portal}-iscsi-${iqn}-lun-0x012c000000000000`)
    expect(out.clean).toBe(true)
  })
})
