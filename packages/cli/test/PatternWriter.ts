/**
 * A process that writes and reads a volume's block pattern (BlockPattern.ts)
 * without pause, as an application would, until SIGTERM:
 *
 *   node PatternWriter.js --device DEV --state FILE [--seed N]
 *
 * Each step writes the next generation of a random run of 1-16 blocks or reads
 * back and judges a random run of 1-32. It prints JSON lines on stdout: every
 * I/O error `{t, error, op, lba, n, ms}` at once, every bad block
 * `{t, bad, example}`, and each second `{t, writes, reads, written, verified,
 * errors, maxMs}` (maxMs: the slowest step of that second). On SIGTERM it
 * finishes its step, saves the state (blocks whose write failed stay
 * uncertain: either generation is allowed), prints `{t, done, …totals, badBlocks}` and exits.
 */
import * as fs from "node:fs"
import { badCount, emptyTally, loadState, PatternDevice, saveState } from "./BlockPattern.ts"

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}
const device = arg("device")
const stateFile = arg("state")
if (device === undefined || stateFile === undefined) {
  process.stderr.write("usage: PatternWriter --device DEV --state FILE [--seed N]\n")
  process.exit(2)
}

let seed = Number(arg("seed") ?? 1) | 0 || 1
const random = () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 2 ** 32
}
const out = (line: Record<string, unknown>) => fs.writeSync(1, JSON.stringify({ t: Date.now(), ...line }) + "\n")

const state = loadState(stateFile)
const volume = new PatternDevice(device, state)
const tally = emptyTally()
const totals = { writes: 0, reads: 0, written: 0, errors: 0, maxMs: 0 }
let second = { writes: 0, reads: 0, written: 0, errors: 0, maxMs: 0 }
let secondStart = Date.now()
let verifiedBefore = 0
/** Prints the second's figures and adds them to the totals. */
const endSecond = () => {
  out({ ...second, verified: tally.verified - verifiedBefore })
  totals.writes += second.writes
  totals.reads += second.reads
  totals.written += second.written
  totals.errors += second.errors
  totals.maxMs = Math.max(totals.maxMs, second.maxMs)
  second = { writes: 0, reads: 0, written: 0, errors: 0, maxMs: 0 }
  secondStart = Date.now()
  verifiedBefore = tally.verified
}
let stopping = false
process.on("SIGTERM", () => (stopping = true))

const step = () => {
  if (stopping) {
    endSecond()
    volume.close()
    saveState(stateFile, state)
    out({ done: true, ...totals, verified: tally.verified, badBlocks: tally.bad })
    process.exit(0)
  }
  const write = random() < 0.5
  const n = 1 + Math.floor(random() * (write ? 16 : 32))
  const lba = Math.floor(random() * (state.blocks - n + 1))
  const badBefore = badCount(tally)
  const t0 = Date.now()
  try {
    if (write) {
      volume.write(lba, n)
      second.writes++
      second.written += n
    } else {
      volume.verify(lba, n, tally)
      second.reads++
    }
  } catch (e) {
    second.errors++
    out({
      error: (e as NodeJS.ErrnoException).code ?? String(e),
      op: write ? "write" : "read",
      lba,
      n,
      ms: Date.now() - t0
    })
  }
  second.maxMs = Math.max(second.maxMs, Date.now() - t0)
  if (badCount(tally) > badBefore) out({ bad: badCount(tally) - badBefore, example: tally.examples.at(-1) })
  if (Date.now() - secondStart >= 1000) endSecond()
  setImmediate(step)
}
step()
