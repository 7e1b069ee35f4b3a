/**
 * brick's node records at a portal where another iface's record is the
 * `<address>,<port>` file (IscsiDbPlacement: iscsiadm would replace or
 * remove it there). brick writes, updates and removes its own record in a
 * `<address>,<port>,<tpgt>` directory beside it, under open-iscsi's database
 * lock, with the rules of its direct writer (IscsiDbWrite.refusal: the
 * `default` iface, an IPv4 portal, values iscsiadm keeps). A record it cannot
 * make so — another iface of brick's, a host whose database brick does not
 * reach, no portal group tag to be found — is refused with RecordConflict,
 * naming the other record: never made by replacing it.
 */
import { Iscsiadm, Portal } from "@brick/core"
import { Duration, Effect, Redacted } from "effect"
import * as NodeFsSync from "node:fs"
import { readText as readFile } from "./internal/files.ts"
import * as Args from "./IscsiadmArgs.ts"
import * as IscsiDbLock from "./IscsiDbLock.ts"
import * as Placement from "./IscsiDbPlacement.ts"
import * as IscsiDbWrite from "./IscsiDbWrite.ts"
import * as IscsidConf from "./IscsidConf.ts"
import type { NodeHostConfigShape } from "./NodeHostConfig.ts"
import { sessionMayUse } from "./RecordInUse.ts"

const nodeTarget = (node: Iscsiadm.NodeRecord): string => `${node.iqn} ${node.portal} iface ${node.iface}`

const conflict = (operation: string, node: Iscsiadm.NodeRecord, detail: string) =>
  new Iscsiadm.IscsiadmError({ operation, target: nodeTarget(node), reason: { _tag: "RecordConflict" }, detail })

const readText = (file: string): string => readFile(file) ?? ""

/** Guarded record writes on the host `config` reaches; `ownDatabase`: brick may read and write its files. */
export const make = (config: NodeHostConfigShape, ownDatabase: boolean) => {
  const lockTimeout = Duration.toMillis(config.commandTimeout)

  /** Runs `body` under the database lock; Busy when the lock stays taken, RecordConflict when `body` throws. */
  const locked = <A>(operation: string, node: Iscsiadm.NodeRecord, body: () => A) =>
    IscsiDbLock.withDatabaseLock(config.root, lockTimeout, () => ({ value: body() })).pipe(
      Effect.catchDefect((e) => Effect.fail(conflict(operation, node, String(e)))),
      Effect.flatMap((done) =>
        done === undefined
          ? Effect.fail(
            new Iscsiadm.IscsiadmError({
              operation,
              target: nodeTarget(node),
              reason: { _tag: "Busy" },
              detail: `open-iscsi's database lock (${IscsiDbLock.lockDirectory}/lock.write) stayed taken`
            })
          )
          : Effect.succeed(done.value)
      )
    )

  /** The other iface's record, as the errors name it. */
  const other = (placement: Placement.Placement) =>
    `${placement.other} is iface ${Placement.ifaceOfRecord(readText(placement.other ?? ""))}'s record, which ` +
    `iscsiadm would replace or delete`

  /** Why brick cannot keep this record beside the other itself, if it cannot. */
  const refusal = (node: Iscsiadm.NodeRecord, settings: Iscsiadm.NodeSettings, placement: Placement.Placement) => {
    const why = !ownDatabase
      ? "brick does not reach open-iscsi's database on this host (iscsiadm wrapper, command prefix, or not /etc/iscsi)"
      : Args.nodeParams(settings).some((p) => Args.isUnsafe(p.value))
      ? "a value with a line break or NUL"
      : IscsiDbWrite.refusal(node, Portal.parts(node.portal).host, Args.nodeParams(settings))
    return why === undefined ? undefined : `${other(placement)}; brick cannot keep its own beside it: ${why}`
  }

  /**
   * Makes (or updates) `node`'s record beside another iface's file. A new
   * record needs the portal group tag: `tpgt` (a session's, else discovery's).
   */
  const write = (
    node: Iscsiadm.NodeRecord,
    settings: Iscsiadm.NodeSettings,
    placement: Placement.Placement,
    tpgt: Effect.Effect<number | undefined>
  ): Effect.Effect<void, Iscsiadm.IscsiadmError> =>
    Effect.gen(function*() {
      const refused = refusal(node, settings, placement)
      if (refused !== undefined) return yield* Effect.fail(conflict("new", node, refused))
      if (placement.exists) return yield* update(node, settings, placement)
      const group = placement.tpgt ?? (yield* tpgt)
      if (group === undefined) {
        return yield* Effect.fail(
          conflict(
            "new",
            node,
            `${other(placement)}; brick's own beside it needs the portal group tag, and no session or discovery gave it`
          )
        )
      }
      const at = Placement.withTpgt(config.root, node, placement, group)
      const { host, port } = Portal.parts(node.portal)
      const conf = IscsidConf.read(config.root)
      const text = IscsiDbWrite.recordText(node, { host, port, tpgt: group }, conf, Args.nodeParams(settings))
      const written = yield* locked("new", node, () => IscsiDbWrite.writeNew(at.file, text, () => false))
      yield* Effect.logInfo(
        `node record ${written ? "written" : "not written"} at ${at.file}, beside iface ` +
          `${Placement.ifaceOfRecord(readText(placement.other ?? ""))}'s ${placement.other} (left as it is)`
      )
    })

  /** Applies `settings` to `node`'s existing record beside another iface's file. */
  const update = (
    node: Iscsiadm.NodeRecord,
    settings: Iscsiadm.NodeSettings,
    placement: Placement.Placement
  ): Effect.Effect<void, Iscsiadm.IscsiadmError> =>
    Effect.gen(function*() {
      const refused = refusal(node, settings, placement)
      if (refused !== undefined) return yield* Effect.fail(conflict("update", node, refused))
      const lines = Args.nodeParams(settings).map((p) =>
        [p.name, Redacted.isRedacted(p.value) ? Redacted.value(p.value) : p.value] as const
      )
      yield* locked("update", node, () => {
        NodeFsSync.writeFileSync(placement.file, Placement.withLines(readText(placement.file), lines), { mode: 0o600 })
      })
    })

  /**
   * Removes `node`'s record beside another iface's file (NotFound when it is
   * gone; refused while a session uses it).
   */
  const remove = (node: Iscsiadm.NodeRecord, placement: Placement.Placement) =>
    Effect.gen(function*() {
      if (!ownDatabase) {
        return yield* Effect.fail(conflict("delete", node, refusal(node, {}, placement) ?? "refused"))
      }
      const { host, port } = Portal.parts(node.portal)
      const outcome = yield* locked("delete", node, () => {
        if (!NodeFsSync.existsSync(placement.file)) return "absent" as const
        if (sessionMayUse(config.root, node, host, port)) return "in use" as const
        Placement.removeFile(placement.file)
        return "removed" as const
      })
      if (outcome === "removed") return yield* Effect.logDebug(`node record removed (${placement.file}, no iscsiadm)`)
      return yield* Effect.fail(
        new Iscsiadm.IscsiadmError({
          operation: "delete",
          target: nodeTarget(node),
          reason: outcome === "absent" ? { _tag: "NotFound" } : { _tag: "Busy" },
          detail: outcome === "absent" ? "No records found" : "a session uses the record"
        })
      )
    })

  return { write, update, remove } as const
}
