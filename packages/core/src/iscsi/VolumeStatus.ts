/**
 * volumeStatus: what the host shows of a volume now, for `brick status`:
 * each session to its targets (through any iface, brick's marked) with its
 * state, the volume's LUN devices on it with their state, WWN and map, the
 * map's path states as multipathd sees them, and the listed paths that have
 * no session of brick's ifaces. It reads only (sysfs, `multipathd show
 * paths`); it changes nothing.
 */
import { Effect, Option } from "effect"
import { StatusError } from "../BrickError.ts"
import * as Hctl from "../Hctl.ts"
import * as IscsiLayout from "../internal/iscsi/IscsiLayout.ts"
import * as Sessions from "../internal/iscsi/Sessions.ts"
import { volumeLuns } from "../internal/iscsi/VolumeDevices.ts"
import * as DmMaps from "../internal/multipath/DmMaps.ts"
import * as ScsiDevices from "../internal/scsi/ScsiDevices.ts"
import * as Layout from "../internal/SysfsLayout.ts"
import { Multipath, type MultipathPathState } from "../Multipath.ts"
import { Sysfs } from "../Sysfs.ts"
import * as ConnectionInfo from "./ConnectionInfo.ts"
import * as ConnectorOptions from "./ConnectorOptions.ts"
import * as IfaceChoice from "./IfaceChoice.ts"
import * as TargetPath from "./TargetPath.ts"

/** One LUN device of the volume on a session. */
export interface DeviceStatus {
  readonly hctl: string
  /** `/dev/sdX`, once the kernel has a block device. */
  readonly device: string | null
  /** The SCSI device's state (`running`, `offline`, `blocked`, `transport-offline` …). */
  readonly state: string | null
  readonly wwn: string | null
  /** The dm device (`dm-N`) holding it. */
  readonly map: string | null
  /** Its state in the map (multipathd: `active`, `failed`). */
  readonly dmState: string | null
  /** multipathd's path checker (`ready`, `faulty` …). */
  readonly checkerState: string | null
}

/** One session to the volume's targets. */
export interface SessionStatus {
  readonly session: number
  readonly portal: string | null
  readonly iqn: string
  readonly iface: string
  /** Whether brick connects through this iface (with these options). */
  readonly brick: boolean
  /** The session's state (`LOGGED_IN`, `FAILED`, `FREE`). */
  readonly state: string | null
  readonly devices: ReadonlyArray<DeviceStatus>
}

/** A map holding the volume's devices. */
export interface MapStatus {
  readonly dm: string
  readonly name: string | null
  /** Its path devices (`sdX`). */
  readonly paths: ReadonlyArray<string>
}

/** What the host shows of a volume. */
export interface VolumeStatus {
  readonly sessions: ReadonlyArray<SessionStatus>
  /** Listed paths with no session through brick's ifaces. */
  readonly missing: ReadonlyArray<{ readonly portal: string; readonly iqn: string; readonly lun: number }>
  readonly maps: ReadonlyArray<MapStatus>
  /** Whether multipathd answered (else the dm and checker states are null). */
  readonly multipathd: boolean
}

const orNull = <A>(o: Option.Option<A>): A | null => Option.getOrNull(o)
const read = (path: Parameters<Sysfs["Service"]["read"]>[0]) =>
  Effect.map(Sysfs.use((s) => s.read(path)), (o) => orNull(Option.map(o, (v) => v.trim())))

/** The status of a volume from decoded input. */
export const status = Effect.fn("brick.status")(function*(
  data: ConnectionInfo.ConnectionData,
  options: ConnectorOptions.ConnectorOptions
) {
  return yield* Effect.gen(function*() {
    const luns = volumeLuns(data)
    const ours = new Set<string>(IfaceChoice.brickIfaces(options.iface, options.ifaceFallback))
    const running = yield* Multipath.use((m) => m.isRunning)
    const states = running
      ? yield* Multipath.use((m) => m.pathStates).pipe(
        Effect.orElseSucceed((): ReadonlyArray<MultipathPathState> => [])
      )
      : []
    const byDevice = new Map(states.map((s) => [s.device, s]))
    const maps = new Map<string, MapStatus>()
    const sessions: Array<SessionStatus> = []
    for (const s of yield* Sessions.sessionsOfTargets(new Set(luns.keys()))) {
      const wanted = luns.get(s.iqn) ?? new Set<number>()
      const devices: Array<DeviceStatus> = []
      for (const hctl of (yield* Sessions.devicesOf(s.sid)).filter((h) => wanted.has(h.lun))) {
        const d = yield* ScsiDevices.deviceOf(hctl)
        const block = orNull(d.block)
        const holder = block === null ? Option.none<string>() : yield* DmMaps.holderOf(block)
        if (Option.isSome(holder) && !maps.has(holder.value)) {
          const map = yield* DmMaps.mapOf(holder.value)
          maps.set(holder.value, {
            dm: holder.value,
            name: orNull(map.name),
            paths: yield* DmMaps.slavesOf(holder.value)
          })
        }
        const mp = block === null ? undefined : byDevice.get(block)
        devices.push({
          hctl: Hctl.format(hctl),
          device: block === null ? null : `/dev/${block}`,
          state: yield* read(Layout.scsiDeviceFile(hctl, "state")),
          wwn: orNull(d.wwn),
          map: orNull(holder),
          dmState: mp?.dmState ?? null,
          checkerState: mp?.checkerState ?? null
        })
      }
      sessions.push({
        session: s.sid,
        portal: orNull(s.portal),
        iqn: s.iqn,
        iface: s.iface,
        brick: ours.has(s.iface),
        state: yield* read(IscsiLayout.sessionFile(s.sid, "state")),
        devices
      })
    }
    const missing = TargetPath.fromConnectionData(data, true).filter((p) =>
      !sessions.some((s) => s.brick && s.portal === p.portal && s.iqn === p.iqn)
    ).map((p) => ({ portal: p.portal, iqn: p.iqn, lun: p.lun }))
    return { sessions, missing, maps: [...maps.values()], multipathd: running } satisfies VolumeStatus
  }).pipe(
    Effect.mapError((e) => new StatusError({ reason: { _tag: "HostError", operation: "reading", detail: e.message } }))
  )
})

/** The status of a volume: decodes `info` and `options` first. */
export const volumeStatus = Effect.fn("brick.volumeStatus")(function*(info: unknown, options?: unknown) {
  const data = yield* ConnectionInfo.decode(info)
  const decoded = yield* ConnectorOptions.decode(options)
  return yield* status(data, decoded)
})
