/**
 * The scenario a simulated host starts from: targets and their LUNs, the
 * network, the initiator's transports/HBAs/ifaces, udev and multipathd
 * behaviour, node defaults and the per-operation latency profile. Plain data:
 * every field but `targets` is optional.
 */
import type { TargetAddressing } from "./SimScsiLun.ts"

/** CHAP credentials a target demands (mutual: the target's own to prove itself). */
export interface SimChap {
  readonly username: string
  readonly password: string
  readonly mutual?: { readonly username: string; readonly password: string }
}

/** One LUN a target exports. */
export interface SimLunSpec {
  readonly lun: number
  /** Bytes; default 1 GiB. */
  readonly sizeBytes?: number
  /** LIO's unit serial (a UUID); default derived from the seed, IQN, LUN and its generation. */
  readonly serial?: string
  /** Kernel form `naa.6001405` + 25 hex digits; default, as LIO does, from the serial's first 25 hex digits. */
  readonly wwid?: string
  /** Default true. */
  readonly exported?: boolean
  /** Exported write-protected; default false. */
  readonly writeProtected?: boolean
  /** SCSI product id; default `FILEIO`. */
  readonly model?: string
}

/** A portal of a target, with its target portal group tag. */
export interface SimPortalSpec {
  readonly portal: string
  readonly tpgt?: number
}

/** An iSCSI target. */
export interface SimTargetSpec {
  readonly iqn: string
  /** `host[:port]` strings (canonicalised) or objects with a tpgt (default 1). */
  readonly portals: ReadonlyArray<string | SimPortalSpec>
  readonly luns: ReadonlyArray<SimLunSpec>
  readonly chap?: SimChap
  readonly discoveryChap?: { readonly username: string; readonly password: string }
  /** Sendtargets reports every portal of the target (default) or only the one asked. */
  readonly reportAllPortals?: boolean
  /**
   * The storage system serving the target (default `lio`). Like LIO, a
   * SendTargets discovery on any portal of a system reports every target of
   * that system (the lab: discovery on 10.99.0.3 listed the targets of 10.99.0.1/2 too).
   */
  readonly system?: string
  /**
   * How the target encodes LUN numbers in REPORT LUNS and reads the LUN it
   * is addressed with (SimScsiLun): default `SAM`, LIO's way (the kernel
   * sees them as given); `SAM2`/`SAM3-flat` use flat space addressing.
   */
  readonly addressingMode?: TargetAddressing
}

/** How a portal's network behaves. */
export type SimNetworkState =
  | "up"
  /**
   * Connection refused. As measured in the lab, iscsid keeps retrying: a login
   * fails after login timeout × retries (exit 8), a discovery after its 5
   * reopens (~5 s, exit 11); with `fast: true` both fail at once.
   */
  | "refusing"
  /** Packets dropped: logins hang until login timeout × retries, then time out. */
  | "blackholed"
  /**
   * The target's listener is gone (LIO's network portal deleted): new connections
   * are refused as by `refusing`; sessions already logged in through the portal
   * stay LOGGED_IN and keep doing I/O (measured in the lab).
   */
  | "listenerGone"
  /** Each login/discovery fails with probability `p` (seeded). */
  | "flaky"

/** A portal's network: state plus extra latency per login/discovery. */
export interface SimNetwork {
  readonly state: SimNetworkState
  /** Failure probability for `flaky` (default 0.5). */
  readonly p?: number
  /** Milliseconds added to every login and discovery through this portal. */
  readonly latencyMs?: number
  /** `refusing` fails at once instead of after iscsid's retries. */
  readonly fast?: boolean
}

/** An offload iSCSI HBA (its driver module must also be in `transports`). */
export interface SimHbaSpec {
  readonly transport: "be2iscsi" | "bnx2i" | "cxgb3i" | "cxgb4i" | "qla4xxx" | "ocs"
  readonly hwaddress: string
  /** PCI address of its function, e.g. `0000:03:00.1`. */
  readonly pciAddress: string
  /** The PCI bridge (root port) it sits behind, under pci0000:00; default `0000:00:1c.0`. */
  readonly bridge?: string
  /** The port's IP address (qla4xxx/be2iscsi: its kernel iface's; bnx2i/cxgbi: the one in use). */
  readonly ipaddress?: string
  /** The network device it offloads (bnx2i, cxgbi show it; qla4xxx/be2iscsi have none). */
  readonly netdev?: string
}

/**
 * A network interface's addresses. Defaults: a locally administered MAC
 * derived from its name (none for `lo`); `lo` carries 127.0.0.1 and ::1, the
 * first other interface the host's `localAddress`es, the rest none.
 */
export interface SimNetdevSpec {
  readonly hwaddress?: string
  readonly addresses?: ReadonlyArray<string>
}

/** A custom iface record that already exists. */
export interface SimIfaceSpec {
  readonly name: string
  readonly transport: string
  readonly hwaddress?: string
  readonly ipaddress?: string
  readonly netIfacename?: string
  readonly initiatorName?: string
}

/** udev: how long after a device appears its /dev links do. */
export interface SimUdevSpec {
  readonly delayMs?: number
  /** `late` adds `lateMs`; `never` never runs the rules (no links, multipathd never hears). */
  readonly mode?: "normal" | "late" | "never"
  readonly lateMs?: number
}

/** multipathd's behaviour. */
export interface SimMultipathdSpec {
  readonly running?: boolean
  /**
   * Which paths multipathd puts in a map by itself: `no` / `greedy` every path (the lab's
   * setting); `strict` only WWIDs in its wwids file; `yes` / `smart` those, or a WWID seen on
   * two paths. Default `no`.
   */
  readonly findMultipaths?: "no" | "yes" | "strict" | "smart" | "greedy"
  /** Maps named `mpathN` (bindings kept in /etc/multipath/bindings) instead of by WWID. */
  readonly userFriendlyNames?: boolean
  /** Delay between a path's uevent and multipathd putting it in a map. */
  readonly mapDelayMs?: number
  /** `late` adds `lateMs`; `never` forms no map on its own (addMap/addPath still work). */
  readonly mode?: "normal" | "late" | "never"
  readonly lateMs?: number
  /** WWIDs (multipath form `36001405…`) already in /etc/multipath/wwids. */
  readonly wwids?: ReadonlyArray<string>
}

/** iscsid.conf defaults that new node records get. */
export interface SimNodeDefaults {
  readonly startup?: "manual" | "automatic"
  readonly scan?: "manual" | "auto"
  /** Seconds. */
  readonly loginTimeout?: number
  readonly loginRetryMax?: number
  /** `node.session.timeo.replacement_timeout`, seconds. */
  readonly recoveryTmo?: number
}

/** Every operation the simulated services count, `service.operation`. */
export const opNames = [
  "iscsiadm.discover",
  "iscsiadm.createNode",
  "iscsiadm.updateNode",
  "iscsiadm.deleteNode",
  "iscsiadm.listNodes",
  "iscsiadm.login",
  "iscsiadm.logout",
  "iscsiadm.listIfaces",
  "iscsiadm.createIface",
  "iscsiadm.deleteIface",
  "iscsiadm.initiatorName",
  "sysfs.read",
  "sysfs.list",
  "sysfs.readlink",
  "sysfs.write",
  "multipath.isRunning",
  "multipath.findMultipaths",
  "multipath.wwidKnown",
  "multipath.addWwid",
  "multipath.removeWwid",
  "multipath.addMap",
  "multipath.addPath",
  "multipath.removePath",
  "multipath.flushMap",
  "multipath.resizeMap",
  "multipath.reloadMap",
  "multipath.pathStates",
  "blockDevice.flush",
  "blockDevice.size",
  "lock.acquire",
  "network.interfaces"
] as const
/** A counted service operation. */
export type OpName = typeof opNames[number]

/** A named latency profile, or one with per-operation overrides (ms). */
export type SimLatency =
  | "zero"
  | "realistic"
  | "lab"
  | { readonly profile?: "zero" | "realistic" | "lab"; readonly ops?: Partial<Record<OpName, number>> }

/** A whole scenario. */
export interface SimSpec {
  readonly targets: ReadonlyArray<SimTargetSpec>
  /** Default derived from the seed: `iqn.1993-08.org.debian:01:<12 hex>`. */
  readonly initiatorName?: string
  /** Loaded transport modules (`/sys/class/iscsi_transport`); default `["tcp"]`. */
  readonly transports?: ReadonlyArray<string>
  readonly hbas?: ReadonlyArray<SimHbaSpec>
  /** Network interfaces that exist (for `iface.net_ifacename`); default `["lo", "eth0"]`. */
  readonly netdevs?: ReadonlyArray<string>
  /** Their hardware and IP addresses, by name (see SimNetdevSpec for the defaults). */
  readonly netdevAddresses?: Readonly<Record<string, SimNetdevSpec>>
  readonly ifaces?: ReadonlyArray<SimIfaceSpec>
  /** Per portal; a portal some target serves defaults to up, any other to refusing. */
  readonly network?: Readonly<Record<string, SimNetworkState | SimNetwork>>
  /** The initiator's own address on its portal network; default `10.99.0.100` / `fd00::100`. */
  readonly localAddress?: { readonly ipv4?: string; readonly ipv6?: string }
  readonly udev?: SimUdevSpec
  /** /dev/sdX appears with the device (devtmpfs, the real kernel; default) or with the udev links. */
  readonly devtmpfs?: boolean
  readonly multipathd?: SimMultipathdSpec
  readonly nodeDefaults?: SimNodeDefaults
  /** Discovery's connection timeout, seconds (default 15). */
  readonly discoveryTimeout?: number
  readonly latency?: SimLatency
  /** First SCSI host number the IDA hands out (default 0). */
  readonly firstHostNumber?: number
}

/** Default per-operation latencies (ms), and udev/multipathd delays, of each profile. */
export const profiles: Record<"zero" | "realistic" | "lab", {
  readonly ops: Partial<Record<OpName, number>>
  readonly iscsiadm: number
  readonly multipath: number
  readonly blockDevice: number
  readonly udevDelayMs: number
  readonly mapDelayMs: number
}> = {
  zero: { ops: {}, iscsiadm: 0, multipath: 0, blockDevice: 0, udevDelayMs: 0, mapDelayMs: 0 },
  realistic: { ops: {}, iscsiadm: 5, multipath: 2, blockDevice: 1, udevDelayMs: 20, mapDelayMs: 50 },
  lab: {
    ops: { "iscsiadm.discover": 160, "iscsiadm.login": 300, "iscsiadm.logout": 150 },
    iscsiadm: 8,
    multipath: 10,
    blockDevice: 5,
    udevDelayMs: 1000,
    mapDelayMs: 200
  }
}

/** Operations the node interpreter answers from files, without a process. */
const fileReads: ReadonlySet<OpName> = new Set(["multipath.findMultipaths", "multipath.wwidKnown"])

/** The latency (ms) of each operation under `latency`. */
export const latencyTable = (latency: SimLatency | undefined): Record<OpName, number> => {
  const name = typeof latency === "string" ? latency : latency?.profile ?? "realistic"
  const overrides = typeof latency === "object" ? latency.ops ?? {} : {}
  const p = profiles[name]
  const table = {} as Record<OpName, number>
  for (const op of opNames) {
    const base = fileReads.has(op) ?
      0
      : op.startsWith("iscsiadm.") ?
      p.iscsiadm
      : op.startsWith("multipath.") ?
      p.multipath
      : op.startsWith("blockDevice.") ?
      p.blockDevice
      : 0
    table[op] = overrides[op] ?? p.ops[op] ?? base
  }
  return table
}

/** The udev and map delays of a latency setting's profile. */
export const profileDelays = (
  latency: SimLatency | undefined
): { readonly udevDelayMs: number; readonly mapDelayMs: number } => {
  const name = typeof latency === "string" ? latency : latency?.profile ?? "realistic"
  return profiles[name]
}
