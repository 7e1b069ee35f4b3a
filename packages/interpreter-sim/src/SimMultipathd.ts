/**
 * multipathd and device-mapper on a simulated host: a path's uevent puts it
 * in its WWID's map after multipathd's delay (when find_multipaths lets
 * multipathd multipath it), maps are created over every known path of their
 * WWID (named by WWN, or `mpathN` from the bindings with user_friendly_names;
 * the WWN goes to the wwids file), and flushed.
 */
import type { SimMap, SimScsiDevice } from "./SimModel.ts"
import * as SimNames from "./SimNames.ts"
import type { SimState } from "./SimState.ts"

/**
 * Whether multipathd would multipath this kernel wwid on its own: always
 * under `no` / `greedy`; a WWN in the wwids file under `strict`; that, or a
 * second usable path of the wwid, under `yes` / `smart`.
 */
export const mpathAllowed = (st: SimState, wwid: string): boolean => {
  const mode = st.multipathd.findMultipaths
  if (mode === "no" || mode === "greedy" || st.multipathd.wwids.has(SimNames.mpathName(wwid))) return true
  if (mode === "strict") return false
  return Array.from(st.pathsByWwid.get(wwid) ?? []).filter((d) => d.udevDone && !d.removed).length >= 2
}

/** The map of a kernel wwid, whatever its name. */
export const mapOfWwid = (st: SimState, wwid: string): SimMap | undefined =>
  Array.from(st.maps.values()).find((m) => m.wwid === wwid)

/** The name a new map of `wwn` gets: the WWN, or its binding (the first free `mpathN` made for it). */
const nameFor = (st: SimState, wwn: string): string => {
  const m = st.multipathd
  if (!m.userFriendlyNames) return wwn
  const bound = m.bindings.get(wwn)
  if (bound !== undefined) return bound
  const taken = new Set(m.bindings.values())
  let i = 0
  while (taken.has(friendlyName(i))) i++
  m.bindings.set(wwn, friendlyName(i))
  return friendlyName(i)
}

/** multipath's friendly names: mpatha … mpathz, mpathaa … */
const friendlyName = (i: number): string => {
  let suffix = ""
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) suffix = String.fromCharCode(97 + ((n - 1) % 26)) + suffix
  return `mpath${suffix}`
}

/** The map whose dm device is named `name` (`dm-<minor>`). */
export const mapNamed = (st: SimState, name: string): SimMap | undefined => {
  const minor = SimNames.numbered(name, "dm-")
  return minor === undefined ? undefined : Array.from(st.maps.values()).find((m) => m.minor === minor)
}

/** multipathd hears a path's uevent: after its delay it puts the path in a map. */
export const uevent = (st: SimState, dev: SimScsiDevice): void => {
  const m = st.multipathd
  if (!m.running || m.mode === "never" || !mpathAllowed(st, dev.wwid)) return
  st.schedule.after(m.mapDelayMs + (m.mode === "late" ? m.lateMs : 0), () => {
    if (!dev.removed && !dev.map && st.multipathd.running) adoptPath(st, dev)
  })
}

/** Puts a path in its WWID's map, creating the map (with every known path of that WWID) if needed. */
export const adoptPath = (st: SimState, dev: SimScsiDevice): SimMap => {
  const existing = mapOfWwid(st, dev.wwid)
  if (existing) {
    addPathToMap(existing, dev)
    return existing
  }
  const others = Array.from(st.pathsByWwid.get(dev.wwid) ?? []).filter((d) => d !== dev && d.udevDone && !d.map)
  return createMap(st, dev.wwid, [dev, ...others])
}

/** Creates a map for `wwid` over `paths`. */
export const createMap = (st: SimState, wwid: string, paths: ReadonlyArray<SimScsiDevice>): SimMap => {
  const wwn = SimNames.mpathName(wwid)
  const name = nameFor(st, wwn)
  st.multipathd.wwids.add(wwn)
  const map: SimMap = {
    minor: st.dmMinors.alloc(),
    name,
    uuid: `mpath-${wwn}`,
    wwid,
    paths: new Set(),
    sizeBytes: paths[0]?.sizeBytes ?? 0,
    open: false,
    readOnly: false
  }
  st.maps.set(name, map)
  for (const p of paths) addPathToMap(map, p)
  return map
}

/** Adds a path to a map (multipathd also shortens its session's recovery timeout to 5 s). */
export const addPathToMap = (map: SimMap, dev: SimScsiDevice): void => {
  if (dev.map === map) return
  dropPath(dev)
  map.paths.add(dev)
  dev.map = map
  dev.session.recoveryTmo = 5
  reload(map)
}

/** Takes a path out of its map, if it is in one. */
export const dropPath = (dev: SimScsiDevice): void => {
  const map = dev.map
  if (!map) return
  map.paths.delete(dev)
  dev.map = undefined
  reload(map)
}

/**
 * Loads a map's table again from its paths, as multipathd does when its paths
 * change or it is asked to: device-mapper loads it read-only when a path is.
 */
export const reload = (map: SimMap): void => {
  map.readOnly = Array.from(map.paths).some((p) => p.readOnly)
}

/** Removes a map; its paths stay as plain disks. */
export const flushMap = (st: SimState, map: SimMap): void => {
  st.maps.delete(map.name)
  st.dmMinors.release(map.minor)
  for (const p of map.paths) p.map = undefined
  map.paths.clear()
}

/** Starts or stops multipathd; on start it adopts every path it is allowed to. */
export const setRunning = (st: SimState, running: boolean): void => {
  const was = st.multipathd.running
  st.multipathd.running = running
  if (running && !was) { for (const d of st.disks.values()) if (d.udevDone && !d.map) uevent(st, d) }
}
