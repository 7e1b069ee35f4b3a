/**
 * A volume's SCSI identifier as multipath names it (os-brick's `scsi_wwn`):
 * the NAA/EUI/T10 designator with its type digit prefix, e.g. `36001405…`.
 */
import { Schema } from "effect"

/** A SCSI world-wide name in multipath's form. */
export const Wwn = Schema.String.check(Schema.isPattern(/^[0-9A-Za-z][0-9A-Za-z._: -]{1,254}$/)).pipe(
  Schema.brand("Wwn")
)
/** A SCSI world-wide name in multipath's form. */
export type Wwn = typeof Wwn.Type

/**
 * Converts the kernel's `device/wwid` (`naa.6001405…`, `eui.…`, `t10.…`) to
 * multipath's form (`36001405…`, `2…`, `1…`). Unknown forms pass through trimmed.
 */
export const fromSysfsWwid = (wwid: string): Wwn => {
  const w = wwid.trim()
  const prefixes: ReadonlyArray<readonly [string, string]> = [["naa.", "3"], ["eui.", "2"], ["t10.", "1"]]
  for (const [p, digit] of prefixes) {
    if (w.startsWith(p)) return `${digit}${w.slice(p.length)}` as Wwn
  }
  return w as Wwn
}

/** Brands a trusted string. */
export const unsafeMake = (s: string): Wwn => s as Wwn
