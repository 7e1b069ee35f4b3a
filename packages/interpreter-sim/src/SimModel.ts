/**
 * The records a simulated host is made of: targets and LUNs on the storage
 * side; ifaces, node records, sessions, SCSI hosts and devices, and
 * device-mapper maps on the initiator side. Mutable, owned by `SimState`.
 */
import type { Iscsiadm } from "@brick/core"
import type { TargetAddressing } from "./SimScsiLun.ts"
import type { SimChap, SimNetworkState } from "./SimSpec.ts"

/** A LUN as the target exports it. */
export interface SimLun {
  readonly number: number
  /** The number the kernel uses in H:C:T:L (after the target's addressing mode). */
  readonly kernel: number
  readonly serial: string
  wwid: string
  sizeBytes: number
  exported: boolean
  /** The target exports it write-protected (the WP bit of MODE SENSE): disks read it at scan and rescan. */
  writeProtected: boolean
  readonly model: string
}

/** An iSCSI target. */
export interface SimTarget {
  readonly iqn: string
  readonly portals: Map<string, { readonly tpgt: number }>
  readonly luns: Map<number, SimLun>
  /** How many LUNs each number has had (a re-added LUN gets a new WWN). */
  readonly generations: Map<number, number>
  readonly addressingMode: TargetAddressing
  chap: SimChap | undefined
  discoveryChap: { readonly username: string; readonly password: string } | undefined
  reportAllPortals: boolean
  readonly system: string
}

/** A portal's network behaviour. */
export interface SimNet {
  readonly state: SimNetworkState
  readonly p: number
  readonly latencyMs: number
  readonly fast: boolean
}

/** An iface record (built-in `default`/`iser`, offload ones per HBA, or custom). */
export interface SimIface {
  readonly name: string
  readonly transport: string
  readonly hwaddress: string | undefined
  readonly ipaddress: string | undefined
  readonly netIfacename: string | undefined
  readonly initiatorName: string | undefined
  readonly builtin: boolean
}

/** An offload HBA. */
export interface SimHba {
  readonly transport: string
  readonly hwaddress: string
  readonly pciAddress: string
  /** The PCI bridge it sits behind (under pci0000:00). */
  readonly bridge: string
  readonly ipaddress: string
  readonly netdev: string | undefined
  /** Its SCSI host while its driver is loaded. */
  host: SimScsiHost | undefined
  nextTargetId: number
}

/** A node record's settings. */
export interface SimNodeSettings {
  startup: "manual" | "automatic"
  scan: "manual" | "auto"
  auth: Iscsiadm.ChapCredentials | undefined
  loginTimeout: number
  loginRetryMax: number
}

/** A node record of iscsid's database. */
export interface SimNode {
  readonly key: string
  readonly portal: string
  readonly iqn: string
  readonly iface: string
  readonly settings: SimNodeSettings
}

/** A SCSI host: one per session for software transports, one per HBA for offload ones. */
export interface SimScsiHost {
  readonly no: number
  readonly kind: "software" | "offload"
  /** `tcp`, `iser` or the offload driver. */
  readonly transport: string
  readonly sessions: Map<number, SimSession>
  readonly hba: SimHba | undefined
  readonly ipaddress: string
  readonly hwaddress: string
  readonly netdev: string
  readonly initiatorName: string
}

/** The kernel session states the sim uses. */
export type SimSessionState = "LOGGED_IN" | "FAILED"

/** An iSCSI session (with its one connection). */
export interface SimSession {
  readonly sid: number
  readonly key: string
  readonly host: SimScsiHost
  readonly targetId: number
  readonly iface: string
  readonly portal: string
  readonly iqn: string
  readonly tpgt: number
  state: SimSessionState
  failedAt: number
  recoveryTmo: number
  readonly initiatorName: string
  /** CHAP settings the session logged in with (the kernel shows them in sysfs, secrets included). */
  readonly username: string | undefined
  readonly password: string | undefined
  readonly usernameIn: string | undefined
  readonly passwordIn: string | undefined
  /** A scan ran on the session (sysfs target_state SCANNED, else ALLOCATED). */
  scanned: boolean
  /** By kernel LUN. */
  readonly devices: Map<number, SimScsiDevice>
}

/** A SCSI disk (H:C:T:L with its sdX block device). */
export interface SimScsiDevice {
  readonly hctl: string
  readonly lun: number
  readonly session: SimSession
  wwid: string
  serial: string
  sizeBytes: number
  readonly model: string
  readonly diskIndex: number
  readonly name: string
  readonly byPath: string
  /** /dev/sdX exists. */
  devNode: boolean
  /** udev has run its rules (by-path/by-id links exist, multipathd heard of it). */
  udevDone: boolean
  map: SimMap | undefined
  removed: boolean
  /** sysfs `ro`: the LUN was write-protected when the disk last read it (scan, rescan). */
  readOnly: boolean
}

/** A device-mapper multipath map. */
export interface SimMap {
  readonly minor: number
  readonly name: string
  readonly uuid: string
  readonly wwid: string
  readonly paths: Set<SimScsiDevice>
  sizeBytes: number
  /** Held open by someone: flush fails with InUse. */
  open: boolean
  /** sysfs `ro`: a path was read-only when the table was last loaded. */
  readOnly: boolean
}
