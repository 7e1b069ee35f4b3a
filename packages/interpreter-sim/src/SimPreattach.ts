/**
 * Fills a simulated host with other volumes already attached (targets,
 * node records, sessions, disks with their links, and maps), instantly, so
 * benchmarks can compare a near-empty host with a crowded one.
 */
import * as SimMultipathd from "./SimMultipathd.ts"
import * as SimNames from "./SimNames.ts"
import * as SimNodeDb from "./SimNodeDb.ts"
import * as SimScsi from "./SimScsi.ts"
import * as SimSessions from "./SimSessions.ts"
import type { SimState } from "./SimState.ts"
import * as SimStorage from "./SimStorage.ts"

/** What to pre-attach. */
export interface PreattachOptions {
  /** One map per volume over all its paths (default false). */
  readonly multipath?: boolean
  /** Portals every pre-attached target is served on (default one; two with multipath). */
  readonly portals?: ReadonlyArray<string>
  /** IQN prefix; volume i gets `<prefix><i>` (default `iqn.2010-10.org.openstack:other-`). */
  readonly iqnPrefix?: string
  readonly sizeBytes?: number
  /** The LUN number each target exports (default 1). */
  readonly lun?: number
}

/** A pre-attached volume. */
export interface PreattachedVolume {
  readonly iqn: string
  readonly lun: number
  readonly portals: ReadonlyArray<string>
  readonly wwid: string
  readonly devices: ReadonlyArray<string>
  readonly map: string | undefined
}

/** Attaches `count` other volumes at once (no time passes, no operation is counted). */
export const preattach = (
  st: SimState,
  count: number,
  options: PreattachOptions = {}
): ReadonlyArray<PreattachedVolume> => {
  const multipath = options.multipath ?? false
  const portals = (options.portals ?? (multipath ? ["10.99.0.1:3260", "10.99.0.2:3260"] : ["10.99.0.1:3260"])).map(
    SimNames.portal
  )
  const prefix = options.iqnPrefix ?? "iqn.2010-10.org.openstack:other-"
  const lunNumber = options.lun ?? 1
  const iface = st.ifaces.get("default")!
  const out: Array<PreattachedVolume> = []
  let index = 0
  while (out.length < count) {
    const iqn = `${prefix}${index++}`
    if (st.targets.has(iqn)) continue
    const target = SimStorage.addTarget(st, {
      iqn,
      portals,
      luns: [{ lun: lunNumber, ...(options.sizeBytes === undefined ? {} : { sizeBytes: options.sizeBytes }) }]
    })
    const lun = target.luns.get(lunNumber)!
    const devices = portals.map((portal) => {
      const node = SimNodeDb.makeNode(st, portal, iqn, iface.name)
      node.settings.scan = "manual"
      st.nodes.set(node.key, node)
      const session = SimSessions.createSession(st, node, iface, target.portals.get(portal)!.tpgt)
      return SimScsi.addDevice(st, session, lun, true)
    })
    const map = multipath ? SimMultipathd.createMap(st, lun.wwid, devices) : undefined
    out.push({ iqn, lun: lunNumber, portals, wwid: lun.wwid, devices: devices.map((d) => d.name), map: map?.name })
  }
  return out
}
