import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Lun } from "../src/index.ts"
import { lun } from "./arbitraries.ts"

const is = Schema.is(Lun.Lun)
const modes: ReadonlyArray<Lun.AddressingMode> = ["transparent", "SAM", "SAM2", "SAM3-flat"]

describe("Lun", () => {
  it.each([0, 1, 255, 256, 4096, 16383])("accepts %d", (n) => {
    expect(is(n)).toBe(true)
    expect(Lun.unsafeMake(n)).toBe(n)
  })
  it.each([-1, -256, 16384, 65535, 2 ** 32, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects %d", (n) => {
    expect(is(n)).toBe(false)
    expect(() => Lun.unsafeMake(n)).toThrow()
  })
  it.each(["1", null, undefined, true, [1]])("rejects the non-number %j", (u) => expect(is(u)).toBe(false))
  it("maxLun is the 14-bit flat space limit", () => expect(Lun.maxLun).toBe(0x3fff))
  it("accepts exactly the integers 0..16383", () => {
    fc.assert(fc.property(fc.integer({ min: -100_000, max: 100_000 }), (n) => is(n) === (n >= 0 && n <= 16383)), {
      numRuns: 5000
    })
  })
})

describe("Lun.kernelLun", () => {
  const k = (n: number, m: Lun.AddressingMode) => Lun.kernelLun(Lun.unsafeMake(n), m)
  it.each([
    // [lun, transparent, SAM, SAM2, SAM3-flat] as os-brick's lun_for_addressing computes them
    [0, 0, 0, 0, 16384],
    [1, 1, 1, 1, 16385],
    [255, 255, 255, 255, 16639],
    [256, 256, 256, 16640, 16640],
    [300, 300, 300, 16684, 16684],
    [16383, 16383, 16383, 32767, 32767]
  ])("LUN %d → transparent %d, SAM %d, SAM2 %d, SAM3-flat %d", (n, transparent, sam, sam2, flat) => {
    expect(k(n, "transparent")).toBe(transparent)
    expect(k(n, "SAM")).toBe(sam)
    expect(k(n, "SAM2")).toBe(sam2)
    expect(k(n, "SAM3-flat")).toBe(flat)
  })
  it("LUN 256 in flat space is 0x4100", () => expect(k(256, "SAM2")).toBe(0x4100))
  it("matches os-brick: +16384 for SAM3-flat, and for SAM2 from 256", () => {
    fc.assert(
      fc.property(lun, fc.constantFrom(...modes), (n, mode) => {
        const expected = mode === "SAM3-flat" || (mode === "SAM2" && n >= 256) ? n + 16384 : n
        return Lun.kernelLun(Lun.unsafeMake(n), mode) === expected
      }),
      { numRuns: 5000 }
    )
  })
  it("is injective per mode and keeps the target's LUN in the low 14 bits", () => {
    fc.assert(
      fc.property(lun, lun, fc.constantFrom(...modes), (a, b, mode) => {
        const ka = Lun.kernelLun(Lun.unsafeMake(a), mode)
        const kb = Lun.kernelLun(Lun.unsafeMake(b), mode)
        return (ka === kb) === (a === b) && (ka & 0x3fff) === a && ka <= 0x7fff
      }),
      { numRuns: 5000 }
    )
  })
  it("decodes the addressing modes Cinder sends and nothing else", () => {
    for (const m of modes) expect(Schema.is(Lun.AddressingMode)(m)).toBe(true)
    for (const m of ["sam", "SAM3", "flat", "", "SAM-2"]) expect(Schema.is(Lun.AddressingMode)(m)).toBe(false)
  })
})
