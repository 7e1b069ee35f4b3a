/**
 * What every simulated iscsiadm operation shares: open-iscsi's exit codes,
 * the error an operation fails with, and the counted, delayed, fault-injectable
 * wrapper (SimOps.run) it runs in.
 */
import { Iscsiadm } from "@brick/core"
import { Effect } from "effect"
import { run, type SimRuntime } from "../SimOps.ts"
import type { OpName } from "../SimSpec.ts"

/** A reason an iscsiadm operation fails with. */
export type Reason = Iscsiadm.IscsiadmReason["_tag"]

/** open-iscsi's exit code for each reason. */
export const exitCodes: Readonly<Record<Reason, number>> = {
  SessionExists: 15,
  NotFound: 21,
  AuthenticationFailed: 24,
  LoginFailed: 5,
  LoginRejected: 19,
  RecordConflict: 6,
  TransportUnavailable: 12,
  Timeout: 8,
  DaemonUnreachable: 20,
  Busy: 28,
  Failed: 1
}

const isReason = (s: string): s is Reason => Object.hasOwn(exitCodes, s)

/** Why an operation fails: its reason, exit code (default: the reason's) and what iscsiadm printed. */
export interface Problem {
  readonly reason: Reason
  readonly exitCode?: number
  readonly detail?: string
}

/** How iscsiadm names a node record in its messages. */
export const nodeText = (n: Iscsiadm.NodeRecord): string => `[iface: ${n.iface}, target: ${n.iqn}, portal: ${n.portal}]`

/** The error and the operation wrapper of one process's Iscsiadm on `rt`'s host. */
export const operations = (rt: SimRuntime, process: string) => {
  const error = (operation: string, target: string, p: Problem) =>
    new Iscsiadm.IscsiadmError({
      operation,
      target,
      reason: { _tag: p.reason },
      exitCode: p.exitCode ?? exitCodes[p.reason],
      ...(p.detail === undefined ? {} : { detail: p.detail })
    })
  const op = <A>(
    name: OpName,
    operation: string,
    target: string,
    args: ReadonlyArray<unknown>,
    body: () => Effect.Effect<A, Iscsiadm.IscsiadmError>
  ) =>
    run(
      rt,
      process,
      name,
      args,
      (f) =>
        error(operation, target, {
          reason: isReason(f.reason) ? f.reason : "Failed",
          ...f.exitCode === undefined ? {} : { exitCode: f.exitCode },
          ...f.detail === undefined ? {} : { detail: f.detail }
        }),
      body
    )
  return { error, op } as const
}

/** See `operations`. */
export type Operations = ReturnType<typeof operations>

/** Sleeps `ms` on the effect Clock (nothing when 0). */
export const sleep = (ms: number): Effect.Effect<void> => (ms > 0 ? Effect.sleep(ms) : Effect.void)
