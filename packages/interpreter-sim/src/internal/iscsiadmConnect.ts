/**
 * The connections a simulated host's iscsiadm makes: sendtargets discovery
 * and logins, through the simulated network, with transport, iface and CHAP
 * checks and open-iscsi's exit codes.
 */
import type { Iqn, Iscsiadm, Portal } from "@brick/core"
import { type Context, Effect, Option, Redacted } from "effect"
import type { SimIface } from "../SimModel.ts"
import * as SimNames from "../SimNames.ts"
import * as SimNodeDb from "../SimNodeDb.ts"
import { type SimRuntime, tick } from "../SimOps.ts"
import * as SimScsi from "../SimScsi.ts"
import * as SimSessions from "../SimSessions.ts"
import type { SimState } from "../SimState.ts"
import * as SimStorage from "../SimStorage.ts"
import { nodeText, type Operations, type Problem, sleep } from "./iscsiadmOps.ts"

type Service = Context.Service.Shape<typeof Iscsiadm.Iscsiadm>

/** Why `iface` cannot carry a connection now, if it cannot. */
const ifaceProblem = (st: SimState, iface: SimIface): Problem | undefined => {
  const t = iface.transport
  if (!st.transports.has(t)) return { reason: "TransportUnavailable", detail: `iSCSI driver ${t} is not loaded` }
  if (SimSessions.isOffload(t)) {
    return SimSessions.hbaFor(st, iface)
      ? undefined
      : { reason: "TransportUnavailable", detail: `no ${t} host with hwaddress ${iface.hwaddress ?? "(none)"}` }
  }
  if (iface.netIfacename !== undefined && !st.netdevs.has(iface.netIfacename)) {
    return { reason: "LoginFailed", exitCode: 4, detail: `Could not bind to netdev ${iface.netIfacename}` }
  }
  return undefined
}

/** A software iface bound by IP address: open-iscsi refuses it for iscsi_tcp. */
const boundByIp = (iface: SimIface): boolean => !SimSessions.isOffload(iface.transport) && iface.ipaddress !== undefined

/** What iscsiadm says of an iface bound by IP address. */
const boundByIpProblem = (iface: string): Problem => ({
  reason: "LoginFailed",
  exitCode: 4,
  detail: `Cannot bind ${iface} to net/scsi interface. This is not supported with software iSCSI (iscsi_tcp)`
})

const chapMatches = (auth: Iscsiadm.ChapCredentials | undefined, username: string, password: string): boolean =>
  auth !== undefined && auth.username === username && Redacted.value(auth.password) === password

/**
 * How the CHAP exchange of a login ends: `ok`; `refused` when the target
 * refuses the initiator's credentials (or has none to prove itself with for
 * mutual CHAP): iscsiadm exit 24; `unproven` when the target's own (mutual)
 * credentials are not the ones the initiator expects: the initiator ends the
 * login, exit 19 (as measured in the lab, fixture login-mutual-chap-wrong).
 */
const chapOutcome = (
  expected: { username: string; password: string; mutual?: { username: string; password: string } } | undefined,
  auth: Iscsiadm.ChapCredentials | undefined
): "ok" | "refused" | "unproven" => {
  if (expected && !chapMatches(auth, expected.username, expected.password)) return "refused"
  const wantsMutual = auth !== undefined && (Option.isSome(auth.usernameIn) || Option.isSome(auth.passwordIn))
  if (!wantsMutual) return "ok"
  const m = expected?.mutual
  if (m === undefined) return "refused"
  return Option.getOrUndefined(auth.usernameIn) === m.username &&
      Option.match(auth.passwordIn, { onNone: () => false, onSome: (p) => Redacted.value(p) === m.password })
    ? "ok"
    : "unproven"
}

/**
 * The network part of a connection attempt: latency, then the portal's
 * state decides. open-iscsi reports a refused (or reset) connection like a
 * timed-out one (login exits 8, sendtargets 11), and only after retrying: a
 * login for its whole login timeout × retries, a discovery for its 5 reopens.
 */
const connect = (
  st: SimState,
  portal: string,
  exitCode: number,
  timeoutMs: number,
  refusedMs: number
): Effect.Effect<Problem | undefined> => {
  const net = SimSessions.net(st, portal)
  const down = (detail: string): Problem => ({ reason: "Timeout", exitCode, detail: `${detail} (${portal})` })
  return Effect.flatMap(sleep(net.latencyMs), () => {
    switch (net.state) {
      case "up":
        return Effect.succeed(undefined)
      case "refusing":
      case "listenerGone":
        return Effect.as(sleep(net.fast ? 0 : refusedMs), down("connection refused"))
      case "blackholed":
        return Effect.as(sleep(timeoutMs), down("connection timed out"))
      case "flaky":
        return Effect.succeed(st.rng.next() < net.p ? down("connection reset by peer") : undefined)
    }
  })
}

/**
 * The targets a sendtargets discovery on `portal` reaches: like LIO, every
 * target of the storage systems serving it.
 */
const reached = (st: SimState, portal: string) => {
  const systems = new Set(SimStorage.targetsAt(st, portal).map((t) => t.system))
  return Array.from(st.targets.values()).filter((t) => systems.has(t.system))
}

/** `discover` on `rt`'s host; like `iscsiadm … -o nonpersistent`, it records nothing. */
export const discover = (rt: SimRuntime, { error, op }: Operations): Service["discover"] => ({ portal, iface, auth }) =>
  op("iscsiadm.discover", "discover", `${portal} via ${iface}`, [portal, iface], () => {
    const st = rt.state
    const fail = (p: Problem) => Effect.fail(error("discover", `${portal} via ${iface}`, p))
    const rec = SimNodeDb.ifaceNamed(st, iface)
    if (!rec) return fail({ reason: "NotFound", detail: `Could not find iface ${iface}` })
    const problem = ifaceProblem(st, rec)
    if (problem) return fail(problem)
    if (boundByIp(rec)) return Effect.andThen(sleep(5000), fail(boundByIpProblem(iface)))
    return Effect.flatMap(
      connect(st, portal, 11, st.discoveryTimeout * 1000, 5000),
      (p) =>
        Effect.flatMap(tick(rt), () => {
          if (p) return fail(p)
          const targets = reached(st, portal)
          const creds = Option.getOrUndefined(auth)
          for (const t of targets) {
            if (t.discoveryChap && !chapMatches(creds, t.discoveryChap.username, t.discoveryChap.password)) {
              return fail({ reason: "AuthenticationFailed", detail: "discovery login failed to authenticate" })
            }
          }
          const found: Array<Iscsiadm.DiscoveredTarget> = []
          for (const t of targets) {
            const asked = t.portals.get(portal)
            const portals = t.reportAllPortals
              ? Array.from(t.portals.entries())
              : asked
              ? [[portal, asked] as const]
              : []
            for (const [p2, { tpgt }] of portals) {
              found.push({ portal: p2 as Portal.Portal, tpgt, iqn: t.iqn as Iqn.Iqn })
            }
          }
          return Effect.succeed(found)
        })
    )
  })

/** `login` on `rt`'s host: a session through the network, with CHAP, and a scan when the record says `scan = auto`. */
export const login = (rt: SimRuntime, { error, op }: Operations): Service["login"] => (node) =>
  op("iscsiadm.login", "login", nodeText(node), [node], () => {
    const st = rt.state
    const fail = (p: Problem) => Effect.fail(error("login", nodeText(node), p))
    if (!st.iscsidRunning) return fail({ reason: "DaemonUnreachable", detail: "can not connect to iSCSI daemon" })
    const key = SimNames.nodeKey(node.portal, node.iqn, node.iface)
    const rec = st.nodes.get(key)
    if (!rec) return fail({ reason: "NotFound", detail: "No records found" })
    if (st.sessionByNode.has(key)) return fail({ reason: "SessionExists", detail: "session already present" })
    const iface = SimNodeDb.ifaceNamed(st, node.iface)
    if (!iface) return fail({ reason: "NotFound", detail: `Could not find iface ${node.iface}` })
    const problem = ifaceProblem(st, iface)
    if (problem) return fail(problem)
    if (boundByIp(iface)) return fail(boundByIpProblem(node.iface))
    const timeoutMs = rec.settings.loginTimeout * 1000 * Math.max(1, rec.settings.loginRetryMax)
    return Effect.flatMap(connect(st, node.portal, 8, timeoutMs, timeoutMs), (p) =>
      Effect.flatMap(tick(rt), () => {
        if (p) return fail(p)
        const target = st.targets.get(node.iqn)
        const tp = target?.portals.get(node.portal)
        if (!target || !tp) return fail({ reason: "LoginRejected", detail: "target not found" })
        const chap = chapOutcome(target.chap, rec.settings.auth)
        if (chap === "refused") {
          return fail({ reason: "AuthenticationFailed", detail: "Login failed to authenticate with target" })
        }
        if (chap === "unproven") {
          return fail({
            reason: "LoginRejected",
            detail: "initiator reported error (19 - encountered non-retryable iSCSI login failure)"
          })
        }
        const current = st.nodes.get(key)
        if (!current) return fail({ reason: "NotFound", detail: "No records found" })
        if (st.sessionByNode.has(key)) return fail({ reason: "SessionExists", detail: "session already present" })
        const session = SimSessions.createSession(st, current, iface, tp.tpgt)
        if (current.settings.scan === "auto") SimScsi.scanSession(st, session, undefined)
        return Effect.void
      }))
  })
