/**
 * One path to a volume: a (portal, iqn, lun) triple. Cinder's single and
 * plural fields normalise to a list of these.
 */
import type { Lun } from "../Lun.ts"
import type { ConnectionData } from "./ConnectionInfo.ts"
import type { Iqn } from "./Iqn.ts"
import type { Portal } from "./Portal.ts"

/** One path to a volume. */
export interface TargetPath {
  readonly portal: Portal
  readonly iqn: Iqn
  readonly lun: Lun
}

/** A stable key for a path: `portal,iqn,lun`. */
export const key = (p: TargetPath): string => `${p.portal},${p.iqn},${p.lun}`

/**
 * The paths of a volume, in the order given, without duplicates.
 * With `multipath`, the plural lists are zipped (`target_iqns`/`target_luns`
 * default to the singular values); without, only the primary path is used
 * (`target_portal`/`target_iqn`/`target_lun` when all three are given, else
 * the first of the lists). Input must have passed
 * `ConnectionInfo.decode`, which guarantees the lists are consistent.
 */
export const fromConnectionData = (data: ConnectionData, multipath: boolean): ReadonlyArray<TargetPath> => {
  const portals = data.target_portals ?? (data.target_portal === undefined ? [] : [data.target_portal])
  const iqnAt = (i: number): Iqn => (data.target_iqns?.[i] ?? data.target_iqn)!
  const lunAt = (i: number): Lun => (data.target_luns?.[i] ?? data.target_lun)!
  // the singular triple only when complete: pairing target_portal with a list's LUN would invent a path
  const primary: TargetPath | undefined =
    data.target_portal !== undefined && data.target_iqn !== undefined && data.target_lun !== undefined
      ? { portal: data.target_portal, iqn: data.target_iqn, lun: data.target_lun }
      : portals.length > 0
      ? { portal: portals[0]!, iqn: iqnAt(0), lun: lunAt(0) }
      : undefined
  const all = multipath ? portals.map((portal, i): TargetPath => ({ portal, iqn: iqnAt(i), lun: lunAt(i) })) : []
  return dedupe(primary === undefined ? all : [primary, ...all])
}

/** Removes repeated paths, keeping the first of each. */
export const dedupe = (paths: ReadonlyArray<TargetPath>): ReadonlyArray<TargetPath> => {
  const seen = new Set<string>()
  return paths.filter((p) => {
    const k = key(p)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
