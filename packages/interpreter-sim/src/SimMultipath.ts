/**
 * Multipath on a simulated host: multipathd's commands (add/remove path,
 * add/resize map) and `multipath -f` flushing, over the host's dm maps.
 */
import { Multipath } from "@brick/core"
import { type Context, Effect, Layer, Option } from "effect"
import * as SimMultipathd from "./SimMultipathd.ts"
import * as SimNames from "./SimNames.ts"
import { run, type SimRuntime } from "./SimOps.ts"
import type { OpName } from "./SimSpec.ts"

type Reason = Multipath.MultipathReason["_tag"]
const reasons: ReadonlyArray<string> = ["NotRunning", "InUse", "NotFound", "Failed"]

/** The Multipath service of `rt`'s host, as seen by `process`. */
export const make = (rt: SimRuntime, process = "main"): Context.Service.Shape<typeof Multipath.Multipath> => {
  const st = rt.state
  const error = (operation: string, target: string, reason: Reason, detail?: string) =>
    new Multipath.MultipathError({
      operation,
      target,
      reason: { _tag: reason },
      ...(detail === undefined ? {} : { detail })
    })
  const op = (
    name: OpName,
    operation: string,
    target: string,
    body: () => Effect.Effect<void, Multipath.MultipathError>
  ) =>
    run(
      rt,
      process,
      name,
      [target],
      (f) => error(operation, target, reasons.includes(f.reason) ? f.reason as Reason : "Failed", f.detail),
      body
    )
  const fail = (operation: string, target: string, reason: Reason, detail?: string) =>
    Effect.fail(error(operation, target, reason, detail))
  const notRunning = (operation: string, target: string) =>
    fail(operation, target, "NotRunning", "multipathd is not running")

  return {
    // an injected isRunning fault makes multipathd look down (the operation has no error channel)
    isRunning: run(rt, process, "multipath.isRunning", [], () => false, () => Effect.sync(() => st.multipathd.running))
      .pipe(
        Effect.catch((down: boolean) => Effect.succeed(down))
      ),
    // an injected fault is an unreadable configuration: multipath-tools' built-in `strict`
    findMultipaths: run(
      rt,
      process,
      "multipath.findMultipaths",
      [],
      () => "unreadable",
      () => Effect.sync(() => st.multipathd.findMultipaths)
    ).pipe(Effect.catch(() => Effect.succeed("strict" as const))),
    wwidKnown: (wwn) =>
      Effect.map(
        op("multipath.wwidKnown", "wwid known", wwn, () => Effect.void),
        () => st.multipathd.wwids.has(wwn)
      ),
    addWwid: (wwn) =>
      op("multipath.addWwid", "add wwid", wwn, () => Effect.sync(() => void st.multipathd.wwids.add(wwn))),
    removeWwid: (wwn) =>
      op("multipath.removeWwid", "remove wwid", wwn, () => Effect.sync(() => void st.multipathd.wwids.delete(wwn))),
    addMap: (wwn) =>
      op("multipath.addMap", "add map", wwn, () => {
        if (!st.multipathd.running) return notRunning("add map", wwn)
        const wwid = SimNames.kernelWwid(wwn)
        const known = Array.from(st.pathsByWwid.get(wwid) ?? []).filter((d) => d.udevDone)
        const map = SimMultipathd.mapOfWwid(st, wwid)
        if (map) {
          for (const d of known) SimMultipathd.addPathToMap(map, d)
          return Effect.void
        }
        if (known.length === 0) return fail("add map", wwn, "Failed", "no path with this wwid")
        SimMultipathd.createMap(st, wwid, known)
        return Effect.void
      }),
    addPath: (device) =>
      op("multipath.addPath", "add path", device, () => {
        if (!st.multipathd.running) return notRunning("add path", device)
        const dev = st.disks.get(device)
        if (!dev) return fail("add path", device, "NotFound", "no such device")
        if (!dev.map && SimMultipathd.mpathAllowed(st, dev.wwid)) SimMultipathd.adoptPath(st, dev)
        return Effect.void
      }),
    removePath: (device) =>
      op("multipath.removePath", "remove path", device, () => {
        if (!st.multipathd.running) return notRunning("remove path", device)
        const dev = st.disks.get(device)
        if (!dev) return fail("remove path", device, "NotFound", "no such path")
        SimMultipathd.dropPath(dev)
        return Effect.void
      }),
    flushMap: (name) =>
      op("multipath.flushMap", "flush", name, () => {
        const map = st.maps.get(name)
        if (!map) return fail("flush", name, "NotFound", "no such map")
        if (map.open) return fail("flush", name, "InUse", "map in use")
        SimMultipathd.flushMap(st, map)
        return Effect.void
      }),
    resizeMap: (name) =>
      op("multipath.resizeMap", "resize map", name, () => {
        if (!st.multipathd.running) return notRunning("resize map", name)
        const map = st.maps.get(name)
        if (!map) return fail("resize map", name, "NotFound", "no such map")
        // multipath-tools 0.9.4 (the lab's): the size of the map's first path is the new size; the
        // same size as the map's answers ok and changes nothing; device-mapper refuses a table
        // longer than one of its paths ("too small for target")
        const paths = Array.from(map.paths)
        const first = paths[0]
        if (first === undefined) return fail("resize map", name, "Failed", "map has no paths")
        if (first.sizeBytes === map.sizeBytes) return Effect.void
        const small = paths.find((p) => p.sizeBytes < first.sizeBytes)
        if (small) return fail("resize map", name, "Failed", `${small.name} too small for target`)
        map.sizeBytes = first.sizeBytes
        return Effect.void
      }),
    reloadMap: (name) =>
      op("multipath.reloadMap", "reload map", name, () => {
        if (!st.multipathd.running) return notRunning("reload map", name)
        const map = st.maps.get(name) ?? SimMultipathd.mapNamed(st, name)
        if (!map) return fail("reload map", name, "NotFound", "no such map")
        SimMultipathd.reload(map)
        return Effect.void
      }),
    // what multipathd knows: every disk udev has announced; a path is failed
    // (checker faulty) while its session is not logged in
    pathStates: Effect.suspend(() => {
      const states: Array<Multipath.MultipathPathState> = []
      return Effect.as(
        op("multipath.pathStates", "show paths", "paths", () => {
          if (!st.multipathd.running) return notRunning("show paths", "paths")
          for (const d of st.disks.values()) {
            if (!d.udevDone) continue
            const up = d.session.state === "LOGGED_IN"
            states.push({
              device: d.name,
              map: d.map ? Option.some(d.map.name) : Option.none(),
              dmState: d.map ? (up ? "active" : "failed") : "undef",
              checkerState: up ? "ready" : "faulty"
            })
          }
          states.sort((a, b) => a.device.localeCompare(b.device))
          return Effect.void
        }),
        states
      )
    })
  }
}

/** A layer of the Multipath service on `rt`'s host. */
export const layer = (rt: SimRuntime, process = "main"): Layer.Layer<Multipath.Multipath> =>
  Layer.succeed(Multipath.Multipath, make(rt, process))
