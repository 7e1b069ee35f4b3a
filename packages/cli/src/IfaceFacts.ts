/**
 * `brick plan --facts`: the iface facts read off the host — the iface
 * records (`iscsiadm -m iface`) and the hardware addresses of the iSCSI HBAs
 * (/sys/class/iscsi_host/host*\/hwaddress). The only plan mode that touches
 * the host, and only to read.
 */
import { HostPath, type IfaceChoice, Iscsiadm, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"

const hostDir = HostPath.make("/sys/class/iscsi_host")

const isAddress = (s: string): boolean => /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(s) && s !== "00:00:00:00:00:00"

/** Reads the iface facts. */
export const read: Effect.Effect<
  IfaceChoice.IfaceFacts,
  Iscsiadm.IscsiadmError | Sysfs.SysfsError,
  Iscsiadm.Iscsiadm | Sysfs.Sysfs
> = Effect.gen(function*() {
  const iscsiadm = yield* Iscsiadm.Iscsiadm
  const sysfs = yield* Sysfs.Sysfs
  const ifaces = yield* iscsiadm.listIfaces
  const hosts = yield* sysfs.list(hostDir)
  const hbaHwaddresses: Array<string> = []
  for (const host of hosts) {
    const hw = yield* sysfs.read(HostPath.join(hostDir, host, "hwaddress"))
    if (Option.isSome(hw) && isAddress(hw.value.trim())) hbaHwaddresses.push(hw.value.trim())
  }
  return { ifaces, hbaHwaddresses }
})
