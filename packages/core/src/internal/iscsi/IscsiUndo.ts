/**
 * What an iSCSI connect records in its ledger, and how it is undone. Undo
 * removes, in order: the SCSI devices the connect made (those it scanned,
 * and any on sessions it logged in — an automatic scan at login makes some)
 * with the maps formed only of them, and the WWIDs it added to multipath's
 * wwids file (scsi/ScsiUndo.ts); then the sessions it
 * logged in that no device uses any more; then the node records it created
 * whose session is gone; then the iface it created. Each step is retried
 * twice, then its failure is logged (never raised) and the rest goes on. It
 * must run while the connect still holds its target locks.
 */
import { Effect, Option } from "effect"
import * as Hctl from "../../Hctl.ts"
import type { IfaceName } from "../../iscsi/IfaceName.ts"
import { Iscsiadm, type NodeRecord } from "../../iscsi/Iscsiadm.ts"
import type { Multipath } from "../../Multipath.ts"
import type { Sysfs } from "../../Sysfs.ts"
import { undoRemoval, undoStep } from "../Ledger.ts"
import type { AssemblyEntry } from "../multipath/MultipathAssembly.ts"
import * as ScsiDevices from "../scsi/ScsiDevices.ts"
import * as ScsiUndo from "../scsi/ScsiUndo.ts"
import * as IfaceRecords from "./IfaceRecords.ts"
import * as Sessions from "./Sessions.ts"

/** One thing an iSCSI connect created (or may have, when it was interrupted mid-step). */
export type Entry =
  | { readonly _tag: "Iface"; readonly name: IfaceName }
  | { readonly _tag: "Node"; readonly node: NodeRecord }
  /** A login was started; `before` are the session ids that existed before it. */
  | { readonly _tag: "Login"; readonly node: NodeRecord; readonly before: ReadonlySet<number> }
  /** The session a login created. */
  | { readonly _tag: "Session"; readonly node: NodeRecord; readonly sid: number }
  /** A scan of `kernelLun` on a session; devices in `existing` were there before. */
  | {
    readonly _tag: "Scan"
    readonly sid: number
    readonly kernelLun: number
    readonly existing: ReadonlyArray<string>
  }
  | AssemblyEntry

/** A node record's identity, for sets. */
export const nodeKey = (n: NodeRecord): string => `${n.portal},${n.iqn},${n.iface}`

/** Whether `records` hold `node`. */
export const hasNode = (records: ReadonlyArray<NodeRecord>, node: NodeRecord): boolean =>
  records.some((r) => r.iqn === node.iqn && r.portal === node.portal && r.iface === node.iface)

/** A session the connect logged in. */
interface OwnSession {
  readonly key: string
  readonly node: NodeRecord
  readonly sid: number
}

/**
 * Undoes `entries` (in the order they were recorded). Never fails; logs each
 * failed step. Safe to run twice (everything it does is checked first).
 */
export const undo = (entries: ReadonlyArray<Entry>): Effect.Effect<void, never, Iscsiadm | Sysfs | Multipath> =>
  Effect.gen(function*() {
    if (entries.length === 0) return
    const scanned = yield* scannedDevices(entries)
    const sessions = yield* ownSessions(entries)
    const devices = yield* withSessionDevices(scanned, sessions)
    yield* ScsiUndo.removeDevices(devices, entries.filter((e) => e._tag === "Map"))
    yield* ScsiUndo.forgetWwids(entries.flatMap((e) => (e._tag === "Wwid" ? [e] : [])))
    const kept = yield* logOutUnused(sessions)
    yield* deleteNodes(entries, kept)
    yield* deleteIfaces(entries, kept)
  }).pipe(Effect.withSpan("brick.undo"))

/** A device's block name and WWN, as far as they can be read. */
const describe = (hctl: Hctl.Hctl) =>
  Effect.map(
    undoStep("reading a device's block name and WWN", ScsiDevices.deviceOf(hctl)),
    Option.getOrElse((): ScsiDevices.ScsiDevice => ({ hctl, block: Option.none(), wwn: Option.none() }))
  )

/** The devices the connect's scans brought into existence. */
const scannedDevices = (entries: ReadonlyArray<Entry>) =>
  Effect.gen(function*() {
    const devices: Array<ScsiDevices.ScsiDevice> = []
    for (const e of entries) {
      if (e._tag !== "Scan") continue
      const found = yield* undoStep("listing scanned devices", Sessions.lunDevicesOf(e.sid, e.kernelLun))
      for (const hctl of Option.getOrElse(found, () => [])) {
        if (!e.existing.includes(Hctl.format(hctl))) devices.push(yield* describe(hctl))
      }
    }
    return devices
  })

/** The sessions the connect logged in, the last of each node record's (found again when a login was cut short). */
const ownSessions = (entries: ReadonlyArray<Entry>) =>
  Effect.gen(function*() {
    const sessions: Array<OwnSession> = []
    const seen = new Set<string>()
    for (const e of [...entries].reverse()) {
      if (e._tag !== "Session" && e._tag !== "Login") continue
      const key = nodeKey(e.node)
      if (seen.has(key)) continue
      seen.add(key)
      const sid = e._tag === "Session"
        ? Option.some(e.sid)
        : Option.map(
          Option.flatten(yield* undoStep("finding a new session", Sessions.findNewSession(e.node, e.before))),
          (s) => s.sid
        )
      if (Option.isSome(sid)) sessions.push({ key, node: e.node, sid: sid.value })
    }
    return sessions
  })

/**
 * `scanned` and every device on the connect's own sessions: those are the
 * connect's too (an automatic scan at login may have made some), as the undo
 * runs under the target locks.
 */
const withSessionDevices = (scanned: ReadonlyArray<ScsiDevices.ScsiDevice>, sessions: ReadonlyArray<OwnSession>) =>
  Effect.gen(function*() {
    const devices = [...scanned]
    const known = new Set(scanned.map((d) => Hctl.format(d.hctl)))
    for (const s of sessions) {
      const found = yield* undoStep("listing a session's devices", Sessions.devicesOf(s.sid))
      for (const hctl of Option.getOrElse(found, () => [])) {
        if (known.has(Hctl.format(hctl))) continue
        known.add(Hctl.format(hctl))
        devices.push(yield* describe(hctl))
      }
    }
    return devices
  })

/** Logs out the sessions no LUN device uses any more; returns the keys of the sessions kept. */
const logOutUnused = (sessions: ReadonlyArray<OwnSession>) =>
  Effect.gen(function*() {
    const iscsiadm = yield* Iscsiadm
    const kept = new Set<string>()
    for (const { key, node, sid } of sessions) {
      const devices = yield* undoStep("listing a session's devices", Sessions.devicesOf(sid))
      if (Option.isNone(devices) || devices.value.length > 0) {
        kept.add(key)
        yield* Effect.logInfo(`undo: keeping session ${sid}: devices remain on it`)
        continue
      }
      yield* Effect.logInfo(`undo: logging out session ${sid}`)
      if (!(yield* undoRemoval("logout", iscsiadm.logout(node)))) kept.add(key)
    }
    return kept
  })

/** Deletes the node records the connect created whose session is gone. */
const deleteNodes = (entries: ReadonlyArray<Entry>, kept: ReadonlySet<string>) =>
  Effect.gen(function*() {
    const iscsiadm = yield* Iscsiadm
    for (const e of [...entries].reverse()) {
      if (e._tag !== "Node" || kept.has(nodeKey(e.node))) continue
      yield* undoRemoval("deleting node record", iscsiadm.deleteNode(e.node))
    }
  })

/**
 * Deletes the iface the connect created, unless a kept session uses it, or
 * any session or node record (another connect's).
 */
const deleteIfaces = (entries: ReadonlyArray<Entry>, kept: ReadonlySet<string>) =>
  Effect.gen(function*() {
    for (const e of entries) {
      if (e._tag !== "Iface" || [...kept].some((k) => k.endsWith(`,${e.name}`))) continue
      yield* undoStep(`deleting iface ${e.name}`, IfaceRecords.removeIfUnused(e.name))
    }
  })
