/**
 * How brick waits for the kernel while polling sysfs: re-check at once,
 * then after 1, 2, 4, … ms, up to the `pollInterval` option. Fast hosts
 * (and the simulator) answer in microseconds; slow ones are not hammered.
 * A wait that lasts thins its polls out: once 1/8 of the time it has waited
 * exceeds `pollInterval` (after 200 ms with the default 25 ms), each delay
 * is 1/8 of the time waited so far, at most 250 ms (or `pollInterval` when
 * that is longer). A wait so notices its end at most 1/8 of its length late,
 * and many long waits at once do not spend the host's CPU on polling.
 */
import { Effect } from "effect"

/** A long wait's delay is this fraction of the time waited so far. */
const spreadFraction = 1 / 8
/** The longest delay, unless `pollInterval` is longer. */
const maxSpreadMillis = 250

/** The delay (ms) before the `attempt`-th re-check (0 = at once). */
export const delay = (attempt: number, pollInterval: number): number => {
  const longest = Math.max(pollInterval, maxSpreadMillis)
  let waited = 0
  let next = 0
  for (let i = 1; i <= attempt; i++) {
    const ramp = Math.min(pollInterval, 2 ** Math.min(i - 1, 20))
    next = Math.max(ramp, Math.min(waited * spreadFraction, longest))
    waited += next
  }
  return next
}

/** Waits before the `attempt`-th re-check: yields at once for the first. */
export const wait = (attempt: number, pollInterval: number): Effect.Effect<void> => {
  const ms = delay(attempt, pollInterval)
  return ms === 0 ? Effect.yieldNow : Effect.sleep(ms)
}
