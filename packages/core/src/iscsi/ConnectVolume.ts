/**
 * connectVolume: attach an iSCSI volume and return its device, as os-brick's
 * ISCSIConnector.connect_volume does. Reads top to bottom:
 *
 *   decode → plan → lock the targets → iface → node records → log in and
 *   find the devices on every path in parallel → assemble multipath → result
 *   → (access_mode rw) a writable device
 *
 * Nothing touches the host before the input and options have decoded
 * (invariant 5). Everything created is written to a ledger first and undone,
 * under the same target locks, when the connect fails or is interrupted
 * (invariant 2).
 *
 * Locks. The target locks are held until every path has its device (no
 * session decision is left, and the volume's devices keep its sessions from
 * being logged out by another volume's disconnect); then the unused node
 * records are dropped and the locks let go, so the map is waited for
 * without them. An undo after that takes them again first.
 *
 * Stragglers. With multipath, the result is returned as soon as the map has
 * formed and the other paths have had a grace period of half the time the
 * assembly had taken so far (so a blackholed portal costs at most 1.5x).
 * Paths still logging in or scanning then are interrupted: each undoes what
 * it created (a node record, a login — found afterwards through the session
 * listing if the login was cut short —, a scanned device), under the locks
 * the connect still holds. Nothing of the connect runs after it returns.
 * Should a real iscsid complete an interrupted login later anyway, the
 * session it leaves has no device and disconnectVolume (which works from the
 * target and LUN, not from the result) logs it out.
 */
import { Effect, Option, Ref } from "effect"
import { ConnectError, connectHostError, type PathFailure } from "../BrickError.ts"
import { unsafeMake as devicePath } from "../DevicePath.ts"
import * as IfaceRecords from "../internal/iscsi/IfaceRecords.ts"
import * as IscsiUndo from "../internal/iscsi/IscsiUndo.ts"
import * as NodeRecords from "../internal/iscsi/NodeRecords.ts"
import { type AttachedPath, attachPath, nodeKeyOf } from "../internal/iscsi/PathAttach.ts"
import type { PathContext } from "../internal/iscsi/PathContext.ts"
import * as PathReports from "../internal/iscsi/PathReports.ts"
import { requireWritable } from "../internal/iscsi/RequireWritable.ts"
import * as SinglePath from "../internal/iscsi/SinglePath.ts"
import * as TargetLock from "../internal/iscsi/TargetLock.ts"
import { unlockWhenAllAttached } from "../internal/iscsi/UnlockWhenAllAttached.ts"
import * as Ledger from "../internal/Ledger.ts"
import * as MultipathAssembly from "../internal/multipath/MultipathAssembly.ts"
import * as PathFailover from "../internal/multipath/PathFailover.ts"
import { type FindMultipaths, Multipath } from "../Multipath.ts"
import type { Wwn } from "../Wwn.ts"
import * as ConnectionInfo from "./ConnectionInfo.ts"
import * as ConnectorOptions from "./ConnectorOptions.ts"
import * as ConnectPlan from "./ConnectPlan.ts"
import * as DeviceInfoSchema from "./DeviceInfo.ts"
import type { DeviceInfo } from "./DeviceInfo.ts"
import * as IfaceChoice from "./IfaceChoice.ts"
import * as IfaceFacts from "./IfaceFacts.ts"
import { defaultIface, type IfaceName } from "./IfaceName.ts"
import { Iscsiadm } from "./Iscsiadm.ts"

/** A connect's plan with the iface it will use, whether multipathd runs and its `find_multipaths`. */
interface Planned {
  readonly plan: ConnectPlan.ConnectPlan
  readonly iface: Exclude<IfaceChoice.IfaceChoice, { readonly _tag: "Refuse" }>
  readonly multipathd: boolean
  readonly findMultipaths: FindMultipaths
}

/**
 * Attaches a volume from decoded input and options. `earlier`, the device
 * info of an earlier connect of the volume, pins its WWN: no device of
 * another WWN is returned.
 */
export const connect = Effect.fn("brick.connect")(function*(
  data: ConnectionInfo.ConnectionData,
  options: ConnectorOptions.ConnectorOptions,
  earlier: Option.Option<DeviceInfo> = Option.none()
) {
  const planned = yield* plan(data, options)
  return yield* lockedWithLedger(planned, options, (ledger, locks) =>
    Effect.gen(function*() {
      const { iface, created } = yield* createIface(planned, ledger)
      const ctx = yield* records(planned, options, iface, ledger, Option.map(earlier, (d) => d.scsi_wwn))
      // log in and find the device: with multipath every path in parallel, else the listed paths in turn
      const candidates = planned.plan.multipath ? ctx.paths : [...ctx.paths, ...planned.plan.alternates]
      const attaches = yield* unlockWhenAllAttached(candidates.map((path) => attachPath(ctx, path)), ledger, locks)
      const assembly = planned.plan.multipath
        ? yield* MultipathAssembly.assemble(attaches, assemblySettings(planned, options), ledger)
        : yield* PathFailover.firstThatWorks(attaches)
      const device: DeviceInfo = yield* result(planned, candidates, assembly)
      if (data.access_mode === "rw") yield* requireWritable(device, assembly, options)
      if (!(yield* locks.released)) yield* NodeRecords.dropUnused(ledger, new Set(assembly.ok.map(nodeKeyOf)))
      if (!created) return device
      if (device.iface === iface) return { ...device, iface_created: true }
      // every path fell back to `default`: the record brick made serves nothing
      yield* IfaceRecords.removeIfUnused(iface).pipe(
        Effect.catch((e) => Effect.logWarning(`iface ${iface} made by this connect not deleted: ${e.message}`))
      )
      return device
    }))
}, (effect, data) =>
  Effect.annotateLogs(effect, {
    volume: data.volume_id ?? "",
    target: data.target_iqn ?? data.target_iqns?.[0] ?? ""
  }))

/**
 * Attaches a volume: decodes `info` (Cinder's connection_info or its data),
 * `options` and `deviceInfo` (what an earlier connect of the volume
 * returned; optional: it pins the volume's WWN) before anything else, then
 * connects. Returns the device info.
 */
export const connectVolume = Effect.fn("brick.connectVolume")(
  function*(info: unknown, options?: unknown, deviceInfo?: unknown) {
    const data = yield* ConnectionInfo.decode(info)
    const decoded = yield* ConnectorOptions.decode(options)
    const device = deviceInfo === undefined || deviceInfo === null
      ? Option.none<DeviceInfo>()
      : Option.some(yield* DeviceInfoSchema.decode(deviceInfo))
    return yield* connect(data, decoded, device)
  }
)

/**
 * The plan: the iface facts read off the host, then ConnectPlan.make; fails
 * when the iface cannot be used, or multipath is enforced and multipathd is
 * not running.
 */
const plan = (data: ConnectionInfo.ConnectionData, options: ConnectorOptions.ConnectorOptions) =>
  Effect.gen(function*() {
    const facts = yield* IfaceFacts.read(options)
    const plan = ConnectPlan.make(data, options, facts)
    const iface = plan.iface
    if (iface._tag === "Refuse") {
      const detail = IfaceChoice.describeReason(iface.reason)
      return yield* Effect.fail(
        new ConnectError({ reason: { _tag: "IfaceUnusable", requested: iface.requested, detail } })
      )
    }
    if (iface._tag === "Fallback") {
      yield* Effect.logWarning(
        `iface ${iface.requested} not usable (${IfaceChoice.describeReason(iface.reason)}): using default`
      )
    }
    const multipathd = plan.multipath ? yield* Multipath.use((m) => m.isRunning) : false
    if (plan.multipath && plan.enforceMultipath && !multipathd) {
      return yield* Effect.fail(new ConnectError({ reason: { _tag: "MultipathUnavailable" } }))
    }
    const findMultipaths = multipathd ? yield* Multipath.use((m) => m.findMultipaths) : ("no" as const)
    return { plan, iface, multipathd, findMultipaths } satisfies Planned
  })

/**
 * Runs `body` holding the locks of the volume's targets (which it may let
 * go earlier), with a ledger whose entries are undone, under the locks
 * (taken again if need be), when `body` fails or is interrupted.
 */
const lockedWithLedger = <A, R>(
  planned: Planned,
  options: ConnectorOptions.ConnectorOptions,
  body: (ledger: Ledger.Ledger<IscsiUndo.Entry>, locks: TargetLock.Held) => Effect.Effect<A, ConnectError, R>
) =>
  Effect.scoped(Effect.gen(function*() {
    const locks = yield* TargetLock.hold(
      [...planned.plan.paths, ...planned.plan.alternates].map((p) => p.iqn),
      options.lockTimeout
    )
    const undo = (entries: ReadonlyArray<IscsiUndo.Entry>) => Effect.andThen(locks.retake, IscsiUndo.undo(entries))
    return yield* Ledger.undoOnFailure(undo, (ledger) => body(ledger, locks))
  })).pipe(
    Effect.catchTag(
      "LockError",
      (e) => Effect.fail(new ConnectError({ reason: { _tag: "LockFailed", lock: e.name, detail: e.message } }))
    )
  )

/**
 * Creates the iface when the plan says so (recorded first); the iface the
 * paths log in through, and whether brick made it.
 */
const createIface = (planned: Planned, ledger: Ledger.Recorder<IscsiUndo.Entry>) =>
  Effect.gen(function*() {
    const choice = planned.iface
    if (choice._tag === "Use" && Option.isSome(choice.create)) {
      const settings = choice.create.value
      yield* ledger.record({ _tag: "Iface", name: choice.iface })
      yield* Iscsiadm.use((i) => i.createIface(choice.iface, settings)).pipe(
        Effect.mapError(connectHostError("creating the iface"))
      )
      return { iface: choice.iface, created: true }
    }
    return { iface: choice.iface, created: false }
  })

/**
 * The node records: those there before the connect, the paths after
 * discovery, and the records made before any login; what every path of the
 * connect then shares.
 */
const records = (
  planned: Planned,
  options: ConnectorOptions.ConnectorOptions,
  iface: IfaceName,
  ledger: Ledger.Ledger<IscsiUndo.Entry>,
  expectedWwn: Option.Option<Wwn>
) =>
  Effect.gen(function*() {
    const settings = planned.plan.nodeSettings
    const nodesBefore = yield* Iscsiadm.use((i) => i.listNodes).pipe(
      Effect.mapError(connectHostError("listing node records"))
    )
    const paths = yield* NodeRecords.discoverPaths(planned.plan, iface)
    const prepared = yield* NodeRecords.prepare(iface, paths, nodesBefore, settings, ledger)
    return {
      paths,
      iface,
      transport: planned.iface.transport,
      fallback: options.ifaceFallback && iface !== defaultIface,
      settings,
      options,
      nodesBefore,
      prepared,
      volumeWwn: yield* Ref.make(expectedWwn),
      ledger
    } satisfies PathContext & { readonly paths: ReadonlyArray<ConnectPlan.PlannedPath> }
  })

/** How the map is formed, from the plan and the options. */
const assemblySettings = (
  planned: Planned,
  options: ConnectorOptions.ConnectorOptions
): MultipathAssembly.Settings => ({
  multipath: planned.plan.multipath,
  multipathd: planned.multipathd,
  findMultipaths: planned.findMultipaths,
  addDelay: options.multipathAddDelay,
  waitTimeout: options.multipathWaitTimeout,
  pollInterval: options.pollInterval
})

/**
 * The device info of the assembled paths: the map when one formed, else the
 * device of the first path that is up (SinglePath; a warning when multipath
 * was asked for, an error when it is enforced), with every tried path's report (`candidates`: the
 * attaches' paths, in order); when no path has a device, why.
 */
const result = (
  planned: Planned,
  candidates: ReadonlyArray<ConnectPlan.PlannedPath>,
  assembly: MultipathAssembly.Assembly<AttachedPath, PathFailure>
) =>
  Effect.gen(function*() {
    const { failed, map, ok } = assembly
    const { multipathd, plan } = planned
    if (ok.length === 0) {
      const loggedIn = failed.some((f) => f._tag === "DeviceNotFound" || f._tag === "WwnMismatch")
      return yield* Effect.fail(
        new ConnectError({
          reason: loggedIn ? { _tag: "DeviceNotFound", paths: failed } : { _tag: "LoginFailed", paths: failed }
        })
      )
    }
    const { down, served: first } = Option.isNone(map) && ok.length > 1
      ? yield* SinglePath.choose(ok)
      : { served: ok[0]!, down: new Map<string, SinglePath.Down>() }
    if (Option.isNone(map) && plan.multipath) {
      const detail = multipathd
        ? `no map within ${plan.enforceMultipath ? "the wait" : "the wait, using the single device"}`
        : "multipathd is not running"
      if (plan.enforceMultipath) {
        return yield* Effect.fail(new ConnectError({ reason: { _tag: "MultipathRequired", wwn: first.wwn, detail } }))
      }
      yield* Effect.logWarning(`multipath requested but ${detail}: returning /dev/${first.block}`)
    }
    const served: PathReports.Served = Option.isSome(map)
      ? { _tag: "Map", dm: map.value.dm }
      : { _tag: "Device", block: first.block, down }
    const paths = yield* PathReports.make(candidates, assembly, served, planned.iface.iface)
    for (const line of PathReports.notServing(paths)) yield* Effect.logWarning(line)
    const device = Option.isSome(map)
      ? { path: devicePath(`/dev/${map.value.dm}`), scsi_wwn: map.value.wwn, multipath_id: map.value.wwn }
      : { path: devicePath(`/dev/${first.block}`), scsi_wwn: first.wwn }
    return {
      type: "block",
      ...device,
      iface: first.iface,
      devices: ok.map((p) => devicePath(`/dev/${p.block}`)),
      paths
    } satisfies DeviceInfo
  })
