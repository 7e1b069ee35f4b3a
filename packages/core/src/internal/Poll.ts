/**
 * How brick waits for the kernel while polling sysfs: re-check at once,
 * then after 1, 2, 4, … ms, up to the `pollInterval` option. Fast hosts
 * (and the simulator) answer in microseconds; slow ones are not hammered.
 */
import { Effect } from "effect"

/** The delay (ms) before the `attempt`-th re-check (0 = at once). */
export const delay = (attempt: number, pollInterval: number): number =>
  attempt <= 0 ? 0 : Math.min(pollInterval, 2 ** Math.min(attempt - 1, 20))

/** Waits before the `attempt`-th re-check: yields at once for the first. */
export const wait = (attempt: number, pollInterval: number): Effect.Effect<void> => {
  const ms = delay(attempt, pollInterval)
  return ms === 0 ? Effect.yieldNow : Effect.sleep(ms)
}
