/**
 * The name of an open-iscsi iface record (`-I NAME`): letters, digits and
 * `._:-`, not starting with `-`, at most 64 characters.
 */
import { Schema } from "effect"

const pattern = /^[A-Za-z0-9_][A-Za-z0-9._:-]{0,63}$/

/** True when `s` is a safe iface name. */
export const isIfaceName = (s: string): boolean => pattern.test(s)

/** An iface record name. */
export const IfaceName = Schema.String.check(
  Schema.makeFilter<string>(
    (s) => isIfaceName(s) ? undefined : "an iface name: letters, digits, '._:-', not starting with '-', 1-64 chars",
    {
      identifier: "IfaceName"
    }
  )
).pipe(Schema.brand("IfaceName"))
/** An iface record name. */
export type IfaceName = typeof IfaceName.Type

/** open-iscsi's built-in software tcp iface. */
export const defaultIface = "default" as IfaceName
/** open-iscsi's built-in iSER iface. */
export const iserIface = "iser" as IfaceName

/** Brands a trusted string (throws if malformed). */
export const unsafeMake = (s: string): IfaceName => {
  if (!isIfaceName(s)) throw new Error(`not an iface name: ${JSON.stringify(s)}`)
  return s as IfaceName
}
