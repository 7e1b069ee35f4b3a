/**
 * Timed kernel and daemon events (udev rules running, multipathd forming a
 * map), applied lazily: every service operation first runs the events due at
 * the current effect Clock time, in (time, insertion) order. No fibers, so
 * the same operations at the same simulated times give the same host.
 */
import { SimHeap } from "./SimHeap.ts"

interface SimEvent {
  readonly at: number
  readonly seq: number
  readonly run: () => void
}

/** The pending-event queue of one simulated host. */
export class SimSchedule {
  private seq = 0
  private readonly heap = new SimHeap<SimEvent>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq))
  /** The latest time the host has seen (ms, the effect Clock's). */
  now = 0

  /** Runs `run` once the clock reaches `at` (ms). */
  at(at: number, run: () => void): void {
    this.heap.push({ at, seq: this.seq++, run })
  }

  /** Runs `run` `delayMs` after the current time (at once when the delay is zero). */
  after(delayMs: number, run: () => void): void {
    if (delayMs <= 0) run()
    else this.at(this.now + delayMs, run)
  }

  /**
   * Moves time to `now` (never backwards), running every event due by then in
   * order, each at its own time (so what it schedules is relative to it).
   */
  advance(now: number): void {
    const target = Math.max(now, this.now)
    for (;;) {
      const top = this.heap.peek()
      if (top === undefined || top.at > target) break
      this.heap.pop()
      if (top.at > this.now) this.now = top.at
      top.run()
    }
    this.now = target
  }

  /** Events still pending. */
  get pending(): number {
    return this.heap.size
  }
}
