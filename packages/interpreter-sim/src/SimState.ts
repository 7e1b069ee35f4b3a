/**
 * A simulated host's whole state: the storage side (targets and their LUNs,
 * the network to their portals) and the initiator side (transports, HBAs,
 * iscsid's iface and node records, sessions and their SCSI hosts, SCSI
 * devices with their udev links, dm maps), plus udev's, multipathd's and
 * iscsid's settings. Plain data built from a `SimSpec` and a seed; the rules
 * that change it live in SimStorage, SimNodeDb, SimSessions, SimScsi and SimMultipathd.
 */
import { SimAlloc } from "./SimAlloc.ts"
import type {
  SimHba,
  SimIface,
  SimLun,
  SimMap,
  SimNet,
  SimNode,
  SimScsiDevice,
  SimScsiHost,
  SimSession,
  SimTarget
} from "./SimModel.ts"
import * as SimNames from "./SimNames.ts"
import * as SimNodeDb from "./SimNodeDb.ts"
import * as SimRandom from "./SimRandom.ts"
import { SimSchedule } from "./SimSchedule.ts"
import * as SimSessions from "./SimSessions.ts"
import { profileDelays, type SimSpec } from "./SimSpec.ts"
import * as SimStorage from "./SimStorage.ts"

/** A simulated host's whole state. */
export class SimState {
  readonly schedule = new SimSchedule()
  readonly rng: SimRandom.SimRandom
  readonly initiatorName: string
  /** Targets by IQN. */
  readonly targets = new Map<string, SimTarget>()
  /** Portals whose network is set explicitly (see SimSessions.net). */
  readonly network = new Map<string, SimNet>()
  /** Loaded transport modules. */
  readonly transports: Set<string>
  readonly netdevs: Set<string>
  readonly hbas: Array<SimHba> = []
  /** iscsid's iface records by name. */
  readonly ifaces = new Map<string, SimIface>()
  /** iscsid's node records by key (SimNames.nodeKey). */
  readonly nodes = new Map<string, SimNode>()
  /** Sessions by sid. */
  readonly sessions = new Map<number, SimSession>()
  /** The session of each node record, by the record's key (at most one). */
  readonly sessionByNode = new Map<string, SimSession>()
  /** SCSI hosts by number. */
  readonly hosts = new Map<number, SimScsiHost>()
  /** SCSI devices by H:C:T:L. */
  readonly scsi = new Map<string, SimScsiDevice>()
  /** The same devices by kernel name (`sdb`). */
  readonly disks = new Map<string, SimScsiDevice>()
  /** dm multipath maps by name. */
  readonly maps = new Map<string, SimMap>()
  /** The devices of each kernel wwid, in the order they took it (the last one udev linked wins a by-id link). */
  readonly pathsByWwid = new Map<string, Set<SimScsiDevice>>()
  /** /dev/disk/by-path: the devices claiming each link, in order (the last one wins). */
  readonly byPath = new Map<string, Array<SimScsiDevice>>()
  readonly udev: { delayMs: number; mode: "normal" | "late" | "never"; lateMs: number }
  readonly devtmpfs: boolean
  readonly multipathd: {
    running: boolean
    findMultipaths: "no" | "yes" | "strict" | "smart" | "greedy"
    userFriendlyNames: boolean
    /** /etc/multipath/bindings: the friendly name of each WWN, never removed. */
    readonly bindings: Map<string, string>
    mapDelayMs: number
    mode: "normal" | "late" | "never"
    lateMs: number
    readonly wwids: Set<string>
  }
  readonly nodeDefaults: {
    startup: "manual" | "automatic"
    scan: "manual" | "auto"
    loginTimeout: number
    loginRetryMax: number
    recoveryTmo: number
  }
  readonly discoveryTimeout: number
  readonly localAddress: { readonly ipv4: string; readonly ipv6: string }
  iscsidRunning = true
  /** iscsid's pid (sysfs `creator` of each session). */
  readonly iscsidPid: number
  /** Block device flush faults by kernel name (`sdb`, `dm-0`) or `*`. */
  readonly flushFaults = new Map<string, "busy" | "fail">()
  /** Portals (canonical) whose disks read no capacity: READ CAPACITY fails on them (SimHost.setCapacityUnreadable). */
  readonly capacityUnreadable = new Set<string>()
  /** The next session id. */
  nextSid = 1
  /** SCSI host numbers, sd disk indexes and dm minors, each lowest-free first as the kernel hands them out. */
  readonly hostNumbers: SimAlloc
  readonly diskIndexes = new SimAlloc(0)
  readonly dmMinors = new SimAlloc(0)

  constructor(readonly spec: SimSpec, readonly seed: number) {
    this.rng = SimRandom.make(SimRandom.hash("rng", seed))
    this.initiatorName = spec.initiatorName ??
      `iqn.1993-08.org.debian:01:${SimRandom.derivedHex(12, "initiator", seed)}`
    this.transports = new Set(spec.transports ?? ["tcp"])
    this.netdevs = new Set(spec.netdevs ?? ["lo", "eth0"])
    this.hostNumbers = new SimAlloc(spec.firstHostNumber ?? 0)
    const delays = profileDelays(spec.latency)
    this.udev = {
      delayMs: spec.udev?.delayMs ?? delays.udevDelayMs,
      mode: spec.udev?.mode ?? "normal",
      lateMs: spec.udev?.lateMs ?? 5000
    }
    this.devtmpfs = spec.devtmpfs ?? true
    const m = spec.multipathd
    this.multipathd = {
      running: m?.running ?? true,
      findMultipaths: m?.findMultipaths ?? "no",
      userFriendlyNames: m?.userFriendlyNames ?? false,
      bindings: new Map(),
      mapDelayMs: m?.mapDelayMs ?? delays.mapDelayMs,
      mode: m?.mode ?? "normal",
      lateMs: m?.lateMs ?? 5000,
      wwids: new Set(m?.wwids ?? [])
    }
    const d = spec.nodeDefaults
    this.nodeDefaults = {
      startup: d?.startup ?? "manual",
      scan: d?.scan ?? "auto",
      loginTimeout: d?.loginTimeout ?? 15,
      loginRetryMax: d?.loginRetryMax ?? 8,
      recoveryTmo: d?.recoveryTmo ?? 120
    }
    this.discoveryTimeout = spec.discoveryTimeout ?? 15
    this.iscsidPid = 100 + SimRandom.make(SimRandom.hash("pid", seed)).int(900)
    this.localAddress = { ipv4: spec.localAddress?.ipv4 ?? "10.99.0.100", ipv6: spec.localAddress?.ipv6 ?? "fd00::100" }
    for (const t of spec.targets) SimStorage.addTarget(this, t)
    for (const [p, n] of Object.entries(spec.network ?? {})) this.network.set(SimNames.portal(p), SimSessions.toNet(n))
    for (const h of spec.hbas ?? []) this.hbas.push(SimSessions.hbaOf(h))
    for (const i of SimNodeDb.initialIfaces(spec)) this.ifaces.set(i.name, i)
    SimSessions.probeHbas(this)
    SimNodeDb.setupHostBindings(this)
  }

  /** The target with this IQN (throws: control API misuse). */
  target(iqn: string): SimTarget {
    const t = this.targets.get(iqn)
    if (!t) throw new Error(`sim: no target ${iqn}`)
    return t
  }

  /** The LUN `lun` of target `iqn` (throws: control API misuse). */
  lun(iqn: string, lun: number): SimLun {
    const l = this.target(iqn).luns.get(lun)
    if (!l) throw new Error(`sim: target ${iqn} has no LUN ${lun}`)
    return l
  }
}
