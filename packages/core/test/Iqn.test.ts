import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Iqn } from "../src/index.ts"
import { iqn } from "./arbitraries.ts"

const is = Schema.is(Iqn.Iqn)

describe("Iqn", () => {
  it.each([
    "iqn.2010-10.org.openstack:volume-00000001",
    "iqn.2003-01.org.linux-iscsi.localhost.x8664:sn.a8317361c7d7",
    "iqn.1992-08.com.netapp:sn.123456789",
    "iqn.2001-05.com.equallogic:0-8a0906-defd81507-687001325fb4f561-gl-mgs",
    "iqn.2016-04.com.example",
    "iqn.2016-12.com.example:Target_1.lun-0:x",
    "eui.02004567A425678D",
    "eui.0123456789abcdef",
    "naa.52004567BA64678D",
    "naa.60014051e4e4b2f1c8a14e5ab33e6a7b"
  ])("accepts %j", (s) => {
    expect(Iqn.isIqn(s)).toBe(true)
    expect(is(s)).toBe(true)
    expect(Iqn.unsafeMake(s)).toBe(s)
  })

  it.each([
    "",
    "iqn",
    "iqn.",
    "iqn.2010-10",
    "iqn.2010-10.",
    "iqn.2010-13.org.x",
    "iqn.2010-00.org.x",
    "iqn.10-10.org.x",
    "iqn.2010-10.Org.x",
    "iqn.2010-10.ORG.EXAMPLE:t",
    "IQN.2010-10.org.x",
    "iqn.2010-10.-org.x",
    "iqn.2010-10.org-.x",
    "iqn.2010-10.org..x",
    "iqn.2010-10.org.x:",
    "iqn.2010-10.org.x:a b",
    "iqn.2010-10.org.x:a\tb",
    "iqn.2010-10.org.x:a;rm",
    "iqn.2010-10.org.x:$(id)",
    "iqn.2010-10.org.x:`id`",
    "iqn.2010-10.org.x:a|b",
    "iqn.2010-10.org.x:a&b",
    "iqn.2010-10.org.x:a>b",
    "iqn.2010-10.org.x:a/b",
    "iqn.2010-10.org.x:a\0b",
    "iqn.2010-10.org.x:a\nb",
    "iqn.2010-10.org.x:a,b",
    "-iqn.2010-10.org.x",
    "-o",
    " iqn.2010-10.org.x",
    "iqn.2010-10.org.x ",
    "eui.0123456789abcde",
    "eui.0123456789abcdef0",
    "eui.0123456789abcdeg",
    "naa.0123456789abcdef0",
    "naa.0123",
    "EUI.0123456789ABCDEF",
    "iqn.2010-10.org.x:" + "a".repeat(206)
  ])("rejects %j", (s) => {
    expect(Iqn.isIqn(s)).toBe(false)
    expect(is(s)).toBe(false)
    expect(() => Iqn.unsafeMake(s)).toThrow()
  })

  it("allows exactly 223 characters", () => {
    const prefix = "iqn.2010-10.org.x:"
    expect(Iqn.isIqn(prefix + "a".repeat(223 - prefix.length))).toBe(true)
    expect(Iqn.isIqn(prefix + "a".repeat(224 - prefix.length))).toBe(false)
  })

  it("accepts every generated name of 223 characters at most, and refuses longer ones", () => {
    fc.assert(
      fc.property(iqn, (s) => Iqn.isIqn(s) === s.length <= 223),
      { numRuns: 3000 }
    )
  })

  it("an accepted name is never an option, never holds white space, shell or path characters", () => {
    const anything = fc.oneof(
      fc.string({ maxLength: 60 }),
      iqn.map((s) => s + "x"),
      fc.tuple(iqn, fc.string({ maxLength: 3 }), fc.nat()).map(([s, ins, at]) =>
        s.slice(0, at % (s.length + 1)) + ins + s.slice(at % (s.length + 1))
      )
    )
    fc.assert(
      fc.property(anything, (s) => {
        if (!Iqn.isIqn(s)) return true
        return !s.startsWith("-") && !/[\s\0;&|$`'"<>()\\/*?!{}[\]~#,=]/.test(s)
      }),
      { numRuns: 3000 }
    )
  })
})
