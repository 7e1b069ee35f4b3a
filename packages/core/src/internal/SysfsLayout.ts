/**
 * Where the kernel keeps what brick needs, as pure path builders and link
 * parsers: session → host → target H:C:T → H:C:T:L → block/sdX → holders/dm-N.
 */
import * as Hctl from "../Hctl.ts"
import { type HostPath, make, under } from "../HostPath.ts"

/** /sys/class/iscsi_session: one `sessionN` entry per session. */
export const sessionsDir: HostPath = make("/sys/class/iscsi_session")
/** /sys/class/iscsi_transport: one entry per loaded transport. */
export const transportsDir: HostPath = make("/sys/class/iscsi_transport")
/** /sys/class/iscsi_host: one `hostH` entry per iSCSI SCSI host. */
export const iscsiHostsDir: HostPath = make("/sys/class/iscsi_host")
/** /dev/disk/by-path */
export const byPathDir: HostPath = make("/dev/disk/by-path")
const connectionsDir: HostPath = make("/sys/class/iscsi_connection")
const scsiHostsDir: HostPath = make("/sys/class/scsi_host")
const scsiDevicesDir: HostPath = make("/sys/class/scsi_device")
const blocksDir: HostPath = make("/sys/block")

/** The session's class directory (a link into the device tree). */
export const sessionDir = (sid: number): HostPath => under(sessionsDir, `session${sid}`)
/** A session attribute: targetname, tpgt, state, ifacename, recovery_tmo, … */
export const sessionFile = (sid: number, file: string): HostPath => under(sessionDir(sid), file)
/** The session's device directory: holds `connectionN:0` and `targetH:C:T`. */
export const sessionDeviceDir = (sid: number): HostPath => under(sessionDir(sid), "device")
/** A target directory under the session's device directory. */
export const sessionTargetDir = (sid: number, target: string): HostPath => under(sessionDeviceDir(sid), target)
/** The session's first connection: persistent_address, persistent_port. */
export const connectionFile = (sid: number, file: string): HostPath =>
  under(connectionsDir, `connection${sid}:0/${file}`)
/** An iSCSI host attribute: ipaddress, netdev, hwaddress, initiatorname. */
export const iscsiHostFile = (host: number, file: string): HostPath => under(iscsiHostDir(host), file)
/** The iSCSI host's class entry (a link whose text shows the PCI parent of offload HBAs). */
export const iscsiHostDir = (host: number): HostPath => under(iscsiHostsDir, `host${host}`)
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

/** `session12` → 12. */
export const parseSessionName = (name: string): number | undefined => {
  const m = /^session(\d+)$/.exec(name)
  return m ? Number(m[1]) : undefined
}

/** `target2:0:0` → {host: 2, channel: 0, target: 0}. */
export const parseTargetName = (name: string): { host: number; channel: number; target: number } | undefined => {
  const m = /^target(\d+):(\d+):(\d+)$/.exec(name)
  return m ? { host: Number(m[1]), channel: Number(m[2]), target: Number(m[3]) } : undefined
}

/** The SCSI host number in a session's class link (`…/host2/session1/iscsi_session/session1`). */
export const hostOfSessionLink = (link: string): number | undefined => {
  const m = /(?:^|\/)host(\d+)\/session\d+(?:\/|$)/.exec(link)
  return m ? Number(m[1]) : undefined
}

/** The last path segment of a link (`../../sdb` → `sdb`). */
export const linkBaseName = (link: string): string => link.slice(link.lastIndexOf("/") + 1)

/** The kernel name of a dm map's device (`dm-3`) and its `/dev` path. */
export const isDmName = (name: string): boolean => /^dm-\d+$/.test(name)
/** The kernel name of a SCSI disk (`sdb`). */
export const isSdName = (name: string): boolean => /^sd[a-z]+$/.test(name)
