/**
 * The simulated host's state and the kernel/daemon rules that change it:
 * sessions and their SCSI hosts, scanning, device removal, udev and
 * multipathd reacting (through `SimSchedule`), network changes. Every index
 * is a hash map so each operation costs the same on a host with 10 or 10,000
 * other volumes.
 */
import { Option, Redacted } from "effect"
import { SimAlloc } from "./SimAlloc.ts"
import { driverOf, isOffloadDriver } from "./SimHbaDriver.ts"
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
import * as SimRandom from "./SimRandom.ts"
import { SimSchedule } from "./SimSchedule.ts"
import * as SimScsiLun from "./SimScsiLun.ts"
import { SimSortedMap, SimSortedNames } from "./SimSortedNames.ts"
import {
  profileDelays,
  type SimLunSpec,
  type SimNetwork,
  type SimNetworkState,
  type SimSpec,
  type SimTargetSpec
} from "./SimSpec.ts"

const up: SimNet = { state: "up", p: 0, latencyMs: 0, fast: false }
const refusing: SimNet = { state: "refusing", p: 0, latencyMs: 0, fast: false }

/** Normalises a network setting. */
export const toNet = (n: SimNetworkState | SimNetwork): SimNet =>
  typeof n === "string"
    ? { state: n, p: 0.5, latencyMs: 0, fast: false }
    : { state: n.state, p: n.p ?? 0.5, latencyMs: n.latencyMs ?? 0, fast: n.fast ?? false }

/** Whether a transport name is an offload (HBA) one. */
export const isOffload = (transport: string): boolean => isOffloadDriver(transport)

/** A simulated host's whole state. */
export class SimState {
  readonly schedule = new SimSchedule()
  readonly rng: SimRandom.SimRandom
  readonly initiatorName: string
  readonly targets = new Map<string, SimTarget>()
  readonly portalTargets = new Map<string, Set<SimTarget>>()
  readonly network = new Map<string, SimNet>()
  readonly transports: Set<string>
  readonly netdevs: Set<string>
  readonly hbas: Array<SimHba> = []
  readonly ifaces = new Map<string, SimIface>()
  /** Node records by key (`sortedKeys`: the order `iscsiadm -m node` lists them in). */
  readonly nodes = new SimSortedMap<SimNode>()
  readonly sessions = new Map<number, SimSession>()
  readonly sessionByNode = new Map<string, SimSession>()
  readonly sessionsByPortal = new Map<string, Set<SimSession>>()
  readonly hosts = new Map<number, SimScsiHost>()
  readonly scsi = new Map<string, SimScsiDevice>()
  readonly disks = new Map<string, SimScsiDevice>()
  readonly maps = new Map<string, SimMap>()
  readonly mapsByMinor = new Map<number, SimMap>()
  readonly pathsByWwid = new Map<string, Set<SimScsiDevice>>()
  /** /dev/disk/by-path: the devices claiming each link, the last one wins (`sortedKeys`: the listing). */
  readonly byPath = new SimSortedMap<Array<SimScsiDevice>>()
  /** `sessionN` of every session, sorted (the /sys/class/iscsi_session listing). */
  readonly sessionNames = new SimSortedNames()
  readonly udev: { delayMs: number; mode: "normal" | "late" | "never"; lateMs: number }
  readonly devtmpfs: boolean
  readonly multipathd: {
    running: boolean
    findMultipaths: "no" | "strict"
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
  private nextSid = 1
  private readonly hostAlloc: SimAlloc
  private readonly diskAlloc = new SimAlloc(0)
  private readonly dmAlloc = new SimAlloc(0)

  constructor(readonly spec: SimSpec, readonly seed: number) {
    this.rng = SimRandom.make(SimRandom.hash("rng", seed))
    this.initiatorName = spec.initiatorName ??
      `iqn.1993-08.org.debian:01:${SimRandom.derivedHex(12, "initiator", seed)}`
    this.transports = new Set(spec.transports ?? ["tcp"])
    this.netdevs = new Set(spec.netdevs ?? ["lo", "eth0"])
    this.hostAlloc = new SimAlloc(spec.firstHostNumber ?? 0)
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
    for (const t of spec.targets) this.addTarget(t)
    for (const [p, n] of Object.entries(spec.network ?? {})) this.network.set(SimNames.portal(p), toNet(n))
    const builtin = (name: string, transport: string): SimIface => ({
      name,
      transport,
      hwaddress: undefined,
      ipaddress: undefined,
      netIfacename: undefined,
      initiatorName: undefined,
      builtin: true
    })
    this.ifaces.set("default", builtin("default", "tcp"))
    this.ifaces.set("iser", builtin("iser", "iser"))
    for (const h of spec.hbas ?? []) {
      this.hbas.push({
        transport: h.transport,
        hwaddress: h.hwaddress.toLowerCase(),
        pciAddress: h.pciAddress,
        bridge: h.bridge ?? "0000:00:1c.0",
        ipaddress: h.ipaddress ?? "0.0.0.0",
        netdev: h.netdev,
        host: undefined,
        nextTargetId: 0
      })
    }
    for (const i of spec.ifaces ?? []) {
      this.ifaces.set(i.name, {
        name: i.name,
        transport: i.transport === "default" ? "tcp" : i.transport,
        hwaddress: i.hwaddress,
        ipaddress: i.ipaddress,
        netIfacename: i.netIfacename,
        initiatorName: i.initiatorName,
        builtin: false
      })
    }
    this.probeHbas()
    this.setupHostBindings()
  }

  /**
   * What `iscsiadm -m iface` does first (open-iscsi's host bindings): for
   * each present offload host, an iface record per kernel iface
   * (`<transport>.<hwaddress>.ipv4.N`, with its address) or, without
   * kernel ifaces, `<transport>.<hwaddress>`; only when no record of that
   * name exists. Records stay when the driver goes.
   */
  setupHostBindings(): void {
    for (const hba of this.hbas) {
      if (!hba.host) continue
      const kernel = this.kernelIfacesOf(hba)
      const records = kernel.length > 0
        ? kernel.map((k) => ({ name: `${hba.transport}.${hba.hwaddress}.${k.family}.${k.num}`, ipaddress: k.address }))
        : [{ name: `${hba.transport}.${hba.hwaddress}`, ipaddress: undefined }]
      for (const r of records) {
        if (this.ifaces.has(r.name)) continue
        this.ifaces.set(r.name, {
          name: r.name,
          transport: hba.transport,
          hwaddress: hba.hwaddress,
          ipaddress: r.ipaddress,
          netIfacename: undefined,
          initiatorName: undefined,
          builtin: false
        })
      }
    }
  }

  /** The kernel ifaces (/sys/class/iscsi_iface) of an HBA whose driver registers them: one per configured address. */
  kernelIfacesOf(hba: SimHba): ReadonlyArray<{ family: "ipv4" | "ipv6"; num: number; address: string }> {
    if (!hba.host || !driverOf(hba.transport).kernelIfaces || hba.ipaddress === "0.0.0.0") return []
    return [{ family: hba.ipaddress.includes(":") ? "ipv6" : "ipv4", num: 0, address: hba.ipaddress }]
  }

  // ------------------------------------------------------------------ targets
  /** A LUN's unit serial as LIO makes it (a version-4 UUID), derived from seed, IQN, LUN and generation. */
  private lunSerial(iqn: string, lun: number, generation: number): string {
    const h = SimRandom.derivedHex(32, "serial", this.seed, iqn, lun, generation).split("")
    h[12] = "4"
    h[16] = "89ab"[parseInt(h[16]!, 16) & 3]!
    const x = h.join("")
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
  }

  /** Adds a target (replacing one with the same IQN). */
  addTarget(t: SimTargetSpec): SimTarget {
    const old = this.targets.get(t.iqn)
    if (old) { for (const p of old.portals.keys()) this.portalTargets.get(p)?.delete(old) }
    const target: SimTarget = {
      iqn: t.iqn,
      portals: new Map(),
      luns: new Map(),
      generations: new Map(),
      addressingMode: t.addressingMode ?? "SAM",
      chap: t.chap,
      discoveryChap: t.discoveryChap,
      reportAllPortals: t.reportAllPortals ?? true,
      system: t.system ?? "lio"
    }
    for (const p of t.portals) {
      const spec = typeof p === "string" ? { portal: p } : p
      const portal = SimNames.portal(spec.portal)
      target.portals.set(portal, { tpgt: spec.tpgt ?? 1 })
      let set = this.portalTargets.get(portal)
      if (!set) this.portalTargets.set(portal, set = new Set())
      set.add(target)
    }
    this.targets.set(t.iqn, target)
    for (const l of t.luns) this.addLun(t.iqn, l)
    return target
  }

  /** Exports a LUN; a number used before gets a new WWN unless one is given. */
  addLun(iqn: string, l: SimLunSpec): SimLun {
    const target = this.target(iqn)
    const generation = (target.generations.get(l.lun) ?? 0) + 1
    target.generations.set(l.lun, generation)
    const serial = l.serial ?? this.lunSerial(iqn, l.lun, generation)
    const lun: SimLun = {
      number: l.lun,
      kernel: SimScsiLun.kernelLunOf(target.addressingMode, l.lun),
      serial,
      wwid: l.wwid ?? `naa.6001405${serial.replaceAll("-", "").slice(0, 25)}`,
      sizeBytes: l.sizeBytes ?? 1024 ** 3,
      exported: l.exported ?? true,
      model: l.model ?? "FILEIO"
    }
    target.luns.set(l.lun, lun)
    return lun
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

  /** Stops exporting a LUN (existing SCSI devices stay until deleted). */
  removeLun(iqn: string, lun: number): void {
    this.lun(iqn, lun)
    this.target(iqn).luns.delete(lun)
  }

  // ------------------------------------------------------------------ node records
  /** A new node record with iscsid.conf's defaults (not stored). */
  makeNode(portal: string, iqn: string, iface: string): SimNode {
    const d = this.nodeDefaults
    return {
      key: SimNames.nodeKey(portal, iqn, iface),
      portal,
      iqn,
      iface,
      settings: {
        startup: d.startup,
        scan: d.scan,
        auth: undefined,
        loginTimeout: d.loginTimeout,
        loginRetryMax: d.loginRetryMax
      }
    }
  }

  /** Deletes a node record. */
  deleteNode(key: string): void {
    const n = this.nodes.get(key)
    if (!n) return
    this.nodes.delete(key)
  }

  // ------------------------------------------------------------------ network
  /** The network a portal is behind: explicit, else up when a target serves it, else refusing. */
  net(portal: string): SimNet {
    return this.network.get(portal) ?? (this.portalTargets.has(portal) ? up : refusing)
  }

  /** Changes a portal's network; sessions through it fail (or recover) at once. */
  setNetwork(portal: string, net: SimNet): void {
    this.network.set(portal, net)
    const broken = net.state === "refusing" || net.state === "blackholed"
    for (const s of this.sessionsByPortal.get(portal) ?? []) {
      if (broken && s.state === "LOGGED_IN") {
        s.state = "FAILED"
        s.failedAt = this.schedule.now
      } else if (!broken && s.state === "FAILED") {
        s.state = "LOGGED_IN"
      }
    }
  }

  /** The SCSI device state sysfs shows, from the session's state and recovery timeout. */
  deviceState(dev: SimScsiDevice): string {
    const s = dev.session
    if (s.state === "LOGGED_IN") return "running"
    return this.schedule.now < s.failedAt + s.recoveryTmo * 1000 ? "blocked" : "transport-offline"
  }

  // ------------------------------------------------------------------ hosts and sessions
  /** Gives each HBA whose driver is loaded a SCSI host (and drops those whose driver is not). */
  probeHbas(): void {
    for (const hba of this.hbas) {
      const loaded = this.transports.has(hba.transport)
      if (loaded && !hba.host) {
        const no = this.hostAlloc.alloc()
        hba.host = {
          no,
          kind: "offload",
          transport: hba.transport,
          sessions: new Map(),
          hba,
          ipaddress: hba.ipaddress,
          hwaddress: hba.hwaddress,
          netdev: hba.netdev ?? "(null)",
          initiatorName: this.initiatorName
        }
        this.hosts.set(no, hba.host)
      } else if (!loaded && hba.host) {
        if (hba.host.sessions.size > 0) throw new Error(`sim: ${hba.transport} is in use`)
        this.hosts.delete(hba.host.no)
        this.hostAlloc.release(hba.host.no)
        hba.host = undefined
      }
    }
  }

  /** The HBA an offload iface is bound to (by hwaddress, else netdev), when it exists and its driver is loaded. */
  hbaFor(iface: SimIface): SimHba | undefined {
    const hw = iface.hwaddress?.toLowerCase()
    return this.hbas.find((h) =>
      h.host !== undefined && h.transport === iface.transport &&
      (hw !== undefined ? h.hwaddress === hw : iface.netIfacename !== undefined && h.netdev === iface.netIfacename)
    )
  }

  /** Creates the session of a successful login. */
  createSession(node: SimNode, iface: SimIface, tpgt: number): SimSession {
    let host: SimScsiHost
    let targetId = 0
    const hba = isOffload(iface.transport) ? this.hbaFor(iface) : undefined
    if (hba?.host) {
      host = hba.host
      targetId = hba.nextTargetId++
    } else {
      const no = this.hostAlloc.alloc()
      const v6 = SimNames.portalAddress(node.portal).ipv6
      host = {
        no,
        kind: "software",
        transport: iface.transport,
        sessions: new Map(),
        hba: undefined,
        ipaddress: v6 ? this.localAddress.ipv6 : this.localAddress.ipv4,
        hwaddress: iface.hwaddress ?? "(null)",
        netdev: iface.netIfacename ?? "(null)",
        initiatorName: iface.initiatorName ?? "(null)"
      }
      this.hosts.set(no, host)
    }
    const auth = node.settings.auth
    const session: SimSession = {
      sid: this.nextSid++,
      key: node.key,
      host,
      targetId,
      iface: iface.name,
      portal: node.portal,
      iqn: node.iqn,
      tpgt,
      state: "LOGGED_IN",
      failedAt: 0,
      recoveryTmo: this.nodeDefaults.recoveryTmo,
      initiatorName: iface.initiatorName ?? this.initiatorName,
      username: auth?.username,
      password: auth ? Redacted.value(auth.password) : undefined,
      usernameIn: auth ? Option.getOrUndefined(auth.usernameIn) : undefined,
      passwordIn: auth ? Option.match(auth.passwordIn, { onNone: () => undefined, onSome: Redacted.value }) : undefined,
      scanned: false,
      devices: new Map()
    }
    host.sessions.set(session.sid, session)
    this.sessions.set(session.sid, session)
    this.sessionNames.add(`session${session.sid}`)
    this.sessionByNode.set(node.key, session)
    let byPortal = this.sessionsByPortal.get(session.portal)
    if (!byPortal) this.sessionsByPortal.set(session.portal, byPortal = new Set())
    byPortal.add(session)
    return session
  }

  /** Logs a session out: its SCSI devices and links go, a software host goes with it. */
  destroySession(session: SimSession): void {
    for (const dev of Array.from(session.devices.values())) this.removeDevice(dev)
    session.host.sessions.delete(session.sid)
    this.sessions.delete(session.sid)
    this.sessionNames.delete(`session${session.sid}`)
    this.sessionByNode.delete(session.key)
    this.sessionsByPortal.get(session.portal)?.delete(session)
    if (session.host.kind === "software") {
      this.hosts.delete(session.host.no)
      this.hostAlloc.release(session.host.no)
    }
  }

  // ------------------------------------------------------------------ SCSI devices
  /**
   * A scan of host `host` for channel/target/LUN (`undefined` = wildcard):
   * adds the devices of exported LUNs, as writing to `scsi_host/hostH/scan` does.
   */
  scanHost(
    host: SimScsiHost,
    channel: number | undefined,
    targetId: number | undefined,
    lun: number | undefined
  ): void {
    if (channel !== undefined && channel !== 0) return
    for (const s of host.sessions.values()) {
      if (targetId !== undefined && s.targetId !== targetId) continue
      this.scanSession(s, lun)
    }
  }

  /** Scans one session for a kernel LUN, or every exported LUN. */
  scanSession(s: SimSession, lun: number | undefined): void {
    if (s.state !== "LOGGED_IN") return
    s.scanned = true
    const target = this.targets.get(s.iqn)
    if (!target || !target.portals.has(s.portal)) return
    if (lun !== undefined) {
      const l = this.addressedLun(target, lun)
      if (l?.exported) this.addDevice(s, l, false, lun)
      return
    }
    const luns = Array.from(target.luns.values()).filter((l) => l.exported).sort((a, b) => a.kernel - b.kernel)
    for (const l of luns) this.addDevice(s, l)
  }

  /** The target's LUN the kernel reaches with its LUN integer `kernel` (int_to_scsilun, decoded the target's way). */
  addressedLun(target: SimTarget, kernel: number): SimLun | undefined {
    const n = SimScsiLun.addressedLun(target.addressingMode, SimScsiLun.intToScsilun(kernel))
    return n === undefined ? undefined : target.luns.get(n)
  }

  /** Adds the SCSI device of `lun` on session `s` at kernel LUN `kernel` (no-op when present); udev follows after its delay. */
  addDevice(s: SimSession, lun: SimLun, udevAtOnce = false, kernel = lun.kernel): SimScsiDevice {
    const existing = s.devices.get(kernel)
    if (existing) return existing
    const diskIndex = this.diskAlloc.alloc()
    const hba = s.host.hba
    const dev: SimScsiDevice = {
      hctl: `${s.host.no}:0:${s.targetId}:${kernel}`,
      lun: kernel,
      session: s,
      wwid: lun.wwid,
      serial: lun.serial,
      sizeBytes: lun.sizeBytes,
      model: lun.model,
      diskIndex,
      name: SimNames.diskName(diskIndex),
      byPath: SimNames.byPathName(s.portal, s.iqn, kernel, hba?.pciAddress),
      devNode: this.devtmpfs,
      udevDone: false,
      map: undefined,
      removed: false
    }
    this.scsi.set(dev.hctl, dev)
    this.disks.set(dev.name, dev)
    s.devices.set(kernel, dev)
    this.indexWwid(dev)
    if (udevAtOnce) this.udevAdd(dev, false)
    else if (this.udev.mode !== "never") {
      this.schedule.after(this.udev.delayMs + (this.udev.mode === "late" ? this.udev.lateMs : 0), () => {
        if (!dev.removed && !dev.udevDone) this.udevAdd(dev, true)
      })
    }
    return dev
  }

  private indexWwid(dev: SimScsiDevice): void {
    let set = this.pathsByWwid.get(dev.wwid)
    if (!set) this.pathsByWwid.set(dev.wwid, set = new Set())
    set.add(dev)
  }

  private unindexWwid(dev: SimScsiDevice): void {
    const set = this.pathsByWwid.get(dev.wwid)
    set?.delete(dev)
    if (set?.size === 0) this.pathsByWwid.delete(dev.wwid)
  }

  /** udev's rules for a new disk: /dev node, by-path/by-id links, and multipathd's uevent. */
  udevAdd(dev: SimScsiDevice, notifyMultipathd: boolean): void {
    dev.udevDone = true
    dev.devNode = true
    let claims = this.byPath.get(dev.byPath)
    if (!claims) this.byPath.set(dev.byPath, claims = [])
    claims.push(dev)
    if (notifyMultipathd) this.multipathdUevent(dev)
  }

  /** Removes a SCSI device (sysfs `delete`, or its session's logout). */
  removeDevice(dev: SimScsiDevice): void {
    if (dev.removed) return
    dev.removed = true
    this.scsi.delete(dev.hctl)
    this.disks.delete(dev.name)
    dev.session.devices.delete(dev.lun)
    this.diskAlloc.release(dev.diskIndex)
    this.unindexWwid(dev)
    const claims = this.byPath.get(dev.byPath)
    if (claims) {
      const i = claims.indexOf(dev)
      if (i >= 0) claims.splice(i, 1)
      if (claims.length === 0) this.byPath.delete(dev.byPath)
    }
    if (dev.map) {
      dev.map.paths.delete(dev)
      dev.map = undefined
    }
  }

  /** Re-reads a device's capacity and identifiers from its LUN (sysfs `rescan`). */
  rescanDevice(dev: SimScsiDevice): void {
    const target = this.targets.get(dev.session.iqn)
    const lun = target && this.addressedLun(target, dev.lun)
    if (!lun || !lun.exported || dev.session.state !== "LOGGED_IN") return
    dev.sizeBytes = lun.sizeBytes
    dev.serial = lun.serial
    if (lun.wwid !== dev.wwid) {
      this.unindexWwid(dev)
      dev.wwid = lun.wwid
      this.indexWwid(dev)
    }
  }

  /** The device a by-path link points to now (the last one udev linked). */
  byPathTarget(name: string): SimScsiDevice | undefined {
    const claims = this.byPath.get(name)
    return claims?.[claims.length - 1]
  }

  /** The disk a serial-based by-id link (`scsi-1LIO-ORG_…`, `scsi-SLIO-ORG_…`) points to now: the last one udev linked. */
  bySerialTarget(wwid: string, serial: string): SimScsiDevice | undefined {
    let last: SimScsiDevice | undefined
    for (const d of this.pathsByWwid.get(wwid) ?? []) if (d.udevDone && d.serial === serial) last = d
    return last
  }

  /** The device or map a by-id wwn/scsi link of `wwid` points to now. */
  byIdTarget(wwid: string): SimScsiDevice | SimMap | undefined {
    const map = this.maps.get(SimNames.mpathName(wwid))
    if (map) return map
    let last: SimScsiDevice | undefined
    for (const d of this.pathsByWwid.get(wwid) ?? []) if (d.udevDone) last = d
    return last
  }

  // ------------------------------------------------------------------ multipathd
  /** Whether multipathd would multipath this kernel wwid on its own. */
  mpathAllowed(wwid: string): boolean {
    return this.multipathd.findMultipaths === "no" || this.multipathd.wwids.has(SimNames.mpathName(wwid))
  }

  /** multipathd hears a path's uevent: after its delay it puts the path in a map. */
  multipathdUevent(dev: SimScsiDevice): void {
    const m = this.multipathd
    if (!m.running || m.mode === "never" || !this.mpathAllowed(dev.wwid)) return
    this.schedule.after(m.mapDelayMs + (m.mode === "late" ? m.lateMs : 0), () => {
      if (!dev.removed && !dev.map && this.multipathd.running) this.adoptPath(dev)
    })
  }

  /** Puts a path in its WWID's map, creating the map (with every known path of that WWID) if needed. */
  adoptPath(dev: SimScsiDevice): SimMap {
    const existing = this.maps.get(SimNames.mpathName(dev.wwid))
    if (existing) {
      this.addPathToMap(existing, dev)
      return existing
    }
    const others = Array.from(this.pathsByWwid.get(dev.wwid) ?? []).filter((d) => d !== dev && d.udevDone && !d.map)
    return this.createMap(dev.wwid, [dev, ...others])
  }

  /** Creates a map for `wwid` over `paths`. */
  createMap(wwid: string, paths: ReadonlyArray<SimScsiDevice>): SimMap {
    const name = SimNames.mpathName(wwid)
    const minor = this.dmAlloc.alloc()
    const map: SimMap = {
      minor,
      name,
      uuid: `mpath-${name}`,
      wwid,
      paths: new Set(),
      sizeBytes: paths[0]?.sizeBytes ?? 0,
      open: false
    }
    this.maps.set(name, map)
    this.mapsByMinor.set(minor, map)
    for (const p of paths) this.addPathToMap(map, p)
    return map
  }

  /** Adds a path to a map (multipathd also shortens its session's recovery timeout to 5 s). */
  addPathToMap(map: SimMap, dev: SimScsiDevice): void {
    if (dev.map === map) return
    if (dev.map) dev.map.paths.delete(dev)
    map.paths.add(dev)
    dev.map = map
    dev.session.recoveryTmo = 5
  }

  /** Removes a map; its paths stay as plain disks. */
  flushMap(map: SimMap): void {
    this.maps.delete(map.name)
    this.mapsByMinor.delete(map.minor)
    this.dmAlloc.release(map.minor)
    for (const p of map.paths) p.map = undefined
    map.paths.clear()
  }

  /** Starts or stops multipathd; on start it adopts every path it is allowed to. */
  setMultipathdRunning(running: boolean): void {
    const was = this.multipathd.running
    this.multipathd.running = running
    if (running && !was) { for (const d of this.disks.values()) if (d.udevDone && !d.map) this.multipathdUevent(d) }
  }
}
