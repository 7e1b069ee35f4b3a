/**
 * An iSCSI qualified name (RFC 3720 §3.2.6): `iqn.YYYY-MM.reversed.domain[:id]`,
 * or the `eui.` (16 hex digits) and `naa.` (16 or 32 hex digits) formats.
 */
import { Schema } from "effect"

/** One label of the reversed domain name. */
const label = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
const iqnPattern = new RegExp(`^iqn\\.\\d{4}-(0[1-9]|1[0-2])\\.${label}(?:\\.${label})*(?::[A-Za-z0-9.:_-]+)?$`)
const euiPattern = /^eui\.[0-9A-Fa-f]{16}$/
const naaPattern = /^naa\.(?:[0-9A-Fa-f]{16}|[0-9A-Fa-f]{32})$/

/** True when `s` is a well-formed iSCSI name of 223 bytes at most. */
export const isIqn = (s: string): boolean =>
  s.length <= 223 && (iqnPattern.test(s) || euiPattern.test(s) || naaPattern.test(s))

/** An iSCSI name (iqn., eui. or naa.). */
export const Iqn = Schema.String.check(
  Schema.makeFilter<string>(
    (s) => isIqn(s) ? undefined : "an iSCSI name: iqn.YYYY-MM.domain[:id], eui.<16 hex> or naa.<16|32 hex>",
    {
      identifier: "Iqn"
    }
  )
).pipe(Schema.brand("Iqn"))
/** An iSCSI name (iqn., eui. or naa.). */
export type Iqn = typeof Iqn.Type

/** Brands a trusted string (throws if malformed: for tests and simulators). */
export const unsafeMake = (s: string): Iqn => {
  if (!isIqn(s)) throw new Error(`not an iSCSI name: ${JSON.stringify(s)}`)
  return s as Iqn
}
