/**
 * The sysfs directory of a SCSI disk on a simulated host (`…/H:C:T:L`), with
 * the attributes the lab's LIO disks show; binary VPD pages are
 * approximations of the right length. `delete` and `rescan` act on the host.
 */
import type { SimScsiDevice } from "../SimModel.ts"
import * as SimScsi from "../SimScsi.ts"
import type { SimState } from "../SimState.ts"
import { empty, file, fixed, link, table, text, type VNode, writeOnly } from "../SimTree.ts"
import { disk } from "./sysBlock.ts"
import { pad, power } from "./sysCommon.ts"
import { deviceDir } from "./sysPaths.ts"

const zero = (n: number) => text("\0".repeat(n))

/** A class entry of the device (`scsi_device/H:C:T:L`…): a directory with its `device` link. */
const classEntry = (d: SimScsiDevice): VNode => fixed({ device: link(deviceDir(d)) })

/** A SCSI disk's directory. */
export const scsiDevice = table<SimScsiDevice, SimState>({
  access_state: text("active/optimized"),
  blacklist: text(""),
  block: (d, st) => fixed({ [d.name]: () => disk(d, st) }),
  bsg: (d) => fixed({ [d.hctl]: empty }),
  driver: link("/sys/bus/scsi/drivers/sd"),
  generic: (d) => link(`${deviceDir(d)}/scsi_generic/sg${d.diskIndex}`),
  delete: (d, st) =>
    writeOnly(() => {
      SimScsi.removeDevice(st, d)
      return undefined
    }),
  device_blocked: text("0"),
  device_busy: text("0"),
  dh_state: text("alua"),
  eh_timeout: text("10"),
  evt_capacity_change_reported: text("0"),
  evt_inquiry_change_reported: text("0"),
  evt_lun_change_reported: text("0"),
  evt_media_change: text("0"),
  evt_mode_parameter_change_reported: text("0"),
  evt_soft_threshold_reached: text("0"),
  inquiry: (d) => file(() => ("\0".repeat(8) + pad("LIO-ORG", 8) + pad(d.model, 16) + pad("4.0", 4)).padEnd(96, "\0")),
  iocounterbits: text("32"),
  iodone_cnt: text("0x0"),
  ioerr_cnt: text("0x0"),
  iorequest_cnt: text("0x0"),
  iotmo_cnt: text("0x0"),
  modalias: text("scsi:t-0x00"),
  model: (d) => file(() => pad(d.model, 16)),
  power,
  preferred_path: text("0"),
  queue_depth: text("32"),
  queue_ramp_up_period: text("120000"),
  queue_type: text("simple"),
  rescan: (d, st) =>
    writeOnly(() => {
      SimScsi.rescanDevice(st, d)
      return undefined
    }),
  rev: text(pad("4.0", 4)),
  scsi_device: (d) => fixed({ [d.hctl]: () => classEntry(d) }),
  scsi_disk: (d) => fixed({ [d.hctl]: () => classEntry(d) }),
  scsi_generic: (d) => fixed({ [`sg${d.diskIndex}`]: () => classEntry(d) }),
  scsi_level: text("7"),
  state: (d, st) => file(() => SimScsi.deviceState(st, d)),
  subsystem: link("/sys/bus/scsi"),
  timeout: text("30"),
  type: text("0"),
  uevent: text("DEVTYPE=scsi_device\nDRIVER=sd\nMODALIAS=scsi:t-0x00"),
  vendor: text(pad("LIO-ORG", 8)),
  vpd_pg0: zero(12),
  vpd_pg80: (d) => file(() => `\0\x80\0${String.fromCharCode(d.serial.length + 1)}${d.serial}\0`),
  vpd_pg83: zero(184),
  vpd_pgb0: zero(20),
  vpd_pgb1: zero(64),
  vpd_pgb2: zero(8),
  wwid: (d) => file(() => d.wwid)
})
