/**
 * Iscsiadm on a simulated host: iscsid's node and iface databases
 * (SimNodeDb), and discovery and logins through the simulated network
 * (internal/iscsiadmConnect), with open-iscsi's exit codes.
 */
import type { IfaceName } from "@brick/core"
import { Iscsiadm } from "@brick/core"
import { type Context, Effect, Layer, Option } from "effect"
import { discover, login } from "./internal/iscsiadmConnect.ts"
import { nodeText, operations } from "./internal/iscsiadmOps.ts"
import * as SimNames from "./SimNames.ts"
import * as SimNodeDb from "./SimNodeDb.ts"
import type { SimRuntime } from "./SimOps.ts"
import * as SimSessions from "./SimSessions.ts"

export { exitCodes } from "./internal/iscsiadmOps.ts"

/** The Iscsiadm service of `rt`'s host, as seen by `process`. */
export const make = (rt: SimRuntime, process = "main"): Context.Service.Shape<typeof Iscsiadm.Iscsiadm> => {
  const st = rt.state
  const ops = operations(rt, process)
  const { error, op } = ops

  return {
    discover: discover(rt, ops),
    createNode: (node, settings) =>
      op("iscsiadm.createNode", "node new", nodeText(node), [node, settings], () => {
        if (!SimNodeDb.ifaceNamed(st, node.iface)) {
          return Effect.fail(
            error("node new", nodeText(node), { reason: "NotFound", detail: `Could not find iface ${node.iface}` })
          )
        }
        const key = SimNames.nodeKey(node.portal, node.iqn, node.iface)
        let rec = st.nodes.get(key)
        if (!rec) st.nodes.set(key, rec = SimNodeDb.makeNode(st, node.portal, node.iqn, node.iface))
        SimNodeDb.applySettings(rec, settings)
        return Effect.void
      }),
    updateNode: (node, settings) =>
      op("iscsiadm.updateNode", "node update", nodeText(node), [node, settings], () => {
        const rec = st.nodes.get(SimNames.nodeKey(node.portal, node.iqn, node.iface))
        if (!rec) {
          return Effect.fail(error("node update", nodeText(node), { reason: "NotFound", detail: "No records found" }))
        }
        SimNodeDb.applySettings(rec, settings)
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
        st.nodes.delete(key)
        return Effect.void
      }),
    listNodes: op(
      "iscsiadm.listNodes",
      "node list",
      "",
      [],
      () => Effect.sync(() => SimNodeDb.records(st))
    ),
    login: login(rt, ops),
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
        SimSessions.destroySession(st, session)
        return Effect.void
      }),
    listIfaces: op(
      "iscsiadm.listIfaces",
      "iface list",
      "",
      [],
      () =>
        Effect.sync(() => {
          SimNodeDb.setupHostBindings(st)
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
        SimNodeDb.setupHostBindings(st)
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
        SimNodeDb.setupHostBindings(st)
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
