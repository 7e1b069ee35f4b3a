/**
 * A plain, sorted, comparable picture of everything on a simulated host
 * (sessions, node records, ifaces, SCSI devices, by-path links, dm maps),
 * and a keyed diff of two pictures for before/after checks.
 */
import * as SimScsi from "./SimScsi.ts"
import type { SimState } from "./SimState.ts"

/** A session as the snapshot shows it. */
export interface SnapshotSession {
  readonly sid: number
  readonly host: number
  readonly iface: string
  readonly portal: string
  readonly iqn: string
  readonly tpgt: number
  readonly state: string
}

/** A node record (never its secrets). */
export interface SnapshotNode {
  readonly portal: string
  readonly iqn: string
  readonly iface: string
  readonly startup: string
  readonly scan: string
  readonly authUsername: string | null
  readonly mutualAuth: boolean
  readonly loginTimeout: number
  readonly loginRetryMax: number
}

/** An iface record. */
export interface SnapshotIface {
  readonly name: string
  readonly transport: string
  readonly hwaddress: string | null
  readonly ipaddress: string | null
  readonly netIfacename: string | null
}

/** A SCSI disk. */
export interface SnapshotScsiDevice {
  readonly hctl: string
  readonly name: string
  readonly wwid: string
  readonly sizeBytes: number
  readonly sid: number
  readonly state: string
  readonly udev: boolean
  readonly map: string | null
}

/** A dm multipath map. */
export interface SnapshotMap {
  readonly name: string
  readonly dm: string
  readonly uuid: string
  readonly sizeBytes: number
  readonly paths: ReadonlyArray<string>
}

/** Everything on the host, sorted. */
export interface SimSnapshot {
  readonly sessions: ReadonlyArray<SnapshotSession>
  readonly nodes: ReadonlyArray<SnapshotNode>
  readonly ifaces: ReadonlyArray<SnapshotIface>
  readonly scsiDevices: ReadonlyArray<SnapshotScsiDevice>
  /** by-path link name → kernel device name. */
  readonly byPath: Readonly<Record<string, string>>
  readonly maps: ReadonlyArray<SnapshotMap>
}

const byKey = <A>(key: (a: A) => string) => (a: A, b: A): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)

/** Takes the snapshot of a state as of its last processed event. */
export const take = (st: SimState): SimSnapshot => ({
  sessions: Array.from(
    st.sessions.values(),
    (s) => ({ sid: s.sid, host: s.host.no, iface: s.iface, portal: s.portal, iqn: s.iqn, tpgt: s.tpgt, state: s.state })
  )
    .sort((a, b) => a.sid - b.sid),
  nodes: Array.from(st.nodes.values(), (n) => ({
    portal: n.portal,
    iqn: n.iqn,
    iface: n.iface,
    startup: n.settings.startup,
    scan: n.settings.scan,
    authUsername: n.settings.auth?.username ?? null,
    mutualAuth: n.settings.auth !== undefined && n.settings.auth.usernameIn._tag === "Some",
    loginTimeout: n.settings.loginTimeout,
    loginRetryMax: n.settings.loginRetryMax
  })).sort(byKey((n) => `${n.portal}|${n.iqn}|${n.iface}`)),
  ifaces: Array.from(st.ifaces.values(), (i) => ({
    name: i.name,
    transport: i.transport,
    hwaddress: i.hwaddress ?? null,
    ipaddress: i.ipaddress ?? null,
    netIfacename: i.netIfacename ?? null
  })).sort(byKey((i) => i.name)),
  scsiDevices: Array.from(st.scsi.values(), (d) => ({
    hctl: d.hctl,
    name: d.name,
    wwid: d.wwid,
    sizeBytes: d.sizeBytes,
    sid: d.session.sid,
    state: SimScsi.deviceState(st, d),
    udev: d.udevDone,
    map: d.map?.name ?? null
  })).sort(byKey((d) => d.hctl)),
  byPath: Object.fromEntries(
    Array.from(st.byPath.keys()).sort().flatMap((k) => {
      const d = SimScsi.byPathTarget(st, k)
      return d ? [[k, d.name]] : []
    })
  ),
  maps: Array.from(st.maps.values(), (m) => ({
    name: m.name,
    dm: `dm-${m.minor}`,
    uuid: m.uuid,
    sizeBytes: m.sizeBytes,
    paths: Array.from(m.paths, (p) => p.name).sort()
  })).sort(byKey((m) => m.name))
})

/** What changed in one collection, by key. */
export interface SnapshotChanges {
  readonly added: ReadonlyArray<string>
  readonly removed: ReadonlyArray<string>
  readonly changed: ReadonlyArray<string>
}

/** Differences between two snapshots (sessions keyed by portal|iqn|iface, devices by hctl, maps by name). */
export interface SnapshotDiff {
  readonly sessions: SnapshotChanges
  readonly nodes: SnapshotChanges
  readonly ifaces: SnapshotChanges
  readonly scsiDevices: SnapshotChanges
  readonly byPath: SnapshotChanges
  readonly maps: SnapshotChanges
}

const changes = <A>(before: ReadonlyArray<A>, after: ReadonlyArray<A>, key: (a: A) => string): SnapshotChanges => {
  const b = new Map(before.map((x) => [key(x), JSON.stringify(x)]))
  const a = new Map(after.map((x) => [key(x), JSON.stringify(x)]))
  return {
    added: [...a.keys()].filter((k) => !b.has(k)),
    removed: [...b.keys()].filter((k) => !a.has(k)),
    changed: [...a.keys()].filter((k) => b.has(k) && b.get(k) !== a.get(k))
  }
}

/** The keyed differences from `before` to `after`. */
export const diff = (before: SimSnapshot, after: SimSnapshot): SnapshotDiff => ({
  sessions: changes(before.sessions, after.sessions, (s) => `${s.portal}|${s.iqn}|${s.iface}`),
  nodes: changes(before.nodes, after.nodes, (n) => `${n.portal}|${n.iqn}|${n.iface}`),
  ifaces: changes(before.ifaces, after.ifaces, (i) => i.name),
  scsiDevices: changes(before.scsiDevices, after.scsiDevices, (d) => d.hctl),
  byPath: changes(Object.entries(before.byPath), Object.entries(after.byPath), ([k]) => k),
  maps: changes(before.maps, after.maps, (m) => m.name)
})

/** True when the diff has no change at all. */
export const isEmpty = (d: SnapshotDiff): boolean =>
  Object.values(d).every((c: SnapshotChanges) =>
    c.added.length === 0 && c.removed.length === 0 && c.changed.length === 0
  )
