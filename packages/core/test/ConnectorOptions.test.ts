import { Effect, Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ConnectorOptions, type InvalidInput } from "../src/index.ts"

const decode = (u?: unknown): Result.Result<ConnectorOptions.ConnectorOptions, InvalidInput.InvalidInput> =>
  Effect.runSync(Effect.result(ConnectorOptions.decode(u)))
const fields = (u: unknown) => {
  const r = decode(u)
  return Result.isFailure(r) ? r.failure.reason.issues.map((i) => i.field) : []
}
const ok = (u: unknown) => {
  const r = decode(u)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

const expectedDefaults = {
  useMultipath: false,
  enforceMultipath: false,
  ifaceFallback: true,
  deviceScanAttempts: 6,
  deviceScanInterval: 800,
  pollInterval: 25,
  loginTimeout: 15,
  multipathWaitTimeout: 10,
  multipathAddDelay: 1000,
  writableWaitTimeout: 15,
  lockTimeout: 120,
  manualScan: true
}

/** Each numeric option and its inclusive bounds. */
const bounds = {
  deviceScanAttempts: [1, 100],
  deviceScanInterval: [0, 600_000],
  pollInterval: [1, 10_000],
  loginTimeout: [1, 3_600],
  multipathWaitTimeout: [1, 3_600],
  multipathAddDelay: [0, 600_000],
  writableWaitTimeout: [1, 3_600],
  lockTimeout: [1, 3_600]
} as const
const booleans = ["useMultipath", "enforceMultipath", "ifaceFallback", "manualScan"] as const

describe("ConnectorOptions.decode", () => {
  it("defaults every option", () => {
    expect(ConnectorOptions.defaults).toEqual(expectedDefaults)
    expect(ok(undefined)).toEqual(expectedDefaults)
    expect(ok(null)).toEqual(expectedDefaults)
    expect(ok({})).toEqual(expectedDefaults)
    expect(ok({ somethingElse: 1 })).toEqual(expectedDefaults)
  })

  it.each(Object.entries(bounds))("%s accepts its bounds and refuses one beyond", (key, [min, max]) => {
    expect(ok({ [key]: min })[key as keyof typeof bounds]).toBe(min)
    expect(ok({ [key]: max })[key as keyof typeof bounds]).toBe(max)
    expect(fields({ [key]: min - 1 })).toEqual([key])
    expect(fields({ [key]: max + 1 })).toEqual([key])
    expect(fields({ [key]: min + 0.5 })).toEqual([key])
    expect(fields({ [key]: String(min) })).toEqual([key])
    expect(fields({ [key]: null })).toEqual([key])
  })

  it.each(booleans)("%s takes only a boolean", (key) => {
    expect(ok({ [key]: true })[key]).toBe(true)
    expect(ok({ [key]: false })[key]).toBe(false)
    for (const bad of ["true", 1, 0, null, {}]) expect(fields({ [key]: bad })).toEqual([key])
  })

  it("a numeric option decodes exactly within its bounds, else the error names it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(bounds) as Array<keyof typeof bounds>),
        fc.integer({ min: -10, max: 700_000 }),
        (key, v) => {
          const [min, max] = bounds[key]
          const inRange = v >= min && v <= max
          const r = decode({ [key]: v })
          expect(Result.isSuccess(r)).toBe(inRange)
          if (Result.isSuccess(r)) expect({ ...r.success, [key]: expectedDefaults[key] }).toEqual(expectedDefaults)
          else expect(r.failure.reason.issues.map((i) => i.field)).toEqual([key])
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("reports every offending field at once", () => {
    expect([...fields({ deviceScanAttempts: "x", loginTimeout: 0, useMultipath: "yes" })].sort())
      .toEqual(["deviceScanAttempts", "loginTimeout", "useMultipath"])
  })

  it("refuses a non-object", () => {
    expect(fields([])).toEqual(["(input)"])
    expect(fields("default")).toEqual(["(input)"])
    const r = decode(5)
    expect(Result.isFailure(r) && r.failure.reason.source).toBe("options")
  })
})

describe("ConnectorOptions iface", () => {
  it.each(["default", "iser", "bnx2i.00:11:22:33:44:55", "my_iface-1", "qla4xxx.0"])("accepts the name %j", (name) => {
    expect(ok({ iface: name }).iface).toBe(name)
  })

  it("accepts a spec", () => {
    const spec = { transport: "bnx2i", hwaddress: "00:0A:f7:00:00:01", ipaddress: "10.0.0.5" }
    expect(ok({ iface: spec }).iface).toEqual(spec)
    expect(ok({ iface: { transport: "tcp", netIfacename: "eth1" } }).iface).toEqual({
      transport: "tcp",
      netIfacename: "eth1"
    })
    expect(ok({ iface: { name: "mine", transport: "iser", ipaddress: "fe80::1" } }).iface).toEqual({
      name: "mine",
      transport: "iser",
      ipaddress: "fe80::1"
    })
  })

  it.each([
    [{ iface: "-I" }, ["iface"]],
    [{ iface: "" }, ["iface"]],
    [{ iface: "a b" }, ["iface"]],
    [{ iface: "a".repeat(65) }, ["iface"]],
    [{ iface: "x;rm" }, ["iface"]],
    [{ iface: 5 }, ["iface"]],
    [{ iface: null }, ["iface"]],
    [{ iface: ["default"] }, ["iface"]],
    [{ iface: {} }, ["iface"]],
    [{ iface: { transport: "warp" } }, ["iface.transport"]],
    [{ iface: { transport: "qedi" } }, ["iface.transport"]],
    [{ iface: { transport: 1 } }, ["iface.transport"]],
    [{ iface: { transport: "bnx2i", hwaddress: "00:11:22:33:44" } }, ["iface.hwaddress"]],
    [{ iface: { transport: "bnx2i", hwaddress: "-00:11:22:33:44:55" } }, ["iface.hwaddress"]],
    [{ iface: { transport: "bnx2i", ipaddress: "10.0.0.1 -x" } }, ["iface.ipaddress"]],
    [{ iface: { transport: "bnx2i", ipaddress: "::::" } }, ["iface.ipaddress"]],
    [{ iface: { transport: "bnx2i", ipaddress: "10.0.0" } }, ["iface.ipaddress"]],
    [{ iface: { transport: "bnx2i", ipaddress: "10.0.0.1:3260" } }, ["iface.ipaddress"]],
    [{ iface: { transport: "bnx2i", ipaddress: "[fe80::1]" } }, ["iface.ipaddress"]],
    [{ iface: { transport: "bnx2i", ipaddress: "storage.example" } }, ["iface.ipaddress"]],
    [{ iface: { transport: "tcp", netIfacename: "-eth0" } }, ["iface.netIfacename"]],
    [{ iface: { transport: "tcp", netIfacename: "eth0 eth1" } }, ["iface.netIfacename"]],
    [{ iface: { transport: "tcp", netIfacename: "a".repeat(16) } }, ["iface.netIfacename"]],
    [{ iface: { transport: "tcp", name: "-x" } }, ["iface.name"]],
    [{ iface: { transport: "warp", hwaddress: "zz" } }, ["iface.transport", "iface.hwaddress"]]
  ])("%j fails naming %j", (input, expected) => {
    expect([...fields(input)].sort()).toEqual([...expected].sort())
    const r = decode(input)
    if (Result.isFailure(r)) { for (const f of expected) expect(r.failure.message).toContain(`${f}: `) }
  })

  it("takes a literal IPv4 or IPv6 address as iface.ipaddress", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        expect(ok({ iface: { transport: "qla4xxx", ipaddress: ip } }).iface).toEqual({
          transport: "qla4xxx",
          ipaddress: ip
        })
      }),
      { numRuns: 1000 }
    )
  })

  it("names iface.transport for any unknown transport", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }).filter((t) =>
          !["default", "tcp", "iser", "be2iscsi", "bnx2i", "cxgb3i", "cxgb4i", "qla4xxx", "ocs"].includes(t)
        ),
        (t) => {
          expect(fields({ iface: { transport: t, hwaddress: "00:11:22:33:44:55" } })).toEqual(["iface.transport"])
        }
      ),
      { numRuns: 1000 }
    )
  })

  it("no accepted iface name or spec value can be read as an option or holds white space", () => {
    const text = fc.string({ maxLength: 20 })
    fc.assert(
      fc.property(text, text, text, text, (name, hw, ip, net) => {
        for (
          const input of [{ iface: name }, {
            iface: { transport: "bnx2i", name, hwaddress: hw, ipaddress: ip, netIfacename: net }
          }]
        ) {
          const r = decode(input)
          if (Result.isSuccess(r)) {
            const values = typeof r.success.iface === "string"
              ? [r.success.iface]
              : Object.values(r.success.iface ?? {})
            for (const v of values) expect(/^-|[\s\0]/.test(String(v))).toBe(false)
          }
        }
      }),
      { numRuns: 1500 }
    )
  })
})
