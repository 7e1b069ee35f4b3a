/**
 * disconnectVolume: detach an iSCSI volume, as os-brick's
 * ISCSIConnector.disconnect_volume does. It works from the target and LUN,
 * not from what connect returned: it finds every session to the volume's
 * target IQN(s) — including sessions to portals discovery found, and
 * sessions a connect left without a device — and on them the volume's LUN
 * devices; a `deviceInfo` only narrows the devices to the WWN it names.
 *
 *   decode → lock targets → find sessions and devices → flush the map →
 *   flush and delete each device → log out sessions no LUN uses any more
 *   and delete their node records → delete the volume's paths' records no
 *   session uses (what a connect killed before its logins left) → drop the
 *   WWID from multipath's wwids → delete the iface record the connect made
 *
 * Without `force` the first failing step stops it (a failed flush stops
 * before any device is deleted, so no data is lost). With `force` every step
 * is tried and one error lists every failure. With `ignoreErrors` failures
 * are logged and it succeeds. Disconnecting a volume that is not attached
 * succeeds (idempotent). The target locks are held for the whole disconnect,
 * so no connect of another LUN on the same target can decide to reuse a
 * session while it is being logged out.
 */
import { Effect, Option } from "effect"
import { BlockDevice } from "../BlockDevice.ts"
import { DisconnectError } from "../BrickError.ts"
import { unsafeMake as devicePath } from "../DevicePath.ts"
import * as Hctl from "../Hctl.ts"
import * as Leftovers from "../internal/iscsi/DisconnectLeftovers.ts"
import { ignoreNotFound, makeSteps, type Step } from "../internal/iscsi/DisconnectSteps.ts"
import * as Sessions from "../internal/iscsi/Sessions.ts"
import * as TargetLock from "../internal/iscsi/TargetLock.ts"
import { findVolume, type VolumeDevice, volumeLuns } from "../internal/iscsi/VolumeDevices.ts"
import * as DmMaps from "../internal/multipath/DmMaps.ts"
import * as MapFlush from "../internal/multipath/MapFlush.ts"
import * as ScsiDevices from "../internal/scsi/ScsiDevices.ts"
import { Multipath } from "../Multipath.ts"
import * as ConnectionInfo from "./ConnectionInfo.ts"
import * as ConnectorOptions from "./ConnectorOptions.ts"
import * as DeviceInfo from "./DeviceInfo.ts"
import * as IfaceChoice from "./IfaceChoice.ts"
import { unsafeMake as ifaceName } from "./IfaceName.ts"
import type { Iqn } from "./Iqn.ts"
import { Iscsiadm, type NodeRecord } from "./Iscsiadm.ts"
import type { Portal } from "./Portal.ts"

/** How a disconnect treats failures. */
export interface DisconnectFlags {
  /** Go on past failures, then fail listing every one. */
  readonly force?: boolean
  /** Go on past failures and succeed (they are logged). */
  readonly ignoreErrors?: boolean
  /**
   * Also the volume's sessions and devices through other ifaces than those
   * brick connects through (another tool's): off by default.
   */
  readonly otherIfaces?: boolean
}

/**
 * The ifaces whose sessions a disconnect acts on: those a connect with
 * `options` logs in through, and those the device info names as serving.
 */
export const ownIfaces = (
  options: ConnectorOptions.ConnectorOptions,
  device: Option.Option<DeviceInfo.DeviceInfo>
): ReadonlySet<string> =>
  new Set([
    ...IfaceChoice.brickIfaces(options.iface, options.ifaceFallback),
    ...Option.toArray(device).flatMap((d) => [
      ...(d.iface === undefined ? [] : [d.iface]),
      ...(d.paths ?? []).flatMap((p) => (p.iface === undefined ? [] : [p.iface]))
    ])
  ])

/** Flushes a map by name (retrying while it is in use); a map already gone is done. */
const flushMap = (step: Step, name: string) => step("flushMap", name, ignoreNotFound(MapFlush.flushRetrying(name)))

/** 1. The maps holding the devices are flushed (or, holding none, the map the device info names); returns them. */
const flushMaps = (step: Step, devices: ReadonlyArray<VolumeDevice>, device: Option.Option<DeviceInfo.DeviceInfo>) =>
  Effect.gen(function*() {
    const maps = new Set<string>()
    for (const d of devices) {
      if (Option.isNone(d.block)) continue
      const holder = yield* step("inspect", d.block.value, DmMaps.holderOf(d.block.value))
      if (Option.isSome(holder) && Option.isSome(holder.value)) maps.add(holder.value.value)
    }
    const named = Option.flatMap(device, (d) => Option.fromUndefinedOr(d.multipath_id))
    // the map may have outlived its paths: found by its WWID, whatever its name
    if (maps.size === 0 && Option.isSome(named)) {
      const dm = Option.flatten(yield* step("inspect", named.value, DmMaps.mapOfWwn(named.value)))
      if (Option.isSome(dm)) maps.add(dm.value)
    }
    const ours = new Set(devices.flatMap((d) => Option.toArray(d.block)))
    const flushed = new Set<string>()
    for (const dm of maps) {
      const map = yield* step("inspect", dm, DmMaps.mapOf(dm))
      const name = Option.getOrElse(Option.flatMap(map, (m) => m.name), () => dm)
      // a map that also holds paths of another iface's sessions stays theirs: only the volume's paths leave it
      const slaves = Option.getOrElse(yield* step("inspect", dm, DmMaps.slavesOf(dm)), () => [])
      const others = slaves.filter((sd) => !ours.has(sd))
      if (others.length > 0) {
        yield* Effect.logInfo(`map ${name} keeps ${others.join(" ")} (not this disconnect's): only its paths leave it`)
        continue
      }
      flushed.add(dm)
      yield* flushMap(step, name)
    }
    return flushed
  })

/**
 * 2. Every device's buffers flushed, then every device deleted, each phase in
 * parallel (see BENCHMARKS.md, "Why the code does what it does"); without
 * force a device whose flush failed is not deleted.
 */
const removeDevices = (step: Step, devices: ReadonlyArray<VolumeDevice>, force: boolean) =>
  Effect.gen(function*() {
    const block = yield* BlockDevice
    const flushed = yield* Effect.forEach(devices, (d) =>
      Option.isNone(d.block)
        ? Effect.succeed(true)
        : Effect.map(
          step("flushDevice", d.block.value, ignoreNotFound(block.flush(devicePath(`/dev/${d.block.value}`)))),
          Option.isSome
        ), { concurrency: "unbounded" })
    yield* Effect.forEach(devices, (d, i) =>
      !flushed[i] && !force
        ? Effect.void
        : Effect.andThen(
          leaveMap(d),
          step("deleteDevice", Hctl.format(d.hctl), ScsiDevices.remove(d.hctl))
        ), {
      concurrency: "unbounded",
      discard: true
    })
  })

/** A device still in a map (one that stays: it holds another iface's paths) is taken out of it first. */
const leaveMap = (d: VolumeDevice) =>
  Effect.gen(function*() {
    if (Option.isNone(d.block)) return
    const block = d.block.value
    const holder = yield* DmMaps.holderOf(block).pipe(Effect.orElseSucceed(() => Option.none<string>()))
    if (Option.isNone(holder)) return
    yield* Multipath.use((m) => m.removePath(block)).pipe(
      Effect.catch((e) => Effect.logWarning(`multipathd remove path ${block} failed: ${e.message}`))
    )
  })

/** 3. A map of the volume's WWN that multipathd formed after we looked, now without paths, goes too. */
const flushPathlessMaps = (step: Step, devices: ReadonlyArray<VolumeDevice>, flushed: ReadonlySet<string>) =>
  Effect.gen(function*() {
    const wwns = new Set(devices.flatMap((d) => (Option.isSome(d.wwn) ? [d.wwn.value] : [])))
    for (const wwn of wwns) {
      const dm = Option.flatten(yield* step("inspect", wwn, DmMaps.mapOfWwn(wwn)))
      if (Option.isNone(dm) || flushed.has(dm.value)) continue
      const slaves = yield* step("inspect", dm.value, DmMaps.slavesOf(dm.value))
      if (Option.isNone(slaves) || slaves.value.length > 0) continue
      const map = yield* step("inspect", dm.value, DmMaps.mapOf(dm.value))
      yield* flushMap(step, Option.getOrElse(Option.flatMap(map, (m) => m.name), () => dm.value))
    }
  })

/** 4. Sessions no LUN device uses any more: logged out and their node records deleted, in parallel. */
const logOutUnused = (step: Step, sessions: ReadonlyArray<Sessions.Session>) =>
  Effect.forEach(sessions, (s) =>
    Effect.gen(function*() {
      if (Option.isNone(s.portal)) return
      const left = yield* step("inspect", `session${s.sid}`, Sessions.devicesOf(s.sid))
      if (Option.isNone(left) || left.value.length > 0) return
      const iscsiadm = yield* Iscsiadm
      const node: NodeRecord = { portal: s.portal.value as Portal, iqn: s.iqn as Iqn, iface: ifaceName(s.iface) }
      yield* Effect.logInfo(`logging out session ${s.sid}`)
      const out = yield* step("logout", `session${s.sid}`, ignoreNotFound(iscsiadm.logout(node)))
      if (Option.isSome(out)) {
        yield* step("deleteNode", `${s.portal.value} ${s.iqn}`, ignoreNotFound(iscsiadm.deleteNode(node)))
      }
    }), { concurrency: "unbounded", discard: true })

/** Disconnects a volume from decoded input. */
export const disconnect = Effect.fn("brick.disconnect")(
  function*(
    data: ConnectionInfo.ConnectionData,
    options: ConnectorOptions.ConnectorOptions,
    device: Option.Option<DeviceInfo.DeviceInfo>,
    flags: DisconnectFlags
  ) {
    const luns = volumeLuns(data)
    return yield* Effect.gen(function*() {
      const { finish, step } = yield* makeSteps(flags)
      const ifaces = flags.otherIfaces === true ? Option.none() : Option.some(ownIfaces(options, device))
      const found = yield* step("inspect", "sessions", findVolume(luns, Option.map(device, (d) => d.scsi_wwn), ifaces))
      if (Option.isNone(found)) return yield* finish
      const { devices, sessions } = found.value
      yield* Effect.logInfo(`disconnecting: ${devices.length} device(s) on ${sessions.length} session(s)`)
      const maps = yield* flushMaps(step, devices, device)
      yield* removeDevices(step, devices, flags.force === true)
      yield* flushPathlessMaps(step, devices, maps)
      yield* logOutUnused(step, sessions)
      yield* Leftovers.dropSessionlessRecords(step, data, options)
      yield* Leftovers.forgetWwids(devices)
      yield* Leftovers.removeCreatedIface(step, device)
      return yield* finish
    }).pipe(
      TargetLock.withTargets(luns.keys(), options.lockTimeout),
      Effect.catchTag(
        "LockError",
        (e) => Effect.fail(new DisconnectError({ reason: { _tag: "LockFailed", lock: e.name, detail: e.message } }))
      )
    )
  },
  (effect, data) =>
    Effect.annotateLogs(effect, {
      volume: data.volume_id ?? "",
      target: data.target_iqn ?? data.target_iqns?.[0] ?? ""
    })
)

/**
 * Detaches a volume: decodes `info`, `deviceInfo` (what connect returned;
 * optional) and `options` before anything else, then disconnects.
 */
export const disconnectVolume = Effect.fn("brick.disconnectVolume")(function*(
  info: unknown,
  deviceInfo?: unknown,
  flags: DisconnectFlags = {},
  options?: unknown
) {
  const data = yield* ConnectionInfo.decode(info)
  const device = deviceInfo === undefined || deviceInfo === null
    ? Option.none<DeviceInfo.DeviceInfo>()
    : Option.some(yield* DeviceInfo.decode(deviceInfo))
  const decoded = yield* ConnectorOptions.decode(options)
  return yield* disconnect(data, decoded, device, flags)
})
