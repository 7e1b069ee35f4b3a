/**
 * The storage side of a simulated host: targets, their portals and the LUNs
 * they export, with unit serials and WWNs made as LIO makes them.
 */
import type { SimLun, SimTarget } from "./SimModel.ts"
import * as SimNames from "./SimNames.ts"
import * as SimRandom from "./SimRandom.ts"
import * as SimScsiLun from "./SimScsiLun.ts"
import type { SimLunSpec, SimTargetSpec } from "./SimSpec.ts"
import type { SimState } from "./SimState.ts"

/** A LUN's unit serial as LIO makes it (a version-4 UUID), derived from seed, IQN, LUN and generation. */
const lunSerial = (seed: number, iqn: string, lun: number, generation: number): string => {
  const h = SimRandom.derivedHex(32, "serial", seed, iqn, lun, generation).split("")
  h[12] = "4"
  h[16] = "89ab"[parseInt(h[16]!, 16) & 3]!
  const x = h.join("")
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

/** Adds a target (replacing one with the same IQN). */
export const addTarget = (st: SimState, t: SimTargetSpec): SimTarget => {
  const target: SimTarget = {
    iqn: t.iqn,
    portals: new Map(),
    luns: new Map(),
    generations: new Map(),
    addressingMode: t.addressingMode ?? "SAM",
    chap: t.chap,
    discoveryChap: t.discoveryChap,
    reportAllPortals: t.reportAllPortals ?? true,
    system: t.system ?? "lio"
  }
  for (const p of t.portals) {
    const spec = typeof p === "string" ? { portal: p } : p
    target.portals.set(SimNames.portal(spec.portal), { tpgt: spec.tpgt ?? 1 })
  }
  st.targets.set(t.iqn, target)
  for (const l of t.luns) addLun(st, t.iqn, l)
  return target
}

/** Exports a LUN; a number used before gets a new WWN unless one is given. */
export const addLun = (st: SimState, iqn: string, l: SimLunSpec): SimLun => {
  const target = st.target(iqn)
  const generation = (target.generations.get(l.lun) ?? 0) + 1
  target.generations.set(l.lun, generation)
  const serial = l.serial ?? lunSerial(st.seed, iqn, l.lun, generation)
  const lun: SimLun = {
    number: l.lun,
    kernel: SimScsiLun.kernelLunOf(target.addressingMode, l.lun),
    serial,
    wwid: l.wwid ?? `naa.6001405${serial.replaceAll("-", "").slice(0, 25)}`,
    sizeBytes: l.sizeBytes ?? 1024 ** 3,
    exported: l.exported ?? true,
    writeProtected: l.writeProtected ?? false,
    model: l.model ?? "FILEIO"
  }
  target.luns.set(l.lun, lun)
  return lun
}

/** Stops exporting a LUN (existing SCSI devices stay until deleted). */
export const removeLun = (st: SimState, iqn: string, lun: number): void => {
  st.lun(iqn, lun)
  st.target(iqn).luns.delete(lun)
}

/** The target's LUN the kernel reaches with its LUN integer `kernel` (int_to_scsilun, decoded the target's way). */
export const addressedLun = (target: SimTarget, kernel: number): SimLun | undefined => {
  const n = SimScsiLun.addressedLun(target.addressingMode, SimScsiLun.intToScsilun(kernel))
  return n === undefined ? undefined : target.luns.get(n)
}

/** The targets served on `portal`, in the order they were added. */
export const targetsAt = (st: SimState, portal: string): ReadonlyArray<SimTarget> =>
  Array.from(st.targets.values()).filter((t) => t.portals.has(portal))
