/**
 * The soak's rounds (SoakPlan.ts): the same seed draws the same rounds; each
 * operation fits its volume's state; every kind of fault is drawn.
 */
import { describe, expect, it } from "vitest"
import { drawRound, faultKinds, kindOf, rng, type VolumeSpec } from "./SoakPlan.ts"

const volumes: ReadonlyArray<VolumeSpec> = [
  { name: "a", iqn: "iqn.x:a", lun: 0, portals: ["p1", "p2"], multipath: true },
  { name: "b", iqn: "iqn.x:a", lun: 1, portals: ["p1"], multipath: false },
  { name: "c", iqn: "iqn.x:b", lun: 0, portals: ["p2", "p3"], multipath: true }
]
const draw = (seed: number, n: number) => {
  const random = rng(seed)
  return Array.from({ length: n }, (_, i) => drawRound(random, volumes, volumes.map((_, v) => (i + v) % 2 === 0)))
}

describe("SoakPlan", () => {
  it("the same seed draws the same rounds; another seed others", () => {
    expect(draw(42, 20)).toEqual(draw(42, 20))
    expect(draw(43, 20)).not.toEqual(draw(42, 20))
  })

  it("connects only detached volumes, disconnects and extends only attached ones; a fault names a volume of the round", () => {
    const random = rng(7)
    for (let i = 0; i < 500; i++) {
      const attached = volumes.map(() => random() < 0.5)
      const round = drawRound(random, volumes, attached)
      expect(round.ops.length).toBeGreaterThan(0)
      for (const { volume, op } of round.ops) expect(op === "connect").toBe(!attached[volume])
      for (const f of round.faults) {
        if (f._tag === "portal") expect(round.ops.some((o) => volumes[o.volume]!.portals.includes(f.portal))).toBe(true)
        else expect(round.ops.some((o) => o.volume === f.volume && (f._tag === "kill" || o.op !== "extend"))).toBe(true)
      }
    }
  })

  it("every kind of fault is drawn within 100 rounds", () => {
    const kinds = new Set(draw(1, 100).flatMap((r) => r.faults.map(kindOf)))
    expect([...kinds].sort()).toEqual([...faultKinds].sort())
  })

  it("a round asked for a kind of fault has one, whatever the volumes' states", () => {
    const random = rng(3)
    for (let i = 0; i < 500; i++) {
      const attached = volumes.map(() => random() < 0.5)
      const first = faultKinds[i % faultKinds.length]!
      expect(drawRound(random, volumes, attached, first).faults.map(kindOf)).toContain(first)
    }
  })
})
