/**
 * A connect's node records: the paths after sendtargets discovery, the
 * records made before any login, and the records no path ended up using,
 * dropped after a success. Every record made goes in the connect's ledger
 * first (so it is undone when the connect fails).
 */
import { Effect, Option, Result } from "effect"
import * as ConnectPlan from "../../iscsi/ConnectPlan.ts"
import type { IfaceName } from "../../iscsi/IfaceName.ts"
import { Iscsiadm, type NodeRecord, type NodeSettings } from "../../iscsi/Iscsiadm.ts"
import * as TargetPath from "../../iscsi/TargetPath.ts"
import type { Ledger, Recorder } from "../Ledger.ts"
import * as IscsiUndo from "./IscsiUndo.ts"
import { createRecord } from "./PathLogin.ts"
import * as Sessions from "./Sessions.ts"

/**
 * The paths after sendtargets discovery: the given portal first, then every
 * portal of the target found. Discovery records nothing on the host (see
 * Iscsiadm.discover): each path's node record is made, and put in the
 * ledger, like any other path's.
 */
export const discoverPaths = (plan: ConnectPlan.ConnectPlan, iface: IfaceName) =>
  Effect.gen(function*() {
    if (Option.isNone(plan.discovery)) return plan.paths
    const { auth, portal } = plan.discovery.value
    const primary = plan.paths[0]!
    const found = yield* Iscsiadm.use((i) => i.discover({ portal, iface, auth })).pipe(
      Effect.catch((e) =>
        Effect.as(Effect.logWarning(`discovery through ${portal} failed, using it alone: ${e.message}`), [])
      )
    )
    const discovered = found.filter((t) => t.iqn === primary.iqn)
      .map((t): TargetPath.TargetPath => ({ portal: t.portal, iqn: t.iqn, lun: primary.lun }))
    yield* Effect.logInfo(`discovery found ${discovered.length} portal(s) of the target`)
    return TargetPath.dedupe([primary, ...discovered])
      .map((p) => ConnectPlan.plannedPath(p, plan.addressingMode, plan.pci))
  }).pipe(Effect.withSpan("brick.discover"))

/**
 * With several paths, the node record of every path without a session is
 * made before any login starts, so that no login waits for a later path's
 * record to be written (see BENCHMARKS.md, "Why the code does what it
 * does"). Returns the keys (IscsiUndo.nodeKey) of the records made; a path
 * whose record failed here makes it itself, and fails there.
 */
export const prepare = (
  iface: IfaceName,
  paths: ReadonlyArray<ConnectPlan.PlannedPath>,
  nodesBefore: ReadonlyArray<NodeRecord>,
  settings: NodeSettings,
  ledger: Recorder<IscsiUndo.Entry>
) =>
  Effect.gen(function*() {
    const made = new Set<string>()
    if (paths.length < 2) return made
    const nodes = new Map(paths.map((p) => {
      const node: NodeRecord = { portal: p.portal, iqn: p.iqn, iface }
      return [IscsiUndo.nodeKey(node), node] as const
    }))
    yield* Effect.forEach(nodes, ([key, node]) =>
      Effect.gen(function*() {
        const session = yield* Sessions.findSessionByPath(node).pipe(Effect.orElseSucceed(() => Option.none()))
        if (Option.isSome(session)) return
        const created = yield* createRecord(ledger, nodesBefore, node, settings)
        if (Result.isSuccess(created)) made.add(key)
      }), { concurrency: "unbounded", discard: true })
    return made
  }).pipe(Effect.withSpan("brick.prepareRecords"))

/**
 * After a successful connect: the node records it created (by discovery, or
 * for paths that failed or were stopped before their own undo could see
 * them) that no session of the volume uses are deleted, so nothing is left
 * behind. `used` are the keys of the records the volume's paths use.
 */
export const dropUnused = (ledger: Ledger<IscsiUndo.Entry>, used: ReadonlySet<string>) =>
  Effect.gen(function*() {
    const iscsiadm = yield* Iscsiadm
    const done = new Set<string>()
    for (const e of yield* ledger.entries) {
      if (e._tag !== "Node") continue
      const key = IscsiUndo.nodeKey(e.node)
      if (used.has(key) || done.has(key)) continue
      done.add(key)
      yield* iscsiadm.deleteNode(e.node).pipe(
        Effect.catch((err) =>
          err.reason._tag === "NotFound"
            ? Effect.void
            : Effect.logWarning(`could not remove an unused node record: ${err.message}`)
        )
      )
    }
  })
