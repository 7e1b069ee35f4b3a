/**
 * The LUN's SCSI device on one path's session: looked up first when the
 * session may already have it, else found by targeted scans of the session's
 * SCSI host, polled (Poll.ts) and re-scanned `deviceScanAttempts` times in
 * all, backing off (scanGap): a LUN whose mapping lands late on the array is
 * found without costing anything when it is there at once. The scan is
 * recorded in the path's ledger first, with the devices that were there
 * before it.
 */
import { Clock, Effect, Option } from "effect"
import type { PathFailure } from "../../BrickError.ts"
import * as Hctl from "../../Hctl.ts"
import type { PlannedPath } from "../../iscsi/ConnectPlan.ts"
import type { IfaceName } from "../../iscsi/IfaceName.ts"
import type { Multipath } from "../../Multipath.ts"
import type { Sysfs } from "../../Sysfs.ts"
import type { Wwn } from "../../Wwn.ts"
import type { Ledger } from "../Ledger.ts"
import * as Poll from "../Poll.ts"
import * as DeviceIdentity from "../scsi/DeviceIdentity.ts"
import * as ScsiDevices from "../scsi/ScsiDevices.ts"
import type * as IscsiUndo from "./IscsiUndo.ts"
import { hostFailure, type PathContext, pathFailure } from "./PathContext.ts"
import * as Sessions from "./Sessions.ts"

/** The longest gap between two scans (unless `deviceScanInterval` is longer). */
const maxScanGap = 30_000

/**
 * The wait (ms) after the `scan`-th scan (1-based) before the next one, or
 * before giving up after the last: `interval`, doubling each time, at most
 * 30 s. With the defaults (6 scans, 800 ms) the scans run at 0, 0.8, 2.4,
 * 5.6, 12 and 24.8 s and the LUN is given up at 50.4 s.
 */
export const scanGap = (scan: number, interval: number): number =>
  Math.min(interval * 2 ** Math.min(Math.max(scan - 1, 0), 30), Math.max(interval, maxScanGap))

/** The LUN's device on a path. */
export interface LunDevice {
  readonly hctl: Hctl.Hctl
  /** The block device name, `sdX`. */
  readonly block: string
  readonly wwn: Wwn
  /** Whether this connect scanned the device into existence. */
  readonly fresh: boolean
}

/** Finds the LUN's device (with its block name and WWN) on `session`. */
export const find = (
  ctx: PathContext,
  ledger: Ledger<IscsiUndo.Entry>,
  path: PlannedPath,
  session: Sessions.Session,
  iface: IfaceName
): Effect.Effect<LunDevice, PathFailure, Sysfs | Multipath> =>
  Effect.gen(function*() {
    const toHost = hostFailure(path, iface)
    const sid = session.sid
    const lun = path.kernelLun
    // on a session this path just logged in, every device is this connect's
    const loggedInHere = (yield* ledger.entries).some((e) => e._tag === "Session" && e.sid === sid)
    let before = loggedInHere
      ? []
      : (yield* Effect.mapError(Sessions.lunDevicesOf(sid, lun), toHost)).map(Hctl.format)
    const look = Effect.suspend(() => Effect.mapError(lookUp(sid, lun, before), toHost))
    if (before.length > 0 || (loggedInHere && ctx.settings.scan === "auto")) {
      const found = yield* look
      if (Option.isSome(found)) {
        // a device this connect did not make is trusted only once its identity was read fresh
        if (found.value.fresh) return found.value
        const identity = yield* Effect.mapError(DeviceIdentity.confirm(found.value), toHost)
        if (identity._tag === "Same") return found.value
        const name = `${found.value.block} (${Hctl.format(found.value.hctl)})`
        yield* Effect.logWarning(`device ${name} is stale: ${identity.detail}: removing it and scanning the LUN again`)
        yield* Effect.mapError(DeviceIdentity.remove(found.value), toHost)
        before = before.filter((h) => h !== Hctl.format(found.value.hctl))
      }
    }
    if (Option.isNone(session.host)) {
      return yield* Effect.fail(pathFailure(path, iface, "HostError", `session ${sid} has no SCSI host in sysfs`))
    }
    const host = session.host.value
    const { deviceScanAttempts: attempts, deviceScanInterval: interval, pollInterval } = ctx.options
    yield* ledger.record({ _tag: "Scan", sid, kernelLun: lun, existing: before })
    let scans = 0
    let lastScan = 0
    let polls = 0
    for (;;) {
      const now = yield* Clock.currentTimeMillis
      if (scans < attempts && (scans === 0 || now - lastScan >= scanGap(scans, interval))) {
        yield* Effect.mapError(scan(sid, host, lun), toHost)
        scans++
        lastScan = now
        polls = 0
      }
      const found = yield* look
      if (Option.isSome(found)) return found.value
      if (scans >= attempts && now - lastScan >= scanGap(scans, interval)) {
        return yield* Effect.fail(
          pathFailure(path, iface, "DeviceNotFound", `LUN ${lun} did not appear after ${scans} scans`)
        )
      }
      yield* Poll.wait(polls++, pollInterval)
    }
  }).pipe(
    Effect.withSpan("brick.findDevice", { attributes: { portal: path.portal, iqn: path.iqn, lun: path.lun } })
  )

/** The first device of the LUN on the session that has a block name and a WWN. */
const lookUp = (sid: number, lun: number, before: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    for (const hctl of yield* Sessions.lunDevicesOf(sid, lun)) {
      const { block, wwn } = yield* ScsiDevices.deviceOf(hctl)
      if (Option.isNone(block) || Option.isNone(wwn)) continue
      const fresh = !before.includes(Hctl.format(hctl))
      return Option.some<LunDevice>({ hctl, block: block.value, wwn: wwn.value, fresh })
    }
    return Option.none<LunDevice>()
  })

/** Scans the session's SCSI host for the LUN on each of the session's targets (all targets when it has none yet). */
const scan = (sid: number, host: number, lun: number) =>
  Effect.gen(function*() {
    const targets = (yield* Sessions.targetsOf(sid)).filter((t) => t.host === host)
    if (targets.length === 0) return yield* ScsiDevices.scan(host, undefined, undefined, lun)
    for (const t of targets) yield* ScsiDevices.scan(host, t.channel, t.target, lun)
  })
