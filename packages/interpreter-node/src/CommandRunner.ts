/**
 * The one place the node interpreter spawns processes: command prefix +
 * program path + argv (never a shell), a time limit that kills the process
 * group, stdout/stderr capture, secret redaction for logs and errors, and a
 * count of spawned processes per program (benchmarks count them per attach).
 */
import { Context, Data, Duration, Effect, Layer, Metric, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import { NodeHostConfig } from "./NodeHostConfig.ts"
import * as Redaction from "./Redaction.ts"

/** The programs brick runs; each maps to a configured path. */
export type Program = "iscsiadm" | "multipathd" | "multipath" | "blockdev" | "ip"

/** A command that ran to its end (any exit code). */
export interface CommandResult {
  /** The redacted rendering of the full command line, prefix included. */
  readonly command: string
  readonly exitCode: number
  readonly stdout: string
  /** stderr with every secret of the argv replaced by `<redacted>`. */
  readonly stderr: string
  readonly durationMillis: number
}

/** Why a command did not run to its end. */
export type CommandFailure =
  | { readonly _tag: "TimedOut"; readonly timeoutMillis: number }
  | { readonly _tag: "SpawnFailed"; readonly detail: string }
  | { readonly _tag: "Killed"; readonly detail: string }

/** A command could not be spawned, was killed, or ran out of time. */
export class CommandError extends Data.TaggedError("CommandError")<{
  readonly program: Program
  /** Redacted rendering. */
  readonly command: string
  readonly reason: CommandFailure
}> {
  override get message(): string {
    const r = this.reason
    const why = r._tag === "TimedOut" ? `timed out after ${r.timeoutMillis} ms` : `${r._tag}: ${r.detail}`
    return `${this.command}: ${why}`
  }
}

/** Options of one run. */
export interface RunOptions {
  /** Overrides the configured `commandTimeout`. */
  readonly timeout?: Duration.Input
}

/** Spawns brick's commands. */
export class CommandRunner extends Context.Service<CommandRunner, {
  /** Runs `program args…` to its end; a non-zero exit is a result, not an error. */
  readonly run: (
    program: Program,
    args: ReadonlyArray<Redaction.Word>,
    options?: RunOptions
  ) => Effect.Effect<CommandResult, CommandError>
  /** Processes spawned so far through this runner, by program. */
  readonly spawnCounts: Effect.Effect<Readonly<Record<string, number>>>
  /** Sets every count back to zero. */
  readonly resetCounts: Effect.Effect<void>
}>()("@brick/interpreter-node/CommandRunner") {}

/** `brick_commands_spawned_total{program}`: every spawned process, by program. */
export const spawnedCounter = Metric.counter("brick_commands_spawned_total", {
  description: "processes brick spawned, by program",
  incremental: true
})

const collect = <E>(stream: Stream.Stream<Uint8Array, E>) => Stream.mkString(Stream.decodeText(stream))

/** The runner over effect's ChildProcessSpawner, configured by NodeHostConfig. */
export const layer: Layer.Layer<CommandRunner, never, NodeHostConfig | ChildProcessSpawner.ChildProcessSpawner> = Layer
  .effect(
    CommandRunner,
    Effect.gen(function*() {
      const config = yield* NodeHostConfig
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const counts = new Map<string, number>()
      const paths: Record<Program, string> = {
        iscsiadm: config.iscsiadmPath,
        multipathd: config.multipathdPath,
        multipath: config.multipathPath,
        blockdev: config.blockdevPath,
        ip: config.ipPath
      }

      const run = (program: Program, args: ReadonlyArray<Redaction.Word>, options?: RunOptions) => {
        const argv: ReadonlyArray<Redaction.Word> = [...config.commandPrefix, paths[program], ...args]
        const command = Redaction.render(argv)
        const secrets = Redaction.secrets(argv)
        const scrub = (s: string) => Redaction.scrub(s, secrets)
        const timeout = options?.timeout === undefined
          ? config.commandTimeout
          : Duration.fromInputUnsafe(options.timeout)
        const [head, ...rest] = argv as [string, ...ReadonlyArray<Redaction.Word>]
        const fail = (reason: CommandFailure) => new CommandError({ program, command, reason })

        const exec = Effect.scoped(
          Effect.gen(function*() {
            const handle = yield* spawner.spawn(
              ChildProcess.make(head, rest, {
                stdin: "ignore",
                env: { LC_ALL: "C" },
                extendEnv: true,
                // its own process group: a timeout kills the command and anything it started
                detached: true,
                forceKillAfter: config.killGrace
              })
            ).pipe(Effect.mapError((e) => fail({ _tag: "SpawnFailed", detail: scrub(e.message) })))
            return yield* Effect.all(
              [collect(handle.stdout), collect(handle.stderr), handle.exitCode],
              { concurrency: "unbounded" }
            ).pipe(Effect.mapError((e) => fail({ _tag: "Killed", detail: scrub(e.message) })))
          })
        )

        return Effect.gen(function*() {
          yield* Effect.sync(() => counts.set(program, (counts.get(program) ?? 0) + 1))
          yield* Metric.update(Metric.withAttributes(spawnedCounter, { program }), 1)
          const [elapsed, [stdout, stderr, exitCode]] = yield* Effect.timed(
            exec.pipe(
              Effect.timeoutOrElse({
                duration: timeout,
                orElse: () => Effect.fail(fail({ _tag: "TimedOut", timeoutMillis: Duration.toMillis(timeout) }))
              }),
              Effect.tapError((e) =>
                Effect.logDebug("command failed", command, e.reason._tag).pipe(
                  Effect.annotateLogs({ program, failure: e.reason._tag })
                )
              )
            )
          )
          const durationMillis = Duration.toMillis(elapsed)
          yield* Effect.logDebug("command", command).pipe(
            Effect.annotateLogs({ program, exitCode, durationMillis })
          )
          const result: CommandResult = {
            command,
            exitCode,
            stdout: scrub(stdout),
            stderr: scrub(stderr),
            durationMillis
          }
          return result
        }).pipe(Effect.withLogSpan(program), Effect.withSpan(`brick.command.${program}`, { attributes: { command } }))
      }

      return CommandRunner.of({
        run,
        spawnCounts: Effect.sync(() => Object.fromEntries(counts)),
        resetCounts: Effect.sync(() => counts.clear())
      })
    })
  )
