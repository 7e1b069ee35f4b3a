/**
 * Where the kernel keeps iSCSI sessions, their connections and iSCSI hosts,
 * as pure path builders and parsers: session → (connection, SCSI host,
 * targets). The SCSI devices under a session: SysfsLayout.ts.
 */
import * as Hctl from "../../Hctl.ts"
import { type HostPath, make, under } from "../../HostPath.ts"

/** /sys/class/iscsi_session: one `sessionN` entry per session. */
export const sessionsDir: HostPath = make("/sys/class/iscsi_session")
/** /sys/class/iscsi_transport: one entry per loaded transport. */
export const transportsDir: HostPath = make("/sys/class/iscsi_transport")
/** /sys/class/iscsi_host: one `hostH` entry per iSCSI SCSI host. */
export const iscsiHostsDir: HostPath = make("/sys/class/iscsi_host")
/** /sys/class/iscsi_iface: the kernel ifaces of qla4xxx/be2iscsi ports (`ipv4-iface-H-N`). */
export const kernelIfacesDir: HostPath = make("/sys/class/iscsi_iface")
/** /sys/class/infiniband: RDMA devices (iSER needs one). */
export const rdmaDevicesDir: HostPath = make("/sys/class/infiniband")
/** /sys/class/net: network interfaces. */
export const netDevicesDir: HostPath = make("/sys/class/net")
const connectionsDir: HostPath = make("/sys/class/iscsi_connection")

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

/** A kernel iface's attribute (`ipaddress`). */
export const kernelIfaceFile = (name: string, file: string): HostPath => under(kernelIfacesDir, `${name}/${file}`)
/** A network interface's attribute (`address`: its hardware address). */
export const netDeviceFile = (name: string, file: string): HostPath => under(netDevicesDir, `${name}/${file}`)

/** `host12` → 12. */
export const parseHostName = (name: string): number | undefined => {
  const m = /^host(\d+)$/.exec(name)
  return m ? Number(m[1]) : undefined
}

/** The SCSI host of a kernel iface (`ipv4-iface-2-0` → 2). */
export const hostOfKernelIface = (name: string): number | undefined => {
  const m = /^ipv[46]-iface-(\d+)-\d+$/.exec(name)
  return m ? Number(m[1]) : undefined
}

/** `session12` → 12. */
export const parseSessionName = (name: string): number | undefined => {
  const m = /^session(\d+)$/.exec(name)
  return m ? Number(m[1]) : undefined
}

/** The SCSI host number in a session's class link (`…/host2/session1/iscsi_session/session1`). */
export const hostOfSessionLink = (link: string): number | undefined => {
  const m = /(?:^|\/)host(\d+)\/session\d+(?:\/|$)/.exec(link)
  return m ? Number(m[1]) : undefined
}

/**
 * The session and SCSI address in a block device's link into the device
 * tree: `…/session2/target3:0:0/3:0:0:1/block/sdc` → session 2 and 3:0:0:1.
 */
export const parseBlockLink = (link: string): { sid: number; hctl: Hctl.Hctl } | undefined => {
  const m = /(?:^|\/)session(\d+)\/target\d+:\d+:\d+\/(\d+:\d+:\d+:\d+)\/block\//.exec(link)
  const hctl = m ? Hctl.parse(m[2]!) : undefined
  return m && hctl ? { sid: Number(m[1]), hctl } : undefined
}
