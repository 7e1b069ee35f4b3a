/**
 * The Iscsiadm service's layer over the CommandRunner: one `iscsiadm`
 * command from its argv (IscsiadmArgs), its exit code turned into an
 * IscsiadmReason (IscsiadmExit), retried after open-iscsi's database race.
 */
import { Iscsiadm } from "@brick/core"
import { Effect, Schedule, Semaphore } from "effect"
import { type CommandResult, CommandRunner, type RunOptions } from "./CommandRunner.ts"
import * as Args from "./IscsiadmArgs.ts"
import { reasonFor } from "./IscsiadmExit.ts"
import type { Word } from "./Redaction.ts"

const maxDetail = 1000

/** The useful part of what a failed command printed: stderr (else stdout), trimmed and bounded. */
export const detailOf = (result: Pick<CommandResult, "stdout" | "stderr">): string => {
  const text = result.stderr.trim() || result.stdout.trim()
  return text.length > maxDetail ? `…${text.slice(text.length - maxDetail)}` : text
}

/**
 * Whether a failure is open-iscsi's database race: every `-m node` command
 * (login, logout, update, delete) and a discovery's record update walk every
 * record of every target, and a record another process removes meanwhile
 * makes the walk fail with exit 6 (ISCSI_ERR_IDBM, "iface iter could not
 * stat …", "encountered iSCSI database failure") although the matched record
 * may have been acted on (seen in the lab: BENCHMARKS.md, "Interpreter choices").
 */
export const isDatabaseRace = (e: Iscsiadm.IscsiadmError): boolean => e.exitCode === 6

/** How a database race is retried: 5 more tries, 25 ms doubling with jitter (≈0.8 s in all). */
export const databaseRetry = {
  schedule: Schedule.jittered(Schedule.exponential("25 millis")),
  times: 5,
  while: isDatabaseRace
} as const

/** One iscsiadm command: what it does and what it acts on (for its error), its argv and run options. */
export interface Command {
  readonly operation: string
  readonly target: string
  /** The argv; may throw IscsiadmArgs.UnsafeValue, which fails before anything runs. */
  readonly args: () => ReadonlyArray<Word>
  readonly options?: RunOptions
}

/** Runs iscsiadm commands through the CommandRunner. */
export const make = Effect.gen(function*() {
  const runner = yield* CommandRunner
  // one delete at a time: two `-o delete` of one target's records at once
  // fail (exit 6: one iterates the target's directory while the other removes an entry)
  const deletes = yield* Semaphore.make(1)

  /** Runs one command once; a non-zero exit fails with its reason. */
  const runOnce = (
    { args, operation, options, target }: Command
  ): Effect.Effect<CommandResult, Iscsiadm.IscsiadmError> =>
    Effect.try({
      try: args,
      catch: (e) =>
        new Iscsiadm.IscsiadmError({
          operation,
          target,
          reason: { _tag: "Failed" },
          detail: e instanceof Args.UnsafeValue ? e.message : "could not build the command"
        })
    }).pipe(
      Effect.flatMap((argv) => runner.run("iscsiadm", argv, options)),
      Effect.catchTag("CommandError", (e) =>
        Effect.fail(
          new Iscsiadm.IscsiadmError({
            operation,
            target,
            reason: e.reason._tag === "TimedOut" ? { _tag: "Timeout" } : { _tag: "Failed" },
            detail: e.message
          })
        )),
      Effect.flatMap((result) =>
        result.exitCode === 0 ? Effect.succeed(result) : Effect.fail(
          new Iscsiadm.IscsiadmError({
            operation,
            target,
            reason: reasonFor(result.exitCode),
            exitCode: result.exitCode,
            detail: detailOf(result)
          })
        )
      )
    )

  /** Runs one command, again after a database race. */
  const run = (command: Command): Effect.Effect<CommandResult, Iscsiadm.IscsiadmError> =>
    Effect.retry(runOnce(command), databaseRetry)

  /**
   * Runs a `-o delete` (one at a time), again after a database race; NotFound
   * after a race means the raced try deleted the record: done.
   */
  const runDelete = (command: Command): Effect.Effect<void, Iscsiadm.IscsiadmError> =>
    Effect.suspend(() => {
      let raced = false
      return runOnce(command).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            raced ||= isDatabaseRace(e)
          })
        ),
        Effect.retry(databaseRetry),
        Effect.catchIf((e) => raced && e.reason._tag === "NotFound", () => Effect.void),
        Effect.asVoid,
        deletes.withPermit
      )
    })

  return { runOnce, run, runDelete } as const
})
