/**
 * Node records brick writes and removes in open-iscsi's database itself
 * (config `nodeRecordWrites: "direct"`, the default), instead of
 * `iscsiadm -o new` + `-o update` and `-o delete`. Only where brick can do it
 * exactly as iscsiadm would: the host's own iscsiadm with its database in
 * /etc/iscsi (`ownDatabase`), and a record IscsiDbWrite accepts. Everything
 * else, a record that exists, and one a session may use, is left to iscsiadm.
 */
import { Iscsiadm, Portal } from "@brick/core"
import { Clock, Duration, Effect } from "effect"
import * as NodeFsSync from "node:fs"
import * as Args from "./IscsiadmArgs.ts"
import * as IscsiDb from "./IscsiDb.ts"
import * as IscsiDbLock from "./IscsiDbLock.ts"
import * as Placement from "./IscsiDbPlacement.ts"
import * as IscsiDbRemove from "./IscsiDbRemove.ts"
import * as IscsiDbWrite from "./IscsiDbWrite.ts"
import * as IscsidConf from "./IscsidConf.ts"
import type { NodeHostConfigShape } from "./NodeHostConfig.ts"
import { sessionMayUse } from "./RecordInUse.ts"

/** `target` of an IscsiadmError about a node record. */
export const nodeTarget = (node: Iscsiadm.NodeRecord): string => `${node.iqn} ${node.portal} iface ${node.iface}`

/** Whether iscsiadm is the host's own (no wrapper, no command prefix that may reach another database). */
export const ownIscsiadm = (config: NodeHostConfigShape): boolean =>
  config.iscsiadmPath === "iscsiadm" && config.commandPrefix.length === 0

/** The host's own iscsiadm, its database in /etc/iscsi: brick may read it, and write new records into it. */
export const ownDatabase = (config: NodeHostConfigShape): boolean =>
  ownIscsiadm(config) && IscsiDb.debianLayout(config.root)

/** Direct record writes and removals on the host `config` reaches. */
export const make = (config: NodeHostConfigShape) => {
  const enabled = config.nodeRecordWrites === "direct" && ownDatabase(config)
  const lockTimeout = Duration.toMillis(config.commandTimeout)

  /**
   * Writes a new record when it may: true when written; false when iscsiadm
   * must make it (not allowed here, a record exists, or the write failed
   * before the record was there). Busy when the database lock stays taken.
   */
  const write = (
    node: Iscsiadm.NodeRecord,
    settings: Iscsiadm.NodeSettings
  ): Effect.Effect<boolean, Iscsiadm.IscsiadmError> =>
    Effect.gen(function*() {
      if (!enabled) return false
      const { host, port } = Portal.parts(node.portal)
      const params = Args.nodeParams(settings)
      const refused = params.some((p) => Args.isUnsafe(p.value))
        ? "a value with a line break or NUL"
        : IscsiDbWrite.refusal(node, host, params)
      if (refused !== undefined) {
        yield* Effect.logDebug(`node record through iscsiadm: ${refused}`)
        return false
      }
      const start = yield* Clock.currentTimeMillis
      // where `-o new` would write it: the portal group's directory when the portal has one (discovery's layout)
      const { file, tpgt } = Placement.of(config.root, node)
      const text = IscsiDbWrite.recordText(node, { host, port, tpgt }, IscsidConf.read(config.root), params)
      const outcome = yield* IscsiDbLock.withDatabaseLock(config.root, lockTimeout, () => {
        try {
          return IscsiDbWrite.writeNew(file, text, () => IscsiDb.recordExists(config.root, node)) ? "written" : "exists"
        } catch (e) {
          return `not written: ${(e as Error).message}`
        }
      }).pipe(Effect.catchDefect((e) => Effect.succeed(`not written: ${String(e)}`)))
      if (outcome === undefined) {
        return yield* Effect.fail(
          new Iscsiadm.IscsiadmError({
            operation: "new",
            target: nodeTarget(node),
            reason: { _tag: "Busy" },
            detail: `open-iscsi's database lock (${IscsiDbLock.lockDirectory}/lock.write) stayed taken`
          })
        )
      }
      const took = (yield* Clock.currentTimeMillis) - start
      yield* Effect.logDebug(`node record ${outcome} (${file}, ${took} ms, no iscsiadm)`)
      return outcome === "written"
    })

  /**
   * Removes a record when it may: true when removed; false when iscsiadm must
   * delete it (not allowed here, not a record brick may remove, absent, or a
   * session may be using it: iscsiadm then refuses, or finds nothing, as usual).
   */
  const remove = (node: Iscsiadm.NodeRecord): Effect.Effect<boolean> =>
    Effect.gen(function*() {
      if (!enabled) return false
      const { host, port } = Portal.parts(node.portal)
      // the same iface and portal rules as for writing (no values to check)
      if (IscsiDbWrite.refusal(node, host, []) !== undefined) return false
      const file = IscsiDb.recordPath(config.root, node, host, port)
      if (!NodeFsSync.existsSync(file)) return false
      const outcome = yield* IscsiDbLock.withDatabaseLock(config.root, lockTimeout, () => {
        try {
          return IscsiDbRemove.removeRecord(file, () => sessionMayUse(config.root, node, host, port))
        } catch (e) {
          return `not removed: ${(e as Error).message}`
        }
      }).pipe(Effect.catchDefect((e) => Effect.succeed(`not removed: ${String(e)}`)))
      yield* Effect.logDebug(
        `node record ${outcome ?? "not removed: the database lock stayed taken"} (${file}, no iscsiadm)`
      )
      return outcome === "removed"
    })

  return { write, remove } as const
}
