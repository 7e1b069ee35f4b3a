/**
 * Effectful queries of the host's iSCSI state, all through `Sysfs`:
 * sessions with their target, portal, iface and SCSI host; a session's SCSI
 * targets and LUN devices; a device's block name, WWN and dm holder; a map's
 * name and uuid. Nothing here writes.
 *
 * Cost: per-attach work must not grow with unrelated sessions, so the
 * by-path listing (one op) is the filter that finds an existing session
 * (`findSessionByPath`), and a login's new session is found by the difference
 * of two listings of /sys/class/iscsi_session (`findNewSession`); disconnect
 * finds a volume's sessions the same way (`sessionsOfTargetsCheap`). Only
 * `sessionsOfTargets` (the fallback when those cannot be sure, and the rare
 * "login says the session exists" case) reads every session's target name.
 */
import { Effect, Option } from "effect"
import * as Hctl from "../Hctl.ts"
import * as HostPath from "../HostPath.ts"
import * as ByPath from "../iscsi/ByPath.ts"
import type { NodeRecord } from "../iscsi/Iscsiadm.ts"
import * as Portal from "../iscsi/Portal.ts"
import { Sysfs, type SysfsError } from "../Sysfs.ts"
import { fromSysfsWwid, type Wwn } from "../Wwn.ts"
import * as Layout from "./SysfsLayout.ts"

/** An iSCSI session as sysfs shows it. */
export interface Session {
  readonly sid: number
  /** The target's IQN (`targetname`). */
  readonly iqn: string
  /** The canonical portal (`persistent_address:persistent_port`), when readable. */
  readonly portal: Option.Option<string>
  /** The iface the session was logged in through (`ifacename`; `default` when unset). */
  readonly iface: string
  /** The SCSI host number, from the session's link. */
  readonly host: Option.Option<number>
}

/** A SCSI device (one LUN through one path) with what the kernel knows of it so far. */
export interface ScsiDevice {
  readonly hctl: Hctl.Hctl
  /** The block device name (`sdb`), once the kernel has one. */
  readonly block: Option.Option<string>
  /** The WWN, once the kernel has read it. */
  readonly wwn: Option.Option<Wwn>
}

type Q<A> = Effect.Effect<A, SysfsError, Sysfs>

const read = (path: HostPath.HostPath): Q<Option.Option<string>> => Sysfs.use((s) => s.read(path))
const list = (path: HostPath.HostPath): Q<ReadonlyArray<string>> => Sysfs.use((s) => s.list(path))
const readlink = (path: HostPath.HostPath): Q<Option.Option<string>> => Sysfs.use((s) => s.readlink(path))

const idsOf = (names: ReadonlyArray<string>): Array<number> =>
  names.flatMap((name) => {
    const sid = Layout.parseSessionName(name)
    return sid === undefined ? [] : [sid]
  })

/** The ids of all sessions (one listing). */
export const sessionIds: Q<ReadonlyArray<number>> = Effect.map(list(Layout.sessionsDir), idsOf)

/** The canonical portal of an address and port as sysfs prints them. */
export const portalOf = (address: string, port: string): Option.Option<string> => {
  const host = address.trim()
  const text = host.includes(":") ? `[${host}]:${port.trim()}` : `${host}:${port.trim()}`
  const parts = Portal.parse(text)
  return parts === undefined ? Option.none() : Option.some(Portal.format(parts))
}

/** A session's target name only (one read); none when the session is gone. */
export const targetName = (sid: number): Q<Option.Option<string>> => read(Layout.sessionFile(sid, "targetname"))

/** The SCSI host of a session, from its class link (falling back to its target directories). */
export const hostOf = (sid: number): Q<Option.Option<number>> =>
  Effect.gen(function*() {
    const link = yield* (yield* Sysfs).readlink(Layout.sessionDir(sid))
    const fromLink = Option.flatMap(link, (l) => Option.fromUndefinedOr(Layout.hostOfSessionLink(l)))
    if (Option.isSome(fromLink)) return fromLink
    const targets = yield* targetsOf(sid)
    return Option.fromUndefinedOr(targets[0]?.host)
  })

/** Reads a whole session; none when it is gone (or not an iSCSI session). */
export const readSession = (sid: number): Q<Option.Option<Session>> =>
  Effect.gen(function*() {
    const iqn = yield* targetName(sid)
    if (Option.isNone(iqn)) return Option.none()
    return Option.some(yield* completeSession(sid, iqn.value))
  })

const completeSession = (sid: number, iqn: string): Q<Session> =>
  Effect.gen(function*() {
    const { address, host, iface, port } = yield* Effect.all({
      iface: read(Layout.sessionFile(sid, "ifacename")),
      address: read(Layout.connectionFile(sid, "persistent_address")),
      port: read(Layout.connectionFile(sid, "persistent_port")),
      host: hostOf(sid)
    })
    const portal = Option.isSome(address) && Option.isSome(port) ? portalOf(address.value, port.value) : Option.none()
    const ifaceName = Option.getOrElse(iface, () => "default")
    return { sid, iqn, portal, iface: ifaceName === "" || ifaceName === "<empty>" ? "default" : ifaceName, host }
  })

/** Whether a session is the one a node record logs in. */
export const isSessionOf = (s: Session, node: NodeRecord): boolean =>
  s.iqn === node.iqn && s.iface === node.iface && Option.getOrUndefined(s.portal) === node.portal

/**
 * All sessions to any of `iqns` (reads every session's target name: use it
 * when thoroughness matters more than cost).
 */
export const sessionsOfTargets = (iqns: ReadonlySet<string>): Q<ReadonlyArray<Session>> =>
  Effect.gen(function*() {
    const ids = yield* sessionIds
    const found = yield* Effect.forEach(ids, (sid) =>
      Effect.flatMap(targetName(sid), (iqn) =>
        Option.isSome(iqn) && iqns.has(iqn.value)
          ? Effect.map(completeSession(sid, iqn.value), Option.some)
          : Effect.succeed(Option.none<Session>())))
    return found.flatMap((o) => (Option.isSome(o) ? [o.value] : []))
  })

/**
 * All sessions to any of `iqns`, cheaply when the host allows it: the
 * sessions behind the targets' /dev/disk/by-path links (one listing, then
 * only those links) are complete when every node record of the targets
 * (`records`, from one `iscsiadm -m node` listing) has one of them. Otherwise
 * — a session without a linked device (udev late, or a LUN-less session a
 * connect left), or a record without a session — it falls back to the full
 * scan. (A session whose node record was deleted behind brick's back and
 * that has no linked device is the one case only the full scan would see.)
 */
export const sessionsOfTargetsCheap = (
  iqns: ReadonlySet<string>,
  records: ReadonlyArray<NodeRecord>
): Q<ReadonlyArray<Session>> =>
  Effect.gen(function*() {
    const names = yield* list(Layout.byPathDir)
    const links = names.filter((name) => {
      const parsed = ByPath.parse(name)
      return parsed !== undefined && iqns.has(parsed.iqn)
    })
    const sids = new Set((yield* Effect.forEach(links, sessionOfByPathLink)).filter((sid) => sid !== undefined))
    const read = yield* Effect.forEach(sids, readSession)
    const sessions = read.flatMap((s) => (Option.isSome(s) && iqns.has(s.value.iqn) ? [s.value] : []))
    const covered = records.filter((r) => iqns.has(r.iqn)).every((r) => sessions.some((s) => isSessionOf(s, r)))
    return covered ? sessions : yield* sessionsOfTargets(iqns)
  })

/** The session of a node record, by a full scan (the thorough fallback). */
export const findSessionByScan = (node: NodeRecord): Q<Option.Option<Session>> =>
  Effect.map(
    sessionsOfTargets(new Set([node.iqn])),
    (all) => Option.fromUndefinedOr(all.find((s) => isSessionOf(s, node)))
  )

/** `…/host3/session2/target3:0:0/3:0:0:1/block/sdc` → session 2 and 3:0:0:1. */
const parseBlockLink = (link: string): { sid: number; hctl: Hctl.Hctl } | undefined => {
  const m = /(?:^|\/)session(\d+)\/target\d+:\d+:\d+\/(\d+:\d+:\d+:\d+)\/block\//.exec(link)
  const hctl = m ? Hctl.parse(m[2]!) : undefined
  return m && hctl ? { sid: Number(m[1]), hctl } : undefined
}

/** The session whose SCSI disk a /dev/disk/by-path link points to. */
const sessionOfByPathLink = (name: string): Q<number | undefined> =>
  Effect.gen(function*() {
    const target = yield* readlink(HostPath.join(Layout.byPathDir, name))
    if (Option.isNone(target)) return undefined
    const sd = Layout.linkBaseName(target.value)
    if (!Layout.isSdName(sd)) return undefined
    const blockLink = yield* readlink(Layout.blockDir(sd))
    return Option.isSome(blockLink) ? parseBlockLink(blockLink.value)?.sid : undefined
  })

/**
 * The session of a node record found cheaply through /dev/disk/by-path: one
 * listing, then only the links of that portal and target. Finds sessions that
 * have at least one LUN device with a udev link; `none` says nothing about
 * sessions without one.
 */
export const findSessionByPath = (node: NodeRecord): Q<Option.Option<Session>> =>
  Effect.gen(function*() {
    const names = yield* list(Layout.byPathDir)
    const seen = new Set<number>()
    for (const name of names) {
      const parsed = ByPath.parse(name)
      if (parsed === undefined || parsed.portal !== node.portal || parsed.iqn !== node.iqn) continue
      const sid = yield* sessionOfByPathLink(name)
      if (sid === undefined || seen.has(sid)) continue
      seen.add(sid)
      const session = yield* readSession(sid)
      if (Option.isSome(session) && isSessionOf(session.value, node)) return session
    }
    return Option.none()
  })

/**
 * The session of `node` among those not in `before` (a login's new session):
 * reads only the new sessions' files.
 */
export const findNewSession = (node: NodeRecord, before: ReadonlySet<number>): Q<Option.Option<Session>> =>
  Effect.gen(function*() {
    const added = (yield* sessionIds).filter((sid) => !before.has(sid))
    for (const sid of added) {
      const iqn = yield* targetName(sid)
      if (Option.isNone(iqn) || iqn.value !== node.iqn) continue
      const session = yield* completeSession(sid, iqn.value)
      if (isSessionOf(session, node)) return Option.some(session)
    }
    return Option.none()
  })

/** The SCSI targets (`targetH:C:T`) under a session. */
export const targetsOf = (
  sid: number
): Q<ReadonlyArray<{ host: number; channel: number; target: number; name: string }>> =>
  Effect.map(list(Layout.sessionDeviceDir(sid)), (names) => {
    const targets: Array<{ host: number; channel: number; target: number; name: string }> = []
    for (const name of names) {
      const t = Layout.parseTargetName(name)
      if (t !== undefined) targets.push({ host: t.host, channel: t.channel, target: t.target, name })
    }
    return targets
  })

/** Every LUN device (H:C:T:L) under a session, with its block name when it has one. */
export const devicesOf = (sid: number): Q<ReadonlyArray<Hctl.Hctl>> =>
  Effect.gen(function*() {
    const targets = yield* targetsOf(sid)
    const perTarget = yield* Effect.forEach(targets, (t) =>
      Effect.map(
        list(Layout.sessionTargetDir(sid, t.name)),
        (names) =>
          names.flatMap((n) => {
            const a = Hctl.parse(n)
            return a !== undefined && a.host === t.host && a.channel === t.channel && a.target === t.target ? [a] : []
          })
      ))
    return perTarget.flat()
  })

/** The devices of one kernel LUN under a session. */
export const lunDevicesOf = (sid: number, kernelLun: number): Q<ReadonlyArray<Hctl.Hctl>> =>
  Effect.map(devicesOf(sid), (all) => all.filter((a) => a.lun === kernelLun))

/** The block device name (`sdb`) of a SCSI device, once it has one. */
export const blockOf = (hctl: Hctl.Hctl): Q<Option.Option<string>> =>
  Effect.map(list(Layout.scsiDeviceFile(hctl, "block")), (names) => Option.fromUndefinedOr(names.find(Layout.isSdName)))

/** A SCSI device's WWN (from `device/wwid`), once the kernel has read it. */
export const wwnOf = (hctl: Hctl.Hctl): Q<Option.Option<Wwn>> =>
  Effect.map(
    read(Layout.scsiDeviceFile(hctl, "wwid")),
    (w) => Option.flatMap(w, (text) => (text.trim() === "" ? Option.none() : Option.some(fromSysfsWwid(text))))
  )

/** A SCSI device's block name and WWN. */
export const deviceOf = (hctl: Hctl.Hctl): Q<ScsiDevice> =>
  Effect.map(Effect.all({ block: blockOf(hctl), wwn: wwnOf(hctl) }), ({ block, wwn }) => ({ hctl, block, wwn }))

/** The dm map holding a block device (`dm-3`), if any. */
export const holderOf = (block: string): Q<Option.Option<string>> =>
  Effect.map(list(Layout.blockFile(block, "holders")), (names) => Option.fromUndefinedOr(names.find(Layout.isDmName)))

/** A dm map's name and uuid (`mpath-<wwid>` for multipath maps). */
export const mapOf = (dm: string): Q<{ readonly name: Option.Option<string>; readonly uuid: Option.Option<string> }> =>
  Effect.gen(function*() {
    const name = yield* read(Layout.blockFile(dm, "dm/name"))
    const uuid = yield* read(Layout.blockFile(dm, "dm/uuid"))
    return { name, uuid }
  })

/** The dm device (`dm-3`) of the map named `name` (/dev/mapper/NAME), if it exists. */
export const mapByName = (name: string): Q<Option.Option<string>> =>
  /^[A-Za-z0-9._:-]{1,128}$/.test(name)
    ? Effect.map(readlink(HostPath.make(`/dev/mapper/${name}`)), (link) =>
      Option.filter(Option.map(link, Layout.linkBaseName), Layout.isDmName))
    : Effect.succeed(Option.none())

/** The path devices (`sdb`) under a dm map. */
export const slavesOf = (dm: string): Q<ReadonlyArray<string>> => list(Layout.blockFile(dm, "slaves"))

/** Whether a dm map is the multipath map of `wwn`. */
export const isMultipathMapOf = (uuid: Option.Option<string>, wwn: Wwn): boolean =>
  Option.isSome(uuid) && uuid.value === `mpath-${wwn}`

/** The hardware addresses of the host's iSCSI HBAs (software hosts have none). */
export const hbaHwaddresses: Q<ReadonlyArray<string>> = Effect.gen(function*() {
  const hosts = yield* list(Layout.iscsiHostsDir)
  const addresses = yield* Effect.forEach(hosts, (h) => {
    const m = /^host(\d+)$/.exec(h)
    return m ? read(Layout.iscsiHostFile(Number(m[1]), "hwaddress")) : Effect.succeed(Option.none<string>())
  })
  return addresses.flatMap((a) =>
    Option.isSome(a) && /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(a.value.trim()) ? [a.value.trim()] : []
  )
})
