import { Cause, Effect, Exit, Option, Redacted, Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ConnectionInfo, ConnectorOptions, InvalidInput, Iqn, Portal } from "../src/index.ts"
import {
  canonicalPortal,
  chapUser,
  connectionData,
  decodeInfo,
  decodeValid,
  fieldsOf,
  iqn,
  lun,
  secret
} from "./arbitraries.ts"

const decode = (u: unknown) => Effect.runSyncExit(ConnectionInfo.decode(u))
const iqn1 = "iqn.2010-10.org.openstack:volume-1"
const base = { target_portal: "10.0.0.1", target_iqn: iqn1, target_lun: 1 }

describe("ConnectionInfo.decode", () => {
  it("accepts Cinder's single-path data and normalises the portal", () => {
    const exit = decode({
      target_portal: "10.0.0.1",
      target_iqn: "iqn.2010-10.org.openstack:volume-1",
      target_lun: 1,
      auth_method: "CHAP",
      auth_username: "u",
      auth_password: "s3cret",
      extra_key: 1
    })
    expect(Exit.isSuccess(exit)).toBe(true)
    if (Exit.isSuccess(exit)) {
      expect(exit.value.target_portal).toBe("10.0.0.1:3260")
      expect(Redacted.value(exit.value.auth_password!)).toBe("s3cret")
      expect(String(exit.value.auth_password)).not.toContain("s3cret")
    }
  })
  it("names the offending fields inside the wrapped form", () => {
    const exit = decode({
      driver_volume_type: "iscsi",
      data: { target_portal: "10.0.0.1:99999", target_iqn: "bad iqn", target_lun: -1 }
    })
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause : undefined
    const text = String(error)
    expect(text).toContain("data.target_portal")
    expect(text).toContain("data.target_iqn")
    expect(text).toContain("data.target_lun")
  })
  it("rejects unequal list lengths, naming the list", () => {
    const exit = decode({
      target_portals: ["10.0.0.1", "10.0.0.2"],
      target_iqns: ["iqn.2010-10.org.x:a"],
      target_luns: [1, 1]
    })
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain(
      "target_iqns: must have as many entries as target_portals (2)"
    )
  })
  it("decodes options with defaults", () => {
    expect(ConnectorOptions.defaults.useMultipath).toBe(false)
    const exit = Effect.runSyncExit(ConnectorOptions.decode({ iface: { transport: "warp" } }))
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("iface")
  })

  it("fails with an InvalidInput whose message lists each field", () => {
    const r = decodeInfo({
      driver_volume_type: "iscsi",
      data: { ...base, target_iqn: "iqn.2010-10.org.x:a b", target_luns: [1, 99999] }
    })
    expect(Result.isFailure(r)).toBe(true)
    if (Result.isFailure(r)) {
      expect(r.failure).toBeInstanceOf(InvalidInput.InvalidInput)
      expect(r.failure._tag).toBe("InvalidInput")
      expect(r.failure.reason.source).toBe("connection_info")
      expect(r.failure.message).toBe(
        "invalid connection_info: data.target_iqn: an iSCSI name: iqn.YYYY-MM.domain[:id], eui.<16 hex> or naa.<16|32 hex>; " +
          "data.target_luns[1]: Expected a value between 0 and 16383"
      )
    }
  })

  it.each([
    [null, "(input)"],
    ["iscsi", "(input)"],
    [[base], "(input)"],
    [{ driver_volume_type: "rbd", data: base }, "driver_volume_type"],
    [{ driver_volume_type: "fibre_channel", data: base }, "driver_volume_type"],
    [{ driver_volume_type: 1, data: base }, "driver_volume_type"],
    [{ driver_volume_type: "rbd", ...base }, "driver_volume_type"],
    [{ driver_volume_type: "iscsi" }, "data"],
    [{ driver_volume_type: "iscsi", data: "x" }, "data"],
    [{ driver_volume_type: "iscsi", data: [] }, "data"]
  ])("refuses %j naming %s", (input, field) => {
    expect(fieldsOf(decodeInfo(input))).toEqual([field])
  })

  it("accepts the wrapped form, upper-case ISCSI too", () => {
    for (const t of ["iscsi", "ISCSI"]) {
      expect(decodeValid({ driver_volume_type: t, data: base, serial: "x", connector: {} }).target_portal).toBe(
        "10.0.0.1:3260"
      )
    }
  })

  it.each([
    [{}, ["target_portal", "target_iqn", "target_lun"]],
    [{ target_portal: "10.0.0.1", target_lun: 0 }, ["target_iqn"]],
    [{ target_iqn: iqn1, target_lun: 0 }, ["target_portal"]],
    [{ target_portal: "10.0.0.1", target_iqn: iqn1 }, ["target_lun"]],
    [{ target_iqns: [iqn1], target_luns: [1] }, ["target_portals"]],
    [{ target_portals: ["10.0.0.1"], target_luns: [1] }, ["target_iqns"]],
    [{ target_portals: ["10.0.0.1"], target_iqns: [iqn1] }, ["target_lun"]],
    [{ target_portals: [], target_iqns: [iqn1], target_luns: [1] }, ["target_portals"]],
    [{ ...base, target_iqns: [iqn1, iqn1] }, ["target_iqns"]],
    [{ ...base, target_luns: [1, 2] }, ["target_luns"]],
    [{ ...base, auth_method: "CHAP" }, ["auth_username", "auth_password"]],
    [{ ...base, auth_method: "chap", auth_username: "u" }, ["auth_password"]],
    [{ ...base, auth_method: "CHAP", auth_password: "p" }, ["auth_username"]],
    [{ ...base, auth_method: "CHAP", auth_username: "u", auth_password: "p", auth_username_in: "t" }, [
      "auth_password_in"
    ]],
    [{ ...base, auth_method: "CHAP", auth_username: "u", auth_password: "p", auth_password_in: "q" }, [
      "auth_username_in"
    ]],
    [{ ...base, discovery_auth_method: "CHAP", discovery_auth_password: "p" }, ["discovery_auth_username"]],
    [{ ...base, discovery_auth_method: "CHAP", discovery_auth_username: "u" }, ["discovery_auth_password"]],
    [{ ...base, auth_method: "kerberos" }, ["auth_method"]],
    [{ ...base, auth_username: "-o" }, ["auth_username"]],
    [{ ...base, auth_username: "a b" }, ["auth_username"]],
    [{ ...base, auth_username: "" }, ["auth_username"]],
    [{ ...base, auth_password: "" }, ["auth_password"]],
    [{ ...base, auth_password: "pw\nnode.startup = automatic" }, ["auth_password"]],
    [{ ...base, auth_password: "pw\rx" }, ["auth_password"]],
    [{ ...base, auth_username: "t", auth_password: "p", auth_username_in: "t", auth_password_in: "pw\0x" }, [
      "auth_password_in"
    ]],
    [{ ...base, discovery_auth_method: "CHAP", discovery_auth_username: "d", discovery_auth_password: "\n" }, [
      "discovery_auth_password"
    ]],
    [{ ...base, addressing_mode: "SAM4" }, ["addressing_mode"]],
    [{ ...base, access_mode: "rwx" }, ["access_mode"]],
    [{ ...base, encrypted: "yes" }, ["encrypted"]],
    [{ ...base, volume_id: "v".repeat(256) }, ["volume_id"]],
    [{ ...base, target_discovered: 1 }, ["target_discovered"]]
  ])("%j fails naming %j", (input, fields) => {
    expect(fieldsOf(decodeInfo(input))).toEqual(fields)
    expect(fieldsOf(decodeInfo({ driver_volume_type: "iscsi", data: input }))).toEqual(fields.map((f) => `data.${f}`))
  })

  it("accepts auth_method None without credentials and keeps no CHAP", () => {
    const d = decodeValid({ ...base, auth_method: "None", auth_username: "ignored", auth_password: "ignored" })
    expect(Option.isNone(ConnectionInfo.sessionChap(d))).toBe(true)
  })

  it("holds CHAP secrets as Redacted, mutual and discovery included", () => {
    const d = decodeValid({
      ...base,
      auth_method: "CHAP",
      auth_username: "u",
      auth_password: "p1",
      auth_username_in: "t",
      auth_password_in: "p2",
      discovery_auth_method: "CHAP",
      discovery_auth_username: "du",
      discovery_auth_password: "p3"
    })
    const chap = Option.getOrThrow(ConnectionInfo.sessionChap(d))
    expect(chap.username).toBe("u")
    expect(Redacted.value(chap.password)).toBe("p1")
    expect(Option.getOrThrow(chap.usernameIn)).toBe("t")
    expect(Redacted.value(Option.getOrThrow(chap.passwordIn))).toBe("p2")
    const disc = Option.getOrThrow(ConnectionInfo.discoveryChap(d))
    expect([disc.username, Redacted.value(disc.password)]).toEqual(["du", "p3"])
    expect(JSON.stringify(d)).not.toMatch(/p1|p2|p3/)
  })

  it("accepts LUNs as numeric strings, as Cinder drivers send them (target_lun, target_luns items)", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 16383 }), fc.integer({ min: 0, max: 16383 }), (a, b) => {
      const d = decodeValid({
        target_portals: ["10.0.0.1", "10.0.0.2"],
        target_iqns: [iqn1, iqn1],
        target_luns: [String(a), b],
        target_lun: String(b)
      })
      expect([d.target_lun, d.target_luns]).toEqual([b, [a, b]])
    }))
  })
  it("pairs target_iqns/target_luns given without target_portals with the single target_portal", () => {
    expect(fieldsOf(decodeInfo({ target_portal: "10.0.0.1", target_iqns: [iqn1, iqn1], target_luns: [1, 2] }))).toEqual(
      ["target_iqns", "target_luns"]
    )
    const d = decodeValid({ target_portal: "10.0.0.1", target_iqns: [iqn1], target_luns: [7] })
    expect([d.target_iqns, d.target_luns]).toEqual([[iqn1], [7]])
  })
})

/** One field of a valid object made wrong, and the field the error must name. */
interface Corruption {
  readonly field: string
  readonly apply: (d: Record<string, unknown>) => Record<string, unknown>
}

const wrongType = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.constant({}), fc.constant([]), fc.double())
const notPortal = fc.oneof(
  fc.constant(""),
  wrongType,
  fc.string({ maxLength: 20 }).filter((s) => Portal.parse(s) === undefined),
  fc.ipV4().map((h) => `${h}:0`),
  fc.ipV4().map((h) => `${h}:65536`),
  fc.ipV4().map((h) => `${h}:http`),
  fc.constant("fe80::1:3260")
)
const notIqn = fc.oneof(
  fc.constant(""),
  wrongType,
  fc.string({ maxLength: 30 }).filter((s) => !Iqn.isIqn(s)),
  iqn.map((s) => `${s} ; rm -rf /`),
  iqn.map((s) => `-${s}`),
  fc.constant(`iqn.2010-10.org.x:${"a".repeat(220)}`)
)
const notLun = fc.oneof(
  fc.integer({ max: -1 }),
  fc.integer({ min: 16384 }),
  fc.double({ min: 0.01, max: 16383, noInteger: true }),
  // a number's digits are accepted; these strings are not (sign, blank, leading zero, fraction, other base)
  fc.integer({ min: 0, max: 16383 }).map((n) => `+${n}`),
  fc.integer({ min: 0, max: 16383 }).map((n) => ` ${n}`),
  fc.integer({ min: 0, max: 16383 }).map((n) => `0${n}`),
  fc.integer({ min: 0, max: 16383 }).map((n) => `${n}.0`),
  fc.integer({ min: 0, max: 16383 }).map((n) => `0x${n.toString(16)}`),
  fc.integer({ min: 16384, max: 99999 }).map(String),
  fc.constant(null),
  fc.constant(Number.NaN)
)
const notName = fc.oneof(
  fc.constant(""),
  chapUser.map((u) => `-${u}`),
  chapUser.map((u) => `${u} x`),
  chapUser.map((u) => `${u}\0`),
  wrongType
)
const notMethod = fc.string({ maxLength: 10 }).filter((s) => !["CHAP", "chap", "None", "none"].includes(s))
const replaceAt = (list: unknown, i: number, v: unknown) => (list as Array<unknown>).map((x, j) => (j === i ? v : x))
const set = (key: string, value: unknown) => (d: Record<string, unknown>) => ({ ...d, [key]: value })
const without = (...keys: ReadonlyArray<string>) => (d: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(d).filter(([k]) => !keys.includes(k)))

const singularCorruptions: fc.Arbitrary<Corruption> = fc.oneof(
  notPortal.map((v) => ({ field: "target_portal", apply: set("target_portal", v) })),
  notIqn.map((v) => ({ field: "target_iqn", apply: set("target_iqn", v) })),
  notLun.map((v) => ({ field: "target_lun", apply: set("target_lun", v) })),
  notMethod.map((v) => ({ field: "auth_method", apply: set("auth_method", v) })),
  notName.map((v) => ({ field: "auth_username", apply: set("auth_username", v) })),
  fc.oneof(fc.constant(""), wrongType).map((v) => ({ field: "auth_password", apply: set("auth_password", v) })),
  fc.tuple(chapUser, secret, fc.constantFrom("auth_username", "auth_password")).map(([user, password, missing]) => ({
    field: missing,
    apply: (d: Record<string, unknown>) =>
      without(missing)({ ...d, auth_method: "CHAP", auth_username: user, auth_password: password })
  })),
  fc.constantFrom("addressing_mode", "access_mode", "encrypted").chain((key) =>
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer()).filter((v) =>
      !["SAM", "SAM2", "SAM3-flat", "transparent", "rw", "ro"].includes(String(v))
    )
      .map((v) => ({ field: key, apply: set(key, v) }))
  )
)

const pluralCorruptions = (n: number): fc.Arbitrary<Corruption> =>
  fc.integer({ min: 0, max: n - 1 }).chain((i) =>
    fc.oneof(
      notPortal.map((v) => ({
        field: `target_portals[${i}]`,
        apply: (d: Record<string, unknown>) => ({ ...d, target_portals: replaceAt(d["target_portals"], i, v) })
      })),
      notIqn.map((v) => ({
        field: `target_iqns[${i}]`,
        apply: (d: Record<string, unknown>) => ({ ...d, target_iqns: replaceAt(d["target_iqns"], i, v) })
      })),
      notLun.map((v) => ({
        field: `target_luns[${i}]`,
        apply: (d: Record<string, unknown>) => ({ ...d, target_luns: replaceAt(d["target_luns"], i, v) })
      })),
      fc.constantFrom("target_iqns", "target_luns").chain((key) =>
        fc.constantFrom("drop", "add", "empty").map((how) => ({
          field: key,
          apply: (d: Record<string, unknown>) => {
            const list = d[key] as Array<unknown>
            return { ...d, [key]: how === "drop" ? list.slice(1) : how === "add" ? [...list, list[0]] : [] }
          }
        }))
      ),
      fc.constantFrom("target_portals", "target_iqns", "target_luns").chain((key) =>
        fc.oneof(wrongType.filter((v) => !Array.isArray(v)), fc.string()).map((v) => ({
          field: key,
          apply: set(key, v)
        }))
      )
    )
  )

const validSingular = fc.record({ target_portal: canonicalPortal, target_iqn: iqn.filter(Iqn.isIqn), target_lun: lun })
const validPlural = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    data: fc.record({
      target_portal: canonicalPortal,
      target_iqn: iqn.filter(Iqn.isIqn),
      target_lun: lun,
      target_portals: fc.array(canonicalPortal, { minLength: n, maxLength: n }),
      target_iqns: fc.array(iqn.filter(Iqn.isIqn), { minLength: n, maxLength: n }),
      target_luns: fc.array(lun, { minLength: n, maxLength: n })
    })
  })
)
const malformed = fc.oneof(
  fc.tuple(validSingular, singularCorruptions).map(([d, c]) => ({ data: d as Record<string, unknown>, c })),
  validPlural.chain(({ data, n }) => pluralCorruptions(n).map((c) => ({ data: data as Record<string, unknown>, c })))
)

describe("ConnectionInfo.decode properties", () => {
  it("a valid object with one field corrupted fails naming exactly that field (bare and wrapped)", () => {
    fc.assert(
      fc.property(malformed, fc.constantFrom("iscsi", "ISCSI"), ({ c, data }, type) => {
        expect(Result.isSuccess(decodeInfo(data))).toBe(true)
        const bad = c.apply(data)
        expect(new Set(fieldsOf(decodeInfo(bad)))).toEqual(new Set([c.field]))
        expect(new Set(fieldsOf(decodeInfo({ driver_volume_type: type, data: bad })))).toEqual(
          new Set([`data.${c.field}`])
        )
      }),
      { numRuns: 1000 }
    )
  })

  it("every generated valid connection data decodes, with unknown keys tolerated", () => {
    const unknownKeys = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) =>
        !(k in ConnectionInfo.ConnectionData.fields) && k !== "__proto__"
      ),
      fc.jsonValue()
    )
    fc.assert(
      fc.property(connectionData, unknownKeys, (d, extra) => {
        const decoded = decodeValid({ ...extra, ...d })
        expect(decoded.target_portal).toBe(Portal.normalize(d.target_portal))
        expect(decodeValid({ driver_volume_type: "iscsi", data: { ...extra, ...d } })).toEqual(decoded)
        return !Object.keys(extra).some((k) => k in decoded && !(k in d))
      }),
      { numRuns: 500 }
    )
  })

  it("the CHAP password never appears in the error's message, String or JSON rendering", () => {
    const placement = fc.constantFrom(
      "valid",
      "auth_username",
      "target_iqn",
      "auth_method",
      "target_portal",
      "target_luns",
      "volume_id"
    )
    fc.assert(
      fc.property(malformed, secret, placement, chapUser, ({ c, data }, password, where, user) => {
        const withChap = {
          ...data,
          auth_method: "CHAP",
          auth_username: user,
          auth_password: password,
          auth_password_in: password
        }
        const bad = where === "valid" ? c.apply(withChap) : { ...c.apply(withChap), [where]: password }
        for (const input of [bad, { driver_volume_type: "iscsi", data: bad }]) {
          const r = decodeInfo(input)
          if (Result.isSuccess(r)) return false
          const exit = decode(input)
          const renderings = [
            r.failure.message,
            String(r.failure),
            JSON.stringify(r.failure),
            JSON.stringify(r.failure.reason),
            String(Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""),
            r.failure.stack ?? ""
          ]
          for (const text of renderings) expect(text).not.toContain(password)
        }
        return true
      }),
      { numRuns: 400 }
    )
  })

  it("a decoded password never shows in the decoded data's JSON or String", () => {
    fc.assert(
      fc.property(validSingular, chapUser, secret, (d, user, password) => {
        const decoded = decodeValid({ ...d, auth_method: "CHAP", auth_username: user, auth_password: password })
        expect(Redacted.value(decoded.auth_password!)).toBe(password)
        return !JSON.stringify(decoded).includes(password) && !String(decoded.auth_password).includes(password)
      }),
      { numRuns: 500 }
    )
  })

  it("a non-iscsi driver_volume_type is refused naming that field", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), wrongType).filter((t) => t !== "iscsi" && t !== "ISCSI"),
        validSingular,
        (t, d) => {
          expect(fieldsOf(decodeInfo({ driver_volume_type: t, data: d }))).toEqual(["driver_volume_type"])
        }
      ),
      { numRuns: 500 }
    )
  })
})
