/**
 * iSCSI session queries through `Sysfs`: the sessions there are, a session's
 * target, portal, iface and SCSI host, its SCSI targets and LUN devices, and
 * the session a node record logs in (`isSessionOf`, the one rule for that).
 * Nothing here writes.
 *
 * Cost: per-attach work must not grow with unrelated sessions, so an existing
 * session is found through the by-path listing (`findSessionByPath`), a
 * login's new session among the sessions that were not there before it
 * (`findNewSession`), and a volume's sessions through its by-path links
 * (`sessionsOfTargetsCheap`). Only `sessionsOfTargets` (their fallback)
 * reads every session's target name.
 */
import { Effect, Option } from "effect"
import type * as Hctl from "../../Hctl.ts"
import * as HostPath from "../../HostPath.ts"
import * as ByPath from "../../iscsi/ByPath.ts"
import type { NodeRecord } from "../../iscsi/Iscsiadm.ts"
import * as Portal from "../../iscsi/Portal.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import * as ScsiDevices from "../scsi/ScsiDevices.ts"
import * as Layout from "../SysfsLayout.ts"
import * as IscsiLayout from "./IscsiLayout.ts"

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

type Q<A> = Effect.Effect<A, SysfsError, Sysfs>

const read = (path: HostPath.HostPath): Q<Option.Option<string>> => Sysfs.use((s) => s.read(path))
const readlink = (path: HostPath.HostPath): Q<Option.Option<string>> => Sysfs.use((s) => s.readlink(path))

/**
 * Whether a session is the one a node record logs in: the same target IQN,
 * the same canonical portal (`persistent_address:persistent_port`) and the
 * same iface (`ifacename`, where empty and `<empty>` mean `default`). This is
 * the rule for "may this session use (or be served by) this record" too.
 */
export const isSessionOf = (s: Session, node: NodeRecord): boolean =>
  s.iqn === node.iqn && s.iface === node.iface && Option.getOrUndefined(s.portal) === node.portal

/** The iface a session's `ifacename` names (`default` when it is unset). */
export const ifaceOfSession = (ifacename: Option.Option<string>): string => {
  const name = Option.getOrElse(ifacename, () => "default")
  return name === "" || name === "<empty>" ? "default" : name
}

/** The canonical portal of an address and port as sysfs prints them. */
export const portalOf = (address: string, port: string): Option.Option<string> => {
  const host = address.trim()
  const parts = Portal.parse(host.includes(":") ? `[${host}]:${port.trim()}` : `${host}:${port.trim()}`)
  return parts === undefined ? Option.none() : Option.some(Portal.format(parts))
}

/** The ids of all sessions (one listing). */
export const sessionIds: Q<ReadonlyArray<number>> = Effect.map(
  Sysfs.use((s) => s.list(IscsiLayout.sessionsDir)),
  (names) =>
    names.flatMap((name) => {
      const sid = IscsiLayout.parseSessionName(name)
      return sid === undefined ? [] : [sid]
    })
)

/** A session's target name only (one read); none when the session is gone. */
const targetName = (sid: number): Q<Option.Option<string>> => read(IscsiLayout.sessionFile(sid, "targetname"))

/** The SCSI targets (`targetH:C:T`) under a session. */
export const targetsOf = (sid: number): Q<ReadonlyArray<ScsiDevices.ScsiTarget>> =>
  ScsiDevices.targetsIn(IscsiLayout.sessionDeviceDir(sid))

/** Every LUN device (H:C:T:L) under a session. */
export const devicesOf = (sid: number): Q<ReadonlyArray<Hctl.Hctl>> =>
  Effect.gen(function*() {
    const targets = yield* targetsOf(sid)
    const perTarget = yield* Effect.forEach(
      targets,
      (t) => ScsiDevices.devicesOfTarget(IscsiLayout.sessionTargetDir(sid, t.name), t)
    )
    return perTarget.flat()
  })

/** The devices of one kernel LUN under a session. */
export const lunDevicesOf = (sid: number, kernelLun: number): Q<ReadonlyArray<Hctl.Hctl>> =>
  Effect.map(devicesOf(sid), (all) => all.filter((a) => a.lun === kernelLun))

/** The SCSI host of a session, from its class link (falling back to its target directories). */
const hostOf = (sid: number): Q<Option.Option<number>> =>
  Effect.gen(function*() {
    const link = yield* readlink(IscsiLayout.sessionDir(sid))
    const fromLink = Option.flatMap(link, (l) => Option.fromUndefinedOr(IscsiLayout.hostOfSessionLink(l)))
    if (Option.isSome(fromLink)) return fromLink
    const targets = yield* targetsOf(sid)
    return Option.fromUndefinedOr(targets[0]?.host)
  })

const completeSession = (sid: number, iqn: string): Q<Session> =>
  Effect.gen(function*() {
    const { address, host, iface, port } = yield* Effect.all({
      iface: read(IscsiLayout.sessionFile(sid, "ifacename")),
      address: read(IscsiLayout.connectionFile(sid, "persistent_address")),
      port: read(IscsiLayout.connectionFile(sid, "persistent_port")),
      host: hostOf(sid)
    })
    const portal = Option.isSome(address) && Option.isSome(port) ? portalOf(address.value, port.value) : Option.none()
    return { sid, iqn, portal, iface: ifaceOfSession(iface), host }
  })

/** Reads a whole session; none when it is gone (or not an iSCSI session). */
const readSession = (sid: number): Q<Option.Option<Session>> =>
  Effect.gen(function*() {
    const iqn = yield* targetName(sid)
    if (Option.isNone(iqn)) return Option.none()
    return Option.some(yield* completeSession(sid, iqn.value))
  })

/**
 * All sessions to any of `iqns` (reads every session's target name: use it
 * when thoroughness matters more than cost).
 */
export const sessionsOfTargets = (iqns: ReadonlySet<string>): Q<ReadonlyArray<Session>> =>
  Effect.gen(function*() {
    const found = yield* Effect.forEach(yield* sessionIds, (sid) =>
      Effect.flatMap(targetName(sid), (iqn) =>
        Option.isSome(iqn) && iqns.has(iqn.value)
          ? Effect.map(completeSession(sid, iqn.value), Option.some)
          : Effect.succeed(Option.none<Session>())))
    return found.flatMap((o) => (Option.isSome(o) ? [o.value] : []))
  })

/** The session of a node record, by a full scan (the thorough fallback). */
export const findSessionByScan = (node: NodeRecord): Q<Option.Option<Session>> =>
  Effect.map(
    sessionsOfTargets(new Set([node.iqn])),
    (all) => Option.fromUndefinedOr(all.find((s) => isSessionOf(s, node)))
  )

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

/** Whether a session's `state` reads LOGGED_IN: its SCSI host can be scanned. */
export const isLoggedIn = (sid: number): Q<boolean> =>
  Effect.map(read(IscsiLayout.sessionFile(sid, "state")), (state) => Option.getOrUndefined(state) === "LOGGED_IN")

/** The session whose SCSI disk a /dev/disk/by-path link points to. */
const sessionOfByPathLink = (name: string): Q<number | undefined> =>
  Effect.gen(function*() {
    const target = yield* readlink(HostPath.join(Layout.byPathDir, name))
    if (Option.isNone(target)) return undefined
    const sd = Layout.linkBaseName(target.value)
    if (!Layout.isSdName(sd)) return undefined
    const blockLink = yield* readlink(Layout.blockDir(sd))
    return Option.isSome(blockLink) ? IscsiLayout.parseBlockLink(blockLink.value)?.sid : undefined
  })

/** The by-path link names whose portal and target pass `keep` (one listing). */
const byPathLinks = (keep: (name: ByPath.ByPathName) => boolean): Q<ReadonlyArray<string>> =>
  Effect.map(Sysfs.use((s) => s.list(Layout.byPathDir)), (names) =>
    names.filter((name) => {
      const parsed = ByPath.parse(name)
      return parsed !== undefined && keep(parsed)
    }))

/**
 * The sessions to a portal and target (through any iface) found cheaply
 * through /dev/disk/by-path: one listing, then only the links of that portal
 * and target. Finds sessions that have at least one LUN device with a udev
 * link; it says nothing about sessions without one.
 */
export const sessionsByPath = (portal: string, iqn: string): Q<ReadonlyArray<Session>> =>
  Effect.gen(function*() {
    const links = yield* byPathLinks((p) => p.portal === portal && p.iqn === iqn)
    const seen = new Set<number>()
    const sessions: Array<Session> = []
    for (const name of links) {
      const sid = yield* sessionOfByPathLink(name)
      if (sid === undefined || seen.has(sid)) continue
      seen.add(sid)
      const session = yield* readSession(sid)
      if (Option.isSome(session) && session.value.iqn === iqn) sessions.push(session.value)
    }
    return sessions
  })

/** The session of a node record found cheaply through /dev/disk/by-path (see sessionsByPath). */
export const findSessionByPath = (node: NodeRecord): Q<Option.Option<Session>> =>
  Effect.map(
    sessionsByPath(node.portal, node.iqn),
    (all) => Option.fromUndefinedOr(all.find((s) => isSessionOf(s, node)))
  )

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
    const links = yield* byPathLinks((p) => iqns.has(p.iqn))
    const sids = new Set((yield* Effect.forEach(links, sessionOfByPathLink)).filter((sid) => sid !== undefined))
    const read = yield* Effect.forEach(sids, readSession)
    const sessions = read.flatMap((s) => (Option.isSome(s) && iqns.has(s.value.iqn) ? [s.value] : []))
    const covered = records.filter((r) => iqns.has(r.iqn)).every((r) => sessions.some((s) => isSessionOf(s, r)))
    return covered ? sessions : yield* sessionsOfTargets(iqns)
  })
