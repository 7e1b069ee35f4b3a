/** The sorted map's key index and derived lists stay equal to what a fresh sort and map would give. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { SimSortedMap, SimSortedNames } from "../src/SimSortedNames.ts"

type Op =
  | { readonly _tag: "set"; readonly key: string; readonly value: number }
  | { readonly _tag: "delete"; readonly key: string }
  | { readonly _tag: "clear" }
  | { readonly _tag: "derive"; readonly name: "double" | "label" }

const key = fc.string({ unit: fc.constantFrom("a", "b", "c", "1", "2", "-", ":"), maxLength: 4 })
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ _tag: fc.constant("set" as const), key, value: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("delete" as const), key }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("clear" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      _tag: fc.constant("derive" as const),
      name: fc.constantFrom("double" as const, "label" as const)
    })
  }
)

const fs: Record<"double" | "label", (v: number) => unknown> = { double: (v) => v * 2, label: (v) => `#${String(v)}` }

describe("SimSortedMap", () => {
  it("keeps sortedKeys and every derived list equal to a fresh sort and map (property)", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const m = new SimSortedMap<number>()
        const model = new Map<string, number>()
        const derived = new Set<"double" | "label">()
        for (const o of ops) {
          if (o._tag === "set") {
            m.set(o.key, o.value)
            model.set(o.key, o.value)
          } else if (o._tag === "delete") {
            expect(m.delete(o.key)).toBe(model.delete(o.key))
          } else if (o._tag === "clear") {
            m.clear()
            model.clear()
          } else {
            m.derived(o.name, fs[o.name])
            derived.add(o.name)
          }
          const keys = [...model.keys()].sort()
          expect(m.sortedKeys).toEqual(keys)
          expect(m.size).toBe(model.size)
          for (const name of derived) {
            expect(m.derived(name, fs[name])).toEqual(keys.map((k) => fs[name](model.get(k)!)))
          }
        }
      }),
      { numRuns: 2000 }
    )
  })

  it("a derived list is built once and then kept (the same array), and a name keeps its first function", () => {
    const m = new SimSortedMap<number>()
    m.set("b", 2)
    const first = m.derived("double", fs.double)
    m.set("a", 1)
    expect(m.derived("double", (v) => v * 100)).toBe(first)
    expect(first).toEqual([2, 4])
  })
})

describe("SimSortedNames", () => {
  it("reports positions as it adds and removes", () => {
    const s = new SimSortedNames()
    expect(s.add("b")).toBe(0)
    expect(s.add("a")).toBe(0)
    expect(s.add("c")).toBe(2)
    expect(s.add("b")).toBe(-1)
    expect(s.position("bb")).toBe(2)
    expect(s.delete("zz")).toBe(-1)
    expect(s.delete("b")).toBe(1)
    expect(s.names).toEqual(["a", "c"])
  })
})
