/**
 * The Iscsiadm service on a real host: each typed operation becomes one or
 * a few `iscsiadm` commands (argv from IscsiadmArgs, spawned through the
 * CommandRunner), exit codes become IscsiadmReasons (IscsiadmExit), output is
 * parsed by IscsiadmOutput.
 *
 * A new path costs 1 call, the login: its node record is written into
 * open-iscsi's database under its lock (NodeRecordFile) when brick can write
 * it exactly as iscsiadm would (the host's own iscsiadm, database in
 * /etc/iscsi, default iface, IPv4 portal; `nodeRecordWrites: "iscsiadm"` turns
 * it off). Otherwise 3: node new, one update carrying every setting, login.
 * A path whose record exists (made earlier, or by another tool's persistent
 * discovery) costs 2: createNode sees the record in open-iscsi's database
 * (`<root>/etc/iscsi/nodes/<iqn>/<address>,<port>[,<tpgt>]`) and only updates
 * it. It must not run `-o new` then: in open-iscsi 2.1.8, `-o new` beside a
 * discovered record (`…,<tpgt>/<iface>`) leaves a database that `-o update`
 * fails on (exit 6, "iface iter could not stat"), measured in the lab.
 * brick's own discovery records nothing (`-o nonpersistent`).
 */
import { IfaceName, Iqn, Iscsiadm, Lock, Portal } from "@brick/core"
import { Clock, Duration, Effect, Layer, Option, Schedule, Semaphore } from "effect"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import { type CommandResult, CommandRunner, type RunOptions } from "./CommandRunner.ts"
import * as GuardedRecords from "./GuardedRecords.ts"
import * as Args from "./IscsiadmArgs.ts"
import { reasonFor } from "./IscsiadmExit.ts"
import * as Output from "./IscsiadmOutput.ts"
import * as Placement from "./IscsiDbPlacement.ts"
import { NodeHostConfig } from "./NodeHostConfig.ts"
import * as RecordFile from "./NodeRecordFile.ts"
import type { Word } from "./Redaction.ts"
import * as RootPath from "./RootPath.ts"

const maxDetail = 1000

/** The useful part of what a failed command printed: stderr (else stdout), trimmed and bounded. */
export const detailOf = (result: Pick<CommandResult, "stdout" | "stderr">): string => {
  const text = result.stderr.trim() || result.stdout.trim()
  return text.length > maxDetail ? `…${text.slice(text.length - maxDetail)}` : text
}

/**
 * Whether a failure is open-iscsi's database race: every `-m node` command
 * (login, logout, update, delete) and a discovery's record update walk every
 * record of every target, and a record another process removes meanwhile
 * makes the walk fail with exit 6 (ISCSI_ERR_IDBM, "iface iter could not
 * stat …", "encountered iSCSI database failure") although the matched record
 * may have been acted on. Seen in the lab with 8 brick disconnects at once.
 */
export const isDatabaseRace = (e: Iscsiadm.IscsiadmError): boolean => e.exitCode === 6

/** How a database race is retried: 5 more tries, 25 ms doubling with jitter (≈0.8 s in all). */
export const databaseRetry = {
  schedule: Schedule.jittered(Schedule.exponential("25 millis")),
  times: 5,
  while: isDatabaseRace
} as const

const nodeTarget = (node: Iscsiadm.NodeRecord): string => `${node.iqn} ${node.portal} iface ${node.iface}`

/**
 * Whether open-iscsi's database under `root` holds a record of `node`: a
 * directory `<address>,<port>,<tpgt>` with a file named after the iface
 * (discovered records), or a file `<address>,<port>` naming the iface
 * (records made by `-o new`). False when the database cannot be read.
 */
export const recordExists = (root: string, node: Iscsiadm.NodeRecord): boolean => {
  const { host, port } = Portal.parts(node.portal)
  const dir = RootPath.resolve(root, `/etc/iscsi/nodes/${node.iqn}`)
  try {
    for (const entry of NodeFsSync.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name.startsWith(`${host},${port},`)) {
        if (NodeFsSync.existsSync(`${dir}/${entry.name}/${node.iface}`)) return true
      } else if (entry.isFile() && entry.name === `${host},${port}`) {
        const text = NodeFsSync.readFileSync(`${dir}/${entry.name}`, "utf8")
        if (new RegExp(`^iface\\.iscsi_ifacename = ${node.iface.replace(/[.]/g, "\\.")}$`, "m").test(text)) return true
      }
    }
  } catch {
    return false
  }
  return false
}

/** A sendtargets discovery record's name in open-iscsi's database: `<address>,<port>`. */
export const discoveryRecordName = (portal: Portal.Portal): string => {
  const { host, port } = Portal.parts(portal)
  return `${host},${port}`
}

/**
 * Whether open-iscsi's database under `root` holds a sendtargets discovery
 * record of `portal` (`etc/iscsi/send_targets/<address>,<port>`, or under
 * var/lib/iscsi on hosts that keep it there).
 */
export const discoveryRecordExists = (root: string, portal: Portal.Portal): boolean =>
  ["/etc/iscsi/send_targets", "/var/lib/iscsi/send_targets"].some((dir) =>
    NodeFsSync.existsSync(RootPath.resolve(root, `${dir}/${discoveryRecordName(portal)}`))
  )

/**
 * Whether open-iscsi keeps its database in /etc/iscsi under `root` (Debian's
 * layout: /etc/iscsi/iscsid.conf and no /var/lib/iscsi, where RHEL's keeps it).
 */
export const debianLayout = (root: string): boolean =>
  NodeFsSync.existsSync(RootPath.resolve(root, "/etc/iscsi/iscsid.conf")) &&
  !NodeFsSync.existsSync(RootPath.resolve(root, "/var/lib/iscsi"))

/** A file's text, or "" when it cannot be read. */
const readText = (file: string): string => {
  try {
    return NodeFsSync.readFileSync(file, "utf8")
  } catch {
    return ""
  }
}

/**
 * The node records in open-iscsi's database under `root`, read directly (what
 * `iscsiadm -m node -P 1` prints, without a process: one fewer spawn per
 * connect and per disconnect, measured by `pnpm bench:lab`). Undefined when
 * `<root>/etc/iscsi/nodes` cannot be read (another database location, e.g.
 * /var/lib/iscsi): then iscsiadm is asked; empty when it is absent on a
 * host with /etc/iscsi/iscsid.conf and no /var/lib/iscsi (no record yet). Used by listNodes when iscsiadm
 * is the host's own (`iscsiadmPath` "iscsiadm", no command prefix).
 */
export const readNodeDb = (root: string): ReadonlyArray<Iscsiadm.NodeRecord> | undefined => {
  const base = RootPath.resolve(root, "/etc/iscsi/nodes")
  const out: Array<Iscsiadm.NodeRecord> = []
  let targets: Array<NodeFsSync.Dirent>
  try {
    targets = NodeFsSync.readdirSync(base, { withFileTypes: true })
  } catch (e) {
    // no record made yet on a Debian-layout host (/etc/iscsi, no /var/lib/iscsi): none
    const fresh = (e as NodeJS.ErrnoException).code === "ENOENT" && debianLayout(root)
    return fresh ? [] : undefined
  }
  for (const t of targets) {
    if (!t.isDirectory() || !Iqn.isIqn(t.name)) continue
    const iqn = t.name as Iqn.Iqn
    let entries: Array<NodeFsSync.Dirent>
    try {
      entries = NodeFsSync.readdirSync(`${base}/${t.name}`, { withFileTypes: true })
    } catch {
      continue
    }
    for (const e of entries) {
      const m = /^([^,]+),(\d+)(?:,(-?\d+))?$/.exec(e.name)
      if (!m) continue
      const portal = Output.parsePortal(`${m[1]!}:${m[2]!}`)
      if (portal === undefined) continue
      if (e.isDirectory()) {
        let ifaces: Array<string> = []
        try {
          ifaces = NodeFsSync.readdirSync(`${base}/${t.name}/${e.name}`)
        } catch {
          continue
        }
        for (const i of ifaces) if (IfaceName.isIfaceName(i)) out.push({ iqn, portal, iface: i as IfaceName.IfaceName })
      } else if (e.isFile()) {
        let text = ""
        try {
          text = NodeFsSync.readFileSync(`${base}/${t.name}/${e.name}`, "utf8")
        } catch {
          continue
        }
        const i = /^iface\.iscsi_ifacename = (\S+)$/m.exec(text)?.[1] ?? IfaceName.defaultIface
        if (IfaceName.isIfaceName(i)) out.push({ iqn, portal, iface: i as IfaceName.IfaceName })
      }
    }
  }
  return out
}

/** Builds the service from a CommandRunner and the host configuration. */
export const make = Effect.gen(function*() {
  const runner = yield* CommandRunner
  const config = yield* NodeHostConfig
  const locks = yield* Lock.Lock
  const long: RunOptions = { timeout: config.loginCommandTimeout }
  const deletes = yield* Semaphore.make(1)

  /** Runs one iscsiadm command once; a non-zero exit fails with its reason. */
  const runOnce = (
    operation: string,
    target: string,
    args: () => ReadonlyArray<Word>,
    options?: RunOptions
  ): Effect.Effect<CommandResult, Iscsiadm.IscsiadmError> =>
    Effect.try({
      try: args,
      catch: (e) =>
        new Iscsiadm.IscsiadmError({
          operation,
          target,
          reason: { _tag: "Failed" },
          detail: e instanceof Args.UnsafeValue ? e.message : "could not build the command"
        })
    }).pipe(
      Effect.flatMap((argv) => runner.run("iscsiadm", argv, options)),
      Effect.catchTag("CommandError", (e) =>
        Effect.fail(
          new Iscsiadm.IscsiadmError({
            operation,
            target,
            reason: e.reason._tag === "TimedOut" ? { _tag: "Timeout" } : { _tag: "Failed" },
            detail: e.message
          })
        )),
      Effect.flatMap((result) =>
        result.exitCode === 0 ? Effect.succeed(result) : Effect.fail(
          new Iscsiadm.IscsiadmError({
            operation,
            target,
            reason: reasonFor(result.exitCode),
            exitCode: result.exitCode,
            detail: detailOf(result)
          })
        )
      )
    )

  /** Runs one iscsiadm command, again after a database race. */
  const run = (
    operation: string,
    target: string,
    args: () => ReadonlyArray<Word>,
    options?: RunOptions
  ): Effect.Effect<CommandResult, Iscsiadm.IscsiadmError> =>
    Effect.retry(runOnce(operation, target, args, options), databaseRetry)

  /**
   * A discovery with discovery CHAP, whose credentials must sit in a
   * discovery record: an existing record is updated and kept; otherwise one
   * is made for the discovery and removed after it, whatever happened. The
   * host-wide lock of the portal's record keeps two brick processes from
   * sharing (and one removing) a record the other made.
   */
  const discoverWithChap = (options: Args.DiscoveryOptions, target: string) =>
    Effect.suspend(() => {
      const discover = run("discovery update", target, () => Args.discoveryAuth(options)!).pipe(
        Effect.andThen(run("discover", target, () => Args.discoveryFromRecord(options), long))
      )
      if (discoveryRecordExists(config.root, options.portal)) return discover
      return run("discovery new", target, () => Args.discoveryNew(options)).pipe(
        Effect.andThen(discover),
        Effect.ensuring(
          run("discovery delete", target, () => Args.discoveryDelete(options)).pipe(
            Effect.catch((e) => Effect.logWarning(`could not remove the discovery record brick made: ${e.message}`))
          )
        )
      )
    }).pipe(
      Lock.withLock(`discovery ${discoveryRecordName(options.portal)}`, Duration.times(config.loginCommandTimeout, 3)),
      Effect.provideService(Lock.Lock, locks),
      Effect.catchTag("LockError", (e) =>
        Effect.fail(
          new Iscsiadm.IscsiadmError({ operation: "discover", target, reason: { _tag: "Busy" }, detail: e.message })
        ))
    )

  /** `-o delete`, retried on a database race; NotFound after a race means the raced try deleted it. */
  const deleteOnce = (node: Iscsiadm.NodeRecord) =>
    Effect.suspend(() => {
      let raced = false
      return runOnce("delete", nodeTarget(node), () => Args.nodeDelete(node)).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            raced ||= isDatabaseRace(e)
          })
        ),
        Effect.retry(databaseRetry),
        Effect.catchIf((e) => raced && e.reason._tag === "NotFound", () => Effect.void)
      )
    })

  const traced = (operation: string, target: string) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
    self.pipe(
      Effect.annotateLogs({ operation: `iscsiadm.${operation}`, target }),
      Effect.withSpan(`Iscsiadm.${operation}`, { attributes: { target } })
    )

  /** NotFound as an empty answer (iscsiadm exits 21 when there is nothing to list). */
  const emptyWhenNotFound = <A>(self: Effect.Effect<ReadonlyArray<A>, Iscsiadm.IscsiadmError>) =>
    Effect.catchIf(self, (e) => e.reason._tag === "NotFound", () => Effect.succeed<ReadonlyArray<A>>([]))

  const updateNode = (node: Iscsiadm.NodeRecord, settings: Iscsiadm.NodeSettings) =>
    Effect.suspend(() => {
      const target = nodeTarget(node)
      return Args.nodeParams(settings).length === 0
        ? Effect.void
        : Effect.asVoid(run("update", target, () => Args.nodeUpdate(node, settings)!))
    })

  /** The host's own iscsiadm, its database in /etc/iscsi: brick may read it, and write new records into it. */
  const ownDatabase = config.iscsiadmPath === "iscsiadm" && config.commandPrefix.length === 0 &&
    debianLayout(config.root)

  /**
   * Writes a new record itself (NodeRecordFile) when it may: true when
   * written; false when iscsiadm must make it (not allowed here, a record
   * exists, or the write failed before the record was there).
   */
  const writeRecord = (node: Iscsiadm.NodeRecord, settings: Iscsiadm.NodeSettings) =>
    Effect.gen(function*() {
      if (config.nodeRecordWrites !== "direct" || !ownDatabase) return false
      const { host, port } = Portal.parts(node.portal)
      const params = Args.nodeParams(settings)
      const refused = params.some((p) => Args.isUnsafe(p.value))
        ? "a value with a line break or NUL"
        : RecordFile.refusal(node, host, params)
      if (refused !== undefined) {
        yield* Effect.logDebug(`node record through iscsiadm: ${refused}`)
        return false
      }
      const start = yield* Clock.currentTimeMillis
      const conf = RecordFile.confSettings(readText(RootPath.resolve(config.root, "/etc/iscsi/iscsid.conf")))
      // where `-o new` would write it: the portal group's directory when the portal has one (discovery's layout)
      const { file, tpgt } = Placement.of(config.root, node)
      const text = RecordFile.recordText(node, { host, port, tpgt }, conf, params)
      const outcome = yield* RecordFile.withDatabaseLock(config.root, Duration.toMillis(config.commandTimeout), () => {
        try {
          return RecordFile.writeNew(file, text, () => recordExists(config.root, node)) ? "written" : "exists"
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
            detail: `open-iscsi's database lock (${RecordFile.lockDirectory}/lock.write) stayed taken`
          })
        )
      }
      const took = (yield* Clock.currentTimeMillis) - start
      yield* Effect.logDebug(`node record ${outcome} (${file}, ${took} ms, no iscsiadm)`)
      return outcome === "written"
    })

  /**
   * Removes a record itself (NodeRecordFile.removeRecord) when it may: true
   * when removed; false when iscsiadm must delete it (not allowed here, not a
   * record brick may remove, absent, or a session may be using it: iscsiadm
   * then refuses, or finds nothing, as usual).
   */
  const removeRecord = (node: Iscsiadm.NodeRecord) =>
    Effect.gen(function*() {
      if (config.nodeRecordWrites !== "direct" || !ownDatabase) return false
      const { host, port } = Portal.parts(node.portal)
      // the same iface and portal rules as for writing (no values to check)
      if (RecordFile.refusal(node, host, []) !== undefined) return false
      const file = RecordFile.recordPath(config.root, node, host, port)
      if (!NodeFsSync.existsSync(file)) return false
      const outcome = yield* RecordFile.withDatabaseLock(config.root, Duration.toMillis(config.commandTimeout), () => {
        try {
          return RecordFile.removeRecord(file, () => RecordFile.sessionMayUse(config.root, node, host, port))
        } catch (e) {
          return `not removed: ${(e as Error).message}`
        }
      }).pipe(Effect.catchDefect((e) => Effect.succeed(`not removed: ${String(e)}`)))
      yield* Effect.logDebug(
        `node record ${outcome ?? "not removed: the database lock stayed taken"} (${file}, no iscsiadm)`
      )
      return outcome === "removed"
    })

  /** A record made where nothing of another iface's is in the way: updated when it exists, else written (or `-o new`). */
  const createNode = (node: Iscsiadm.NodeRecord, settings: Iscsiadm.NodeSettings) =>
    recordExists(config.root, node) ? updateNode(node, settings) : Effect.flatMap(
      writeRecord(node, settings),
      (written) =>
        written
          ? Effect.void
          : recordExists(config.root, node)
          ? updateNode(node, settings)
          : run("new", nodeTarget(node), () => Args.nodeNew(node)).pipe(Effect.andThen(updateNode(node, settings)))
    )

  /** Records beside another iface's `<address>,<port>` file, which iscsiadm would replace or delete. */
  const guarded = GuardedRecords.make(config, ownDatabase)

  /** The portal group tag of a node's portal: a session's (sysfs), else a sendtargets discovery's (records nothing). */
  const tpgtOf = (node: Iscsiadm.NodeRecord) =>
    Effect.suspend(() => {
      const fromSession = Placement.sessionTpgt(config.root, node)
      if (fromSession !== undefined) return Effect.succeed<number | undefined>(fromSession)
      return run("discover", `${node.portal} iface ${node.iface}`, () =>
        Args.discovery({ portal: node.portal, iface: node.iface, auth: Option.none() }), long).pipe(
          Effect.map((r) =>
            Output.parseTargets(r.stdout).find((t) =>
              t.iqn === node.iqn && t.portal === node.portal
            )?.tpgt
          ),
          Effect.orElseSucceed(() =>
            undefined
          )
        )
    })

  return Iscsiadm.Iscsiadm.of({
    discover: (options) => {
      const target = `${options.portal} iface ${options.iface}`
      return (Option.isNone(options.auth)
        ? run("discover", target, () => Args.discovery(options), long)
        : discoverWithChap(options, target)).pipe(
          Effect.map((result) => Output.parseTargets(result.stdout)),
          traced("discover", target)
        )
    },
    createNode: (node, settings) =>
      Effect.suspend(() => {
        const placement = Placement.of(config.root, node)
        return placement.guarded
          ? guarded.write(node, settings, placement, tpgtOf(node))
          : createNode(node, settings)
      }).pipe(traced("createNode", nodeTarget(node))),
    updateNode: (node, settings) =>
      Effect.suspend(() => {
        const placement = Placement.of(config.root, node)
        return placement.guarded ? guarded.update(node, settings, placement) : updateNode(node, settings)
      }).pipe(traced("updateNode", nodeTarget(node))),
    // one delete at a time: two `-o delete` of one target's records at once
    // fail (exit 6, "iface iter could not stat …": one iterates the target's
    // directory while the other removes an entry), seen in the lab with
    // disconnect's parallel logouts (`pnpm bench:lab`)
    // a retry after a database race may find the record already deleted by
    // the try that raced: NotFound then means done
    deleteNode: (node) =>
      Effect.suspend(() => {
        const placement = Placement.of(config.root, node)
        if (placement.guarded) return guarded.remove(node, placement)
        return Effect.flatMap(
          removeRecord(node),
          (removed) => (removed ? Effect.void : deletes.withPermit(deleteOnce(node)))
        )
      }).pipe(
        Effect.asVoid,
        traced("deleteNode", nodeTarget(node))
      ),
    listNodes: Effect.suspend(() => {
      // only when iscsiadm is the host's own (a configured wrapper may reach another database)
      const own = config.iscsiadmPath === "iscsiadm" && config.commandPrefix.length === 0
      const fromDb = own ? readNodeDb(config.root) : undefined
      return fromDb !== undefined ? Effect.succeed(fromDb) : run("list nodes", "all", () => Args.nodeList).pipe(
        Effect.map((r) => Output.parseNodeTree(r.stdout)),
        emptyWhenNotFound
      )
    }).pipe(traced("listNodes", "all")),
    login: (node) =>
      run("login", nodeTarget(node), () => Args.login(node), long).pipe(
        Effect.asVoid,
        traced("login", nodeTarget(node))
      ),
    logout: (node) =>
      run("logout", nodeTarget(node), () => Args.logout(node), long).pipe(
        Effect.asVoid,
        traced("logout", nodeTarget(node))
      ),
    listIfaces: run("list ifaces", "all", () => Args.ifaceList).pipe(
      Effect.map((r) => Output.parseIfaces(r.stdout)),
      emptyWhenNotFound,
      traced("listIfaces", "all")
    ),
    createIface: (name, settings) =>
      run("iface new", name, () => Args.ifaceNew(name)).pipe(
        Effect.andThen(run("iface update", name, () => Args.ifaceUpdate(name, settings))),
        Effect.asVoid,
        traced("createIface", name)
      ),
    deleteIface: (name) =>
      run("iface delete", name, () => Args.ifaceDelete(name)).pipe(Effect.asVoid, traced("deleteIface", name)),
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
