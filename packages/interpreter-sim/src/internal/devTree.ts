/**
 * /dev of a simulated host: the device nodes (sd disks once devtmpfs or udev
 * made them, dm devices), udev's /dev/disk/by-path and /dev/disk/by-id
 * links, and device-mapper's /dev/mapper.
 */
import type { SimMap, SimScsiDevice } from "../SimModel.ts"
import * as SimMultipathd from "../SimMultipathd.ts"
import * as SimNames from "../SimNames.ts"
import * as SimScsi from "../SimScsi.ts"
import type { SimState } from "../SimState.ts"
import { dynamic, fixed, link, text, type VNode } from "../SimTree.ts"

const devNode = text("")
const diskLink = (d: SimScsiDevice): VNode => link(`/dev/${d.name}`)
const dmLink = (m: SimMap): VNode => link(`/dev/dm-${m.minor}`)

/** The by-id names udev has made: wwn/scsi links of each wwid, dm names and uuids, serial links of each disk. */
const byIdNames = (st: SimState): Array<string> => {
  const names: Array<string> = []
  const wwids = new Set([...st.pathsByWwid.keys(), ...Array.from(st.maps.values(), (m) => m.wwid)])
  for (const w of wwids) if (SimScsi.byIdTarget(st, w)) names.push(...SimNames.byIdNames(w))
  for (const m of st.maps.values()) names.push(`dm-name-${m.name}`, `dm-uuid-${m.uuid}`)
  const serials = new Set<string>()
  for (const d of st.disks.values()) {
    if (!d.udevDone || serials.has(d.serial)) continue
    serials.add(d.serial)
    names.push(...SimNames.bySerialNames(d.model, d.serial))
  }
  return names
}

/** Where a by-id link points now. */
const byIdLink = (st: SimState, name: string): VNode | undefined => {
  const m = /^dm-(?:name|uuid-mpath)-(.+)$/.exec(name)
  if (m) {
    const map = st.maps.get(m[1]!)
    return map ? dmLink(map) : undefined
  }
  const serial = SimNames.serialOfByIdName(name)
  if (serial !== undefined) {
    const d = SimScsi.bySerialTarget(st, SimNames.wwidOfSerial(serial), serial)
    return d && SimNames.bySerialNames(d.model, serial).includes(name) ? diskLink(d) : undefined
  }
  const wwid = SimNames.wwidOfByIdName(name)
  const t = wwid === undefined ? undefined : SimScsi.byIdTarget(st, wwid)
  if (t === undefined) return undefined
  return "minor" in t ? dmLink(t) : diskLink(t)
}

const disk = (st: SimState): VNode =>
  fixed({
    "by-path": dynamic(() => Array.from(st.byPath.keys()), (name) => {
      const d = SimScsi.byPathTarget(st, name)
      return d ? diskLink(d) : undefined
    }),
    "by-id": dynamic(() => byIdNames(st), (name) => byIdLink(st, name))
  })

const mapper = (st: SimState): VNode =>
  dynamic(() => ["control", ...st.maps.keys()], (name) => {
    if (name === "control") return devNode
    const m = st.maps.get(name)
    return m ? dmLink(m) : undefined
  })

/** /dev of `st`'s host. */
export const devTree = (st: SimState): VNode =>
  dynamic(
    () => [
      "disk",
      "mapper",
      ...Array.from(st.disks.values()).filter((d) => d.devNode).map((d) => d.name),
      ...Array.from(st.maps.values(), (m) => `dm-${m.minor}`)
    ],
    (name) => {
      if (name === "disk") return disk(st)
      if (name === "mapper") return mapper(st)
      if (st.disks.get(name)?.devNode) return devNode
      return SimMultipathd.mapNamed(st, name) ? devNode : undefined
    }
  )
