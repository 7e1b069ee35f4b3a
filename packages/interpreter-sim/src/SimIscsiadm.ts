/**
 * Iscsiadm on a simulated host: iscsid's node and iface databases,
 * sendtargets discovery, logins through the simulated network with CHAP,
 * transport and iface checks, and open-iscsi's exit codes.
 */
import type { IfaceName, Iqn, Portal } from "@brick/core"
import { Iscsiadm } from "@brick/core"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import type { SimIface, SimNode } from "./SimModel.ts"
import * as SimNames from "./SimNames.ts"
import { run, type SimRuntime, tick } from "./SimOps.ts"
import type { OpName } from "./SimSpec.ts"
import { isOffload, type SimState } from "./SimState.ts"

type Reason = Iscsiadm.IscsiadmReason["_tag"]

/** open-iscsi's exit code for each reason. */
export const exitCodes: Readonly<Record<Reason, number>> = {
  SessionExists: 15,
  NotFound: 21,
  AuthenticationFailed: 24,
  LoginFailed: 5,
  TransportUnavailable: 12,
  Timeout: 8,
  DaemonUnreachable: 20,
  Busy: 28,
  Failed: 1
}

const isReason = (s: string): s is Reason => Object.hasOwn(exitCodes, s)

interface Problem {
  readonly reason: Reason
  readonly exitCode?: number
  readonly detail?: string
}

const nodeText = (n: Iscsiadm.NodeRecord): string => `[iface: ${n.iface}, target: ${n.iqn}, portal: ${n.portal}]`

/** Why `iface` cannot carry a connection now, if it cannot. */
const ifaceProblem = (st: SimState, iface: SimIface): Problem | undefined => {
  const t = iface.transport
  if (!st.transports.has(t)) return { reason: "TransportUnavailable", detail: `iSCSI driver ${t} is not loaded` }
  if (isOffload(t)) {
    return st.hbaFor(iface)
      ? undefined
      : { reason: "TransportUnavailable", detail: `no ${t} host with hwaddress ${iface.hwaddress ?? "(none)"}` }
  }
  if (iface.netIfacename !== undefined && !st.netdevs.has(iface.netIfacename)) {
    return { reason: "LoginFailed", exitCode: 4, detail: `Could not bind to netdev ${iface.netIfacename}` }
  }
  return undefined
}

/** A software iface bound by IP address: open-iscsi refuses it for iscsi_tcp. */
const boundByIp = (iface: SimIface): boolean => !isOffload(iface.transport) && iface.ipaddress !== undefined

const chapMatches = (auth: Iscsiadm.ChapCredentials | undefined, username: string, password: string): boolean =>
  auth !== undefined && auth.username === username && Redacted.value(auth.password) === password

/** Whether the CHAP exchange of a login succeeds. */
const authOk = (
  expected: { username: string; password: string; mutual?: { username: string; password: string } } | undefined,
  auth: Iscsiadm.ChapCredentials | undefined
): boolean => {
  if (expected && !chapMatches(auth, expected.username, expected.password)) return false
  const wantsMutual = auth !== undefined && (Option.isSome(auth.usernameIn) || Option.isSome(auth.passwordIn))
  if (!wantsMutual) return true
  const m = expected?.mutual
  return m !== undefined && Option.getOrUndefined(auth.usernameIn) === m.username &&
    Option.match(auth.passwordIn, { onNone: () => false, onSome: (p) => Redacted.value(p) === m.password })
}

/** The Iscsiadm service of `rt`'s host, as seen by `process`. */
export const make = (rt: SimRuntime, process = "main"): Context.Service.Shape<typeof Iscsiadm.Iscsiadm> => {
  const st = rt.state
  const error = (operation: string, target: string, p: Problem) =>
    new Iscsiadm.IscsiadmError({
      operation,
      target,
      reason: { _tag: p.reason },
      exitCode: p.exitCode ?? exitCodes[p.reason],
      ...(p.detail === undefined ? {} : { detail: p.detail })
    })
  const op = <A>(
    name: OpName,
    operation: string,
    target: string,
    args: ReadonlyArray<unknown>,
    body: () => Effect.Effect<A, Iscsiadm.IscsiadmError>
  ) =>
    run(
      rt,
      process,
      name,
      args,
      (f) =>
        error(operation, target, {
          reason: isReason(f.reason) ? f.reason : "Failed",
          ...f.exitCode === undefined ? {} : { exitCode: f.exitCode },
          ...f.detail === undefined ? {} : { detail: f.detail }
        }),
      body
    )
  const sleep = (ms: number) => (ms > 0 ? Effect.sleep(ms) : Effect.void)
  /** An iface record by name; one not found is looked up again after the host bindings are made, as iscsiadm does. */
  const ifaceNamed = (name: string): SimIface | undefined => {
    const found = st.ifaces.get(name)
    if (found) return found
    st.setupHostBindings()
    return st.ifaces.get(name)
  }

  const applySettings = (n: SimNode, s: Iscsiadm.NodeSettings): void => {
    if (s.startup !== undefined) n.settings.startup = s.startup
    if (s.scan !== undefined) n.settings.scan = s.scan
    if (s.auth !== undefined) n.settings.auth = Option.getOrUndefined(s.auth)
    if (s.loginTimeout !== undefined) n.settings.loginTimeout = s.loginTimeout
    if (s.loginRetryMax !== undefined) n.settings.loginRetryMax = s.loginRetryMax
  }
  const newNode = (portal: string, iqn: string, iface: string): SimNode => st.makeNode(portal, iqn, iface)
  const records = new WeakMap<SimNode, Iscsiadm.NodeRecord>()
  /** A node's record (made once per node: its portal, IQN and iface never change). */
  const toRecord = (n: SimNode): Iscsiadm.NodeRecord => {
    let r = records.get(n)
    if (r === undefined) {
      r = { portal: n.portal as Portal.Portal, iqn: n.iqn as Iqn.Iqn, iface: n.iface as IfaceName.IfaceName }
      records.set(n, r)
    }
    return r
  }

  /**
   * The network part of a connection attempt: latency, then the portal's
   * state decides. As measured in the lab, open-iscsi reports a refused (or
   * reset) connection like a timed-out one (login exits 8, sendtargets 11),
   * and only after retrying: a login for its whole login timeout × retries,
   * a discovery for its 5 reopens (~5 s).
   */
  const connect = (
    portal: string,
    exitCode: number,
    timeoutMs: number,
    refusedMs: number
  ): Effect.Effect<Problem | undefined> => {
    const net = st.net(portal)
    const down = (detail: string): Problem => ({ reason: "Timeout", exitCode, detail: `${detail} (${portal})` })
    return Effect.flatMap(sleep(net.latencyMs), () => {
      switch (net.state) {
        case "up":
          return Effect.succeed(undefined)
        case "refusing":
          return Effect.as(sleep(net.fast ? 0 : refusedMs), down("connection refused"))
        case "blackholed":
          return Effect.as(sleep(timeoutMs), down("connection timed out"))
        case "flaky":
          return Effect.succeed(st.rng.next() < net.p ? down("connection reset by peer") : undefined)
      }
    })
  }

  const discover: Context.Service.Shape<typeof Iscsiadm.Iscsiadm>["discover"] = ({ portal, iface, auth }) =>
    op("iscsiadm.discover", "discover", `${portal} via ${iface}`, [portal, iface], () => {
      const fail = (p: Problem) => Effect.fail(error("discover", `${portal} via ${iface}`, p))
      const rec = ifaceNamed(iface)
      if (!rec) return fail({ reason: "NotFound", detail: `Could not find iface ${iface}` })
      const problem = ifaceProblem(st, rec)
      if (problem) return fail(problem)
      if (boundByIp(rec)) {
        return Effect.andThen(
          sleep(5000),
          fail({
            reason: "LoginFailed",
            exitCode: 4,
            detail: `Cannot bind ${iface} to net/scsi interface. This is not supported with software iSCSI (iscsi_tcp)`
          })
        )
      }
      return Effect.flatMap(
        connect(portal, 11, st.discoveryTimeout * 1000, 5000),
        (p) =>
          Effect.flatMap(tick(rt), () => {
            if (p) return fail(p)
            // like LIO, every target of the storage systems serving this portal, in configuration order
            const systems = new Set(Array.from(st.portalTargets.get(portal) ?? [], (t) => t.system))
            const targets = Array.from(st.targets.values()).filter((t) => systems.has(t.system))
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
            // like `iscsiadm … -o nonpersistent`: nothing is recorded
            return Effect.succeed(found)
          })
      )
    })

  const login: Context.Service.Shape<typeof Iscsiadm.Iscsiadm>["login"] = (node) =>
    op("iscsiadm.login", "login", nodeText(node), [node], () => {
      const fail = (p: Problem) => Effect.fail(error("login", nodeText(node), p))
      if (!st.iscsidRunning) return fail({ reason: "DaemonUnreachable", detail: "can not connect to iSCSI daemon" })
      const key = SimNames.nodeKey(node.portal, node.iqn, node.iface)
      const rec = st.nodes.get(key)
      if (!rec) return fail({ reason: "NotFound", detail: "No records found" })
      if (st.sessionByNode.has(key)) return fail({ reason: "SessionExists", detail: "session already present" })
      const iface = ifaceNamed(node.iface)
      if (!iface) return fail({ reason: "NotFound", detail: `Could not find iface ${node.iface}` })
      const problem = ifaceProblem(st, iface)
      if (problem) return fail(problem)
      if (boundByIp(iface)) {
        return fail({
          reason: "LoginFailed",
          exitCode: 4,
          detail:
            `Cannot bind ${node.iface} to net/scsi interface. This is not supported with software iSCSI (iscsi_tcp)`
        })
      }
      const timeoutMs = rec.settings.loginTimeout * 1000 * Math.max(1, rec.settings.loginRetryMax)
      return Effect.flatMap(connect(node.portal, 8, timeoutMs, timeoutMs), (p) =>
        Effect.flatMap(tick(rt), () => {
          if (p) return fail(p)
          const target = st.targets.get(node.iqn)
          const tp = target?.portals.get(node.portal)
          if (!target || !tp) return fail({ reason: "LoginFailed", exitCode: 19, detail: "target not found" })
          if (!authOk(target.chap, rec.settings.auth)) {
            return fail({ reason: "AuthenticationFailed", detail: "Login failed to authenticate with target" })
          }
          const current = st.nodes.get(key)
          if (!current) {
            return fail({ reason: "NotFound", detail: "No records found" })
          }
          if (st.sessionByNode.has(key)) return fail({ reason: "SessionExists", detail: "session already present" })
          const session = st.createSession(current, iface, tp.tpgt)
          if (current.settings.scan === "auto") st.scanSession(session, undefined)
          return Effect.void
        }))
    })

  return {
    discover,
    createNode: (node, settings) =>
      op("iscsiadm.createNode", "node new", nodeText(node), [node, settings], () => {
        if (!ifaceNamed(node.iface)) {
          return Effect.fail(
            error("node new", nodeText(node), { reason: "NotFound", detail: `Could not find iface ${node.iface}` })
          )
        }
        const key = SimNames.nodeKey(node.portal, node.iqn, node.iface)
        let rec = st.nodes.get(key)
        if (!rec) st.nodes.set(key, rec = newNode(node.portal, node.iqn, node.iface))
        applySettings(rec, settings)
        return Effect.void
      }),
    updateNode: (node, settings) =>
      op("iscsiadm.updateNode", "node update", nodeText(node), [node, settings], () => {
        const rec = st.nodes.get(SimNames.nodeKey(node.portal, node.iqn, node.iface))
        if (!rec) {
          return Effect.fail(error("node update", nodeText(node), { reason: "NotFound", detail: "No records found" }))
        }
        applySettings(rec, settings)
        return Effect.void
      }),
    deleteNode: (node) =>
      op("iscsiadm.deleteNode", "node delete", nodeText(node), [node], () => {
        const key = SimNames.nodeKey(node.portal, node.iqn, node.iface)
        if (!st.nodes.has(key)) {
          return Effect.fail(error("node delete", nodeText(node), { reason: "NotFound", detail: "No records found" }))
        }
        if (st.sessionByNode.has(key)) {
          return Effect.fail(
            error("node delete", nodeText(node), { reason: "SessionExists", detail: "a session is using the record" })
          )
        }
        st.deleteNode(key)
        return Effect.void
      }),
    listNodes: op(
      "iscsiadm.listNodes",
      "node list",
      "",
      [],
      () => Effect.sync(() => st.nodes.derived("records", toRecord).slice())
    ),
    login,
    logout: (node) =>
      op("iscsiadm.logout", "logout", nodeText(node), [node], () => {
        if (!st.iscsidRunning) {
          return Effect.fail(
            error("logout", nodeText(node), { reason: "DaemonUnreachable", detail: "can not connect to iSCSI daemon" })
          )
        }
        const session = st.sessionByNode.get(SimNames.nodeKey(node.portal, node.iqn, node.iface))
        if (!session) {
          return Effect.fail(
            error("logout", nodeText(node), { reason: "NotFound", detail: "No matching sessions found" })
          )
        }
        st.destroySession(session)
        return Effect.void
      }),
    listIfaces: op(
      "iscsiadm.listIfaces",
      "iface list",
      "",
      [],
      () =>
        Effect.sync(() => {
          st.setupHostBindings()
          return Array.from(st.ifaces.values()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((
            i
          ): Iscsiadm.IfaceRecord => ({
            name: i.name as IfaceName.IfaceName,
            transport: i.transport,
            hwaddress: Option.fromNullishOr(i.hwaddress),
            ipaddress: Option.fromNullishOr(i.ipaddress),
            netIfacename: Option.fromNullishOr(i.netIfacename),
            initiatorName: Option.fromNullishOr(i.initiatorName)
          }))
        })
    ),
    createIface: (name, settings) =>
      op("iscsiadm.createIface", "iface new", name, [name, settings], () => {
        st.setupHostBindings()
        if (st.ifaces.get(name)?.builtin) {
          return Effect.fail(
            error("iface new", name, { reason: "Failed", exitCode: 7, detail: "cannot modify a built-in iface" })
          )
        }
        st.ifaces.set(name, {
          name,
          transport: settings.transport === "default" ? "tcp" : settings.transport,
          hwaddress: Option.getOrUndefined(settings.hwaddress),
          ipaddress: Option.getOrUndefined(settings.ipaddress),
          netIfacename: Option.getOrUndefined(settings.netIfacename),
          initiatorName: undefined,
          builtin: false
        })
        return Effect.void
      }),
    deleteIface: (name) =>
      op("iscsiadm.deleteIface", "iface delete", name, [name], () => {
        st.setupHostBindings()
        const i = st.ifaces.get(name)
        if (!i) {
          return Effect.fail(
            error("iface delete", name, { reason: "NotFound", detail: `Could not find iface ${name}` })
          )
        }
        if (i.builtin) {
          return Effect.fail(
            error("iface delete", name, { reason: "Failed", exitCode: 7, detail: "cannot delete a built-in iface" })
          )
        }
        st.ifaces.delete(name)
        return Effect.void
      }),
    initiatorName: op(
      "iscsiadm.initiatorName",
      "initiatorname",
      "",
      [],
      () => Effect.succeed(Option.some(st.initiatorName))
    )
  }
}

/** A layer of the Iscsiadm service on `rt`'s host. */
export const layer = (rt: SimRuntime, process = "main"): Layer.Layer<Iscsiadm.Iscsiadm> =>
  Layer.succeed(Iscsiadm.Iscsiadm, make(rt, process))
