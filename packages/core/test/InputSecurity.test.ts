/**
 * Invariant 5: bad input never reaches the host. Whatever the input, a value
 * that decodes and can become an iscsiadm argument (portal, IQN, iface name
 * and spec values, CHAP user names) is never an option and holds no white
 * space or NUL; every host path built from decoded values stays under /dev.
 */
import { Effect, Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ByPath, ConnectorOptions, ConnectPlan, HostPath } from "../src/index.ts"
import * as SysfsLayout from "../src/internal/SysfsLayout.ts"
import { canonicalPortal, chapUser, decodeInfo, iqn, lun } from "./arbitraries.ts"
import { port, withPorts } from "./hostFacts.ts"

const hostileText = fc.oneof(
  fc.constantFrom(
    "-o",
    "--op=delete",
    "-I",
    "- ",
    "a b",
    "a\tb",
    "x\0",
    "\n",
    "../../etc/passwd",
    "..",
    "$(reboot)",
    "`id`",
    "a;b",
    "\u00a0x",
    "x\u2028"
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 12, unit: "binary" })
)
/** A valid value spoiled: prefixed by '-', or with white space or NUL inserted. */
const spoil = (valid: fc.Arbitrary<string>) =>
  fc.tuple(valid, fc.constantFrom("-", " ", "\t", "\0", "\n", "--", "\u00a0"), fc.nat()).map(([v, bad, at]) => {
    const i = at % (v.length + 1)
    return at % 3 === 0 ? bad + v : v.slice(0, i) + bad + v.slice(i)
  })
const maybeHostile = (valid: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: spoil(valid) }, {
    weight: 1,
    arbitrary: hostileText
  })

const info = fc.record(
  {
    target_portal: maybeHostile(canonicalPortal),
    target_iqn: maybeHostile(iqn),
    target_lun: lun,
    target_portals: fc.array(maybeHostile(canonicalPortal), { minLength: 1, maxLength: 3 }),
    auth_method: fc.constant("CHAP"),
    auth_username: maybeHostile(chapUser),
    auth_password: fc.string({ minLength: 1 }),
    auth_username_in: maybeHostile(chapUser),
    auth_password_in: fc.string({ minLength: 1 }),
    discovery_auth_username: maybeHostile(chapUser)
  },
  { requiredKeys: ["target_portal", "target_iqn", "target_lun"] }
)
const ifaceOption = fc.oneof(
  maybeHostile(fc.constantFrom("default", "iser", "eth1", "bnx2i.00:0e:1e:00:00:01")),
  fc.record(
    {
      name: maybeHostile(fc.constantFrom("mine", "tcp.eth1")),
      transport: fc.constantFrom("tcp", "bnx2i", "-x", "tcp "),
      hwaddress: maybeHostile(fc.constant("00:0e:1e:00:00:01")),
      ipaddress: maybeHostile(fc.constantFrom("10.0.0.5", "fe80::1")),
      netIfacename: maybeHostile(fc.constantFrom("eth1", "bond0.100"))
    },
    { requiredKeys: ["transport"] }
  )
)

const safeArgument = (v: unknown) => typeof v === "string" && v.length > 0 && !v.startsWith("-") && !/[\s\0]/.test(v)

describe("input security", () => {
  it("no decoded value that can become an iscsiadm argument is an option or holds white space/NUL", () => {
    let accepted = 0
    fc.assert(
      fc.property(info, fc.boolean(), (raw, multi) => {
        const input = multi ? { ...raw, target_iqns: raw.target_portals?.map(() => raw.target_iqn) } : raw
        const r = decodeInfo(input)
        if (Result.isFailure(r)) return
        accepted++
        const d = r.success
        const args = [
          d.target_portal,
          d.target_iqn,
          ...(d.target_portals ?? []),
          ...(d.target_iqns ?? []),
          d.auth_username,
          d.auth_username_in,
          d.discovery_auth_username
        ].filter((v) => v !== undefined)
        for (const v of args) expect(safeArgument(v), JSON.stringify(v)).toBe(true)
      }),
      { numRuns: 1000 }
    )
    // the generator must also reach the accepting side
    expect(accepted).toBeGreaterThan(50)
  })

  it("no decoded iface option value is an option or holds white space/NUL", () => {
    fc.assert(
      fc.property(ifaceOption, (iface) => {
        const r = Effect.runSync(Effect.result(ConnectorOptions.decode({ iface })))
        if (Result.isFailure(r)) return
        const value = r.success.iface
        const values = typeof value === "string" ? [value] : Object.values(value ?? {})
        for (const v of values) expect(safeArgument(v), JSON.stringify(v)).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })

  it("every host path planned from decoded input stays under /dev/disk/by-path, one segment deep", () => {
    fc.assert(
      fc.property(info, ifaceOption, fc.boolean(), (raw, iface, useMultipath) => {
        const r = decodeInfo(raw)
        const o = Effect.runSync(Effect.result(ConnectorOptions.decode({ iface, useMultipath })))
        if (Result.isFailure(r) || Result.isFailure(o)) return
        const plan = ConnectPlan.make(r.success, o.success, withPorts([port("bnx2i", "00:0e:1e:00:00:01")]))
        for (const p of plan.paths) {
          const path = HostPath.make(`${SysfsLayout.byPathDir}/${p.byPathName}`)
          expect(path.startsWith(`${ByPath.directory}/`)).toBe(true)
          expect(p.byPathName.includes("/")).toBe(false)
          expect([".", ".."]).not.toContain(p.byPathName)
        }
      }),
      { numRuns: 600 }
    )
  })
})
