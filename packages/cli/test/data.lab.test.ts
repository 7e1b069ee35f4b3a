/**
 * What a caller wrote is there, on the real kernel (lab guest, as root),
 * through the device `brick connect --multipath` returned: a checksummed
 * pattern (BlockPattern.ts: every block carries its LBA, a generation and a
 * CRC) is written and read back without pause by another process
 * (PatternWriter.ts) while one portal is dropped, then all but one, then all
 * are restored, then the target restarts; then the volume is detached,
 * attached again and every block verified. No I/O error while a path
 * remains, no bad block ever; the timeline (per phase: time, blocks written
 * and verified, errors, slowest step) goes to the test's diagnostics.
 * Runs with node's test runner (lab/test.sh); skipped outside the guest.
 */
import * as assert from "node:assert/strict"
import { spawn } from "node:child_process"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import {
  badCount,
  blockSize,
  emptyState,
  emptyTally,
  loadState,
  PatternDevice,
  saveState,
  type Tally,
  volumeTag
} from "./BlockPattern.ts"
import {
  assertHostIs,
  byPathDevice,
  deviceOf,
  inGuest,
  labTarget,
  makeLab,
  multi,
  normal,
  P,
  sessionStates,
  sh,
  slavesOf,
  snapshot,
  waitUntil
} from "./labCli.ts"

const T = "iqn.2003-01.org.brick:data"
const lunBytes = 16 * 1024 * 1024
/** Seconds of I/O in each phase once its state is reached. */
const hold = Number(process.env["BRICK_DATA_HOLD"] ?? 4)
const writerJs = fileURLToPath(new URL("./PatternWriter.js", import.meta.url))
const lab = makeLab("data")

/** multipathd's view of each path device: `sdX` → `active ready`, `failed faulty`, … */
const mapPaths = () =>
  new Map(
    sh("multipathd show paths format '%d %t %T'").split("\n").slice(1).map((l) => l.trim().split(/\s+/)).filter((
      f
    ) => f.length === 3).map(([d, dm, chk]) => [d!, `${dm} ${chk}`])
  )
const pathOf = (portal: string) => byPathDevice(portal, T, 0)
const pathState = (portal: string) => {
  const sd = pathOf(portal)
  return sd === undefined ? "none" : mapPaths().get(sd) ?? "none"
}

interface WriterLine {
  readonly t: number
  readonly error?: string
  readonly op?: string
  readonly bad?: number
  readonly example?: string
  readonly writes?: number
  readonly reads?: number
  readonly written?: number
  readonly verified?: number
  readonly maxMs?: number
  readonly done?: boolean
  readonly badBlocks?: Tally["bad"]
}

/** The pattern writer on `device`, until `stop()`; its lines as they come. */
const startWriter = (device: string, stateFile: string, seed: number) => {
  const child = spawn(process.execPath, [writerJs, "--device", device, "--state", stateFile, "--seed", String(seed)], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<WriterLine> = []
  let rest = ""
  let stderr = ""
  child.stdout.on("data", (d) => {
    const parts = (rest + d).split("\n")
    rest = parts.pop()!
    for (const p of parts) if (p.trim() !== "") lines.push(JSON.parse(p) as WriterLine)
  })
  child.stderr.on("data", (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  return {
    lines,
    stop: async () => {
      child.kill("SIGTERM")
      const code = await exited
      assert.equal(code, 0, `the pattern writer exited ${code}: ${stderr}`)
      return lines.find((l) => l.done === true)!
    }
  }
}

interface Phase {
  readonly name: string
  readonly start: number
  end: number
  /** whether a path remained through the whole phase */
  readonly pathRemains: boolean
}

/** Per phase: seconds, blocks written and verified, I/O errors, bad blocks, the slowest step. */
const timeline = (phases: ReadonlyArray<Phase>, lines: ReadonlyArray<WriterLine>) =>
  phases.map((p) => {
    const within = lines.filter((l) => l.t >= p.start && l.t < p.end)
    const sum = (f: (l: WriterLine) => number | undefined) => within.reduce((a, l) => a + (f(l) ?? 0), 0)
    return {
      phase: p.name,
      pathRemains: p.pathRemains,
      seconds: Math.round((p.end - p.start) / 100) / 10,
      written: sum((l) => l.written),
      verified: sum((l) => l.verified),
      errors: within.filter((l) => l.error !== undefined).length,
      bad: sum((l) => l.bad),
      slowestMs: Math.max(0, ...within.map((l) => l.maxMs ?? 0))
    }
  })

describe("data on the real kernel", { skip: !inGuest }, () => {
  before(() => {
    lab.open()
    labTarget("delete", "--iqn", T, "--if-exists")
    labTarget("create", "--iqn", T, ...P.flatMap((p) => ["--portal", p]), "--lun", `0:${lunBytes}`)
  })
  after(() => {
    lab.close()
    labTarget("delete", "--iqn", T, "--if-exists")
  })

  it(
    "multipath: a checksummed pattern written and read without pause through portal drops, failover, restore and a target restart; every block verified after detach and re-attach",
    { timeout: 1_200_000 },
    async (t) => {
      const before = snapshot()
      const vol = lab.info("data.json", multi(T, 0, P))
      const connected = await lab.brick("connect", "--info", vol, "--multipath", ...normal)
      const device = deviceOf(connected)
      assert.match(device.path, /^\/dev\/dm-\d+$/)
      const allActive = () => P.every((p) => pathState(p) === "active ready")
      await waitUntil("3 active paths in the map", 120, () => slavesOf(device.path).length === 3 && allActive())

      const stateFile = path.join(lab.dir, "pattern.json")
      const state = emptyState(volumeTag(device.scsi_wwn), lunBytes / blockSize)
      const filling = new PatternDevice(device.path, state)
      filling.fill()
      filling.close()
      saveState(stateFile, state)

      const writer = startWriter(device.path, stateFile, 14)
      await waitUntil("the pattern writer's first figures", 300, () => writer.lines.length > 0)
      const phases: Array<Phase> = []
      /** A phase: `enter` brings the fault about and waits for its state; then `hold` seconds of I/O. */
      const phase = async (name: string, pathRemains: boolean, enter: () => Promise<void>) => {
        const p: Phase = { name, start: Date.now(), end: 0, pathRemains }
        phases.push(p)
        await enter()
        await new Promise((r) => setTimeout(r, hold * 1000))
        p.end = Date.now()
      }
      const failed = (portal: string) => () => pathState(portal).startsWith("failed")
      let done!: WriterLine
      try {
        await phase("all paths", true, async () => {})
        await phase(`${P[2]} dropped`, true, async () => {
          lab.portalDown(P[2], "drop")
          await waitUntil(`the path through ${P[2]} failed`, 90, failed(P[2]))
        })
        await phase(`${P[1]} and ${P[2]} dropped (one path left)`, true, async () => {
          lab.portalDown(P[1], "drop")
          await waitUntil(`the path through ${P[1]} failed`, 90, failed(P[1]))
        })
        await phase("restored", true, async () => {
          lab.portalUp(P[1])
          lab.portalUp(P[2])
          await waitUntil("every path active again", 120, allActive)
        })
        await phase("target restarted (no path while it is away)", false, async () => {
          const restart = JSON.parse(labTarget("restart", "--iqn", T, "--down", "2")) as { down_seconds: number }
          t.diagnostic(`the target was away ${restart.down_seconds} s`)
          await waitUntil("every session back", 180, () => sessionStates(T).every((s) => s === "LOGGED_IN"))
          await waitUntil("every path active again", 120, allActive)
        })
      } finally {
        done = await writer.stop()
      }
      const table = timeline(phases, writer.lines)
      for (const row of table) t.diagnostic(JSON.stringify(row))
      t.diagnostic(`writer: ${JSON.stringify(done)}`)
      for (const l of writer.lines.filter((l) => l.error !== undefined || l.bad !== undefined).slice(0, 20)) {
        t.diagnostic(`writer event: ${JSON.stringify(l)}`)
      }
      for (const row of table) {
        assert.equal(row.bad, 0, `bad blocks in phase ${row.phase}`)
        if (row.pathRemains) {
          assert.equal(row.errors, 0, `I/O errors while a path remained (${row.phase})`)
          assert.ok(row.written > 0, `no write completed in phase ${row.phase}`)
        }
      }
      assert.deepEqual(done.badBlocks, emptyTally().bad, "bad blocks seen by the writer")

      const live = new PatternDevice(device.path, loadState(stateFile))
      const beforeDetach = live.verifyAll()
      live.close()
      assert.equal(badCount(beforeDetach), 0, beforeDetach.examples.join("\n"))
      saveState(stateFile, live.state)

      const off = await lab.disconnect(vol, connected)
      assert.equal(off.code, 0, off.stderr.slice(-4000))
      await assertHostIs(before, "after the detach")

      const again = await lab.brick("connect", "--info", vol, "--multipath", ...normal)
      const reattached = deviceOf(again)
      assert.equal(reattached.scsi_wwn, device.scsi_wwn)
      const verify = new PatternDevice(reattached.path, loadState(stateFile))
      const afterAttach = verify.verifyAll()
      verify.close()
      t.diagnostic(
        `blocks verified after re-attach: ${afterAttach.verified}; during the run: written ${done.written}, verified ${done.verified}; before detach ${beforeDetach.verified}`
      )
      assert.equal(afterAttach.verified, lunBytes / blockSize)
      assert.equal(badCount(afterAttach), 0, afterAttach.examples.join("\n"))

      const off2 = await lab.disconnect(vol, again)
      assert.equal(off2.code, 0, off2.stderr.slice(-4000))
      await assertHostIs(before, "after the second detach")
    }
  )
})
