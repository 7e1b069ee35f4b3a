/**
 * A one-line progress display for long waits, shown only when stderr is a
 * terminal: a spinner, what is running, the time so far and the latest log
 * message. When stderr is a pipe or a file it prints nothing at all.
 */
import { Context, Effect } from "effect"
import type { IoShape } from "./Io.ts"

/** The progress line of one run. */
export interface ProgressShape {
  /** Runs `effect` with the line showing `label` (after `delayMs` without completion). */
  readonly during: (label: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Sets the line's detail (the latest log message). */
  readonly note: (text: string) => void
  /** Erases the line so other output can be written; it is redrawn on the next tick. */
  readonly clear: () => void
}

/** The progress line of one run. */
export class Progress extends Context.Service<Progress, ProgressShape>()("@brick/cli/Progress") {}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/** A progress line that does nothing (stderr is not a terminal). */
export const silent: ProgressShape = {
  during: () => (effect) => effect,
  note: () => {},
  clear: () => {}
}

/** The progress line on `io`'s stderr; silent unless stderr is a TTY. */
export const make = (
  io: IoShape,
  options: { readonly delayMs?: number; readonly tickMs?: number } = {}
): ProgressShape => {
  if (!io.stderrIsTTY) return silent
  const delayMs = options.delayMs ?? 800
  const tickMs = options.tickMs ?? 100
  let label: string | undefined
  let detail = ""
  let started = 0
  let frame = 0
  let drawn = false
  const clear = () => {
    if (drawn) io.stderr("\r\x1b[2K")
    drawn = false
  }
  const draw = () => {
    if (label === undefined) return
    const elapsed = (Date.now() - started) / 1000
    if (elapsed * 1000 < delayMs) return
    const columns = process.stderr.columns ?? 80
    const text = `${frames[frame++ % frames.length]} ${label} ${elapsed.toFixed(1)}s${detail ? ` · ${detail}` : ""}`
    io.stderr(`\r\x1b[2K${text.length > columns - 1 ? text.slice(0, columns - 2) + "…" : text}`)
    drawn = true
  }
  return {
    during: (text) => (effect) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          label = text
          started = Date.now()
          const timer = setInterval(draw, tickMs)
          timer.unref()
          return timer
        }),
        () => effect,
        (timer) =>
          Effect.sync(() => {
            clearInterval(timer)
            clear()
            label = undefined
            detail = ""
          })
      ),
    note: (text) => {
      detail = text.replace(/\s+/g, " ")
    },
    clear
  }
}
