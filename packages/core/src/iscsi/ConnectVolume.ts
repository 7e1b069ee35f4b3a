/**
 * connectVolume: attach an iSCSI volume and return its device, as os-brick's
 * ISCSIConnector.connect_volume does. Reads top to bottom:
 *
 *   decode → plan → lock targets → (discover) → node records → log in and
 *   find devices on every path in parallel → assemble multipath → result
 *
 * Nothing touches the host before the input and options have decoded
 * (invariant 5). Everything created is written to a ledger first and undone,
 * under the same target locks, when the connect fails or is interrupted
 * (invariant 2).
 *
 * Stragglers. With multipath, the result is returned as soon as the map has
 * formed and the other paths have had a grace period of half the time the
 * connect had taken so far (so a blackholed portal costs at most 1.5x). Paths still
 * logging in or scanning then are interrupted: each undoes what it created
 * (a node record, a login — found afterwards through the session listing if
 * the login was cut short —, a scanned device), under the locks the connect
 * still holds. Nothing of the connect runs after it returns. Should a real
 * iscsid complete an interrupted login later anyway, the session it leaves
 * has no device and disconnectVolume (which works from the target and LUN,
 * not from the result) logs it out.
 */
import { Clock, Effect, Exit, Fiber, Option, Queue, Ref, Result } from "effect"
import type { BlockDevice } from "../BlockDevice.ts"
import { ConnectError, connectHostError as hostError, type PathFailure } from "../BrickError.ts"
import type { DeviceInfo } from "../DeviceInfo.ts"
import { unsafeMake as devicePath } from "../DevicePath.ts"
import * as HostPath from "../HostPath.ts"
import * as IfaceFacts from "../internal/iscsi/IfaceFacts.ts"
import * as IscsiUndo from "../internal/iscsi/IscsiUndo.ts"
import { type AttachedPath, attachPath } from "../internal/iscsi/PathAttach.ts"
import type { PathContext } from "../internal/iscsi/PathContext.ts"
import { createRecord } from "../internal/iscsi/PathLogin.ts"
import * as Sessions from "../internal/iscsi/Sessions.ts"
import * as TargetLock from "../internal/iscsi/TargetLock.ts"
import * as Ledger from "../internal/Ledger.ts"
import * as DmMaps from "../internal/multipath/DmMaps.ts"
import * as Poll from "../internal/Poll.ts"
import * as Layout from "../internal/SysfsLayout.ts"
import { Multipath } from "../Multipath.ts"
import { Sysfs } from "../Sysfs.ts"
import type { Wwn } from "../Wwn.ts"
import * as ConnectionInfo from "./ConnectionInfo.ts"
import * as ConnectorOptions from "./ConnectorOptions.ts"
import * as ConnectPlan from "./ConnectPlan.ts"
import * as IfaceChoice from "./IfaceChoice.ts"
import { defaultIface, type IfaceName } from "./IfaceName.ts"
import { Iscsiadm, type NodeRecord, type NodeSettings } from "./Iscsiadm.ts"
import * as TargetPath from "./TargetPath.ts"

/**
 * The paths after sendtargets discovery: the given portal first, then every
 * portal of the target found. Discovery records nothing on the host (see
 * Iscsiadm.discover): each path's node record is made, and put in the
 * ledger, like any other path's.
 */
const discoverPaths = (plan: ConnectPlan.ConnectPlan, iface: IfaceName) =>
  Effect.gen(function*() {
    if (Option.isNone(plan.discovery)) return plan.paths
    const iscsiadm = yield* Iscsiadm
    const { portal, auth } = plan.discovery.value
    const primary = plan.paths[0]!
    const found = yield* iscsiadm.discover({ portal, iface, auth }).pipe(
      Effect.catch((e) =>
        Effect.as(Effect.logWarning(`discovery through ${portal} failed, using it alone: ${e.message}`), [])
      )
    )
    const discovered = found.filter((t) => t.iqn === primary.iqn)
      .map((t): TargetPath.TargetPath => ({ portal: t.portal, iqn: t.iqn, lun: primary.lun }))
    yield* Effect.logInfo(`discovery found ${discovered.length} portal(s) of the target`)
    return TargetPath.dedupe([primary, ...discovered])
      .map((p) => ConnectPlan.plannedPath(p, plan.addressingMode, plan.offload))
  }).pipe(Effect.withSpan("brick.discover"))

/**
 * With several paths, the node record of every path without a session is
 * made before any login starts, each put in the connect's ledger first (so
 * undone when the connect fails; one no path ends up using is dropped after
 * a success). Made inside each path's own run instead, the later records were
 * made while the earlier logins ran, waiting for the CPU they took, and every
 * later login started after them (in the lab the 4th of 4 logins started at
 * 0.6 s instead of 0.3 s: `pnpm bench:lab`). Returns the keys of the records
 * made; a path whose record failed here makes it itself, and fails there.
 */
const prepareRecords = (
  iface: IfaceName,
  paths: ReadonlyArray<ConnectPlan.PlannedPath>,
  nodesBefore: ReadonlyArray<NodeRecord>,
  settings: NodeSettings,
  ledger: Ledger.Recorder<IscsiUndo.Entry>
) =>
  Effect.gen(function*() {
    const made = new Set<string>()
    if (paths.length < 2) return made
    const nodes = new Map<string, NodeRecord>()
    for (const p of paths) {
      const node: NodeRecord = { portal: p.portal, iqn: p.iqn, iface }
      nodes.set(IscsiUndo.nodeKey(node), node)
    }
    yield* Effect.forEach(nodes, ([key, node]) =>
      Effect.gen(function*() {
        const session = yield* Sessions.findSessionByPath(node).pipe(Effect.orElseSucceed(() => Option.none()))
        if (Option.isSome(session)) return
        const created = yield* createRecord(ledger, nodesBefore, node, settings)
        if (Result.isSuccess(created)) made.add(key)
      }), { concurrency: "unbounded", discard: true })
    return made
  }).pipe(Effect.withSpan("brick.prepareRecords"))

/** How the paths ended up. */
interface Assembly {
  readonly ok: ReadonlyArray<AttachedPath>
  readonly failed: ReadonlyArray<PathFailure>
  readonly map: Option.Option<{ readonly dm: string; readonly wwn: Wwn }>
}

type Outcome = { readonly _tag: "Ok"; readonly path: AttachedPath } | {
  readonly _tag: "Failed"
  readonly failure: PathFailure
}

/** Whether udev has linked any of the paths' devices under /dev/disk/by-path. */
const anyLinked = (ok: ReadonlyArray<AttachedPath>) =>
  Effect.gen(function*() {
    const sysfs = yield* Sysfs
    for (const p of ok) {
      const link = yield* sysfs.readlink(HostPath.join(Layout.byPathDir, p.path.byPathName)).pipe(
        Effect.orElseSucceed(() => Option.none<string>())
      )
      if (Option.isSome(link)) return true
    }
    return false
  })

/** The multipath map holding any of the paths' devices, if it is the volume's. */
const findMap = (ok: ReadonlyArray<AttachedPath>) =>
  Effect.gen(function*() {
    for (const p of ok) {
      const holder = yield* DmMaps.holderOf(p.block)
      if (Option.isNone(holder)) continue
      const map = yield* DmMaps.mapOf(holder.value)
      if (Option.isNone(map.uuid) || DmMaps.isMultipathMapOf(map.uuid, p.wwn)) {
        return Option.some({ dm: holder.value, wwn: p.wwn })
      }
    }
    return Option.none<{ dm: string; wwn: Wwn }>()
  }).pipe(Effect.catch((e) => Effect.as(Effect.logWarning(`reading holders failed: ${e.message}`), Option.none())))

/**
 * Runs every path in parallel and assembles the result: the first device,
 * then (with multipath) the map, then a grace period for the other paths.
 */
const assemble = (
  ctx: PathContext,
  paths: ReadonlyArray<ConnectPlan.PlannedPath>,
  multipath: boolean,
  multipathd: boolean
): Effect.Effect<Assembly, never, Iscsiadm | Sysfs | Multipath | BlockDevice> =>
  paths.length === 1 && !multipath
    // one path, no map to wait for: no fibers needed
    ? Effect.match(attachPath(ctx, paths[0]!), {
      onFailure: (failure): Assembly => ({ ok: [], failed: [failure], map: Option.none() }),
      onSuccess: (path): Assembly => ({ ok: [path], failed: [], map: Option.none() })
    })
    : assembleMany(ctx, paths, multipath, multipathd)

const assembleMany = (
  ctx: PathContext,
  paths: ReadonlyArray<ConnectPlan.PlannedPath>,
  multipath: boolean,
  multipathd: boolean
) =>
  Effect.scoped(Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const events = yield* Queue.unbounded<Outcome>()
    const fibers = yield* Effect.forEach(paths, (p) =>
      attachPath(ctx, p).pipe(
        Effect.exit,
        Effect.flatMap((exit) =>
          Exit.isSuccess(exit)
            ? Queue.offer(events, { _tag: "Ok", path: exit.value })
            : Option.match(Exit.findErrorOption(exit), {
              onNone: () => Effect.void,
              onSome: (failure) => Queue.offer(events, { _tag: "Failed", failure })
            })
        ),
        Effect.forkScoped
      ))
    const ok: Array<AttachedPath> = []
    const failed: Array<PathFailure> = []
    const record = (o: Outcome) => (o._tag === "Ok" ? ok.push(o.path) : failed.push(o.failure))
    const settled = () => ok.length + failed.length === paths.length
    /** Waits for the next outcome until `deadline`; false when the time ran out. */
    const next = (deadline: number) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        if (now >= deadline) return false
        const o = yield* Effect.timeoutOption(Queue.take(events), deadline - now)
        if (Option.isSome(o)) record(o.value)
        return Option.isSome(o)
      })
    const drain = Effect.gen(function*() {
      for (;;) {
        const o = yield* Queue.poll(events)
        if (Option.isNone(o)) return
        record(o.value)
      }
    })

    // 1. The first device (or every path failed).
    while (ok.length === 0 && !settled()) yield* next(Number.POSITIVE_INFINITY)
    if (ok.length === 0) return { ok, failed, map: Option.none() } satisfies Assembly

    // 2. The map: look for it as paths come in; ask multipathd after a while.
    let map = Option.none<{ dm: string; wwn: Wwn }>()
    if (multipath && multipathd) {
      const first = yield* Clock.currentTimeMillis
      // multipathd forms maps on udev's events: the add delay runs from when
      // udev is done with a path (its by-path link is there), so a slow
      // udev/multipathd is not asked while it is at work (in the lab each
      // `multipathd add path` then queued ~2.5 s behind its own work and
      // failed, adding 4-9 s: `pnpm bench:lab`); with no link after 2x the
      // delay (at most half the wait) it is asked anyway (in the lab udev
      // often took > 4 s for a link while multipathd had formed no map).
      const delay = ctx.options.multipathAddDelay
      const fallbackAt = first + Math.min(2 * delay, Math.max(delay, ctx.options.multipathWaitTimeout * 500))
      let addAt = fallbackAt
      let udevDone = false
      const deadline = first + ctx.options.multipathWaitTimeout * 1000
      let asked = false
      let polls = 0
      for (;;) {
        yield* drain
        map = yield* findMap(ok)
        if (Option.isSome(map)) break
        const now = yield* Clock.currentTimeMillis
        if (now >= deadline) break
        if (!asked && !udevDone && (yield* anyLinked(ok))) {
          udevDone = true
          addAt = Math.min(fallbackAt, now + delay)
        }
        if (!asked && now >= addAt) {
          asked = true
          const wwn = ok[0]!.wwn
          yield* ctx.ledger.record({ _tag: "Map", wwn })
          yield* Effect.logInfo(`multipathd has not formed the map of ${wwn}: adding the paths and the map`)
          const multipath = yield* Multipath
          // at once: each `multipathd add path` is a process (0.3-2.5 s in the lab guest)
          yield* Effect.forEach(ok, (p) =>
            multipath.addPath(p.block).pipe(
              Effect.catch((e) => Effect.logWarning(`multipathd add path ${p.block} failed: ${e.message}`))
            ), { concurrency: "unbounded", discard: true })
          polls = 0
          map = yield* findMap(ok)
          if (Option.isSome(map)) break
          yield* multipath.addMap(wwn).pipe(
            Effect.catch((e) => Effect.logWarning(`multipathd add map failed: ${e.message}`))
          )
          continue
        }
        const wait = Poll.delay(polls++, ctx.options.pollInterval)
        if (wait === 0) yield* Effect.yieldNow
        else yield* next(Math.min(now + wait, deadline, asked ? deadline : addAt))
      }
    }

    // 3. The other paths get half as long again as the connect took so far.
    if (multipath) {
      const now = yield* Clock.currentTimeMillis
      const until = now + Math.floor((now - start) / 2)
      yield* Effect.yieldNow
      yield* drain
      while (!settled() && (yield* next(until))) {
        // keep collecting
      }
      if (!settled()) yield* Effect.logInfo("stopping paths still connecting")
    }
    yield* Fiber.interruptAll(fibers)
    yield* drain
    return { ok, failed, map } satisfies Assembly
  }))

/**
 * After a successful connect: node records it created (by discovery, or for
 * paths that failed or were stopped before their own undo could see them)
 * that no session of the volume uses are deleted, so nothing is left behind.
 */
const dropUnusedNodes = (ledger: Ledger.Ledger<IscsiUndo.Entry>, ok: ReadonlyArray<AttachedPath>) =>
  Effect.gen(function*() {
    const used = new Set(ok.map((p) => IscsiUndo.nodeKey({ portal: p.path.portal, iqn: p.path.iqn, iface: p.iface })))
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

const resultOf = (
  plan: ConnectPlan.ConnectPlan,
  assembly: Assembly,
  multipathd: boolean
): Effect.Effect<DeviceInfo, ConnectError> =>
  Effect.gen(function*() {
    const { ok, failed, map } = assembly
    if (ok.length === 0) {
      const loggedIn = failed.some((f) => f._tag === "DeviceNotFound" || f._tag === "WwnMismatch")
      return yield* Effect.fail(
        new ConnectError({
          reason: loggedIn ? { _tag: "DeviceNotFound", paths: failed } : { _tag: "LoginFailed", paths: failed }
        })
      )
    }
    const first = ok[0]!
    const devices = ok.map((p) => devicePath(`/dev/${p.block}`))
    for (const f of failed) yield* Effect.logWarning(`path ${f.portal} not used: ${f._tag}: ${f.detail}`)
    if (Option.isSome(map)) {
      return {
        type: "block",
        path: devicePath(`/dev/${map.value.dm}`),
        scsi_wwn: map.value.wwn,
        multipath_id: map.value.wwn,
        iface: first.iface,
        devices
      } satisfies DeviceInfo
    }
    if (plan.multipath) {
      const detail = multipathd
        ? `no map within ${plan.enforceMultipath ? "the wait" : "the wait, using the single device"}`
        : "multipathd is not running"
      if (plan.enforceMultipath) {
        return yield* Effect.fail(new ConnectError({ reason: { _tag: "MultipathRequired", wwn: first.wwn, detail } }))
      }
      yield* Effect.logWarning(`multipath requested but ${detail}: returning /dev/${first.block}`)
    }
    return {
      type: "block",
      path: devicePath(`/dev/${first.block}`),
      scsi_wwn: first.wwn,
      iface: first.iface,
      devices
    } satisfies DeviceInfo
  })

/** Attaches a volume from decoded input and options. */
export const connect = Effect.fn("brick.connect")(function*(
  data: ConnectionInfo.ConnectionData,
  options: ConnectorOptions.ConnectorOptions
) {
  // plan
  const facts = yield* IfaceFacts.read(options)
  const plan = ConnectPlan.make(data, options, facts)
  if (plan.iface._tag === "Refuse") {
    return yield* Effect.fail(
      new ConnectError({
        reason: {
          _tag: "IfaceUnusable",
          requested: plan.iface.requested,
          detail: IfaceChoice.describeReason(plan.iface.reason)
        }
      })
    )
  }
  const choice = plan.iface
  if (choice._tag === "Fallback") {
    yield* Effect.logWarning(
      `iface ${choice.requested} not usable (${IfaceChoice.describeReason(choice.reason)}): using default`
    )
  }
  const multipathd = plan.multipath ? yield* Multipath.use((m) => m.isRunning) : false
  if (plan.multipath && plan.enforceMultipath && !multipathd) {
    return yield* Effect.fail(new ConnectError({ reason: { _tag: "MultipathUnavailable" } }))
  }
  const iqns = plan.paths.map((p) => p.iqn)

  // lock the targets, then log in, find devices and assemble; undo on failure
  return yield* Effect.gen(function*() {
    const iscsiadm = yield* Iscsiadm
    return yield* Ledger.undoOnFailure(IscsiUndo.undo, (ledger) =>
      Effect.gen(function*() {
        if (choice._tag === "Use" && Option.isSome(choice.create)) {
          yield* ledger.record({ _tag: "Iface", name: choice.iface })
          yield* iscsiadm.createIface(choice.iface, choice.create.value).pipe(
            Effect.mapError(hostError("creating the iface"))
          )
        }
        const nodes = yield* iscsiadm.listNodes.pipe(Effect.mapError(hostError("listing node records")))
        const paths = yield* discoverPaths(plan, choice.iface)
        const prepared = yield* prepareRecords(choice.iface, paths, nodes, plan.nodeSettings, ledger)
        const ctx: PathContext = {
          iface: choice.iface,
          fallback: options.ifaceFallback && choice.iface !== defaultIface,
          settings: plan.nodeSettings,
          options,
          nodesBefore: nodes,
          prepared,
          volumeWwn: yield* Ref.make(Option.none<Wwn>()),
          ledger
        }
        const assembly = yield* assemble(ctx, paths, plan.multipath, multipathd)
        const result = yield* resultOf(plan, assembly, multipathd)
        yield* dropUnusedNodes(ledger, assembly.ok)
        return result
      }))
  }).pipe(
    TargetLock.withTargets(iqns, options.lockTimeout),
    Effect.catchTag(
      "LockError",
      (e) => Effect.fail(new ConnectError({ reason: { _tag: "LockFailed", lock: e.name, detail: e.message } }))
    )
  )
}, (effect, data) =>
  Effect.annotateLogs(effect, {
    volume: data.volume_id ?? "",
    target: data.target_iqn ?? data.target_iqns?.[0] ?? ""
  }))

/**
 * Attaches a volume: decodes `info` (Cinder's connection_info or its data)
 * and `options` before anything else, then connects. Returns the device info.
 */
export const connectVolume = Effect.fn("brick.connectVolume")(function*(info: unknown, options?: unknown) {
  const data = yield* ConnectionInfo.decode(info)
  const decoded = yield* ConnectorOptions.decode(options)
  return yield* connect(data, decoded)
})
