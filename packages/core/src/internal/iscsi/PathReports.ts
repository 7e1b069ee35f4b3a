/**
 * The `paths` of a connect's result: every path the connect tried, in the
 * order planned, with how it ended up (DeviceInfo.PathState) and why a path
 * that does not serve does not.
 */
import { Effect, Option } from "effect"
import type { PathFailure } from "../../BrickError.ts"
import { unsafeMake as devicePath } from "../../DevicePath.ts"
import type { PlannedPath } from "../../iscsi/ConnectPlan.ts"
import type { PathReport } from "../../iscsi/DeviceInfo.ts"
import type { IfaceName } from "../../iscsi/IfaceName.ts"
import * as DmMaps from "../multipath/DmMaps.ts"
import type { Assembly } from "../multipath/MultipathAssembly.ts"
import type { AttachedPath } from "./PathAttach.ts"
import type { Down } from "./SinglePath.ts"

const keyOf = (portal: string, iqn: string, lun: number) => `${portal},${iqn},${lun}`

/** What serves: the map (by its dm name), or a single path's block device. */
export type Served =
  | { readonly _tag: "Map"; readonly dm: string }
  | { readonly _tag: "Device"; readonly block: string; readonly down: ReadonlyMap<string, Down> }

/**
 * The report of every path in `candidates` (the attaches' paths, in their
 * order) that came to something: serving, joining, unused, failed or
 * stopped. `iface` is the iface a stopped path was going through.
 */
export const make = (
  candidates: ReadonlyArray<PlannedPath>,
  assembly: Assembly<AttachedPath, PathFailure>,
  served: Served,
  iface: IfaceName
) =>
  Effect.gen(function*() {
    const slaves = served._tag === "Map"
      ? new Set(yield* DmMaps.slavesOf(served.dm).pipe(Effect.orElseSucceed(() => [])))
      : new Set<string>()
    const ok = new Map(assembly.ok.map((p) => [keyOf(p.path.portal, p.path.iqn, p.path.lun), p]))
    const failed = new Map(assembly.failed.map((f) => [keyOf(f.portal, f.iqn, f.lun), f]))
    const stopped = new Set(assembly.stopped)
    return candidates.flatMap((path, index): ReadonlyArray<PathReport> => {
      const key = keyOf(path.portal, path.iqn, path.lun)
      const base = { portal: path.portal, iqn: path.iqn, lun: path.lun }
      const a = ok.get(key)
      if (a !== undefined) {
        const attached = {
          ...base,
          iface: a.iface,
          device: devicePath(`/dev/${a.block}`),
          session: a.sid,
          ...(a.others.length === 0 ? {} : { otherIfaces: a.others.map((o) => ({ iface: o.iface, session: o.sid })) })
        }
        if (served._tag === "Device") {
          const down = served.down.get(a.block)
          if (served.block === a.block) return [{ ...attached, state: "serving" }]
          return [
            down === undefined
              ? { ...attached, state: "unused", reason: "NoMap", detail: `no map formed: /dev/${served.block} serves` }
              : { ...attached, state: "unused", reason: "PathDown", detail: `${down.detail}; no map formed` }
          ]
        }
        return [
          slaves.has(a.block)
            ? { ...attached, state: "serving" }
            : {
              ...attached,
              state: "joining",
              reason: "NotInMap",
              detail: "not in the map yet: multipathd adds it on its own, or a later connect does"
            }
        ]
      }
      const f = failed.get(key)
      if (f !== undefined) {
        return [{ ...base, iface: f.iface as IfaceName, state: "failed", reason: f._tag, detail: f.detail }]
      }
      if (stopped.has(index)) {
        return [{
          ...base,
          iface,
          state: "stopped",
          reason: "Stopped",
          detail: "still logging in or scanning when the grace for slow paths ended: a later connect adds it"
        }]
      }
      return []
    })
  })

/** The report's paths that do not serve, as log lines. */
export const notServing = (reports: ReadonlyArray<PathReport>): ReadonlyArray<string> =>
  reports.flatMap((r) =>
    r.state === "serving" ?
      [] :
      [`path ${r.portal} ${r.state}${r.reason === undefined ? "" : `: ${r.reason}`}${
        Option.getOrElse(Option.fromUndefinedOr(r.detail), () => "") === "" ? "" : `: ${r.detail}`
      }`]
  )
