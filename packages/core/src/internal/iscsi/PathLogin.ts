/**
 * The session of one path: the session that exists for (portal, iqn, iface)
 * when there is one, else a node record and a login, retried on `default`
 * when the login through a custom iface fails and the connect allows it. What it
 * creates goes in the path's ledger first; a failed attempt is rolled back.
 *
 * A new session is handed on as soon as sysfs shows it LOGGED_IN, while the
 * login command is still ending: the caller scans for the LUN meanwhile and
 * then waits for the command (`LoginEnd`), which must still succeed.
 */
import { Clock, Effect, Exit, Fiber, Option, Result } from "effect"
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

/** The end of a login command still running when its session was handed on. */
export interface LoginEnd {
  /** Waits for the command; fails when it did not succeed after all. */
  readonly join: Effect.Effect<void, PathFailure>
  /** Stops the command (and waits for it). */
  readonly cancel: Effect.Effect<void>
}

const ended: LoginEnd = { join: Effect.void, cancel: Effect.void }

/** A session and the end of its login, if that is still running. */
interface Reached {
  readonly session: Sessions.Session
  readonly loginEnd: LoginEnd
}

/**
 * Runs `effect` (the device lookup on the path's session) while the login
 * command ends, then waits for that; when either fails, or the path is
 * interrupted, the command is stopped before the path's undo runs.
 */
export const alongsideLogin = <A, R>(
  loginEnd: LoginEnd,
  effect: Effect.Effect<A, PathFailure, R>
): Effect.Effect<A, PathFailure, R> =>
  Effect.gen(function*() {
    const a = yield* effect
    yield* loginEnd.join
    return a
  }).pipe(Effect.onExit((exit) => (Exit.isFailure(exit) ? loginEnd.cancel : Effect.void)))

/** Polls for the login's new session until sysfs shows it LOGGED_IN (never ends otherwise). */
const loggedInSession = (node: NodeRecord, before: ReadonlySet<number>, pollInterval: number) =>
  Effect.gen(function*() {
    for (let i = 0;; i++) {
      const found = yield* Sessions.findNewSession(node, before)
      if (Option.isSome(found) && (yield* Sessions.isLoggedIn(found.value.sid))) return found.value
      yield* Poll.wait(i, pollInterval)
    }
  })

/** Reuses the session of a path through one iface, or makes its record and logs in. */
const sessionThrough = (
  ctx: PathContext,
  ledger: Ledger<IscsiUndo.Entry>,
  path: PlannedPath,
  iface: IfaceName
): Effect.Effect<PathSession, PathFailure, Iscsiadm | Sysfs | Multipath> =>
  Effect.gen(function*() {
    const linked = yield* Effect.mapError(Sessions.sessionsByPath(path.portal, path.iqn), hostFailure(path, iface))
    const others = linked.filter((s) => s.iface !== iface)
    yield* noteOthers(others, iface)
    const reached = yield* reach(ctx, ledger, path, iface, linked)
    return { ...reached, iface, others }
  })

/** Reuses the session of `linked` (the sessions to the path's portal and target) through `iface`, or logs in. */
const reach = (
  ctx: PathContext,
  ledger: Ledger<IscsiUndo.Entry>,
  path: PlannedPath,
  iface: IfaceName,
  linked: ReadonlyArray<Sessions.Session>
): Effect.Effect<Reached, PathFailure, Iscsiadm | Sysfs | Multipath> =>
  Effect.gen(function*() {
    const node: NodeRecord = { portal: path.portal, iqn: path.iqn, iface }
    const toHost = hostFailure(path, iface)
    const existing = linked.find((s) => Sessions.isSessionOf(s, node))
    if (existing !== undefined) {
      yield* Effect.logDebug(`reusing session ${existing.sid}`)
      return { session: existing, loginEnd: ended }
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
    const running = yield* Effect.forkChild(
      Iscsiadm.use((i) => i.login(node)).pipe(
        Effect.timeoutOption(timeoutMs),
        Effect.map((o) => (Option.isSome(o) ? "ok" as const : "timeout" as const)),
        Effect.catch((e: IscsiadmError) => Effect.succeed(e)),
        Effect.withSpan("brick.login", { attributes: { portal: path.portal, iqn: path.iqn, iface } })
      )
    )
    const early = yield* Effect.raceFirst(
      Effect.as(Fiber.await(running), Option.none<Sessions.Session>()),
      // a sysfs read failing here (a session torn down as it appears: ENODEV) leaves the outcome to the command
      Effect.map(Effect.catch(loggedInSession(node, before, ctx.options.pollInterval), () => Effect.never), Option.some)
    ).pipe(
      Effect.mapError(toHost),
      Effect.onError(() => Fiber.interrupt(running))
    )
    if (Option.isSome(early)) {
      const session = early.value
      yield* ledger.record({ _tag: "Session", node, sid: session.sid })
      yield* Effect.logInfo(`logged in: session ${session.sid} (LOGGED_IN in sysfs; the login command still ends)`)
      const join = Effect.flatMap(Fiber.join(running), (outcome) => {
        if (outcome === "ok") return Effect.void
        const tag = outcome === "timeout" ? "LoginTimeout" as const : loginFailureTag(outcome, ctx.settings)
        const detail = outcome === "timeout" ? `no answer within ${timeoutMs} ms` : outcome.message
        return Effect.fail(
          pathFailure(path, iface, tag, `session ${session.sid} came up but the login failed: ${detail}`)
        )
      })
      return { session, loginEnd: { join, cancel: Fiber.interrupt(running) } }
    }
    const login = yield* Fiber.join(running)
    if (login === "ok") {
      for (let i = 0; i < sessionLookups; i++) {
        const found = yield* Effect.mapError(Sessions.findNewSession(node, before), toHost)
        if (Option.isSome(found)) {
          yield* ledger.record({ _tag: "Session", node, sid: found.value.sid })
          yield* Effect.logInfo(`logged in: session ${found.value.sid}`)
          return { session: found.value, loginEnd: ended }
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
          return { session: found.value, loginEnd: ended }
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
export interface PathSession extends Reached {
  readonly iface: IfaceName
  readonly others: ReadonlyArray<Sessions.Session>
}

/**
 * Whether a failed login through a custom iface is worth retrying on
 * `default`: every failure but a refused authentication (the target was
 * reached and turned the credentials down; `default` would present the same
 * ones). A timeout is retried: an iSER login to a portal without an iSER
 * listener gets no answer at all and iscsiadm gives up with exit 8 after
 * `loginTimeout` (measured in the lab), and an iface bound to a netdev that
 * does not reach the portal fails the same way.
 */
export const retriesOnDefault = (f: PathFailure): boolean =>
  f._tag === "LoginFailed" || f._tag === "LoginTimeout" || f._tag === "HostError"

/**
 * The session of a path and the iface that served it, falling back to
 * `default` when the login through the plan's iface fails and the connect
 * allows it (`retriesOnDefault`), with a warning naming both.
 */
export const sessionFor = (
  ctx: PathContext,
  ledger: Ledger<IscsiUndo.Entry>,
  path: PlannedPath
): Effect.Effect<PathSession, PathFailure, Iscsiadm | Sysfs | Multipath> =>
  sessionThrough(ctx, ledger, path, ctx.iface).pipe(
    Effect.catch((f: PathFailure) =>
      ctx.fallback && ctx.iface !== defaultIface && retriesOnDefault(f)
        ? Effect.logWarning(
          `login to ${path.portal} through iface ${ctx.iface} (transport ${ctx.transport}) failed (${f._tag}): ` +
            `retrying on the default iface (tcp)`
        ).pipe(Effect.andThen(sessionThrough(ctx, ledger, path, defaultIface)))
        : Effect.fail(f)
    )
  )
