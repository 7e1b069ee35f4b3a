/**
 * The Multipath service on a real host (multipath-tools 0.9.x):
 * - isRunning: true when `/run/multipathd.pid` names a live `multipathd`
 *   process (root `/`, no command prefix: no spawn), else
 *   `multipathd show daemon` with the short probe timeout;
 * - addMap: `multipathd add map <wwid>`, falling back to `multipath <wwid>`
 *   when multipathd answers `fail`;
 * - addPath / removePath: `multipathd add path sdX` / `multipathd del path sdX`;
 * - flushMap: `multipath -f NAME` (`map in use`, `Device or resource busy` → InUse);
 * - resizeMap: `multipathd resize map NAME`;
 * - reloadMap: `multipathd reload map NAME`;
 * - pathStates: `multipathd show paths raw format "%d %m %t %T"` (parsePathStates).
 * - findMultipaths / wwidKnown: read from the host's multipath files
 *   (MultipathConf.ts), no process;
 * - addWwid / removeWwid: `multipath -a WWID` / `multipath -w WWID`.
 * multipathd's client may exit 0 and print `fail`; both are checked.
 */
import { Multipath, type Wwn } from "@brick/core"
import { Effect, Layer, Option } from "effect"
import * as NodeFsSync from "node:fs"
import { type CommandResult, CommandRunner, type Program, type RunOptions } from "./CommandRunner.ts"
import * as MultipathConf from "./MultipathConf.ts"
import { NodeHostConfig } from "./NodeHostConfig.ts"

type Reason = Multipath.MultipathReason

/** A device or map name brick may pass to multipath tools: one plain word, not an option. */
export const isSafeName = (s: string): boolean => /^[A-Za-z0-9_][A-Za-z0-9._:!+@-]{0,254}$/.test(s)

/** Whether multipathd's reply (or the tool's output) reports failure. */
export const replyFailed = (r: Pick<CommandResult, "exitCode" | "stdout">): boolean =>
  r.exitCode !== 0 || /^(fail|timeout|error)\b/i.test(r.stdout.trim())

/** What multipath tools print when multipathd cannot be reached. */
const notRunning = new RegExp(
  [
    "failed to connect",
    "can't connect",
    "cannot connect",
    "connection refused",
    "no such file or directory.*socket",
    "not running",
    "receiving packet",
    "sending packet"
  ].join("|"),
  "i"
)

/** What multipath tools print about a map or path that is not there. */
const notFound =
  /not found|not a multipath device|not present|no such|doesn't exist|does not exist|already removed|invalid map/i

/** The reason a failed multipath command's output stands for. */
export const reasonOf = (text: string): Reason => {
  // `map in use`, or the remove ioctl's EBUSY (`Device or resource busy`): held open, e.g. by a udev probe
  if (/in use|resource busy/i.test(text)) return { _tag: "InUse" }
  if (notRunning.test(text)) return { _tag: "NotRunning" }
  if (notFound.test(text)) return { _tag: "NotFound" }
  return { _tag: "Failed" }
}

const output = (r: Pick<CommandResult, "stdout" | "stderr">) =>
  [r.stderr.trim(), r.stdout.trim()].filter(Boolean).join("\n")

/**
 * `multipathd show paths raw format "%d %m %t %T"`: one path per line, device,
 * map (`[orphan]` or empty outside one), dm state, checker state.
 */
export const parsePathStates = (stdout: string): ReadonlyArray<Multipath.MultipathPathState> =>
  stdout.split("\n").flatMap((line) => {
    const [device, map, dmState, checkerState] = line.trim().split(/\s+/)
    if (device === undefined || !/^[a-z]+[a-z0-9]*$/.test(device) || checkerState === undefined) return []
    const inMap = map !== undefined && map !== "" && map !== "[orphan]" && map !== "-"
    return [{ device, map: inMap ? Option.some(map) : Option.none(), dmState: dmState!, checkerState }]
  })

/** Whether `/run/multipathd.pid` names a live process called `multipathd` (this host's own /run and /proc). */
export const pidfileNamesLiveDaemon = (): boolean => {
  try {
    const pid = NodeFsSync.readFileSync("/run/multipathd.pid", "utf8").trim()
    return /^[1-9]\d*$/.test(pid) && NodeFsSync.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "multipathd"
  } catch {
    return false
  }
}

/** Builds the service from a CommandRunner. */
export const make = Effect.gen(function*() {
  const runner = yield* CommandRunner
  const config = yield* NodeHostConfig

  const run = (
    operation: string,
    target: string,
    program: Program,
    args: ReadonlyArray<string>,
    options?: RunOptions
  ): Effect.Effect<CommandResult, Multipath.MultipathError> =>
    (isSafeName(target)
      ? runner.run(program, args, options).pipe(
        Effect.mapError((e) =>
          new Multipath.MultipathError({
            operation,
            target,
            reason: e.reason._tag === "SpawnFailed" ? { _tag: "NotRunning" } : { _tag: "Failed" },
            detail: e.message
          })
        ),
        Effect.flatMap((r) =>
          replyFailed(r)
            ? Effect.fail(
              new Multipath.MultipathError({ operation, target, reason: reasonOf(output(r)), detail: output(r) })
            )
            : Effect.succeed(r)
        )
      )
      : Effect.fail(
        new Multipath.MultipathError({
          operation,
          target,
          reason: { _tag: "Failed" },
          detail: "not a device or map name"
        })
      )).pipe(
        Effect.annotateLogs({ operation: `multipath.${operation}`, target }),
        Effect.withSpan(`Multipath.${operation}`, { attributes: { target } })
      )

  const addMap = (wwn: Wwn.Wwn) =>
    run("addMap", wwn, "multipathd", ["add", "map", wwn]).pipe(
      Effect.catchIf(
        (e) => e.reason._tag !== "NotRunning",
        () => run("addMap", wwn, "multipath", [wwn])
      ),
      Effect.asVoid
    )

  const probe = runner.run("multipathd", ["show", "daemon"], { timeout: config.probeTimeout }).pipe(
    Effect.map((r) => r.exitCode === 0 && /^pid\s+\d+/m.test(r.stdout)),
    Effect.orElseSucceed(() => false)
  )

  return Multipath.Multipath.of({
    isRunning: Effect.suspend(() =>
      config.root === "/" && config.commandPrefix.length === 0 && pidfileNamesLiveDaemon()
        ? Effect.succeed(true)
        : probe
    ).pipe(Effect.withSpan("Multipath.isRunning")),
    findMultipaths: Effect.sync(() => MultipathConf.findMultipaths(config.root)).pipe(
      Effect.withSpan("Multipath.findMultipaths")
    ),
    wwidKnown: (wwn) => Effect.sync(() => MultipathConf.wwidKnown(config.root, wwn)),
    addWwid: (wwn) => Effect.asVoid(run("addWwid", wwn, "multipath", ["-a", wwn])),
    removeWwid: (wwn) => Effect.asVoid(run("removeWwid", wwn, "multipath", ["-w", wwn])),
    addMap,
    addPath: (device) => Effect.asVoid(run("addPath", device, "multipathd", ["add", "path", device])),
    removePath: (device) => Effect.asVoid(run("removePath", device, "multipathd", ["del", "path", device])),
    flushMap: (name) => Effect.asVoid(run("flushMap", name, "multipath", ["-f", name])),
    resizeMap: (name) => Effect.asVoid(run("resizeMap", name, "multipathd", ["resize", "map", name])),
    reloadMap: (name) => Effect.asVoid(run("reloadMap", name, "multipathd", ["reload", "map", name])),
    pathStates: run("pathStates", "paths", "multipathd", ["show", "paths", "raw", "format", "%d %m %t %T"]).pipe(
      Effect.map((r) => parsePathStates(r.stdout))
    )
  })
})

/** Multipath over the real multipathd / multipath. */
export const layer: Layer.Layer<Multipath.Multipath, never, CommandRunner | NodeHostConfig> = Layer.effect(
  Multipath.Multipath,
  make
)
