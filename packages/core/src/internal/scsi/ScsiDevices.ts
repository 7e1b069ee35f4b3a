/**
 * SCSI device queries and writes through `Sysfs`, for any transport: the
 * targets and LUN devices under a device directory (an iSCSI session's, an
 * FC remote port's), a device's block name and WWN, and the host scan,
 * rescan and delete files.
 */
import { Effect, Option } from "effect"
import * as Hctl from "../../Hctl.ts"
import type { HostPath } from "../../HostPath.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import { fromSysfsWwid, type Wwn } from "../../Wwn.ts"
import * as Layout from "../SysfsLayout.ts"

/** A SCSI target (`targetH:C:T`) as sysfs names it. */
export interface ScsiTarget {
  readonly host: number
  readonly channel: number
  readonly target: number
  /** The directory name, `targetH:C:T`. */
  readonly name: string
}

/** A SCSI device (one LUN through one path) with what the kernel knows of it so far. */
export interface ScsiDevice {
  readonly hctl: Hctl.Hctl
  /** The block device name (`sdb`), once the kernel has one. */
  readonly block: Option.Option<string>
  /** The WWN, once the kernel has read it. */
  readonly wwn: Option.Option<Wwn>
}

type Q<A> = Effect.Effect<A, SysfsError, Sysfs>

/** The SCSI targets in a directory. */
export const targetsIn = (dir: HostPath): Q<ReadonlyArray<ScsiTarget>> =>
  Effect.map(Sysfs.use((s) => s.list(dir)), (names) =>
    names.flatMap((name) => {
      const t = Layout.parseTargetName(name)
      return t === undefined ? [] : [{ ...t, name }]
    }))

/** The LUN devices (H:C:T:L) of `target` in its directory `dir`. */
export const devicesOfTarget = (dir: HostPath, target: ScsiTarget): Q<ReadonlyArray<Hctl.Hctl>> =>
  Effect.map(Sysfs.use((s) => s.list(dir)), (names) =>
    names.flatMap((name) => {
      const a = Hctl.parse(name)
      return a !== undefined && a.host === target.host && a.channel === target.channel && a.target === target.target
        ? [a]
        : []
    }))

/** The block device name (`sdb`) of a SCSI device, once it has one. */
const blockOf = (hctl: Hctl.Hctl): Q<Option.Option<string>> =>
  Effect.map(
    Sysfs.use((s) => s.list(Layout.scsiDeviceFile(hctl, "block"))),
    (names) => Option.fromUndefinedOr(names.find(Layout.isSdName))
  )

/** A SCSI device's WWN (from `device/wwid`), once the kernel has read it. */
const wwnOf = (hctl: Hctl.Hctl): Q<Option.Option<Wwn>> =>
  Effect.map(
    Sysfs.use((s) => s.read(Layout.scsiDeviceFile(hctl, "wwid"))),
    (w) => Option.flatMap(w, (text) => (text.trim() === "" ? Option.none() : Option.some(fromSysfsWwid(text))))
  )

/** A SCSI device's block name and WWN. */
export const deviceOf = (hctl: Hctl.Hctl): Q<ScsiDevice> =>
  Effect.map(Effect.all({ block: blockOf(hctl), wwn: wwnOf(hctl) }), ({ block, wwn }) => ({ hctl, block, wwn }))

/** Asks a SCSI host to scan for a LUN (`undefined` channel/target: all of them). */
export const scan = (host: number, channel: number | undefined, target: number | undefined, lun: number) =>
  Sysfs.use((s) => s.write(Layout.hostScanFile(host), Layout.scanLine(channel, target, lun)))

/** Makes the kernel read a SCSI device again (its size, after the target grew it). */
export const rescan = (hctl: Hctl.Hctl) => Sysfs.use((s) => s.write(Layout.scsiDeviceFile(hctl, "rescan"), "1"))

/** Removes a SCSI device from the host. */
export const remove = (hctl: Hctl.Hctl) => Sysfs.use((s) => s.write(Layout.scsiDeviceFile(hctl, "delete"), "1"))
