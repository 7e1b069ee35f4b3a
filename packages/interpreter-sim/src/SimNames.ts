/**
 * Names the kernel, udev and multipathd give things: sd disk names, by-path
 * and by-id link names, multipath map names, node-record keys.
 */
import { Portal, Wwn } from "@brick/core"

/** `sda`…`sdz`, `sdaa`… for a disk index, as the sd driver formats them. */
export const diskName = (index: number): string => {
  let s = ""
  let i = index
  do {
    s = String.fromCharCode(97 + (i % 26)) + s
    i = Math.floor(i / 26) - 1
  } while (i >= 0)
  return `sd${s}`
}

/** udev path_id's LUN suffix: `lun-N` below 256, else the 64-bit SCSI LUN in hex. */
export const lunSuffix = (kernelLun: number): string => {
  if (kernelLun < 256) return `lun-${kernelLun}`
  const hex4 = (n: number) => n.toString(16).padStart(4, "0")
  return `lun-0x${hex4(kernelLun & 0xffff)}${hex4(Math.floor(kernelLun / 0x10000) & 0xffff)}00000000`
}

/** The /dev/disk/by-path name of an iSCSI LUN (offload transports prefix their HBA's PCI address). */
export const byPathName = (portal: string, iqn: string, kernelLun: number, pciAddress?: string): string =>
  `${pciAddress === undefined ? "" : `pci-${pciAddress}-`}ip-${unbracketed(portal)}-iscsi-${iqn}-${
    lunSuffix(kernelLun)
  }`

/**
 * udev's path_id writes the connection's persistent_address, which has no
 * brackets: `[fe80::1]:3260` → `fe80::1:3260`.
 */
const unbracketed = (portal: string): string => portal.replace(/^\[([^\]]+)\](:\d+)$/, "$1$2")

/** multipath's name for a kernel wwid (`naa.X` → `3X`); with user_friendly_names no, also the map name. */
export const mpathName = (wwid: string): string => Wwn.fromSysfsWwid(wwid)

/** The by-id links udev makes from a disk's wwid (`wwn-0x…`, `scsi-3…`). */
export const byIdNames = (wwid: string): ReadonlyArray<string> => {
  const m = /^naa\.([0-9a-f]+)$/.exec(wwid)
  return m ? [`scsi-3${m[1]}`, `wwn-0x${m[1]}`] : [`scsi-${mpathName(wwid)}`]
}

/**
 * The by-id links udev makes from a LIO disk's vendor, model and unit serial
 * (they stay on the disk under multipath).
 */
export const bySerialNames = (model: string, serial: string): ReadonlyArray<string> => [
  `scsi-1LIO-ORG_${model.trim()}:${serial}`,
  `scsi-SLIO-ORG_${model.trim()}_${serial}`
]

/** The LIO unit serial a serial-based by-id link name carries. */
export const serialOfByIdName = (name: string): string | undefined =>
  /^scsi-1LIO-ORG_.*:([0-9a-f-]{36})$/.exec(name)?.[1] ?? /^scsi-SLIO-ORG_.*_([0-9a-f-]{36})$/.exec(name)?.[1]

/** The wwid LIO derives from a unit serial: `naa.6001405` + its first 25 hex digits. */
export const wwidOfSerial = (serial: string): string => `naa.6001405${serial.replaceAll("-", "").slice(0, 25)}`

/** The kernel wwid a by-id link name refers to, if it is one of `byIdNames`. */
export const wwidOfByIdName = (name: string): string | undefined => {
  const m = /^(?:scsi-3|wwn-0x)([0-9a-f]+)$/.exec(name)
  return m ? `naa.${m[1]}` : undefined
}

/** Key of a node record / session: (portal, iqn, iface). */
export const nodeKey = (portal: string, iqn: string, iface: string): string => `${portal}|${iqn}|${iface}`

/** Canonical `host:port` of a portal text (unchanged when not a portal). */
export const portal = (text: string): string => Portal.normalize(text)

/** The address part of a canonical portal (IPv6 without brackets) and its port. */
export const portalAddress = (
  p: string
): { readonly address: string; readonly port: number; readonly ipv6: boolean } => {
  const parts = Portal.parse(p)
  return parts === undefined
    ? { address: p, port: Portal.defaultPort, ipv6: false }
    : { address: parts.host, port: parts.port, ipv6: parts.family === "ipv6" }
}

/** Parses `<prefix><decimal>` exactly (at most 9 digits, no leading zeros), else undefined. */
export const numbered = (name: string, prefix: string): number | undefined => {
  if (!name.startsWith(prefix)) return undefined
  const digits = name.slice(prefix.length)
  return /^(?:0|[1-9]\d{0,8})$/.test(digits) ? Number(digits) : undefined
}

/** The kernel wwid of a multipath-form WWN (`3X` → `naa.X`, `2X` → `eui.X`, `1X` → `t10.X`). */
export const kernelWwid = (wwn: string): string => {
  const kinds: Readonly<Record<string, string>> = { "3": "naa.", "2": "eui.", "1": "t10." }
  const prefix = kinds[wwn.charAt(0)]
  return prefix === undefined ? wwn : `${prefix}${wwn.slice(1)}`
}
