/**
 * A simulated Linux iSCSI initiator host: build it from a `SimSpec` and a
 * seed, provide its services as a Layer (one per simulated "process"; all
 * share the host, its locks and its clock-driven events), steer it with fault
 * controls, and inspect it through snapshots and operation counters.
 */
import type { IscsiServices } from "@brick/core"
import { Effect, Layer, Semaphore } from "effect"
import * as SimBlockDevice from "./SimBlockDevice.ts"
import { type SimFailure, SimFaults, type SimFaultWhen } from "./SimFaults.ts"
import * as SimInterfaces from "./SimInterfaces.ts"
import * as SimIscsiadm from "./SimIscsiadm.ts"
import * as SimLock from "./SimLock.ts"
import * as SimMultipath from "./SimMultipath.ts"
import * as SimMultipathd from "./SimMultipathd.ts"
import * as SimNames from "./SimNames.ts"
import { type SimRuntime, tick } from "./SimOps.ts"
import * as SimPreattach from "./SimPreattach.ts"
import * as SimSessions from "./SimSessions.ts"
import * as SimSnapshot from "./SimSnapshot.ts"
import {
  latencyTable,
  type OpName,
  type SimLunSpec,
  type SimMultipathdSpec,
  type SimNetwork,
  type SimNetworkState,
  type SimSpec,
  type SimTargetSpec,
  type SimUdevSpec
} from "./SimSpec.ts"
import { SimState } from "./SimState.ts"
import * as SimStorage from "./SimStorage.ts"
import * as SimSysfs from "./SimSysfs.ts"
import type { VNode } from "./SimTree.ts"
import * as SimView from "./SimView.ts"

/** Every service a simulated host provides. */
export type SimServices = IscsiServices

/** Options of `make`. */
export interface SimHostOptions {
  /** Seeds WWNs, the initiator name and every random draw (default 0). */
  readonly seed?: number
}

/** A simulated host. */
export class SimHost implements SimRuntime {
  readonly state: SimState
  readonly faults = new SimFaults()
  readonly latency: Record<OpName, number>
  readonly view: VNode
  /** The services of the `main` process. */
  readonly layer: Layer.Layer<SimServices>
  private readonly locks = new Map<string, Semaphore.Semaphore>()
  /** Locks held, by process. */
  private readonly held = new Map<string, Set<string>>()
  /** When each lock last went to a new holder (Clock millis). */
  private readonly handoffs = new Map<string, number>()
  private readonly dead = new Set<string>()
  /** Operations counted, by process and operation. */
  private readonly counters = new Map<string, Map<OpName, number>>()

  constructor(readonly spec: SimSpec, readonly seed: number) {
    this.state = new SimState(spec, seed)
    this.latency = latencyTable(spec.latency)
    this.view = SimView.make(this.state)
    this.layer = this.process("main")
  }

  // ---------------------------------------------------------------- runtime
  /** Counts one operation of `process`. */
  count(process: string, op: OpName): void {
    let ops = this.counters.get(process)
    if (!ops) this.counters.set(process, ops = new Map())
    ops.set(op, (ops.get(op) ?? 0) + 1)
  }

  /** The host-wide lock named `name`. */
  lock(name: string): Semaphore.Semaphore {
    let s = this.locks.get(name)
    if (!s) this.locks.set(name, s = Semaphore.makeUnsafe(1))
    return s
  }

  holding(process: string, name: string, held: boolean): void {
    // a lock a killed process was waiting for is never its own
    if (held && this.dead.has(process)) {
      Effect.runSync(this.lock(name).release(1))
      return
    }
    let names = this.held.get(process)
    if (!names) this.held.set(process, names = new Set())
    if (held) names.add(name)
    else names.delete(name)
  }

  lastHandoff(name: string): number | undefined {
    return this.handoffs.get(name)
  }

  handedOff(name: string, at: number): void {
    this.handoffs.set(name, at)
  }

  killed(process: string): boolean {
    return this.dead.has(process)
  }

  /**
   * SIGKILL of `process`: it starts no operation any more and runs no
   * cleanup; what it had under way finishes on the host (as iscsid finishes a
   * login); the locks it held are free (the kernel drops a dead process's
   * flocks).
   */
  kill(process: string): void {
    this.dead.add(process)
    for (const name of this.held.get(process) ?? []) Effect.runSync(this.lock(name).release(1))
    this.held.delete(process)
  }

  /** The services as another process on this host sees them (its own op counters, shared everything else). */
  process(name: string): Layer.Layer<SimServices> {
    return Layer.mergeAll(
      SimIscsiadm.layer(this, name),
      SimSysfs.layer(this, name),
      SimMultipath.layer(this, name),
      SimBlockDevice.layer(this, name),
      SimLock.layer(this, name),
      SimInterfaces.layer(this, this.spec, name)
    )
  }

  // ---------------------------------------------------------------- inspection
  /** Operations counted so far, of one process or of all. */
  counts(process?: string): Partial<Record<OpName, number>> {
    const out: Partial<Record<OpName, number>> = {}
    for (const [p, m] of this.counters) {
      if (process !== undefined && p !== process) continue
      for (const [op, n] of m) out[op] = (out[op] ?? 0) + n
    }
    return out
  }

  /** Total operations counted, of one process or of all. */
  totalOps(process?: string): number {
    let total = 0
    for (const n of Object.values(this.counts(process))) total += n
    return total
  }

  /** Forgets every count. */
  resetCounts(): void {
    this.counters.clear()
  }

  /** The host's simulated time (ms) as of its last operation. */
  get now(): number {
    return this.state.schedule.now
  }

  /** Runs every event due at the effect Clock's current time (e.g. after `TestClock.adjust`). */
  get settle(): Effect.Effect<void> {
    return Effect.asVoid(tick(this))
  }

  /** The host as of its last operation or `settle`. */
  snapshot(): SimSnapshot.SimSnapshot {
    return SimSnapshot.take(this.state)
  }

  /** Settles, then snapshots. */
  get snapshotNow(): Effect.Effect<SimSnapshot.SimSnapshot> {
    return Effect.map(tick(this), () => SimSnapshot.take(this.state))
  }

  /** The kernel wwid (`naa.…`) a LUN has now. */
  wwid(iqn: string, lun: number): string {
    return this.state.lun(iqn, lun).wwid
  }

  /** The multipath-form WWN (`36001405…`) a LUN has now: os-brick's `scsi_wwn`, the map name. */
  wwn(iqn: string, lun: number): string {
    return SimNames.mpathName(this.wwid(iqn, lun))
  }

  // ---------------------------------------------------------------- volumes
  /** Attaches `count` other volumes at once (see `SimPreattach`). */
  preattach(count: number, options?: SimPreattach.PreattachOptions): ReadonlyArray<SimPreattach.PreattachedVolume> {
    return SimPreattach.preattach(this.state, count, options)
  }

  // ---------------------------------------------------------------- storage side
  /** Adds (or replaces) a target. */
  addTarget(target: SimTargetSpec): void {
    SimStorage.addTarget(this.state, target)
  }

  /** Grows or shrinks a LUN (disks see it after a rescan, maps after resizeMap). */
  resizeLun(iqn: string, lun: number, sizeBytes: number): void {
    this.state.lun(iqn, lun).sizeBytes = sizeBytes
  }

  /** Stops exporting a LUN and forgets it (existing disks stay until deleted). */
  removeLun(iqn: string, lun: number): void {
    SimStorage.removeLun(this.state, iqn, lun)
  }

  /** Exports a LUN; reusing a removed number gives a new WWN. Returns its wwid. */
  addLun(iqn: string, lun: SimLunSpec): string {
    return SimStorage.addLun(this.state, iqn, lun).wwid
  }

  /** Hides or shows a LUN to scans without forgetting it. */
  setLunExported(iqn: string, lun: number, exported: boolean): void {
    this.state.lun(iqn, lun).exported = exported
  }

  /** Write-protects a LUN or lifts it (disks see it after a rescan, maps after a reload). */
  setLunWriteProtected(iqn: string, lun: number, writeProtected: boolean): void {
    this.state.lun(iqn, lun).writeProtected = writeProtected
  }

  // ---------------------------------------------------------------- network
  /**
   * Sets a portal's network; sessions through a refusing/blackholed portal go
   * FAILED at once, and recover when it is back.
   */
  setNetwork(portal: string, network: SimNetworkState | SimNetwork): void {
    SimSessions.setNetwork(this.state, SimNames.portal(portal), SimSessions.toNet(network))
  }

  /** Takes a portal down (`refusing` by default, `blackholed` or `listenerGone`). */
  portalDown(portal: string, how: "refusing" | "blackholed" | "listenerGone" = "refusing"): void {
    this.setNetwork(portal, how)
  }

  /**
   * Makes READ CAPACITY fail on a portal's paths, or work again: disks added
   * or rescanned there meanwhile read 0 sectors, as when a path drops between
   * a scan's INQUIRY and its READ CAPACITY.
   */
  setCapacityUnreadable(portal: string, unreadable: boolean): void {
    const key = SimNames.portal(portal)
    if (unreadable) this.state.capacityUnreadable.add(key)
    else this.state.capacityUnreadable.delete(key)
  }

  /** Brings a portal back up. */
  portalUp(portal: string): void {
    this.setNetwork(portal, "up")
  }

  // ---------------------------------------------------------------- host side
  /** Changes udev's delay or mode (applies to devices that appear from now on). */
  setUdev(udev: SimUdevSpec): void {
    const u = this.state.udev
    if (udev.delayMs !== undefined) u.delayMs = udev.delayMs
    if (udev.mode !== undefined) u.mode = udev.mode
    if (udev.lateMs !== undefined) u.lateMs = udev.lateMs
  }

  /** Changes multipathd's behaviour; starting it adopts the paths it is allowed to. */
  setMultipathd(m: SimMultipathdSpec): void {
    const s = this.state.multipathd
    if (m.findMultipaths !== undefined) s.findMultipaths = m.findMultipaths
    if (m.userFriendlyNames !== undefined) s.userFriendlyNames = m.userFriendlyNames
    if (m.mapDelayMs !== undefined) s.mapDelayMs = m.mapDelayMs
    if (m.mode !== undefined) s.mode = m.mode
    if (m.lateMs !== undefined) s.lateMs = m.lateMs
    for (const w of m.wwids ?? []) s.wwids.add(w)
    if (m.running !== undefined) SimMultipathd.setRunning(this.state, m.running)
  }

  /** multipath's wwids file (WWNs) and bindings (`mpathN WWN`) now. */
  get multipathMemory(): { readonly wwids: ReadonlyArray<string>; readonly bindings: ReadonlyArray<string> } {
    const m = this.state.multipathd
    return {
      wwids: Array.from(m.wwids).sort(),
      bindings: Array.from(m.bindings, ([wwn, name]) => `${name} ${wwn}`).sort()
    }
  }

  /** Marks a map as held open (flushMap fails with InUse) or not. */
  setMapOpen(name: string, open: boolean): void {
    const map = this.state.maps.get(name)
    if (!map) throw new Error(`sim: no map ${name}`)
    map.open = open
  }

  /** Makes flushes of a device (`sdb`, `dm-0`, or `*` for all) fail busy / with an I/O error, or clears it. */
  setFlushFault(device: string, fault: "busy" | "fail" | undefined): void {
    if (fault === undefined) this.state.flushFaults.delete(device)
    else this.state.flushFaults.set(device, fault)
  }

  /** Stops or starts iscsid (logins and logouts fail DaemonUnreachable while it is down). */
  setIscsid(running: boolean): void {
    this.state.iscsidRunning = running
  }

  /** Loads or unloads a transport module (unloading one in use throws). */
  setTransportLoaded(transport: string, loaded: boolean): void {
    if (loaded) this.state.transports.add(transport)
    else {
      for (const h of this.state.hosts.values()) {
        if (h.kind === "software" && h.transport === transport) throw new Error(`sim: ${transport} is in use`)
      }
      this.state.transports.delete(transport)
    }
    SimSessions.probeHbas(this.state)
  }

  // ---------------------------------------------------------------- scripted faults
  /** Makes `op` fail (before touching the host) on its nth matching call: see `SimFaults.fail`. */
  failNext(op: OpName, failure: SimFailure, when?: SimFaultWhen): void {
    this.faults.fail(op, failure, when)
  }

  /** Runs `action` before/after the nth matching call of `op`: see `SimFaults.on`. */
  on(op: OpName, when: SimFaultWhen & { readonly at?: "before" | "after" }, action: () => void): void {
    this.faults.on(op, when, action)
  }
}

/** Builds a simulated host from a scenario. */
export const make = (spec: SimSpec, options: SimHostOptions = {}): SimHost => new SimHost(spec, options.seed ?? 0)
