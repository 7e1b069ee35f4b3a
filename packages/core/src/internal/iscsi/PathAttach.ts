/**
 * One path of a connect: find or make the session for (portal, iqn, iface),
 * then find the LUN's SCSI device through sysfs with targeted scans. Each
 * path keeps its own ledger: when it fails or is interrupted it undoes what
 * it created itself; when it succeeds it hands its entries to the connect's
 * ledger. Must run while the connect holds the path's target lock.
 */
import { Clock, Effect, Exit, Option, Ref, Result } from "effect"
import type { BlockDevice } from "../../BlockDevice.ts"
import type { PathFailure } from "../../BrickError.ts"
import * as Hctl from "../../Hctl.ts"
import type { ConnectorOptions } from "../../iscsi/ConnectorOptions.ts"
import type { PlannedPath } from "../../iscsi/ConnectPlan.ts"
import { defaultIface, type IfaceName } from "../../iscsi/IfaceName.ts"
import { Iscsiadm, type IscsiadmError, type NodeRecord, type NodeSettings } from "../../iscsi/Iscsiadm.ts"
import type { Multipath } from "../../Multipath.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import type { Wwn } from "../../Wwn.ts"
import * as Ledger from "../Ledger.ts"
import * as Poll from "../Poll.ts"
import * as ScsiDevices from "../scsi/ScsiDevices.ts"
import * as Sessions from "./Sessions.ts"

/** What every path of one connect shares. */
export interface PathContext {
  /** The iface the plan chose. */
  readonly iface: IfaceName
  /** Retry a failed login on `default` (ifaceFallback, and the iface is not `default`). */
  readonly fallback: boolean
  readonly settings: NodeSettings
  readonly options: ConnectorOptions
  /** The node records that existed when the connect began. */
  readonly nodesBefore: ReadonlyArray<NodeRecord>
  /** Keys (Ledger.nodeKey) of the records the connect made before the logins (in its own ledger). */
  readonly prepared: ReadonlySet<string>
  /** The volume's WWN, set by the first path that finds a device. */
  readonly volumeWwn: Ref.Ref<Option.Option<Wwn>>
  /** The connect's ledger; a successful path appends its entries. */
  readonly ledger: Ref.Ref<ReadonlyArray<Ledger.Created>>
}

/** A path whose device was found. */
export interface AttachedPath {
  readonly path: PlannedPath
  /** The iface that served it (`default` after a login fallback). */
  readonly iface: IfaceName
  readonly sid: number
  readonly hctl: Hctl.Hctl
  /** The block device name, `sdX`. */
  readonly block: string
  readonly wwn: Wwn
  /** Whether this connect scanned the device into existence. */
  readonly fresh: boolean
}

type Services = Iscsiadm | Sysfs | Multipath | BlockDevice

const failure = (path: PlannedPath, iface: IfaceName, tag: PathFailure["_tag"], detail: string): PathFailure => ({
  _tag: tag,
  portal: path.portal,
  iqn: path.iqn,
  lun: path.lun,
  iface,
  detail
})

/** A host read or write of one path failed. */
const hostFailure = (path: PlannedPath, iface: IfaceName) => (e: SysfsError | IscsiadmError): PathFailure =>
  failure(path, iface, "HostError", e.message)

const loginFailureTag = (e: IscsiadmError): PathFailure["_tag"] =>
  e.reason._tag === "AuthenticationFailed"
    ? "AuthenticationFailed"
    : e.reason._tag === "Timeout"
    ? "LoginTimeout"
    : "LoginFailed"

const push = (local: Ref.Ref<ReadonlyArray<Ledger.Created>>, entry: Ledger.Created) =>
  Ref.update(local, (l) => [...l, entry])

/**
 * Makes (or updates) a node record: put in `ledger` first unless it existed
 * when the connect began (so an interruption mid-way is undone too).
 */
export const createRecord = (
  ledger: Ref.Ref<ReadonlyArray<Ledger.Created>>,
  nodesBefore: ReadonlyArray<NodeRecord>,
  node: NodeRecord,
  settings: NodeSettings
): Effect.Effect<Result.Result<void, IscsiadmError>, never, Iscsiadm> =>
  Effect.gen(function*() {
    if (!Ledger.hasNode(nodesBefore, node)) yield* push(ledger, { _tag: "Node", node })
    return yield* Effect.result(Iscsiadm.use((i) => i.createNode(node, settings)))
  })

/** Logs in (or reuses the session) through one iface. */
const sessionThrough = (
  ctx: PathContext,
  local: Ref.Ref<ReadonlyArray<Ledger.Created>>,
  path: PlannedPath,
  iface: IfaceName
): Effect.Effect<Sessions.Session, PathFailure, Services> =>
  Effect.gen(function*() {
    const iscsiadm = yield* Iscsiadm
    const node: NodeRecord = { portal: path.portal, iqn: path.iqn, iface }
    const toHost = hostFailure(path, iface)
    const existing = yield* Effect.mapError(Sessions.findSessionByPath(node), toHost)
    if (Option.isSome(existing)) {
      yield* Effect.logDebug(`reusing session ${existing.value.sid}`)
      return existing.value
    }
    const mark = (yield* Ref.get(local)).length
    const rollbackAttempt = Effect.gen(function*() {
      const entries = yield* Ref.get(local)
      yield* Ledger.undo(entries.slice(mark))
      yield* Ref.set(local, entries.slice(0, mark))
    })
    if (!ctx.prepared.has(Ledger.nodeKey(node))) {
      const created = yield* createRecord(local, ctx.nodesBefore, node, ctx.settings)
      if (Result.isFailure(created)) {
        yield* rollbackAttempt
        return yield* Effect.fail(toHost(created.failure))
      }
    }
    const before = new Set(yield* Effect.mapError(Sessions.sessionIds, toHost))
    yield* push(local, { _tag: "Login", node, before })
    const timeoutMs = ctx.options.loginTimeout * 1000 + 2000
    const login = yield* iscsiadm.login(node).pipe(
      Effect.timeoutOption(timeoutMs),
      Effect.map((o) => (Option.isSome(o) ? "ok" as const : "timeout" as const)),
      Effect.catch((e: IscsiadmError) => Effect.succeed(e)),
      Effect.withSpan("brick.login", { attributes: { portal: path.portal, iqn: path.iqn, iface } })
    )
    if (login === "ok") {
      for (let i = 0; i < 40; i++) {
        const found = yield* Effect.mapError(Sessions.findNewSession(node, before), toHost)
        if (Option.isSome(found)) {
          yield* push(local, { _tag: "Session", node, sid: found.value.sid })
          yield* Effect.logInfo(`logged in: session ${found.value.sid}`)
          return found.value
        }
        yield* Poll.wait(i, ctx.options.pollInterval)
      }
      return yield* Effect.fail(failure(path, iface, "HostError", "login succeeded but no session appeared in sysfs"))
    }
    if (login !== "timeout" && login.reason._tag === "SessionExists") {
      const found = yield* Effect.mapError(Sessions.findSessionByScan(node), toHost)
      if (Option.isSome(found)) {
        yield* Effect.logDebug(`reusing session ${found.value.sid} (login said it exists)`)
        return found.value
      }
      return yield* Effect.fail(
        failure(path, iface, "HostError", "iscsiadm reports a session that sysfs does not show")
      )
    }
    yield* rollbackAttempt
    const tag = login === "timeout" ? "LoginTimeout" as const : loginFailureTag(login)
    const detail = login === "timeout" ? `no answer within ${timeoutMs} ms` : login.message
    yield* Effect.logWarning(`login through ${iface} failed: ${detail}`)
    return yield* Effect.fail(failure(path, iface, tag, detail))
  })

/** The session of a path, falling back to `default` when a custom iface's login fails. */
const sessionFor = (
  ctx: PathContext,
  local: Ref.Ref<ReadonlyArray<Ledger.Created>>,
  path: PlannedPath
): Effect.Effect<{ session: Sessions.Session; iface: IfaceName }, PathFailure, Services> =>
  sessionThrough(ctx, local, path, ctx.iface).pipe(
    Effect.map((session) => ({ session, iface: ctx.iface })),
    Effect.catch((f: PathFailure) =>
      ctx.fallback && ctx.iface !== defaultIface && (f._tag === "LoginFailed" || f._tag === "HostError")
        ? Effect.logWarning(`retrying ${path.portal} on the default iface`).pipe(
          Effect.andThen(sessionThrough(ctx, local, path, defaultIface)),
          Effect.map((session) => ({ session, iface: defaultIface }))
        )
        : Effect.fail(f)
    )
  )

/** The LUN's device on a session: looked up first, else scanned for, polled and re-scanned. */
const deviceFor = (
  ctx: PathContext,
  local: Ref.Ref<ReadonlyArray<Ledger.Created>>,
  path: PlannedPath,
  session: Sessions.Session,
  iface: IfaceName
): Effect.Effect<{ hctl: Hctl.Hctl; block: string; wwn: Wwn; fresh: boolean }, PathFailure, Sysfs> =>
  Effect.gen(function*() {
    const toHost = hostFailure(path, iface)
    const sid = session.sid
    const lun = path.kernelLun
    // on a session this path just logged in, every device is this connect's
    const loggedInHere = (yield* Ref.get(local)).some((e) => e._tag === "Session" && e.sid === sid)
    const before = loggedInHere
      ? []
      : (yield* Effect.mapError(Sessions.lunDevicesOf(sid, lun), toHost)).map(Hctl.format)
    const look = Effect.gen(function*() {
      for (const hctl of yield* Sessions.lunDevicesOf(sid, lun)) {
        const { block, wwn } = yield* ScsiDevices.deviceOf(hctl)
        if (Option.isNone(block) || Option.isNone(wwn)) continue
        return Option.some({ hctl, block: block.value, wwn: wwn.value, fresh: !before.includes(Hctl.format(hctl)) })
      }
      return Option.none()
    }).pipe(Effect.mapError(toHost))
    if (before.length > 0 || (loggedInHere && ctx.settings.scan === "auto")) {
      const found = yield* look
      if (Option.isSome(found)) return found.value
    }
    if (Option.isNone(session.host)) {
      return yield* Effect.fail(failure(path, iface, "HostError", `session ${sid} has no SCSI host in sysfs`))
    }
    const host = session.host.value
    const { deviceScanAttempts: attempts, deviceScanInterval: interval, pollInterval } = ctx.options
    yield* push(local, { _tag: "Scan", sid, kernelLun: lun, existing: before })
    let scans = 0
    let lastScan = 0
    let polls = 0
    for (;;) {
      const now = yield* Clock.currentTimeMillis
      if (scans < attempts && (scans === 0 || now - lastScan >= interval)) {
        const targets = yield* Effect.mapError(Sessions.targetsOf(sid), toHost)
        const lines = targets.length > 0
          ? targets.filter((t) => t.host === host).map((t) => [t.channel, t.target] as const)
          : []
        for (const [channel, target] of lines.length > 0 ? lines : [[undefined, undefined] as const]) {
          yield* Effect.mapError(ScsiDevices.scan(host, channel, target, lun), toHost)
        }
        scans++
        lastScan = now
        polls = 0
      }
      const found = yield* look
      if (Option.isSome(found)) return found.value
      if (scans >= attempts && now - lastScan >= interval) {
        return yield* Effect.fail(
          failure(path, iface, "DeviceNotFound", `LUN ${lun} did not appear after ${scans} scans`)
        )
      }
      yield* Poll.wait(polls++, pollInterval)
    }
  }).pipe(
    Effect.withSpan("brick.findDevice", { attributes: { portal: path.portal, iqn: path.iqn, lun: path.lun } })
  )

/**
 * Attaches one path. Fails with a `PathFailure` (never anything else) after
 * undoing what it created; on interruption undoes it as well.
 */
export const attachPath = (ctx: PathContext, path: PlannedPath): Effect.Effect<AttachedPath, PathFailure, Services> =>
  Effect.gen(function*() {
    const local = yield* Ref.make<ReadonlyArray<Ledger.Created>>([])
    const body = Effect.gen(function*() {
      const { iface, session } = yield* sessionFor(ctx, local, path)
      const device = yield* deviceFor(ctx, local, path, session, iface)
      const accepted = yield* Ref.modify(ctx.volumeWwn, (current) =>
        Option.isNone(current)
          ? [true, Option.some(device.wwn)] as const
          : [current.value === device.wwn, current] as const)
      if (!accepted) {
        const expected = Option.getOrElse(yield* Ref.get(ctx.volumeWwn), () => "")
        return yield* Effect.fail(
          failure(
            path,
            iface,
            "WwnMismatch",
            `device ${device.block} has WWN ${device.wwn}, the volume's is ${expected}`
          )
        )
      }
      yield* Effect.logDebug(`path device ${device.block} (${Hctl.format(device.hctl)})`)
      return { path, iface, sid: session.sid, ...device }
    })
    return yield* body.pipe(
      Effect.onExit((exit) =>
        Effect.flatMap(
          Ref.get(local),
          (entries) => Exit.isSuccess(exit) ? Ref.update(ctx.ledger, (l) => [...l, ...entries]) : Ledger.undo(entries)
        )
      )
    )
  }).pipe(
    Effect.annotateLogs({ portal: path.portal, iqn: path.iqn, lun: path.lun }),
    Effect.withSpan("brick.attachPath", { attributes: { portal: path.portal, iqn: path.iqn, lun: path.lun } })
  )
