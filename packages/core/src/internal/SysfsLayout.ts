/**
 * Where the kernel keeps a SCSI device and what holds it, as pure path
 * builders and name parsers: SCSI host → target H:C:T → device H:C:T:L →
 * block/sdX → holders/dm-N, and udev's /dev/disk/by-path links. Nothing here
 * is tied to a transport (iSCSI's own paths: iscsi/IscsiLayout.ts).
 */
import * as Hctl from "../Hctl.ts"
import { type HostPath, make, under } from "../HostPath.ts"

/** /dev/disk/by-path */
export const byPathDir: HostPath = make("/dev/disk/by-path")
/** /dev/mapper: one link per device-mapper map, named after the map. */
export const mapperDir: HostPath = make("/dev/mapper")
const scsiHostsDir: HostPath = make("/sys/class/scsi_host")
const scsiDevicesDir: HostPath = make("/sys/class/scsi_device")
/** /sys/block: one directory per block device, dm maps included. */
export const blocksDir: HostPath = make("/sys/block")

/** A SCSI host attribute (`proc_name`: its driver). */
export const scsiHostFile = (host: number, file: string): HostPath => under(scsiHostsDir, `host${host}/${file}`)
/** /sys/devices/platform: where the kernel puts SCSI hosts that have no parent device (software ones). */
export const platformDevicesDir: HostPath = make("/sys/devices/platform")
/** The SCSI host's scan file: write `C T L`. */
export const hostScanFile = (host: number): HostPath => under(scsiHostsDir, `host${host}/scan`)
/** A SCSI device's directory: wwid, vendor, state, delete, rescan, block/. */
export const scsiDeviceDir = (a: Hctl.Hctl): HostPath => under(scsiDevicesDir, `${Hctl.format(a)}/device`)
/** A SCSI device attribute. */
export const scsiDeviceFile = (a: Hctl.Hctl, file: string): HostPath => under(scsiDeviceDir(a), file)
/** A block device's directory (`sdb`, `dm-0`). */
export const blockDir = (name: string): HostPath => under(blocksDir, name)
/** A block device attribute (size, holders, slaves, dm/name, dm/uuid, device/delete…). */
export const blockFile = (name: string, file: string): HostPath => under(blockDir(name), file)

/** The text to write to a host's scan file; `undefined` channel/target scan all (`-`). */
export const scanLine = (channel: number | undefined, target: number | undefined, lun: number): string =>
  `${channel ?? "-"} ${target ?? "-"} ${lun}`

/** `target2:0:0` → {host: 2, channel: 0, target: 0}. */
export const parseTargetName = (name: string): { host: number; channel: number; target: number } | undefined => {
  const m = /^target(\d+):(\d+):(\d+)$/.exec(name)
  return m ? { host: Number(m[1]), channel: Number(m[2]), target: Number(m[3]) } : undefined
}

/** The last path segment of a link (`../../sdb` → `sdb`). */
export const linkBaseName = (link: string): string => link.slice(link.lastIndexOf("/") + 1)

/** The kernel name of a dm map's device (`dm-3`). */
export const isDmName = (name: string): boolean => /^dm-\d+$/.test(name)
/** The kernel name of a SCSI disk (`sdb`). */
export const isSdName = (name: string): boolean => /^sd[a-z]+$/.test(name)
