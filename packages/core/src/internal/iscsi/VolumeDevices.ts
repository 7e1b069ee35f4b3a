/**
 * A volume's sessions and LUN devices as found on the host, from its target
 * IQNs and LUNs (what disconnect and extend work from, not from what connect
 * returned).
 */
import { Effect, Option } from "effect"
import * as Hctl from "../../Hctl.ts"
import type { ConnectionData } from "../../iscsi/ConnectionInfo.ts"
import { Iscsiadm } from "../../iscsi/Iscsiadm.ts"
import * as TargetPath from "../../iscsi/TargetPath.ts"
import { kernelLun } from "../../Lun.ts"
import * as ScsiDevices from "../scsi/ScsiDevices.ts"
import * as Sessions from "./Sessions.ts"

/** A LUN device of the volume on one session. */
export interface VolumeDevice extends ScsiDevices.ScsiDevice {
  readonly session: Sessions.Session
}

/** The volume's sessions and devices as found on the host. */
export interface VolumeState {
  readonly sessions: ReadonlyArray<Sessions.Session>
  readonly devices: ReadonlyArray<VolumeDevice>
}

/**
 * The target IQNs and, per IQN, the kernel LUNs of a volume. With or
 * without multipath, every listed path counts: a disconnect must find what
 * any connect may have made.
 */
export const volumeLuns = (data: ConnectionData): ReadonlyMap<string, ReadonlySet<number>> => {
  const mode = data.addressing_mode ?? "transparent"
  const luns = new Map<string, Set<number>>()
  for (const p of TargetPath.fromConnectionData(data, true)) {
    const set = luns.get(p.iqn) ?? new Set<number>()
    set.add(kernelLun(p.lun, mode))
    luns.set(p.iqn, set)
  }
  return luns
}

/**
 * Finds the volume's sessions (the sessions to its IQNs through `ifaces`,
 * or through any iface when none are given) and its LUN devices on them,
 * keeping only devices of `wwn` when it is known.
 */
export const findVolume = (
  luns: ReadonlyMap<string, ReadonlySet<number>>,
  wwn: Option.Option<string>,
  ifaces: Option.Option<ReadonlySet<string>> = Option.none()
) =>
  Effect.gen(function*() {
    const records = yield* Iscsiadm.use((i) => i.listNodes)
    const all = yield* Sessions.sessionsOfTargetsCheap(new Set(luns.keys()), records)
    const sessions = Option.isNone(ifaces) ? all : all.filter((s) => ifaces.value.has(s.iface))
    for (const s of all) {
      if (!sessions.includes(s)) {
        yield* Effect.logInfo(`session ${s.sid} through iface ${s.iface} is another iface's: left alone`)
      }
    }
    const devices: Array<VolumeDevice> = []
    for (const session of sessions) {
      const wanted = luns.get(session.iqn) ?? new Set<number>()
      for (const hctl of yield* Sessions.devicesOf(session.sid)) {
        if (!wanted.has(hctl.lun)) continue
        const device = yield* ScsiDevices.deviceOf(hctl)
        if (Option.isSome(wwn) && Option.isSome(device.wwn) && device.wwn.value !== wwn.value) {
          yield* Effect.logWarning(
            `device ${Hctl.format(hctl)} has WWN ${device.wwn.value}, not the volume's: left alone`
          )
          continue
        }
        devices.push({ session, ...device })
      }
    }
    return { sessions, devices } satisfies VolumeState
  }).pipe(Effect.withSpan("brick.findVolume"))
