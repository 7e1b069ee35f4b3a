import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type ConnectionInfo, Iqn, Lun, Portal, TargetPath } from "../src/index.ts"
import { canonicalPortal, decodeInfo, decodeValid, iqn, lun } from "./arbitraries.ts"

const a = "iqn.2010-10.org.x:a"
const b = "iqn.2010-10.org.x:b"
const path = (portal: string, name: string, n: number): TargetPath.TargetPath => ({
  portal: Portal.unsafeMake(portal),
  iqn: Iqn.unsafeMake(name),
  lun: Lun.unsafeMake(n)
})
const paths = (u: unknown, multipath: boolean) => TargetPath.fromConnectionData(decodeValid(u), multipath)

describe("TargetPath.fromConnectionData", () => {
  it("uses the single path as given", () => {
    const d = { target_portal: "10.0.0.1", target_iqn: a, target_lun: 1 }
    expect(paths(d, false)).toEqual([path("10.0.0.1:3260", a, 1)])
    expect(paths(d, true)).toEqual([path("10.0.0.1:3260", a, 1)])
  })

  it("zips the plural lists with multipath, the primary path first", () => {
    const d = {
      target_portal: "10.0.0.1",
      target_iqn: a,
      target_lun: 1,
      target_portals: ["10.0.0.1", "10.0.0.2:3261", "[fe80::1]"],
      target_iqns: [a, b, a],
      target_luns: [1, 2, 3]
    }
    expect(paths(d, true)).toEqual([
      path("10.0.0.1:3260", a, 1),
      path("10.0.0.2:3261", b, 2),
      path("[fe80::1]:3260", a, 3)
    ])
    expect(paths(d, false)).toEqual([path("10.0.0.1:3260", a, 1)])
  })

  it("takes the first of the lists as primary when the singular fields are missing", () => {
    const d = { target_portals: ["10.0.0.2", "10.0.0.1"], target_iqns: [b, a], target_luns: [5, 6] }
    expect(paths(d, false)).toEqual([path("10.0.0.2:3260", b, 5)])
    expect(paths(d, true)).toEqual([path("10.0.0.2:3260", b, 5), path("10.0.0.1:3260", a, 6)])
  })

  it("defaults the LUN list from target_lun and the IQN list from target_iqn", () => {
    expect(paths({ target_portals: ["10.0.0.1", "10.0.0.2"], target_iqns: [a, b], target_lun: 3 }, true))
      .toEqual([path("10.0.0.1:3260", a, 3), path("10.0.0.2:3260", b, 3)])
    expect(paths({ target_portals: ["10.0.0.1", "10.0.0.2"], target_iqn: a, target_luns: [1, 2] }, true))
      .toEqual([path("10.0.0.1:3260", a, 1), path("10.0.0.2:3260", a, 2)])
    expect(paths({ target_portals: ["10.0.0.1", "10.0.0.2"], target_iqn: a, target_lun: 0 }, true))
      .toEqual([path("10.0.0.1:3260", a, 0), path("10.0.0.2:3260", a, 0)])
  })

  it("drops repeated paths, also when they differ only in spelling", () => {
    expect(
      paths({
        target_portal: "10.0.0.1:3260",
        target_iqn: a,
        target_lun: 1,
        target_portals: ["10.0.0.1", "10.0.0.1:3260"],
        target_iqns: [a, a],
        target_luns: [1, 1]
      }, true)
    )
      .toEqual([path("10.0.0.1:3260", a, 1)])
  })

  it("dedupe keeps the first of each", () => {
    const p = path("10.0.0.1", a, 1)
    const q = path("10.0.0.2", a, 1)
    expect(TargetPath.dedupe([p, q, { ...p }, q])).toEqual([p, q])
    expect(TargetPath.key(p)).toBe("10.0.0.1:3260,iqn.2010-10.org.x:a,1")
  })
})

/** Valid connection data in every shape Cinder uses: singular, plural, partially defaulted. */
const shapes = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.record(
    {
      target_portal: canonicalPortal,
      target_iqn: iqn.filter(Iqn.isIqn),
      target_lun: lun,
      target_portals: fc.array(fc.oneof(canonicalPortal, fc.constantFrom("10.0.0.1:3260", "10.0.0.1")), {
        minLength: n,
        maxLength: n
      }),
      target_iqns: fc.array(fc.oneof(iqn.filter(Iqn.isIqn), fc.constant(a)), { minLength: n, maxLength: n }),
      target_luns: fc.array(fc.oneof(lun, fc.constant(1)), { minLength: n, maxLength: n })
    },
    { requiredKeys: [] }
  )
).filter((d) => Result.isSuccess(decodeInfo(d)))

/** The (portal, iqn, lun) combinations the data states, read independently of the implementation. */
const statedCombos = (d: ConnectionInfo.ConnectionData): { single: string | undefined; listed: Array<string> } => {
  const single = d.target_portal !== undefined && d.target_iqn !== undefined && d.target_lun !== undefined
    ? `${d.target_portal},${d.target_iqn},${d.target_lun}`
    : undefined
  const portals = d.target_portals ?? (d.target_portal === undefined ? [] : [d.target_portal])
  const listed = portals.map((p, i) =>
    `${p},${d.target_iqns?.[i] ?? d.target_iqn},${d.target_luns?.[i] ?? d.target_lun}`
  )
  return { single, listed }
}

describe("TargetPath.fromConnectionData properties", () => {
  it("never loses or invents a path", () => {
    fc.assert(
      fc.property(shapes, fc.boolean(), (raw, multipath) => {
        const d = decodeValid(raw)
        const result = TargetPath.fromConnectionData(d, multipath).map(TargetPath.key)
        const { listed, single } = statedCombos(d)
        const stated = new Set([...(single === undefined ? [] : [single]), ...listed])
        // every result path is a stated combination, with no duplicates
        for (const k of result) expect(stated.has(k)).toBe(true)
        expect(new Set(result).size).toBe(result.length)
        if (multipath) {
          // every stated combination is present, the primary first
          for (const k of stated) expect(result).toContain(k)
          expect(result[0]).toBe(single ?? listed[0])
        } else {
          // one path: the primary one
          expect(result).toEqual([single ?? listed[0]])
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("with multipath, as many paths as distinct stated combinations", () => {
    fc.assert(
      fc.property(shapes, (raw) => {
        const d = decodeValid(raw)
        const { listed, single } = statedCombos(d)
        return TargetPath.fromConnectionData(d, true).length === new Set([...(single ? [single] : []), ...listed]).size
      }),
      { numRuns: 400 }
    )
  })
})
