/**
 * fast-check generators shared by the core tests: portal spellings, iSCSI
 * names, LUNs, PCI addresses and valid Cinder connection data.
 */
import { Effect, Result } from "effect"
import fc from "fast-check"
import { ConnectionInfo, type InvalidInput } from "../src/index.ts"

/** A valid port. */
export const port = fc.integer({ min: 1, max: 65535 })

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$/)
const alphaLabel = fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,10}[a-z])?$/)

/** Hostnames, including ones whose labels hold `-iscsi-` and `-lun-`. */
export const hostname = fc.oneof(
  fc.domain(),
  fc.tuple(fc.array(label, { minLength: 0, maxLength: 3 }), alphaLabel).map(([ls, tld]) => [...ls, tld].join(".")),
  fc.constantFrom("my-iscsi-server.example", "lun-1.example", "x-lun-2-iscsi-3.example", "storage")
)

/** IPv6 addresses as fast-check writes them (lowercase). */
export const ipv6 = fc.ipV6()

/** A canonical portal text (`host:port`, `[v6]:port`), with its parts. */
export const portalParts = fc.oneof(
  fc.record({ host: fc.ipV4(), port, family: fc.constant("ipv4" as const) }),
  fc.record({ host: ipv6, port, family: fc.constant("ipv6" as const) }),
  fc.record({ host: hostname, port, family: fc.constant("hostname" as const) })
)

/** Canonical portal texts. */
export const canonicalPortal = portalParts.map((p) =>
  p.family === "ipv6" ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`
)

const hex = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${min},${max}}$`))

/** An `iqn.` name id part: may contain `-lun-`, `-iscsi-`, `:` and dots. */
const iqnId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9.:_-]{1,40}$/),
  fc.tuple(
    fc.stringMatching(/^[a-z0-9]{1,8}$/),
    fc.constantFrom("-lun-", "-iscsi-", "-lun-0x", ":volume-", ".."),
    fc.stringMatching(/^[a-z0-9]{0,8}$/)
  )
    .map(([a, b, c]) => a + b + c)
)

/** Well-formed iSCSI names: iqn., eui. and naa. */
export const iqn = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(
      fc.integer({ min: 1990, max: 2099 }),
      fc.integer({ min: 1, max: 12 }),
      fc.array(label, { minLength: 1, maxLength: 4 }),
      fc.option(iqnId, { nil: undefined })
    ).map(([y, m, labels, id]) =>
      `iqn.${y}-${String(m).padStart(2, "0")}.${labels.join(".")}${id === undefined ? "" : `:${id}`}`
    )
  },
  { weight: 1, arbitrary: hex(16, 16).map((h) => `eui.${h.toUpperCase()}`) },
  { weight: 1, arbitrary: fc.oneof(hex(16, 16), hex(32, 32)).map((h) => `naa.${h}`) }
)

/** LUNs brick accepts. */
export const lun = fc.integer({ min: 0, max: 16383 })

/** The kernel's H:C:T:L LUN numbers brick can produce (flat space bit included). */
export const kernelLun = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0x7fff }))

/** PCI addresses (domain:bus:device.function), as sysfs writes them. */
export const pciAddress = fc.tuple(hex(4, 4), hex(2, 2), hex(2, 2), fc.integer({ min: 0, max: 7 }))
  .map(([d, b, s, f]) => `${d}:${b}:${s}.${f}`)

/** A CHAP secret: random text (no CR, LF or NUL: refused) with a marker no schema message can contain. */
export const secret = fc.string({ minLength: 1, maxLength: 40 }).map((s) => `Pw#${s.replace(/[\r\n\0]/g, "_")}#zQ9`)

/** A valid CHAP user name. */
export const chapUser = fc.stringMatching(/^[A-Za-z0-9_.@][A-Za-z0-9_.@-]{0,20}$/)

/** Valid Cinder `connection_info.data`, singular or plural, with or without CHAP. */
export const connectionData = fc.oneof(
  fc.record({ target_portal: canonicalPortal, target_iqn: iqn, target_lun: lun }),
  fc.integer({ min: 1, max: 4 }).chain((n) =>
    fc.record({
      target_portal: canonicalPortal,
      target_iqn: iqn,
      target_lun: lun,
      target_portals: fc.array(canonicalPortal, { minLength: n, maxLength: n }),
      target_iqns: fc.array(iqn, { minLength: n, maxLength: n }),
      target_luns: fc.array(lun, { minLength: n, maxLength: n })
    })
  )
).chain((base) =>
  fc.record({ user: chapUser, password: secret, chap: fc.boolean() }).map(({ chap, password, user }) =>
    chap ? { ...base, auth_method: "CHAP", auth_username: user, auth_password: password } : base
  )
)

/** Runs ConnectionInfo.decode to a Result. */
export const decodeInfo = (u: unknown): Result.Result<ConnectionInfo.ConnectionData, InvalidInput.InvalidInput> =>
  Effect.runSync(Effect.result(ConnectionInfo.decode(u)))

/** Decodes input that must be valid (throws otherwise). */
export const decodeValid = (u: unknown): ConnectionInfo.ConnectionData => {
  const r = decodeInfo(u)
  if (Result.isFailure(r)) throw new Error(`unexpected decode failure: ${r.failure.message}`)
  return r.success
}

/** The fields an InvalidInput names. */
export const fieldsOf = (r: Result.Result<unknown, InvalidInput.InvalidInput>): ReadonlyArray<string> =>
  Result.isFailure(r) ? r.failure.reason.issues.map((i) => i.field) : []
