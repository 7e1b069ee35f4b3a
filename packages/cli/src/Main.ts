/**
 * Runs `brick` on an argv and returns its exit status: parses the command
 * line with effect's CLI module, runs the command, prints the result on
 * stdout, and turns any failure into ONE JSON object on stderr plus the exit
 * status of its kind (ExitCodes.ts).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Layer, Logger } from "effect"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import * as BrickCommand from "./BrickCommand.ts"
import * as ErrorReport from "./ErrorReport.ts"
import { exitCode } from "./ExitCodes.ts"
import * as Host from "./Host.ts"
import { Io, type IoShape } from "./Io.ts"
import * as Json from "./Json.ts"
import * as JsonLogger from "./JsonLogger.ts"
import * as Progress from "./Progress.ts"
import * as Secrets from "./Secrets.ts"
import { UsageError } from "./UsageError.ts"

/** brick's version, as `--version` prints it. */
export const version = "0.1.0"

/** How to run: the streams, and optionally another host (tests). */
export interface RunOptions {
  readonly io: IoShape
  readonly hostFactory?: Host.Factory
  /** Aborting interrupts the command (its finalizers run); exit status 130. */
  readonly signal?: AbortSignal
}

const formatter = CliOutput.defaultFormatter({ colors: false })

const presenter = (io: IoShape): CliOutput.Presenter => ({
  present: (event) =>
    Effect.sync(() => {
      switch (event._tag) {
        case "Help":
          return io.stdout(formatter.formatHelpDoc(event.helpDoc) + "\n")
        case "Version":
          return io.stdout(`${event.name} ${event.version}\n`)
        case "InvalidInvocation":
          return // reported as one JSON object by `report`
      }
    })
})

const usageOf = (error: CliError.ShowHelp): UsageError =>
  new UsageError({
    command: error.commandPath.join(" "),
    problems: error.errors.length > 0
      ? error.errors.map((e) => e.message)
      : [`${error.commandPath.join(" ")}: a command is required (see --help)`]
  })

const isShowHelp = (e: unknown): e is CliError.ShowHelp => CliError.isCliError(e) && e._tag === "ShowHelp"

/** The report and exit status of a finished run. */
export const report = (exit: Exit.Exit<void, unknown>, secrets: ReadonlyArray<string>): {
  readonly code: number
  readonly report?: ErrorReport.ErrorReport
} => {
  if (Exit.isSuccess(exit)) return { code: 0 }
  const cause = exit.cause
  const fail = cause.reasons.find(Cause.isFailReason)
  if (fail !== undefined) {
    const error = isShowHelp(fail.error) ? usageOf(fail.error) : fail.error
    const r = ErrorReport.fromFailure(error, secrets)
    return { code: exitCode(r.kind), report: r }
  }
  const die = cause.reasons.find(Cause.isDieReason)
  if (die !== undefined) return { code: exitCode("Internal"), report: ErrorReport.fromDefect(die.defect, secrets) }
  return { code: exitCode("Interrupted"), report: ErrorReport.interrupted }
}

/** Runs `brick argv…`; resolves to the exit status (it never rejects). */
export const run = async (argv: ReadonlyArray<string>, options: RunOptions): Promise<number> => {
  const { io } = options
  const secrets = Secrets.make()
  const progress = Progress.make(io)
  const services = Layer.mergeAll(
    NodeServices.layer,
    Layer.succeed(Io)(io),
    Layer.succeed(Secrets.Secrets)(secrets),
    Layer.succeed(Progress.Progress)(progress),
    Logger.layer([JsonLogger.make(io, secrets, progress)]),
    CliOutput.layerPresenter(presenter(io)),
    CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions, GlobalFlag.LogLevel] }),
    options.hostFactory === undefined ? Layer.empty : Host.layerFactory(options.hostFactory)
  )
  const program = Command.runWith(BrickCommand.command, { version })(argv).pipe(Effect.provide(services))
  let exit: Exit.Exit<void, unknown>
  try {
    exit = await Effect.runPromiseExit(program, options.signal === undefined ? undefined : { signal: options.signal })
  } catch (defect) {
    exit = Exit.die(defect)
  }
  progress.clear()
  const result = report(exit, secrets.values())
  if (result.report !== undefined) io.stderr(Json.line(result.report, secrets.values()))
  return result.code
}
