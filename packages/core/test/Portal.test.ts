import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Portal } from "../src/index.ts"
import { canonicalPortal, hostname, ipv6, port, portalParts } from "./arbitraries.ts"

const decode = Schema.decodeUnknownSync(Portal.PortalFromString)
const accepts = (s: string) => Schema.is(Portal.PortalFromString)(s) || Portal.parse(s) !== undefined

describe("Portal.parse", () => {
  it.each([
    ["10.0.0.1", "10.0.0.1:3260", "ipv4"],
    ["10.0.0.1:3261", "10.0.0.1:3261", "ipv4"],
    ["255.255.255.255:65535", "255.255.255.255:65535", "ipv4"],
    ["0.0.0.0:1", "0.0.0.0:1", "ipv4"],
    ["storage.example.com", "storage.example.com:3260", "hostname"],
    ["Storage.EXAMPLE.com:860", "storage.example.com:860", "hostname"],
    ["localhost", "localhost:3260", "hostname"],
    ["[fe80::1]:3260", "[fe80::1]:3260", "ipv6"],
    ["[FE80::1]", "[fe80::1]:3260", "ipv6"],
    ["[2001:db8::10]:3262", "[2001:db8::10]:3262", "ipv6"],
    ["[::ffff:10.0.0.1]:3260", "[::ffff:10.0.0.1]:3260", "ipv6"],
    ["[::]:3260", "[::]:3260", "ipv6"],
    ["2001:DB8::a", "[2001:db8::a]:3260", "ipv6"],
    ["fe80::1", "[fe80::1]:3260", "ipv6"],
    ["1:2:3:4:5:6:7:8", "[1:2:3:4:5:6:7:8]:3260", "ipv6"],
    ["10.0.0.1:03260", "10.0.0.1:3260", "ipv4"]
  ])("accepts %j as %j (%s)", (input, canonical, family) => {
    expect(Portal.normalize(input)).toBe(canonical)
    expect(Portal.parse(input)?.family).toBe(family)
    expect(decode(input)).toBe(canonical)
  })

  it("defaults the port to 3260", () => {
    expect(Portal.defaultPort).toBe(3260)
    expect(Portal.parse("10.1.2.3")?.port).toBe(3260)
    expect(Portal.parse("[::1]")?.port).toBe(3260)
  })

  it.each([
    "",
    " ",
    "10.0.0.1 ",
    " 10.0.0.1",
    "10.0.0.256",
    "10.0.0",
    "10.0.0.1.1",
    "010.0.0.1",
    "1.2.3.04",
    "10.0.0.1:0",
    "10.0.0.1:65536",
    "10.0.0.1:99999",
    "10.0.0.1:-1",
    "10.0.0.1:",
    "10.0.0.1:abc",
    "10.0.0.1:32 60",
    "10.0.0.1:+3260",
    "10.0.0.1:3260:1",
    "host:0x10",
    "-host",
    "-o",
    "host-",
    "ho_st",
    "host name",
    "a..b",
    ".a",
    "a.",
    "host;rm -rf /",
    "$(id)",
    "`id`",
    "a|b",
    "a\0b",
    "a\nb",
    "[fe80::1]:0",
    "[fe80::1]:65536",
    "[fe80::1]:",
    "[fe80::1",
    "fe80::1]",
    "[10.0.0.1]:3260",
    "[host]:3260",
    "[fe80::1%eth0]:3260",
    "[fe80::1]x",
    "[[fe80::1]]",
    "fe80::1:3260",
    "::1:3260",
    "2001:db8::5:1",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    ":::1",
    "fe80:::1",
    "1:2:3:4:5:6:7:8::",
    "12345::1",
    "g::1",
    "0x7f.1",
    "0x7f000001",
    "0X7F.0.0.1",
    "017.0.0.1:3260",
    "a".repeat(64) + ".example",
    `${"a.".repeat(127)}ab`
  ])("rejects %j", (input) => {
    expect(Portal.parse(input)).toBeUndefined()
    expect(() => decode(input)).toThrow()
    expect(() => Portal.unsafeMake(input)).toThrow()
  })

  it("normalize leaves non-portals unchanged", () => {
    expect(Portal.normalize("not a portal")).toBe("not a portal")
  })

  it("the branded Portal accepts only canonical texts", () => {
    expect(Schema.is(Portal.Portal)("10.0.0.1:3260")).toBe(true)
    expect(Schema.is(Portal.Portal)("10.0.0.1")).toBe(false)
    expect(Schema.is(Portal.Portal)("[FE80::1]:3260")).toBe(false)
    expect(Schema.is(Portal.Portal)("fe80::1")).toBe(false)
    expect(accepts("fe80::1")).toBe(true)
  })

  it("parts splits a canonical portal", () => {
    expect(Portal.parts(Portal.unsafeMake("[fe80::1]:3261"))).toEqual({ host: "fe80::1", port: 3261, family: "ipv6" })
    expect(Portal.parts(Portal.unsafeMake("h.example"))).toEqual({ host: "h.example", port: 3260, family: "hostname" })
  })
})

describe("Portal.isIpv6", () => {
  it.each([
    "::",
    "::1",
    "fe80::",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "::ffff:1.2.3.4",
    "64:ff9b::192.0.2.33"
  ])(
    "accepts %j",
    (s) => expect(Portal.isIpv6(s)).toBe(true)
  )
  it.each([
    ":",
    "1",
    "1.2.3.4",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "::1.2.3",
    "::1.2.3.4:5",
    "12345::",
    "[::1]",
    "::1%eth0",
    "1:2:3:4:5:6:1.2.3.4:5"
  ])(
    "rejects %j",
    (s) => expect(Portal.isIpv6(s)).toBe(false)
  )
  it("agrees with fast-check's IPv6 generator", () => {
    fc.assert(fc.property(ipv6, (v6) => Portal.isIpv6(v6) && Portal.isIpv6(v6.toUpperCase())), { numRuns: 3000 })
  })
  it("never accepts IPv4 text", () => {
    fc.assert(fc.property(fc.ipV4(), (v4) => !Portal.isIpv6(v4)), { numRuns: 1000 })
  })
})

describe("Portal properties", () => {
  it("format(parse(x)) is a fixed point for any text", () => {
    const texts = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.stringMatching(/^[0-9a-fA-F:.[\]]{1,30}$/),
      canonicalPortal,
      canonicalPortal.map((s) => s.toUpperCase())
    )
    fc.assert(
      fc.property(texts, (x) => {
        const once = Portal.parse(x)
        if (once === undefined) return true
        const text = Portal.format(once)
        const twice = Portal.parse(text)
        return twice !== undefined && Portal.format(twice) === text && twice.family === once.family &&
          twice.port === once.port
      }),
      { numRuns: 3000 }
    )
  })

  it("every generated portal round-trips (v4, v6, hostnames, ports)", () => {
    fc.assert(
      fc.property(portalParts, (p) => {
        const text = Portal.format(p)
        const parsed = Portal.parse(text)
        expect(parsed).toEqual({ host: p.host.toLowerCase(), port: p.port, family: p.family })
        expect(decode(text)).toBe(text)
        expect(decode(text.toUpperCase())).toBe(text)
      }),
      { numRuns: 2000 }
    )
  })

  it("a portal without port gets 3260", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), hostname, ipv6.map((v6) => `[${v6}]`)), (host) => {
        expect(decode(host)).toBe(`${host.toLowerCase()}:3260`)
      }),
      { numRuns: 2000 }
    )
  })

  it("a bare IPv6 address is accepted exactly when it cannot be read as address:port", () => {
    fc.assert(
      fc.property(ipv6, (v6) => {
        const cut = v6.lastIndexOf(":")
        const last = v6.slice(cut + 1)
        const ambiguous = /^\d{1,5}$/.test(last) && Number(last) >= 1 && Number(last) <= 65535 &&
          Portal.isIpv6(v6.slice(0, cut))
        expect(Portal.parse(v6) === undefined).toBe(ambiguous)
        if (!ambiguous) expect(decode(v6)).toBe(`[${v6}]:3260`)
      }),
      { numRuns: 2000 }
    )
  })

  it("ports outside 1-65535 are refused", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), hostname, ipv6.map((v6) => `[${v6}]`)),
        fc.oneof(fc.constant(0), fc.integer({ min: 65536, max: 10_000_000 })),
        (host, bad) => Portal.parse(`${host}:${bad}`) === undefined
      ),
      { numRuns: 2000 }
    )
  })

  it("no accepted portal can be read as an option or hold white space", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), port, (s, p) => {
        for (const x of [s, `${s}:${p}`, `[${s}]:${p}`]) {
          const parsed = Portal.parse(x)
          if (parsed !== undefined) {
            const text = Portal.format(parsed)
            expect(text.startsWith("-")).toBe(false)
            expect(/[\s\0]/.test(text)).toBe(false)
          }
        }
      }),
      { numRuns: 2000 }
    )
  })
})
