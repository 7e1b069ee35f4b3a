/**
 * An iSCSI host port as the kernel shows it: a SCSI host of an iSCSI
 * transport (/sys/class/iscsi_host/hostH) with its transport, hardware
 * address, IP addresses, network device and the PCI function it sits on.
 *
 * The transport is the SCSI host's `proc_name` (/sys/class/scsi_host/hostH)
 * without an `iscsi_` prefix, as open-iscsi reads it (`iscsi_tcp` → `tcp`,
 * `iscsi_iser` → `iser`, `qla4xxx`, `bnx2i`, `be2iscsi`, `cxgb4i` as they
 * are). What each driver shows: qla4xxx and be2iscsi a `hwaddress` and
 * kernel ifaces (/sys/class/iscsi_iface/ipv4-iface-H-N) holding the port's
 * IP; bnx2i and cxgb4i a `hwaddress`, the `netdev` they offload and, while
 * connected, the `ipaddress` in use; iscsi_tcp and iscsi_iser `(null)` for
 * `hwaddress` (and `netdev` unless bound to one).
 */
import { Option } from "effect"
import * as ByPath from "./ByPath.ts"
import { isOffload, isTransport } from "./Transport.ts"

/** One iSCSI host port. */
export interface IscsiHostPort {
  /** The SCSI host number (`hostH`). */
  readonly host: number
  /** open-iscsi's name of its transport (`tcp`, `iser`, `bnx2i`, …). */
  readonly transport: string
  /** Its hardware address (lower case); none for software hosts. */
  readonly hwaddress: Option.Option<string>
  /** The IP addresses it shows (the host's `ipaddress`, its kernel ifaces'). */
  readonly ipaddresses: ReadonlyArray<string>
  /** The network device it is tied to (`netdev`). */
  readonly netdev: Option.Option<string>
  /** The PCI function it sits on (`0000:03:00.1`): udev's `pci-…-` by-path prefix. */
  readonly pciAddress: Option.Option<string>
}

/** open-iscsi's transport name of a SCSI host's `proc_name`. */
export const transportOfProcName = (procName: string): string => {
  const name = procName.trim()
  return name.startsWith("iscsi_") ? name.slice("iscsi_".length) : name
}

/** Whether a port is an offload HBA's (its transport is an offload one brick supports). */
export const isOffloadPort = (port: IscsiHostPort): boolean => isTransport(port.transport) && isOffload(port.transport)

const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/

/** A sysfs value as a value: none for absent, empty, `(null)`, an all-zero MAC or an unset IP. */
export const sysfsValue = (text: Option.Option<string>): Option.Option<string> =>
  Option.flatMap(text, (t) => {
    const v = t.trim()
    return v === "" || v === "(null)" || v === "00:00:00:00:00:00" || v === "0.0.0.0" || v === "::"
      ? Option.none()
      : Option.some(v)
  })

/** A hardware address as brick compares them (lower case); none when it is not a MAC. */
export const hwaddressOf = (text: Option.Option<string>): Option.Option<string> =>
  Option.filter(Option.map(sysfsValue(text), (v) => v.toLowerCase()), (v) => macPattern.test(v))

/** The PCI function of a host from its /sys/class/iscsi_host link (udev's path_id prefix). */
export const pciAddressOfLink = (link: Option.Option<string>): Option.Option<string> =>
  Option.flatMap(link, (l) => Option.fromUndefinedOr(ByPath.pciAddressOfHost(l)))

/** Whether two hardware addresses are the same (case does not matter). */
export const sameHwaddress = (a: string | undefined, b: Option.Option<string>): boolean =>
  a !== undefined && Option.isSome(b) && a.toLowerCase() === b.value.toLowerCase()
