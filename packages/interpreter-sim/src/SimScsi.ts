/**
 * SCSI devices on a simulated host: scans adding the devices of exported
 * LUNs, udev's rules for a new disk (its /dev node and links, multipathd's
 * uevent) after udev's delay, removal, rescans, and the state sysfs shows.
 */
import type { SimLun, SimMap, SimScsiDevice, SimScsiHost, SimSession } from "./SimModel.ts"
import * as SimMultipathd from "./SimMultipathd.ts"
import * as SimNames from "./SimNames.ts"
import type { SimState } from "./SimState.ts"
import * as SimStorage from "./SimStorage.ts"

/** The SCSI device state sysfs shows, from the session's state and recovery timeout. */
export const deviceState = (st: SimState, dev: SimScsiDevice): string => {
  const s = dev.session
  if (s.state === "LOGGED_IN") return "running"
  return st.schedule.now < s.failedAt + s.recoveryTmo * 1000 ? "blocked" : "transport-offline"
}

/**
 * A scan of host `host` for channel/target/LUN (`undefined` = wildcard):
 * adds the devices of exported LUNs, as writing to `scsi_host/hostH/scan` does.
 */
export const scanHost = (
  st: SimState,
  host: SimScsiHost,
  channel: number | undefined,
  targetId: number | undefined,
  lun: number | undefined
): void => {
  if (channel !== undefined && channel !== 0) return
  for (const s of host.sessions.values()) {
    if (targetId !== undefined && s.targetId !== targetId) continue
    scanSession(st, s, lun)
  }
}

/** Scans one session for a kernel LUN, or every exported LUN. */
export const scanSession = (st: SimState, s: SimSession, lun: number | undefined): void => {
  if (s.state !== "LOGGED_IN") return
  s.scanned = true
  const target = st.targets.get(s.iqn)
  if (!target || !target.portals.has(s.portal)) return
  if (lun !== undefined) {
    const l = SimStorage.addressedLun(target, lun)
    if (l?.exported) addDevice(st, s, l, false, lun)
    return
  }
  const luns = Array.from(target.luns.values()).filter((l) => l.exported).sort((a, b) => a.kernel - b.kernel)
  for (const l of luns) addDevice(st, s, l)
}

const takeWwid = (st: SimState, dev: SimScsiDevice): void => {
  let set = st.pathsByWwid.get(dev.wwid)
  if (!set) st.pathsByWwid.set(dev.wwid, set = new Set())
  set.add(dev)
}

const dropWwid = (st: SimState, dev: SimScsiDevice): void => {
  const set = st.pathsByWwid.get(dev.wwid)
  set?.delete(dev)
  if (set?.size === 0) st.pathsByWwid.delete(dev.wwid)
}

/**
 * Adds the SCSI device of `lun` on session `s` at kernel LUN `kernel` (no-op
 * when present); udev follows after its delay.
 */
export const addDevice = (
  st: SimState,
  s: SimSession,
  lun: SimLun,
  udevAtOnce = false,
  kernel = lun.kernel
): SimScsiDevice => {
  const existing = s.devices.get(kernel)
  if (existing) return existing
  const diskIndex = st.diskIndexes.alloc()
  const dev: SimScsiDevice = {
    hctl: `${s.host.no}:0:${s.targetId}:${kernel}`,
    lun: kernel,
    session: s,
    wwid: lun.wwid,
    serial: lun.serial,
    sizeBytes: st.capacityUnreadable.has(s.portal) ? 0 : lun.sizeBytes,
    model: lun.model,
    diskIndex,
    name: SimNames.diskName(diskIndex),
    byPath: SimNames.byPathName(s.portal, s.iqn, kernel, s.host.hba?.pciAddress),
    devNode: st.devtmpfs,
    udevDone: false,
    map: undefined,
    removed: false,
    readOnly: lun.writeProtected
  }
  st.scsi.set(dev.hctl, dev)
  st.disks.set(dev.name, dev)
  s.devices.set(kernel, dev)
  takeWwid(st, dev)
  if (udevAtOnce) udevAdd(st, dev, false)
  else if (st.udev.mode !== "never") {
    st.schedule.after(st.udev.delayMs + (st.udev.mode === "late" ? st.udev.lateMs : 0), () => {
      if (!dev.removed && !dev.udevDone) udevAdd(st, dev, true)
    })
  }
  return dev
}

/** udev's rules for a new disk: /dev node, by-path/by-id links, and multipathd's uevent. */
export const udevAdd = (st: SimState, dev: SimScsiDevice, notifyMultipathd: boolean): void => {
  dev.udevDone = true
  dev.devNode = true
  let claims = st.byPath.get(dev.byPath)
  if (!claims) st.byPath.set(dev.byPath, claims = [])
  claims.push(dev)
  if (notifyMultipathd) SimMultipathd.uevent(st, dev)
}

/** Removes a SCSI device (sysfs `delete`, or its session's logout). */
export const removeDevice = (st: SimState, dev: SimScsiDevice): void => {
  if (dev.removed) return
  dev.removed = true
  st.scsi.delete(dev.hctl)
  st.disks.delete(dev.name)
  dev.session.devices.delete(dev.lun)
  st.diskIndexes.release(dev.diskIndex)
  dropWwid(st, dev)
  const claims = st.byPath.get(dev.byPath)
  if (claims) {
    const i = claims.indexOf(dev)
    if (i >= 0) claims.splice(i, 1)
    if (claims.length === 0) st.byPath.delete(dev.byPath)
  }
  SimMultipathd.dropPath(dev)
}

/** Re-reads a device's capacity and identifiers from its LUN (sysfs `rescan`). */
export const rescanDevice = (st: SimState, dev: SimScsiDevice): void => {
  const target = st.targets.get(dev.session.iqn)
  const lun = target && SimStorage.addressedLun(target, dev.lun)
  if (!lun || !lun.exported || dev.session.state !== "LOGGED_IN") return
  dev.sizeBytes = st.capacityUnreadable.has(dev.session.portal) ? 0 : lun.sizeBytes
  dev.serial = lun.serial
  dev.readOnly = lun.writeProtected
  if (lun.wwid !== dev.wwid) {
    dropWwid(st, dev)
    dev.wwid = lun.wwid
    takeWwid(st, dev)
  }
}

/** The device a by-path link points to now (the last one udev linked). */
export const byPathTarget = (st: SimState, name: string): SimScsiDevice | undefined => st.byPath.get(name)?.at(-1)

/** The devices udev has linked for `wwid`, in the order they took it. */
const linked = (st: SimState, wwid: string): Array<SimScsiDevice> =>
  Array.from(st.pathsByWwid.get(wwid) ?? []).filter((d) => d.udevDone)

/**
 * The disk a serial-based by-id link (`scsi-1LIO-ORG_…`, `scsi-SLIO-ORG_…`)
 * points to now: the last one udev linked.
 */
export const bySerialTarget = (st: SimState, wwid: string, serial: string): SimScsiDevice | undefined =>
  linked(st, wwid).filter((d) => d.serial === serial).at(-1)

/** The device or map a by-id wwn/scsi link of `wwid` points to now: the map, else the last disk udev linked. */
export const byIdTarget = (st: SimState, wwid: string): SimScsiDevice | SimMap | undefined =>
  SimMultipathd.mapOfWwid(st, wwid) ?? linked(st, wwid).at(-1)
