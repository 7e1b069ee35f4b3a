/**
 * The /dev/disk/by-path names udev gives iSCSI LUNs (systemd's path_id):
 * `ip-<address>:<port>-iscsi-<iqn>-lun-<L>`. `L` is the kernel's LUN.
 * path_id walks up from the disk: the session gives the `ip-…` part; then
 * the first PCI device above the SCSI host adds `pci-<domain:bus:dev.fn>-`
 * in front (an offload HBA's function; the devices above it are skipped),
 * while a software host (iscsi_tcp, iscsi_iser) sits under
 * /sys/devices/platform, which adds nothing.
 * path_id prints the connection's `persistent_address` as the kernel holds
 * it, so IPv6 addresses appear without brackets (`ip-fe80::1:3260-…`).
 */
import { type Iqn, isIqn } from "./Iqn.ts"
import { format as formatPortal, isIpv6, parse as parsePortal, parts as portalParts, type Portal } from "./Portal.ts"

/** The parts of a by-path name. */
export interface ByPathName {
  readonly pci: string | undefined
  readonly portal: Portal
  readonly iqn: Iqn
  readonly kernelLun: number
}

/** The directory of the links. */
export const directory = "/dev/disk/by-path"

const pciPattern = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/

/** True when `s` is a PCI address (`0000:03:00.1`: domain, bus, device, function). */
export const isPciAddress = (s: string): boolean => pciPattern.test(s)

/** path_id's LUN text: decimal below 256, else `0x` + 16 hex digits. */
export const lunText = (kernelLun: number): string =>
  kernelLun < 256
    ? String(kernelLun)
    : `0x${(kernelLun & 0xffff).toString(16).padStart(4, "0")}${
      ((kernelLun >>> 16) & 0xffff).toString(16).padStart(4, "0")
    }00000000`

const parseLunText = (s: string): number | undefined => {
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    return n < 256 ? n : undefined
  }
  const m = /^0x([0-9a-f]{4})([0-9a-f]{4})00000000$/.exec(s)
  if (!m) return undefined
  const n = parseInt(m[1]!, 16) + parseInt(m[2]!, 16) * 0x10000
  return n >= 256 ? n : undefined
}

/** path_id's `<address>:<port>` of a portal: the address as written, IPv6 without brackets. */
export const portalText = (portal: Portal): string => {
  const { host, port } = portalParts(portal)
  return `${host}:${port}`
}

/** The link name (not the whole path) of a LUN. */
export const name = (p: Pick<ByPathName, "pci" | "portal" | "iqn" | "kernelLun">): string =>
  `${p.pci === undefined ? "" : `pci-${p.pci}-`}ip-${portalText(p.portal)}-iscsi-${p.iqn}-lun-${lunText(p.kernelLun)}`

/** The whole /dev/disk/by-path path of a LUN. */
export const path = (p: Pick<ByPathName, "pci" | "portal" | "iqn" | "kernelLun">): string => `${directory}/${name(p)}`

const namePattern =
  /^(?:pci-([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])-)?ip-(.+?):(\d{1,5})-iscsi-(.+)-lun-(\d+|0x[0-9a-f]{16})$/

/** Parses a link name back into its parts; undefined when it is not an iSCSI by-path name. */
export const parse = (linkName: string): ByPathName | undefined => {
  const m = namePattern.exec(linkName)
  if (!m) return undefined
  const kernelLun = parseLunText(m[5]!)
  const portal = portalOfText(m[2]!, m[3]!)
  if (kernelLun === undefined || portal === undefined || !isIqn(m[4]!)) return undefined
  return { pci: m[1], portal, iqn: m[4] as Iqn, kernelLun }
}

/** The canonical portal of path_id's address and port (IPv6 comes unbracketed). */
const portalOfText = (address: string, port: string): Portal | undefined => {
  const v6 = isIpv6(address)
  const parts = parsePortal(v6 ? `[${address}]:${port}` : `${address}:${port}`)
  return parts === undefined || (parts.family === "ipv6") !== v6 ? undefined : formatPortal(parts) as Portal
}

/**
 * Whether a link name is the LUN's, whatever the offload HBA's PCI address:
 * what to match when the address is not known yet.
 */
export const matches = (
  linkName: string,
  p: Pick<ByPathName, "portal" | "iqn" | "kernelLun">,
  offload: boolean
): boolean => {
  const parsed = parse(linkName)
  return parsed !== undefined && parsed.portal === p.portal && parsed.iqn === p.iqn &&
    parsed.kernelLun === p.kernelLun && (offload ? parsed.pci !== undefined : parsed.pci === undefined)
}

/**
 * The PCI address of an offload HBA from its iscsi_host's sysfs link, e.g.
 * `../../devices/pci0000:00/0000:00:03.0/0000:03:00.1/host2/iscsi_host/host2`
 * → `0000:03:00.1`: the PCI device nearest above the SCSI host, the one
 * path_id names.
 */
export const pciAddressOfHost = (hostLink: string): string | undefined => {
  const segments = hostLink.split("/")
  const host = segments.findIndex((s) => /^host\d+$/.test(s))
  const above = host === -1 ? segments : segments.slice(0, host)
  return [...above].reverse().find(isPciAddress)
}
