/**
 * Forming a volume's multipath map from the path devices of a connect, for
 * any transport: the paths' attaches (log in + find the device, one effect
 * per path) run in parallel, and the assembly goes through named phases:
 *
 *   a. firstDevice: wait for the first path device (or every path failed);
 *   a'. registerWwid: where `find_multipaths` makes multipathd consult its
 *      wwids file (strict, yes, smart), the WWID is added to it (recorded in
 *      the ledger first, only when it was not there), so that multipathd
 *      forms the map on the paths' udev events itself;
 *   b. waitForUdev: look for the map as paths come in, until udev has linked
 *      a path's /dev/disk/by-path name and `addDelay` has passed (under
 *      `strict`, at once when a path was linked before the registration:
 *      multipathd ignored its event), or, with no link, until the fallback time
 *      (2x `addDelay`, at most half the wait);
 *   c. askMultipathd: recorded in the ledger first, then `multipathd add path`
 *      for every device at once, then `add map`;
 *   d. pollForMap: look for the map until `waitTimeout` after the first device;
 *   e. graceForStragglers: the paths still attaching get half as long again
 *      as the assembly took so far; when the volume was attached before (a
 *      path's device was there already: a connect run to add missing
 *      paths), until `waitTimeout` after the first device;
 *   f. stop: the rest are interrupted (each undoes its own work);
 *   g. joinMap: when the volume was attached before, the devices this
 *      connect added are waited for in the map (multipathd adds them on its
 *      own; `add path` after `addDelay`), until the wait ends.
 *
 * multipathd forms maps on udev's events, so it is not asked while udev is
 * still at work on a path (see BENCHMARKS.md, "Why the code does what it
 * does"). Without multipath only (a) and (f) run; without multipathd running,
 * (b)-(d) are skipped.
 */
import { Clock, Effect, Option } from "effect"
import * as HostPath from "../../HostPath.ts"
import { consultsWwids, type FindMultipaths, formsOnlyRegistered, Multipath } from "../../Multipath.ts"
import { Sysfs } from "../../Sysfs.ts"
import type { Wwn } from "../../Wwn.ts"
import type { Recorder } from "../Ledger.ts"
import * as Poll from "../Poll.ts"
import * as Layout from "../SysfsLayout.ts"
import * as DmMaps from "./DmMaps.ts"
import * as PathRace from "./PathRace.ts"

/** A ledger entry: multipathd was asked to form the map of `wwn`. */
export interface MapAsked {
  readonly _tag: "Map"
  readonly wwn: Wwn
}

/** A ledger entry: the connect added `wwn` to multipath's wwids file. */
export interface WwidAdded {
  readonly _tag: "Wwid"
  readonly wwn: Wwn
}

/** What the assembly records in the connect's ledger. */
export type AssemblyEntry = MapAsked | WwidAdded

/** What map forming needs of a path whose device was found. */
export interface PathDevice {
  /** The block device name, `sdX`. */
  readonly block: string
  readonly wwn: Wwn
  /** Its /dev/disk/by-path link name, once udev has made it. */
  readonly byPathName: string
  /** Whether this connect made the device (else it was there: the volume was attached before). */
  readonly fresh: boolean
}

/** How the map is formed (the connect's options). */
export interface Settings {
  /** Form a map at all. */
  readonly multipath: boolean
  /** Whether multipathd is running (else no map is waited for). */
  readonly multipathd: boolean
  /** The host's `find_multipaths`. */
  readonly findMultipaths: FindMultipaths
  /** How long after udev is done with a path multipathd is asked (milliseconds). */
  readonly addDelay: number
  /** How long after the first device a map is waited for (seconds). */
  readonly waitTimeout: number
  /** The longest pause between two looks (milliseconds). */
  readonly pollInterval: number
}

/** A formed multipath map. */
export interface MultipathMap {
  /** Its device, `dm-N`. */
  readonly dm: string
  readonly wwn: Wwn
}

/** How the paths ended up. */
export interface Assembly<P, F> {
  readonly ok: ReadonlyArray<P>
  readonly failed: ReadonlyArray<F>
  /** The indices (in the attaches) of the paths stopped while still attaching. */
  readonly stopped: ReadonlyArray<number>
  readonly map: Option.Option<MultipathMap>
}

/**
 * Runs every path's attach in parallel and assembles the result: the first
 * device, then (with multipath) the map, then a grace period for the others.
 */
export const assemble = <P extends PathDevice, F, R>(
  attaches: ReadonlyArray<Effect.Effect<P, F, R>>,
  settings: Settings,
  ledger: Recorder<AssemblyEntry>
): Effect.Effect<Assembly<P, F>, never, R | Sysfs | Multipath> =>
  attaches.length === 1 && !settings.multipath
    // one path, no map to wait for: no fibers needed
    ? Effect.match(attaches[0]!, {
      onFailure: (failure): Assembly<P, F> => ({ ok: [], failed: [failure], stopped: [], map: Option.none() }),
      onSuccess: (path): Assembly<P, F> => ({ ok: [path], failed: [], stopped: [], map: Option.none() })
    })
    : Effect.scoped(Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const race = yield* PathRace.start(attaches)
      yield* firstDevice(race)
      const deadline = (yield* Clock.currentTimeMillis) + settings.waitTimeout * 1000
      const map = race.ok.length > 0 && settings.multipath && settings.multipathd
        ? yield* formMap(race, settings, ledger, deadline)
        : Option.none<MultipathMap>()
      if (race.ok.length > 0 && settings.multipath) yield* graceForStragglers(race, start, deadline)
      yield* race.stop
      if (Option.isSome(map)) yield* joinMap(race.ok, map.value, settings, deadline)
      return { ok: race.ok, failed: race.failed, stopped: race.pending(), map }
    }))

/** (a) Waits for the first path device, or for every path to fail. */
const firstDevice = <P, F>(race: PathRace.Race<P, F>) =>
  Effect.gen(function*() {
    while (race.ok.length === 0 && !race.settled()) yield* race.next(Number.POSITIVE_INFINITY)
  })

/** (b)-(d): the map, once formed within the wait (`deadline`: `waitTimeout` after the first device). */
const formMap = <P extends PathDevice, F>(
  race: PathRace.Race<P, F>,
  settings: Settings,
  ledger: Recorder<AssemblyEntry>,
  deadline: number
) =>
  Effect.gen(function*() {
    const first = yield* Clock.currentTimeMillis
    yield* registerWwid(race.ok[0]!.wwn, settings.findMultipaths, ledger)
    const waited = yield* waitForUdev(race, settings, first, deadline)
    if (waited !== "ask") return waited
    const asked = yield* askMultipathd(race.ok, ledger)
    return Option.isSome(asked) ? asked : yield* pollForMap(race, settings.pollInterval, deadline)
  })

/**
 * (a') Adds the WWID to multipath's wwids file where multipathd consults it,
 * unless it is there already (then nothing is recorded: it is not the
 * connect's to remove). A failure is logged: the ask of (c) still forms the map.
 */
const registerWwid = (wwn: Wwn, mode: FindMultipaths, ledger: Recorder<AssemblyEntry>) =>
  Effect.gen(function*() {
    if (!consultsWwids(mode)) return
    const multipath = yield* Multipath
    const known = yield* multipath.wwidKnown(wwn)
    if (known) return
    yield* ledger.record({ _tag: "Wwid", wwn })
    yield* Effect.logInfo(`find_multipaths ${mode}: adding ${wwn} to multipath's wwids`)
    yield* multipath.addWwid(wwn)
  }).pipe(Effect.catch((e) => Effect.logWarning(`registering the WWID failed: ${e.message}`)))

/**
 * (b) Looks for the map as paths come in, until it is time to ask
 * multipathd: `addDelay` after udev linked a path, or at the fallback time
 * (2x `addDelay`, at most half the wait, after the first device) with no
 * link. The map when it formed; none when the wait ran out first.
 */
const waitForUdev = <P extends PathDevice, F>(
  race: PathRace.Race<P, F>,
  settings: Settings,
  first: number,
  deadline: number
) =>
  Effect.gen(function*() {
    const delay = settings.addDelay
    const fallbackAt = first + Math.min(2 * delay, Math.max(delay, settings.waitTimeout * 500))
    let addAt = fallbackAt
    let linked = false
    for (let polls = 0;; polls++) {
      const map = yield* lookForMap(race)
      if (Option.isSome(map)) return map
      const now = yield* Clock.currentTimeMillis
      if (now >= deadline) return Option.none<MultipathMap>()
      if (!linked && (yield* anyLinked(race.ok))) {
        linked = true
        // under strict, a path udev was done with before the WWID was registered is never taken by itself
        addAt = polls === 0 && formsOnlyRegistered(settings.findMultipaths) ? now : Math.min(fallbackAt, now + delay)
      }
      if (now >= addAt) return "ask" as const
      yield* pause(race, polls, settings.pollInterval, now, Math.min(deadline, addAt))
    }
  })

/**
 * (c) Asks multipathd to form the map: recorded in the ledger first, then
 * every path added at once (each `multipathd add path` is a process of its
 * own), then the map itself unless it formed meanwhile.
 */
const askMultipathd = (ok: ReadonlyArray<PathDevice>, ledger: Recorder<AssemblyEntry>) =>
  Effect.gen(function*() {
    const multipath = yield* Multipath
    const wwn = ok[0]!.wwn
    yield* ledger.record({ _tag: "Map", wwn })
    yield* Effect.logInfo(`multipathd has not formed the map of ${wwn}: adding the paths and the map`)
    yield* Effect.forEach(ok, (p) =>
      multipath.addPath(p.block).pipe(
        Effect.catch((e) => Effect.logWarning(`multipathd add path ${p.block} failed: ${e.message}`))
      ), { concurrency: "unbounded", discard: true })
    const map = yield* findMap(ok)
    if (Option.isSome(map)) return map
    yield* multipath.addMap(wwn).pipe(Effect.catch((e) => Effect.logWarning(`multipathd add map failed: ${e.message}`)))
    return Option.none<MultipathMap>()
  })

/** (d) Looks for the map until `deadline`. */
const pollForMap = <P extends PathDevice, F>(race: PathRace.Race<P, F>, pollInterval: number, deadline: number) =>
  Effect.gen(function*() {
    for (let polls = 0;; polls++) {
      const map = yield* lookForMap(race)
      if (Option.isSome(map)) return map
      const now = yield* Clock.currentTimeMillis
      if (now >= deadline) return Option.none<MultipathMap>()
      yield* pause(race, polls, pollInterval, now, deadline)
    }
  })

/** Whether any path's device was there before the connect: the volume was attached already. */
const attachedBefore = (ok: ReadonlyArray<PathDevice>): boolean => ok.some((p) => !p.fresh)

/**
 * (e) The paths still attaching get half as long again as the assembly took
 * since `start`, or, when the volume was attached before, until `deadline`.
 */
const graceForStragglers = <P extends PathDevice, F>(race: PathRace.Race<P, F>, start: number, deadline: number) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const until = attachedBefore(race.ok) ? Math.max(deadline, now) : now + Math.floor((now - start) / 2)
    yield* Effect.yieldNow
    yield* race.drain
    while (!race.settled() && (yield* race.next(until))) {
      // keep collecting
    }
    if (!race.settled()) yield* Effect.logInfo("stopping paths still connecting")
  })

/**
 * (g) When the volume was attached before, waits for the devices not yet in
 * its map to join it: multipathd adds them on its own; those still out after
 * `addDelay` are added (`multipathd add path`); until `deadline`, and at
 * least twice `addDelay`.
 */
const joinMap = (ok: ReadonlyArray<PathDevice>, map: MultipathMap, settings: Settings, deadline: number) =>
  Effect.gen(function*() {
    if (!attachedBefore(ok)) return
    const multipath = yield* Multipath
    const start = yield* Clock.currentTimeMillis
    const until = Math.max(deadline, start + 2 * settings.addDelay)
    let asked = false
    for (let polls = 0;; polls++) {
      const slaves = new Set(yield* DmMaps.slavesOf(map.dm).pipe(Effect.orElseSucceed(() => [])))
      const out = ok.filter((p) => !slaves.has(p.block))
      const now = yield* Clock.currentTimeMillis
      if (out.length === 0 || now >= until) return
      if (!asked && now >= start + settings.addDelay) {
        asked = true
        yield* Effect.logInfo(`adding ${out.map((p) => p.block).join(" ")} to the map ${map.wwn}`)
        yield* Effect.forEach(out, (p) =>
          multipath.addPath(p.block).pipe(
            Effect.catch((e) => Effect.logWarning(`multipathd add path ${p.block} failed: ${e.message}`))
          ), { concurrency: "unbounded", discard: true })
      }
      yield* Poll.wait(polls, settings.pollInterval)
    }
  })

/** Waits before the `polls`-th look (Poll.delay), until `until` at most, or until a path comes in. */
const pause = <P, F>(race: PathRace.Race<P, F>, polls: number, pollInterval: number, now: number, until: number) => {
  const wait = Poll.delay(polls, pollInterval)
  return wait === 0 ? Effect.yieldNow : Effect.asVoid(race.next(Math.min(now + wait, until)))
}

/** Takes the outcomes already there, then looks for the map. */
const lookForMap = <P extends PathDevice, F>(race: PathRace.Race<P, F>) => Effect.andThen(race.drain, findMap(race.ok))

/** The multipath map holding any of the paths' devices, if it is the volume's. */
const findMap = (ok: ReadonlyArray<PathDevice>) =>
  Effect.gen(function*() {
    for (const p of ok) {
      const holder = yield* DmMaps.holderOf(p.block)
      if (Option.isNone(holder)) continue
      const map = yield* DmMaps.mapOf(holder.value)
      if (Option.isNone(map.uuid) || DmMaps.isMultipathMapOf(map.uuid, p.wwn)) {
        return Option.some<MultipathMap>({ dm: holder.value, wwn: p.wwn })
      }
    }
    return Option.none<MultipathMap>()
  }).pipe(Effect.catch((e) => Effect.as(Effect.logWarning(`reading holders failed: ${e.message}`), Option.none())))

/** Whether udev has linked any of the paths' devices under /dev/disk/by-path. */
const anyLinked = (ok: ReadonlyArray<PathDevice>) =>
  Effect.gen(function*() {
    const sysfs = yield* Sysfs
    for (const p of ok) {
      const link = yield* sysfs.readlink(HostPath.join(Layout.byPathDir, p.byPathName)).pipe(
        Effect.orElseSucceed(() => Option.none<string>())
      )
      if (Option.isSome(link)) return true
    }
    return false
  })
