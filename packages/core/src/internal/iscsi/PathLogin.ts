/**
 * The session of one path: the session that exists for (portal, iqn, iface)
 * when there is one, else a node record and a login, retried on `default`
 * when a custom iface's login fails and the connect allows it. What it
 * creates goes in the path's ledger first; a failed attempt is rolled back.
 */
import { Clock, Effect, Option, Result } from "effect"
import type { PathFailure } from "../../BrickError.ts"
import type { PlannedPath } from "../../iscsi/ConnectPlan.ts"
import { defaultIface, type IfaceName } from "../../iscsi/IfaceName.ts"
import { Iscsiadm, type IscsiadmError, type NodeRecord, type NodeSettings } from "../../iscsi/Iscsiadm.ts"
import type { Multipath } from "../../Multipath.ts"
import type { Sysfs } from "../../Sysfs.ts"
import type { Ledger, Recorder } from "../Ledger.ts"
import * as Poll from "../Poll.ts"
import * as IscsiUndo from "./IscsiUndo.ts"
import { hostFailure, type PathContext, pathFailure } from "./PathContext.ts"
import * as Sessions from "./Sessions.ts"

/** How often a login's session is looked for in sysfs before the login counts as failed. */
const sessionLookups = 40

/**
 * Makes (or updates) a node record: recorded first unless it existed when
 * the connect began (so an interruption mid-way is undone too). A record
 * that existed keeps its `node.startup` (someone else's choice); only the
 * other settings (a manual scan, so that only the volume's LUN is scanned)
 * are written to it, and that is logged.
 */
export const createRecord = (
  ledger: Recorder<IscsiUndo.Entry>,
  nodesBefore: ReadonlyArray<NodeRecord>,
  node: NodeRecord,
  settings: NodeSettings
): Effect.Effect<Result.Result<void, IscsiadmError>, never, Iscsiadm> =>
  Effect.gen(function*() {
    if (!IscsiUndo.hasNode(nodesBefore, node)) {
      yield* ledger.record({ _tag: "Node", node })
      return yield* Effect.result(Iscsiadm.use((i) => i.createNode(node, settings)))
    }
    const { startup: _startup, ...kept } = settings
    yield* Effect.logInfo(
      `node record ${node.portal} ${node.iqn} existed: node.startup left as it is${
        kept.scan === undefined ? "" : `, node.session.scan set to ${kept.scan}`
      }`
    )
    return yield* Effect.result(Iscsiadm.use((i) => i.createNode(node, kept)))
  })

/**
 * A failed login's path tag. A rejected login (open-iscsi exit 19) is an
 * authentication failure when the record asks the target to prove itself
 * (mutual CHAP): the initiator refusing the target's response is what ends
 * such a login (the lab's fixture login-mutual-chap-wrong); without mutual
 * CHAP it is a plain login failure (e.g. a target the portal does not know).
 */
const loginFailureTag = (e: IscsiadmError, settings: NodeSettings): PathFailure["_tag"] => {
  const mutual = settings.auth !== undefined && Option.isSome(settings.auth) &&
    Option.isSome(settings.auth.value.usernameIn)
  return e.reason._tag === "AuthenticationFailed" || (e.reason._tag === "LoginRejected" && mutual)
    ? "AuthenticationFailed"
    : e.reason._tag === "Timeout"
    ? "LoginTimeout"
    : "LoginFailed"
}

/**
 * The sessions to a path's portal and target through other ifaces than
 * `iface` (another tool's, an operator's): never used, never touched. The
 * path logs in its own session beside them, so that brick's disconnect,
 * which acts on brick's ifaces' sessions only, never logs them out; the log
 * and the result say so.
 */
const noteOthers = (others: ReadonlyArray<Sessions.Session>, iface: IfaceName) =>
  others.length === 0 ? Effect.void : Effect.logInfo(
    `${others.map((s) => `session ${s.sid} through iface ${s.iface}`).join(", ")} also reaches this portal ` +
      `and target: not brick's iface, left alone; brick uses its own session through ${iface}`
  )

/** Reuses the session of a path through one iface, or makes its record and logs in. */
const sessionThrough = (
  ctx: PathContext,
  ledger: Ledger<IscsiUndo.Entry>,
  path: PlannedPath,
  iface: IfaceName,
  others: Array<Sessions.Session>
): Effect.Effect<Sessions.Session, PathFailure, Iscsiadm | Sysfs | Multipath> =>
  Effect.gen(function*() {
    const node: NodeRecord = { portal: path.portal, iqn: path.iqn, iface }
    const toHost = hostFailure(path, iface)
    const linked = yield* Effect.mapError(Sessions.sessionsByPath(node.portal, node.iqn), toHost)
    others.splice(0, others.length, ...linked.filter((s) => s.iface !== iface))
    yield* noteOthers(others, iface)
    const existing = linked.find((s) => Sessions.isSessionOf(s, node))
    if (existing !== undefined) {
      yield* Effect.logDebug(`reusing session ${existing.sid}`)
      return existing
    }
    const rollbackAttempt = ledger.rollback(yield* ledger.mark, IscsiUndo.undo)
    if (!ctx.prepared.has(IscsiUndo.nodeKey(node))) {
      const created = yield* createRecord(ledger, ctx.nodesBefore, node, ctx.settings)
      if (Result.isFailure(created)) {
        yield* rollbackAttempt
        return yield* Effect.fail(toHost(created.failure))
      }
    }
    const before = new Set(yield* Effect.mapError(Sessions.sessionIds, toHost))
    yield* ledger.record({ _tag: "Login", node, before })
    const timeoutMs = ctx.options.loginTimeout * 1000 + 2000
    const login = yield* Iscsiadm.use((i) => i.login(node)).pipe(
      Effect.timeoutOption(timeoutMs),
      Effect.map((o) => (Option.isSome(o) ? "ok" as const : "timeout" as const)),
      Effect.catch((e: IscsiadmError) => Effect.succeed(e)),
      Effect.withSpan("brick.login", { attributes: { portal: path.portal, iqn: path.iqn, iface } })
    )
    if (login === "ok") {
      for (let i = 0; i < sessionLookups; i++) {
        const found = yield* Effect.mapError(Sessions.findNewSession(node, before), toHost)
        if (Option.isSome(found)) {
          yield* ledger.record({ _tag: "Session", node, sid: found.value.sid })
          yield* Effect.logInfo(`logged in: session ${found.value.sid}`)
          return found.value
        }
        yield* Poll.wait(i, ctx.options.pollInterval)
      }
      return yield* Effect.fail(
        pathFailure(path, iface, "HostError", "login succeeded but no session appeared in sysfs")
      )
    }
    if (login !== "timeout" && login.reason._tag === "SessionExists") {
      // iscsid may still be logging in through this record (a login cut short earlier, its portal slow to
      // answer): its session shows in sysfs once connected, so it is waited for up to the login timeout
      const deadline = (yield* Clock.currentTimeMillis) + ctx.options.loginTimeout * 1000
      for (let i = 0;; i++) {
        const found = yield* Effect.mapError(Sessions.findSessionByScan(node), toHost)
        if (Option.isSome(found)) {
          yield* Effect.logDebug(`reusing session ${found.value.sid} (login said it exists)`)
          return found.value
        }
        if ((yield* Clock.currentTimeMillis) >= deadline) break
        if (i === 0) yield* Effect.logInfo("iscsid reports a session sysfs does not show yet: waiting for it")
        yield* Effect.sleep(Math.min(1000, 50 * 2 ** i))
      }
      return yield* Effect.fail(
        pathFailure(path, iface, "HostError", "iscsiadm reports a session that sysfs does not show")
      )
    }
    yield* rollbackAttempt
    const tag = login === "timeout" ? "LoginTimeout" as const : loginFailureTag(login, ctx.settings)
    const detail = login === "timeout" ? `no answer within ${timeoutMs} ms` : login.message
    yield* Effect.logWarning(`login through ${iface} failed: ${detail}`)
    return yield* Effect.fail(pathFailure(path, iface, tag, detail))
  })

/** A path's session, the iface that served it, and the sessions of other ifaces to its portal and target. */
export interface PathSession {
  readonly session: Sessions.Session
  readonly iface: IfaceName
  readonly others: ReadonlyArray<Sessions.Session>
}

/** The session of a path and the iface that served it, falling back to `default` when a custom iface's login fails. */
export const sessionFor = (
  ctx: PathContext,
  ledger: Ledger<IscsiUndo.Entry>,
  path: PlannedPath
): Effect.Effect<PathSession, PathFailure, Iscsiadm | Sysfs | Multipath> => {
  const others: Array<Sessions.Session> = []
  return sessionThrough(ctx, ledger, path, ctx.iface, others).pipe(
    Effect.map((session) => ({ session, iface: ctx.iface, others })),
    Effect.catch((f: PathFailure) =>
      ctx.fallback && ctx.iface !== defaultIface && (f._tag === "LoginFailed" || f._tag === "HostError")
        ? Effect.logWarning(`retrying ${path.portal} on the default iface`).pipe(
          Effect.andThen(sessionThrough(ctx, ledger, path, defaultIface, others)),
          Effect.map((session) => ({ session, iface: defaultIface, others }))
        )
        : Effect.fail(f)
    )
  )
}
