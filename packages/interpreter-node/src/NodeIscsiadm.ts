/**
 * The Iscsiadm service on a real host: each typed operation becomes one or a
 * few `iscsiadm` commands (IscsiadmCommand), whose output IscsiadmOutput parses.
 *
 * Node records:
 * - a new path costs 1 call, the login, when brick writes its record itself
 *   (DirectRecords); otherwise 3: `-o new`, one `-o update` carrying every
 *   setting, login;
 * - a path whose record exists (made earlier, or by another tool's persistent
 *   discovery) costs 2: createNode sees the record in open-iscsi's database
 *   (IscsiDb) and only updates it. It must not run `-o new` then: in
 *   open-iscsi 2.1.8, `-o new` beside a discovered record (`…,<tpgt>/<iface>`)
 *   leaves a database that `-o update` fails on (exit 6, "iface iter could not stat");
 * - listNodes reads the database itself when iscsiadm is the host's own (one
 *   spawn fewer: BENCHMARKS.md, "Interpreter choices").
 * - where another iface's record is the portal's `<address>,<port>` file,
 *   iscsiadm would replace or delete it: brick keeps its own record beside it
 *   itself (IscsiDbPlacement, GuardedRecords), or refuses (RecordConflict).
 * brick's own discovery records nothing (`-o nonpersistent`).
 */
import { Iscsiadm, Lock } from "@brick/core"
import { Duration, Effect, Layer, Option } from "effect"
import * as NodeFs from "node:fs/promises"
import { CommandRunner, type RunOptions } from "./CommandRunner.ts"
import * as DirectRecords from "./DirectRecords.ts"
import * as GuardedRecords from "./GuardedRecords.ts"
import * as Args from "./IscsiadmArgs.ts"
import * as IscsiadmCommand from "./IscsiadmCommand.ts"
import * as Output from "./IscsiadmOutput.ts"
import * as IscsiDb from "./IscsiDb.ts"
import * as Placement from "./IscsiDbPlacement.ts"
import * as IscsidConf from "./IscsidConf.ts"
import { NodeHostConfig } from "./NodeHostConfig.ts"
import * as RootPath from "./RootPath.ts"

const { nodeTarget } = DirectRecords

/** Builds the service from a CommandRunner and the host configuration. */
export const make = Effect.gen(function*() {
  const config = yield* NodeHostConfig
  const locks = yield* Lock.Lock
  const { run, runDelete } = yield* IscsiadmCommand.make
  const direct = DirectRecords.make(config)
  const long: RunOptions = { timeout: config.loginCommandTimeout }

  /**
   * A discovery with discovery CHAP, whose credentials must sit in a
   * discovery record: an existing record is updated and kept; otherwise one
   * is made for the discovery and removed after it, whatever happened. The
   * host-wide lock of the portal's record keeps two brick processes from
   * sharing (and one removing) a record the other made.
   */
  const discoverWithChap = (options: Args.DiscoveryOptions, target: string) =>
    Effect.suspend(() => {
      const discover = run({ operation: "discovery update", target, args: () => Args.discoveryAuth(options)! }).pipe(
        Effect.andThen(
          run({ operation: "discover", target, args: () => Args.discoveryFromRecord(options), options: long })
        )
      )
      if (IscsiDb.discoveryRecordExists(config.root, options.portal)) return discover
      return run({ operation: "discovery new", target, args: () => Args.discoveryNew(options) }).pipe(
        Effect.andThen(discover),
        Effect.ensuring(
          run({ operation: "discovery delete", target, args: () => Args.discoveryDelete(options) }).pipe(
            Effect.catch((e) => Effect.logWarning(`could not remove the discovery record brick made: ${e.message}`))
          )
        )
      )
    }).pipe(
      Lock.withLock(
        `discovery ${IscsiDb.discoveryRecordName(options.portal)}`,
        Duration.times(config.loginCommandTimeout, 3)
      ),
      Effect.provideService(Lock.Lock, locks),
      Effect.catchTag("LockError", (e) =>
        Effect.fail(
          new Iscsiadm.IscsiadmError({ operation: "discover", target, reason: { _tag: "Busy" }, detail: e.message })
        ))
    )

  const traced = (operation: string, target: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
    self.pipe(
      Effect.annotateLogs({ operation: `iscsiadm.${operation}`, target }),
      Effect.withSpan(`Iscsiadm.${operation}`, { attributes: { target } })
    )

  /** NotFound as an empty answer (iscsiadm exits 21 when there is nothing to list). */
  const emptyWhenNotFound = <A>(self: Effect.Effect<ReadonlyArray<A>, Iscsiadm.IscsiadmError>) =>
    Effect.catchIf(self, (e) => e.reason._tag === "NotFound", () => Effect.succeed<ReadonlyArray<A>>([]))

  const updateNode = (node: Iscsiadm.NodeRecord, settings: Iscsiadm.NodeSettings) =>
    Effect.suspend(() =>
      Args.nodeParams(settings).length === 0
        ? Effect.void
        : Effect.asVoid(
          run({ operation: "update", target: nodeTarget(node), args: () => Args.nodeUpdate(node, settings)! })
        )
    )

  /** A record through iscsiadm: updated when one exists by now, else made with `-o new`, then updated. */
  const createThroughIscsiadm = (node: Iscsiadm.NodeRecord, settings: Iscsiadm.NodeSettings) =>
    Effect.suspend(() =>
      IscsiDb.recordExists(config.root, node)
        ? updateNode(node, settings)
        : run({ operation: "new", target: nodeTarget(node), args: () => Args.nodeNew(node) }).pipe(
          Effect.andThen(updateNode(node, settings))
        )
    )

  /** Records beside another iface's `<address>,<port>` file, which iscsiadm would replace or delete. */
  const guarded = GuardedRecords.make(config, DirectRecords.ownDatabase(config))

  /** The portal group tag of a node's portal: a session's (sysfs), else a sendtargets discovery's (records nothing). */
  const tpgtOf = (node: Iscsiadm.NodeRecord) =>
    Effect.suspend(() => {
      const fromSession = Placement.sessionTpgt(config.root, node)
      if (fromSession !== undefined) return Effect.succeed<number | undefined>(fromSession)
      return run({
        operation: "discover",
        target: `${node.portal} iface ${node.iface}`,
        args: () => Args.discovery({ portal: node.portal, iface: node.iface, auth: Option.none() }),
        options: long
      }).pipe(
        Effect.map((r) =>
          Output.parseTargets(r.stdout).find((t) => t.iqn === node.iqn && t.portal === node.portal)?.tpgt
        ),
        Effect.orElseSucceed(() => undefined)
      )
    })

  /** Says so when a new record's `node.startup` is not the one iscsid.conf gives new records. */
  const startupNote = (node: Iscsiadm.NodeRecord, settings: Iscsiadm.NodeSettings) =>
    Effect.suspend(() => {
      const conf = IscsidConf.read(config.root).filter(([name]) => name === "node.startup").at(-1)?.[1]
      return settings.startup !== undefined && conf !== undefined && conf !== settings.startup
        ? Effect.logInfo(`node record ${nodeTarget(node)}: node.startup ${settings.startup}, not iscsid.conf's ${conf}`)
        : Effect.void
    })

  return Iscsiadm.Iscsiadm.of({
    discover: (options) => {
      const target = `${options.portal} iface ${options.iface}`
      return (Option.isNone(options.auth)
        ? run({ operation: "discover", target, args: () => Args.discovery(options), options: long })
        : discoverWithChap(options, target)).pipe(
          Effect.map((result) => Output.parseTargets(result.stdout)),
          traced("discover", target)
        )
    },
    createNode: (node, settings) =>
      Effect.suspend(() => {
        const placement = Placement.of(config.root, node)
        if (placement.guarded) return guarded.write(node, settings, placement, tpgtOf(node))
        return IscsiDb.recordExists(config.root, node)
          ? updateNode(node, settings)
          : Effect.flatMap(
            direct.write(node, settings),
            (written) => (written ? Effect.void : createThroughIscsiadm(node, settings))
          ).pipe(Effect.tap(() => startupNote(node, settings)))
      }).pipe(traced("createNode", nodeTarget(node))),
    updateNode: (node, settings) =>
      Effect.suspend(() => {
        const placement = Placement.of(config.root, node)
        return placement.guarded ? guarded.update(node, settings, placement) : updateNode(node, settings)
      }).pipe(traced("updateNode", nodeTarget(node))),
    deleteNode: (node) =>
      Effect.suspend(() => {
        const placement = Placement.of(config.root, node)
        if (placement.guarded) return guarded.remove(node, placement)
        return Effect.flatMap(
          direct.remove(node),
          (removed) =>
            removed
              ? Effect.void
              : runDelete({ operation: "delete", target: nodeTarget(node), args: () => Args.nodeDelete(node) })
        )
      }).pipe(traced("deleteNode", nodeTarget(node))),
    listNodes: Effect.suspend(() => {
      // only when iscsiadm is the host's own (a configured wrapper may reach another database)
      const fromDb = DirectRecords.ownIscsiadm(config) ? IscsiDb.readNodeDb(config.root) : undefined
      return fromDb !== undefined
        ? Effect.succeed(fromDb)
        : run({ operation: "list nodes", target: "all", args: () => Args.nodeList }).pipe(
          Effect.map((r) => Output.parseNodeTree(r.stdout)),
          emptyWhenNotFound
        )
    }).pipe(traced("listNodes", "all")),
    login: (node) =>
      run({ operation: "login", target: nodeTarget(node), args: () => Args.login(node), options: long }).pipe(
        Effect.asVoid,
        traced("login", nodeTarget(node))
      ),
    logout: (node) =>
      run({ operation: "logout", target: nodeTarget(node), args: () => Args.logout(node), options: long }).pipe(
        Effect.asVoid,
        traced("logout", nodeTarget(node))
      ),
    listIfaces: run({ operation: "list ifaces", target: "all", args: () => Args.ifaceList }).pipe(
      Effect.map((r) => Output.parseIfaces(r.stdout)),
      emptyWhenNotFound,
      traced("listIfaces", "all")
    ),
    createIface: (name, settings) =>
      run({ operation: "iface new", target: name, args: () => Args.ifaceNew(name) }).pipe(
        Effect.andThen(run({ operation: "iface update", target: name, args: () => Args.ifaceUpdate(name, settings) })),
        Effect.asVoid,
        traced("createIface", name)
      ),
    deleteIface: (name) =>
      run({ operation: "iface delete", target: name, args: () => Args.ifaceDelete(name) }).pipe(
        Effect.asVoid,
        traced("deleteIface", name)
      ),
    initiatorName: Effect.tryPromise({
      try: () => NodeFs.readFile(RootPath.resolve(config.root, "/etc/iscsi/initiatorname.iscsi"), "utf8"),
      catch: (e) => e as NodeJS.ErrnoException
    }).pipe(
      Effect.map(Output.parseInitiatorName),
      Effect.catch((e) =>
        e.code === "ENOENT"
          ? Effect.succeed(Option.none<string>())
          : Effect.fail(
            new Iscsiadm.IscsiadmError({
              operation: "initiator name",
              target: "/etc/iscsi/initiatorname.iscsi",
              reason: { _tag: "Failed" },
              detail: e.code ?? String(e)
            })
          )
      )
    )
  })
})

/** Iscsiadm over the real `iscsiadm`. */
export const layer: Layer.Layer<Iscsiadm.Iscsiadm, never, CommandRunner | NodeHostConfig | Lock.Lock> = Layer.effect(
  Iscsiadm.Iscsiadm,
  make
)
