/**
 * Canonical sysfs directories of the simulated kernel's objects: software
 * hosts under /sys/devices/platform, offload HBAs' hosts under their PCI
 * function behind its bridge (with their kernel ifaces), sessions and
 * targets under their host, dm devices under virtual.
 */
import type { SimHba, SimMap, SimScsiDevice, SimScsiHost, SimSession } from "../SimModel.ts"

/** Canonical sysfs directory of an HBA's PCI function (behind its bridge). */
export const pciDir = (hba: SimHba): string => `/sys/devices/pci0000:00/${hba.bridge}/${hba.pciAddress}`

/** Canonical sysfs directory of a SCSI host. */
export const hostDir = (h: SimScsiHost): string =>
  h.hba ? `${pciDir(h.hba)}/host${h.no}` : `/sys/devices/platform/host${h.no}`

/** Canonical sysfs directory of a kernel iface (qla4xxx, be2iscsi: `ipv4-iface-H-N`). */
export const kernelIfaceDir = (h: SimScsiHost, name: string): string => `${hostDir(h)}/iscsi_iface/${name}`

/** Canonical sysfs directory of a session's device. */
export const sessionDir = (s: SimSession): string => `${hostDir(s.host)}/session${s.sid}`

/** Canonical sysfs directory of a session's connection. */
export const connectionDir = (s: SimSession): string => `${sessionDir(s)}/connection${s.sid}:0`

/** Canonical sysfs directory of a session's SCSI target. */
export const targetDir = (s: SimSession): string => `${sessionDir(s)}/target${s.host.no}:0:${s.targetId}`

/** Canonical sysfs directory of a SCSI device. */
export const deviceDir = (d: SimScsiDevice): string => `${targetDir(d.session)}/${d.hctl}`

/** Canonical sysfs directory of a disk's block device. */
export const blockDir = (d: SimScsiDevice): string => `${deviceDir(d)}/block/${d.name}`

/** Canonical sysfs directory of a dm device. */
export const dmDir = (m: SimMap): string => `/sys/devices/virtual/block/dm-${m.minor}`
