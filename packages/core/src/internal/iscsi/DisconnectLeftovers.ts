/**
 * What a disconnect removes once the volume's devices and sessions are gone:
 * the node records of the volume's paths that no session uses, the volume's
 * WWIDs in multipath's wwids file, and the iface record its connect made.
 * Each goes only when nothing else uses it.
 */
import { Effect, Option } from "effect"
import type * as ConnectionInfo from "../../iscsi/ConnectionInfo.ts"
import type * as ConnectorOptions from "../../iscsi/ConnectorOptions.ts"
import type * as DeviceInfo from "../../iscsi/DeviceInfo.ts"
import * as IfaceChoice from "../../iscsi/IfaceChoice.ts"
import { defaultIface, iserIface } from "../../iscsi/IfaceName.ts"
import { Iscsiadm } from "../../iscsi/Iscsiadm.ts"
import * as TargetPath from "../../iscsi/TargetPath.ts"
import { Multipath } from "../../Multipath.ts"
import * as DmMaps from "../multipath/DmMaps.ts"
import { ignoreNotFound, type Step } from "./DisconnectSteps.ts"
import * as IfaceRecords from "./IfaceRecords.ts"
import * as Sessions from "./Sessions.ts"
import type { VolumeDevice } from "./VolumeDevices.ts"

/**
 * 5. The node records of the volume's listed paths, through the ifaces brick
 * logs in with, that no session uses: a connect killed (SIGKILL: no undo
 * runs) after making them and before its logins left them, and nothing else
 * would remove them.
 */
export const dropSessionlessRecords = (
  step: Step,
  data: ConnectionInfo.ConnectionData,
  options: ConnectorOptions.ConnectorOptions
) =>
  Effect.gen(function*() {
    const iscsiadm = yield* Iscsiadm
    const ifaces = new Set<string>(IfaceChoice.brickIfaces(options.iface, options.ifaceFallback))
    const paths = new Set(TargetPath.fromConnectionData(data, true).map((p) => `${p.portal} ${p.iqn}`))
    const records = Option.getOrElse(yield* step("inspect", "node records", iscsiadm.listNodes), () => [])
    const ours = records.filter((r) => ifaces.has(r.iface) && paths.has(`${r.portal} ${r.iqn}`))
    if (ours.length === 0) return
    const sessions = yield* step("inspect", "sessions", Sessions.sessionsOfTargets(new Set(ours.map((r) => r.iqn))))
    if (Option.isNone(sessions)) return
    for (const r of ours.filter((r) => !sessions.value.some((s) => Sessions.isSessionOf(s, r)))) {
      yield* Effect.logInfo(`deleting node record ${r.portal} ${r.iqn} (${r.iface}): no session uses it`)
      yield* step("deleteNode", `${r.portal} ${r.iqn}`, ignoreNotFound(iscsiadm.deleteNode(r)))
    }
  })

/**
 * 6. The volume's WWIDs leave multipath's wwids file once no map of theirs is
 * left: a WWID left there makes multipath claim a later single-path attach of
 * the volume (a one-path map holds the disk brick returns), and the file
 * would grow with every volume the host ever saw. A failure is only logged:
 * the volume is detached.
 */
export const forgetWwids = (devices: ReadonlyArray<VolumeDevice>) =>
  Effect.gen(function*() {
    const multipath = yield* Multipath
    const wwns = new Set(devices.flatMap((d) => Option.toArray(d.wwn)))
    for (const wwn of wwns) {
      if (Option.isSome(yield* DmMaps.mapOfWwn(wwn)) || !(yield* multipath.wwidKnown(wwn))) continue
      yield* Effect.logInfo(`removing ${wwn} from multipath's wwids`)
      yield* multipath.removeWwid(wwn)
    }
  }).pipe(Effect.catch((e) => Effect.logWarning(`removing the WWID from multipath's wwids failed: ${e.message}`)))

/** 7. The iface record the connect made (its device info says so), once no session or node record uses it. */
export const removeCreatedIface = (step: Step, device: Option.Option<DeviceInfo.DeviceInfo>) =>
  Effect.gen(function*() {
    if (Option.isNone(device) || device.value.iface_created !== true || device.value.iface === undefined) return
    const name = device.value.iface
    if (name === defaultIface || name === iserIface) return
    const removed = yield* step("deleteIface", name, IfaceRecords.removeIfUnused(name))
    if (Option.isSome(removed) && removed.value) {
      yield* Effect.logInfo(`deleted iface ${name} (made by brick, now unused)`)
    }
  })
