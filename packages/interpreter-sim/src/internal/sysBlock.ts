/**
 * The sysfs directories of block devices on a simulated host: a SCSI disk's
 * (`…/block/sdX`) and a dm map's (`/sys/devices/virtual/block/dm-N`), with
 * the attributes every block device shows in the lab kernel (6.1) and
 * `holders`/`slaves` linking a map and its paths.
 */
import type { SimMap, SimScsiDevice } from "../SimModel.ts"
import type { SimState } from "../SimState.ts"
import { dynamic, empty, file, fixed, link, table, type TableChild, text } from "../SimTree.ts"
import { power, sectors } from "./sysCommon.ts"
import { blockDir, deviceDir, dmDir } from "./sysPaths.ts"

/** The `major:minor` of sd disk `index`, following sd's majors (then the extended major 259). */
const sdDev = (index: number): string => {
  const majors = [8, 65, 66, 67, 68, 69, 70, 71, 128, 129, 130, 131, 132, 133, 134, 135]
  return index < 256 ? `${majors[index >> 4]}:${(index & 15) * 16}` : `259:${index}`
}

/**
 * The attributes of a block device whose size is `sizeBytes(a)`, whose
 * `major:minor` (and bdi name) is `dev(a)` and which is read-only when `readOnly(a)`.
 */
const blockAttributes = <A>(
  sizeBytes: (a: A) => number,
  dev: (a: A) => string,
  readOnly: (a: A) => boolean
): Record<string, TableChild<A, SimState>> => ({
  alignment_offset: text("0"),
  bdi: (a) => link(`/sys/devices/virtual/bdi/${dev(a)}`),
  capability: text("0"),
  dev: (a) => text(dev(a)),
  discard_alignment: text("0"),
  diskseq: text("0"),
  events: text(""),
  events_async: text(""),
  events_poll_msecs: text("-1"),
  ext_range: text("256"),
  hidden: text("0"),
  inflight: text("       0        0"),
  integrity: empty,
  mq: empty,
  power,
  queue: fixed({ logical_block_size: text("512"), physical_block_size: text("512") }),
  range: text("0"),
  removable: text("0"),
  ro: (a) => file(() => (readOnly(a) ? "1" : "0")),
  size: (a) => file(() => sectors(sizeBytes(a))),
  stat: text("       0        0        0        0"),
  subsystem: link("/sys/class/block"),
  trace: empty,
  uevent: (a) => {
    const [major, minor] = dev(a).split(":")
    return text(`MAJOR=${major}\nMINOR=${minor}\nDEVTYPE=disk`)
  }
})

/** A SCSI disk's block directory; `holders` names its map. */
export const disk = table<SimScsiDevice, SimState>({
  ...blockAttributes((d) => d.sizeBytes, (d) => sdDev(d.diskIndex), (d) => d.readOnly),
  device: (d) => link(deviceDir(d)),
  holders: (d) => fixed(d.map ? { [`dm-${d.map.minor}`]: link(dmDir(d.map)) } : {}),
  slaves: empty
})

/** A dm map's block directory; `slaves` names its paths. */
export const dm = table<SimMap, SimState>({
  ...blockAttributes((m) => m.sizeBytes, (m) => `253:${m.minor}`, (m) => m.readOnly),
  dm: (m) =>
    fixed({
      name: file(() => m.name),
      rq_based_seq_io_merge_deadline: text("0"),
      suspended: text("0"),
      use_blk_mq: text("1"),
      uuid: file(() => m.uuid)
    }),
  holders: empty,
  slaves: (m, st) =>
    dynamic(
      () => Array.from(m.paths, (p) => p.name),
      (n) => {
        const d = st.disks.get(n)
        return d && d.map === m ? link(blockDir(d)) : undefined
      }
    )
})
