/**
 * What a connect created on the host, in order, and how to undo it. A
 * connect appends an entry *before* each creating step (so an interruption in
 * the middle of the step is undone too) and, when it fails or is interrupted,
 * undoes its entries: maps formed only of its own devices, then its devices
 * (those it scanned, and any on sessions it logged in — an automatic scan at
 * login makes some), then sessions it logged in that no device uses any more,
 * then node records it created (whose session is gone), then the iface it
 * created. Pre-existing things are never in the ledger, so never undone.
 * Undo is best effort: each step is retried twice, then its failure is logged
 * (never raised) and the rest continues. It must run while the connect still holds its target locks.
 */
import { Effect, Option } from "effect"
import * as BlockDevice from "../BlockDevice.ts"
import * as Hctl from "../Hctl.ts"
import type { IfaceName } from "../iscsi/IfaceName.ts"
import { Iscsiadm, type NodeRecord } from "../iscsi/Iscsiadm.ts"
import { Multipath } from "../Multipath.ts"
import { Sysfs } from "../Sysfs.ts"
import * as Sessions from "./iscsi/Sessions.ts"
import * as DmMaps from "./multipath/DmMaps.ts"
import * as ScsiDevices from "./scsi/ScsiDevices.ts"

/** One thing a connect created (or may have, when it was interrupted mid-step). */
export type Created =
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
  /** multipathd was asked to form the map of `wwn`. */
  | { readonly _tag: "Map"; readonly wwn: string }

/** A node record's identity, for sets. */
export const nodeKey = (n: NodeRecord): string => `${n.portal},${n.iqn},${n.iface}`

/** Whether `records` hold `node`. */
export const hasNode = (records: ReadonlyArray<NodeRecord>, node: NodeRecord): boolean =>
  records.some((r) => r.iqn === node.iqn && r.portal === node.portal && r.iface === node.iface)

type Services = Iscsiadm | Sysfs | Multipath | BlockDevice.BlockDevice

const attempt = <A, E extends { readonly message: string }>(
  what: string,
  effect: Effect.Effect<A, E, Services>
): Effect.Effect<Option.Option<A>, never, Services> =>
  effect.pipe(
    Effect.retry({ times: retries }),
    Effect.map(Option.some),
    Effect.catch((e: E) => Effect.as(Effect.logError(`undo: ${what} failed: ${e.message}`), Option.none<A>()))
  )

/** Each undo step is retried this often before it is given up (transient failures must not leave leftovers). */
const retries = 2

/**
 * Undoes `entries` (in the order they were created). Never fails; logs each
 * failed step. Safe to run twice (everything it does is checked first).
 */
export const undo = (entries: ReadonlyArray<Created>): Effect.Effect<void, never, Services> =>
  Effect.gen(function*() {
    if (entries.length === 0) return
    const iscsiadm = yield* Iscsiadm
    const multipath = yield* Multipath

    // Devices this connect scanned into existence.
    const ours: Array<ScsiDevices.ScsiDevice> = []
    const describe = (hctl: Hctl.Hctl) =>
      Effect.map(
        attempt("reading a device's block name and WWN", ScsiDevices.deviceOf(hctl)),
        Option.getOrElse((): ScsiDevices.ScsiDevice => ({ hctl, block: Option.none(), wwn: Option.none() }))
      )
    for (const e of entries) {
      if (e._tag !== "Scan") continue
      const found = yield* attempt("listing scanned devices", Sessions.lunDevicesOf(e.sid, e.kernelLun))
      for (const hctl of Option.getOrElse(found, () => [])) {
        if (e.existing.includes(Hctl.format(hctl))) continue
        ours.push(yield* describe(hctl))
      }
    }
    // Sessions this connect logged in (found again when the login was cut
    // short): every device on them is this connect's too (an automatic scan
    // at login may have made some), as the undo runs under the target locks.
    const sessions: Array<{ key: string; node: NodeRecord; sid: number }> = []
    const seenNodes = new Set<string>()
    for (const e of [...entries].reverse()) {
      if (e._tag !== "Session" && e._tag !== "Login") continue
      const key = nodeKey(e.node)
      if (seenNodes.has(key)) continue
      seenNodes.add(key)
      const sid = e._tag === "Session"
        ? Option.some(e.sid)
        : Option.map(
          Option.flatten(yield* attempt("finding a new session", Sessions.findNewSession(e.node, e.before))),
          (s) => s.sid
        )
      if (Option.isSome(sid)) sessions.push({ key, node: e.node, sid: sid.value })
    }
    const known = new Set(ours.map((d) => Hctl.format(d.hctl)))
    for (const s of sessions) {
      const found = yield* attempt("listing a session's devices", Sessions.devicesOf(s.sid))
      for (const hctl of Option.getOrElse(found, () => [])) {
        if (known.has(Hctl.format(hctl))) continue
        known.add(Hctl.format(hctl))
        ours.push(yield* describe(hctl))
      }
    }
    const ourBlocks = new Set(ours.flatMap((d) => (Option.isSome(d.block) ? [d.block.value] : [])))

    // Maps made only of our devices are ours: flush them first.
    const flushed = new Set<string>()
    for (const block of ourBlocks) {
      const holder = Option.flatten(yield* attempt("reading holders", DmMaps.holderOf(block)))
      if (Option.isNone(holder) || flushed.has(holder.value)) continue
      const dm = holder.value
      const slaves = Option.getOrElse(
        yield* attempt("listing map slaves", DmMaps.slavesOf(dm)),
        () => []
      )
      if (!slaves.every((s) => ourBlocks.has(s))) continue
      const map = Option.getOrUndefined(yield* attempt("reading a map", DmMaps.mapOf(dm)))
      const name = map === undefined ? undefined : Option.getOrUndefined(map.name)
      flushed.add(dm)
      yield* Effect.logInfo(`undo: flushing map ${name ?? dm}`)
      yield* attempt(`flushing map ${name ?? dm}`, multipath.flushMap(name ?? dm))
    }

    // Then the devices themselves.
    for (const d of ours) {
      yield* Effect.logInfo(`undo: deleting SCSI device ${Hctl.format(d.hctl)}`)
      yield* attempt(
        `deleting device ${Hctl.format(d.hctl)}`,
        ScsiDevices.remove(d.hctl)
      )
    }

    // multipathd may have formed a map around our devices after we looked:
    // a map of their WWN left without paths is ours too.
    const wwns = new Set<string>()
    for (const d of ours) {
      const w = d.wwn
      if (Option.isSome(w)) wwns.add(w.value)
    }
    for (const e of entries) if (e._tag === "Map") wwns.add(e.wwn)
    for (const wwn of wwns) {
      const dm = Option.flatten(yield* attempt("looking up a map", DmMaps.mapByName(wwn)))
      if (Option.isNone(dm) || flushed.has(dm.value)) continue
      const slaves = yield* attempt("listing map slaves", DmMaps.slavesOf(dm.value))
      if (Option.isNone(slaves) || slaves.value.length > 0) continue
      flushed.add(dm.value)
      yield* Effect.logInfo(`undo: flushing the pathless map ${wwn}`)
      yield* attempt(`flushing map ${wwn}`, multipath.flushMap(wwn))
    }

    // Sessions we logged in, when no LUN device uses them any more.
    const kept = new Set<string>()
    for (const { key, node, sid } of sessions) {
      const devices = yield* attempt("listing a session's devices", Sessions.devicesOf(sid))
      if (Option.isNone(devices) || devices.value.length > 0) {
        kept.add(key)
        yield* Effect.logInfo(`undo: keeping session ${sid}: devices remain on it`)
        continue
      }
      yield* Effect.logInfo(`undo: logging out session ${sid}`)
      const out = yield* iscsiadm.logout(node).pipe(
        Effect.retry({ times: retries, while: (err) => err.reason._tag !== "NotFound" }),
        Effect.as(true),
        Effect.catch((err) =>
          err.reason._tag === "NotFound"
            ? Effect.succeed(true)
            : Effect.as(Effect.logError(`undo: logout failed: ${err.message}`), false)
        )
      )
      if (!out) kept.add(key)
    }

    // Node records we created whose session is gone.
    for (const e of [...entries].reverse()) {
      if (e._tag !== "Node" || kept.has(nodeKey(e.node))) continue
      yield* iscsiadm.deleteNode(e.node).pipe(
        Effect.retry({ times: retries, while: (err) => err.reason._tag !== "NotFound" }),
        Effect.catch((err) =>
          err.reason._tag === "NotFound"
            ? Effect.void
            : Effect.logError(`undo: deleting node record failed: ${err.message}`)
        )
      )
    }

    // The iface we created, unless a kept session uses it.
    for (const e of entries) {
      if (e._tag !== "Iface") continue
      if ([...kept].some((k) => k.endsWith(`,${e.name}`))) continue
      yield* attempt(`deleting iface ${e.name}`, iscsiadm.deleteIface(e.name))
    }
  }).pipe(Effect.withSpan("brick.undo"))
