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

  /** Runs `run` `delayMs` after the current time. */
  after(delayMs: number, run: () => void): void {
    this.at(this.now + delayMs, run)
  }

  /** Moves time to `now` (never backwards) and runs every event due by then. */
  advance(now: number): void {
    if (now > this.now) this.now = now
    for (;;) {
      const top = this.heap.peek()
      if (top === undefined || top.at > this.now) return
      this.heap.pop()
      top.run()
    }
  }

  /** Events still pending. */
  get pending(): number {
    return this.heap.size
  }
}
