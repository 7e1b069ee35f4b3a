/**
 * Scripted faults: make an operation fail on its nth matching call, or run
 * a control action (e.g. blackhole a portal) before or after it.
 */
import type { OpName } from "./SimSpec.ts"

/** How a failed operation fails: a reason tag of that service's error type. */
export interface SimFailure {
  /** e.g. `Timeout`, `LoginFailed` (Iscsiadm), `InUse` (Multipath), `Busy` (BlockDevice), `Failed`. */
  readonly reason: string
  readonly exitCode?: number
  readonly detail?: string
}

/** Which calls a fault applies to. */
export interface SimFaultWhen {
  /** The nth matching call from now triggers it (default 1: the next). */
  readonly nth?: number
  /** How many consecutive matching calls it applies to from then (default 1). */
  readonly times?: number
  /** Only calls whose arguments match count (arguments as the service received them). */
  readonly match?: (args: ReadonlyArray<unknown>) => boolean
}

interface Trigger {
  readonly match: ((args: ReadonlyArray<unknown>) => boolean) | undefined
  skip: number
  times: number
  readonly when: "before" | "after"
  readonly fail: SimFailure | undefined
  readonly run: (() => void) | undefined
}

/** What the faults decide for one call. */
export interface SimFaultPlan {
  readonly fail: SimFailure | undefined
  readonly after: ReadonlyArray<() => void>
}

const nothing: SimFaultPlan = { fail: undefined, after: [] }

/** The scripted faults of one host. */
export class SimFaults {
  private readonly triggers = new Map<OpName, Array<Trigger>>()

  private add(op: OpName, t: Trigger): void {
    const list = this.triggers.get(op)
    if (list) list.push(t)
    else this.triggers.set(op, [t])
  }

  /** Makes `op` fail with `failure`, without touching the host, on its nth matching call. */
  fail(op: OpName, failure: SimFailure, when: SimFaultWhen = {}): void {
    this.add(op, {
      match: when.match,
      skip: (when.nth ?? 1) - 1,
      times: when.times ?? 1,
      when: "before",
      fail: failure,
      run: undefined
    })
  }

  /** Runs `action` before (default) or after the nth matching call of `op` (after: whatever its outcome). */
  on(op: OpName, when: SimFaultWhen & { readonly at?: "before" | "after" }, action: () => void): void {
    this.add(op, {
      match: when.match,
      skip: (when.nth ?? 1) - 1,
      times: when.times ?? 1,
      when: when.at ?? "before",
      fail: undefined,
      run: action
    })
  }

  /** Drops every pending fault. */
  clear(): void {
    this.triggers.clear()
  }

  /** Faults still armed. */
  get pending(): number {
    let n = 0
    for (const list of this.triggers.values()) n += list.length
    return n
  }

  /** Counts this call against the faults of `op`; runs due `before` actions and says what else to do. */
  begin(op: OpName, args: ReadonlyArray<unknown>): SimFaultPlan {
    const list = this.triggers.get(op)
    if (list === undefined) return nothing
    let fail: SimFailure | undefined
    const after: Array<() => void> = []
    for (const t of Array.from(list)) {
      if (t.match && !t.match(args)) continue
      if (t.skip > 0) {
        t.skip--
        continue
      }
      if (--t.times <= 0) list.splice(list.indexOf(t), 1)
      if (t.fail && fail === undefined) fail = t.fail
      if (t.run) {
        if (t.when === "before") t.run()
        else after.push(t.run)
      }
    }
    if (list.length === 0) this.triggers.delete(op)
    return { fail, after }
  }
}
