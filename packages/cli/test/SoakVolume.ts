/**
 * One volume of the soak: its LUN on the lab target, whether brick has it
 * attached (the device info connect printed), its data pattern, and what a
 * CSI driver does after an operation failed or was killed (settle).
 */
import * as assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import {
  badCount,
  blockSize,
  emptyState,
  emptyTally,
  PatternDevice,
  type PatternState,
  volumeTag
} from "./BlockPattern.ts"
import { byPathDevice, type Device, labTarget, type makeLab, type Run, slavesOf, sleep } from "./labCli.ts"
import type { Op, Random, VolumeSpec } from "./SoakPlan.ts"

const initialBytes = 4 * 1024 * 1024
const growBytes = 2 * 1024 * 1024
const maxBytes = 12 * 1024 * 1024
/** Exit statuses of a typed failure (packages/cli/src/ExitCodes.ts); anything else ends the soak. */
const typedFailures = new Set([3, 4, 5, 6, 7, 8, 9, 11, 13])
const flags = [
  "--login-timeout",
  "10",
  "--scan-attempts",
  "4",
  "--scan-interval",
  "1500",
  "--multipath-timeout",
  "20",
  "--lock-timeout",
  "300",
  "--log-level",
  "debug"
]

/** A brick process still running after this long is killed (and the soak fails: a hang). */
const limitMs = 300_000

/**
 * How a brick run ended: success, a typed failure, or killed by the soak; `noMap`: a multipath
 * connect that returned a path's device, no map having formed within the wait.
 */
export type Outcome = "ok" | "noMap" | "failed" | "killed"

const isMap = (device: string) => /^\/dev\/dm-\d+$/.test(device)
/** The SCSI state of `/dev/sdX` (`running`, `blocked`, `transport-offline` …). */
const scsiState = (device: string) => {
  try {
    return fs.readFileSync(`/sys/block/${path.basename(device)}/device/state`, "utf8").trim()
  } catch {
    return "gone"
  }
}

export class SoakVolume {
  /** The device info connect printed, while attached. */
  device: Device | undefined
  private deviceJson = ""
  private pattern: PatternState
  private filled = false
  private size = initialBytes
  private lunGone = false
  private readonly info: string

  constructor(
    readonly spec: VolumeSpec,
    private readonly lab: ReturnType<typeof makeLab>,
    private readonly serial: string
  ) {
    this.pattern = emptyState(volumeTag(spec.name), initialBytes / blockSize)
    this.info = lab.info(
      `${spec.name}.json`,
      spec.multipath
        ? {
          target_portals: spec.portals,
          target_iqns: spec.portals.map(() => spec.iqn),
          target_luns: spec.portals.map(() => spec.lun)
        }
        : { target_portal: spec.portals[0], target_iqn: spec.iqn, target_lun: spec.lun }
    )
  }

  /** lab-target's arguments for the LUN (in `create` or `add-lun`). */
  lunArgs() {
    return ["--lun", `${this.spec.lun}:${initialBytes}`, "--serial", `${this.spec.lun}:${this.serial}`]
  }

  /** The LUN again, new and empty (the same serial, so the same WWN). */
  createLun() {
    labTarget("add-lun", "--iqn", this.spec.iqn, ...this.lunArgs())
    this.size = initialBytes
    this.pattern = emptyState(volumeTag(this.spec.name), initialBytes / blockSize)
    this.filled = false
    this.lunGone = false
  }

  removeLun() {
    labTarget("remove-lun", "--iqn", this.spec.iqn, "--lun", String(this.spec.lun))
    this.lunGone = true
  }

  private args(op: Op, extra: ReadonlyArray<string> = []) {
    const multipath = this.spec.multipath ? ["--multipath"] : []
    if (op === "connect") return ["connect", "--info", this.info, ...multipath, ...flags]
    if (op === "extend") return ["extend", "--info", this.info, "--log-level", "debug"]
    const device = this.deviceJson === "" ? [] : ["--device", this.lab.file(`device-${this.info}`, this.deviceJson)]
    return ["disconnect", "--info", this.info, ...device, ...multipath, ...flags, ...extra]
  }

  /** Grows the LUN on the target (up to a limit), before an extend. */
  grow() {
    this.size = Math.min(maxBytes, this.size + growBytes)
    labTarget("resize", "--iqn", this.spec.iqn, "--lun", String(this.spec.lun), "--size", String(this.size))
  }

  /** Starts `op` as a brick process; `logLines` counts the log lines it wrote so far. */
  start(op: Op, extra: ReadonlyArray<string> = []) {
    const run = this.lab.start(this.args(op, extra), limitMs)
    let lines = 0
    run.child.stderr?.on("data", (d: Buffer) => (lines += d.toString().split("\n").length - 1))
    return { ...run, logLines: () => lines }
  }

  /** Takes in how `op` ended; a success changes what is attached. Anything but success or a typed failure throws. */
  finish(op: Op, run: Run, portalsDown: ReadonlyArray<string> = []): Outcome {
    assert.ok(run.ms < limitMs - 5_000, `${this.spec.name} ${op} ran into the time limit: ${run.stderr.slice(-3000)}`)
    if (run.signal === "SIGKILL") return "killed"
    if (run.code !== 0) {
      assert.ok(
        typedFailures.has(run.code ?? -1),
        `${this.spec.name} ${op}: exit ${run.code} ${run.signal ?? ""} is no typed failure: ${run.stderr.slice(-3000)}`
      )
      return "failed"
    }
    if (op === "connect") {
      this.device = JSON.parse(run.stdout) as Device
      this.deviceJson = run.stdout
      if (this.spec.multipath && !isMap(this.device.path)) {
        this.checkWithoutMap(this.device, run.stdout, portalsDown)
        return "noMap"
      }
    } else if (op === "disconnect") {
      this.device = undefined
      this.deviceJson = ""
    } else {
      // an extend that exits 0 reports the target's size: with a path down it fails (typed), settle retries it
      const { size } = JSON.parse(run.stdout) as { size: number }
      assert.deepEqual({ size }, { size: this.size }, `${this.spec.name} extend`)
    }
    return "ok"
  }

  /**
   * A multipath connect without a map is a result only as brick reports it:
   * the device returned is the path that serves, up (its SCSI device
   * `running`, unless its portal is down by now), every other path with a
   * device unused and why.
   */
  private checkWithoutMap(device: Device, stdout: string, portalsDown: ReadonlyArray<string>) {
    const what = `${this.spec.name}: multipath connect without a map: ${stdout}`
    const serving = device.paths?.find((p) => p.device === device.path)
    assert.equal(serving?.state, "serving", what)
    if (!portalsDown.includes(serving!.portal)) assert.equal(scsiState(device.path), "running", what)
    for (const p of device.paths ?? []) {
      if (p.device !== undefined && p !== serving) {
        assert.ok(p.state === "unused" && (p.reason === "NoMap" || p.reason === "PathDown"), what)
      }
    }
  }

  /** Runs `op` until it succeeds (a few tries: the host may still be recovering from the round's faults). */
  private async until(op: Op, extra: ReadonlyArray<string> = []) {
    let last: Run | undefined
    for (let attempt = 1; attempt <= 3; attempt++) {
      last = await this.start(op, extra).done
      const outcome = this.finish(op, last)
      // a connect, every fault lifted, must leave the volume whole (heal)
      if (op === "connect" ? (outcome === "ok" || outcome === "noMap") && this.healed() : outcome === "ok") return
      await sleep(attempt * 3000)
    }
    assert.fail(
      `${this.spec.name} ${op} ${extra.join(" ")} still fails with every fault lifted: ${last!.stderr.slice(-3000)}`
    )
  }

  /** What a CSI driver does after `op` ended with `outcome`, every fault lifted; returns what it did. */
  async settle(op: Op, outcome: Outcome, random: Random): Promise<string | undefined> {
    if (this.lunGone) {
      // the volume is gone on the array: detach what is left of it (force when a plain detach fails), then a new LUN
      let how = "LUN gone: "
      if (this.device !== undefined || op !== "connect" || outcome !== "failed") {
        const plain = await this.start("disconnect").done
        if (this.finish("disconnect", plain) !== "ok") {
          await this.until("disconnect", ["--force"])
          how += "forced "
        }
        how += "detach, "
      }
      this.device = undefined
      this.deviceJson = ""
      this.createLun()
      return `${how}new LUN`
    }
    if (outcome === "ok" || outcome === "noMap") return undefined
    if (op === "connect") {
      if (random() < 0.5) {
        await this.until("connect")
        return `${outcome} connect retried`
      }
      if (outcome === "failed") return "failed connect given up"
      await this.until("disconnect")
      return "killed connect undone by disconnect"
    }
    await this.until(op)
    return `${outcome} ${op} retried`
  }

  /**
   * Whether the volume is whole: not a multipath volume, or its map serves
   * every portal (each path linked, in the map, reported serving).
   */
  healed(): boolean {
    if (this.device === undefined || !this.spec.multipath) return true
    const linked = this.spec.portals.filter((p) => byPathDevice(p, this.spec.iqn, this.spec.lun) !== undefined)
    return isMap(this.device.path) && linked.length === this.spec.portals.length &&
      slavesOf(this.device.path).length === linked.length &&
      (this.device.paths ?? []).every((p) => p.state === "serving")
  }

  /**
   * A multipath volume attached without some of its paths (a portal was
   * down, no map formed) is made whole by connecting again, every fault
   * lifted: brick's self-healing connect. It must be whole after a few tries.
   */
  async heal(): Promise<string | undefined> {
    if (this.healed()) return undefined
    const was = isMap(this.device!.path) ? "missing paths" : "no map"
    await this.until("connect")
    return `connect again for ${was}`
  }

  /** Verifies every block of the pattern (filled at its first attach), then writes some blocks anew. */
  checkData(random: Random) {
    const tally = emptyTally()
    if (this.device === undefined) return { written: 0, verified: 0, bad: 0, examples: [] }
    const dev = new PatternDevice(this.device.path, this.pattern)
    let written = 0
    try {
      if (!this.filled) {
        dev.fill()
        written += this.pattern.blocks
        this.filled = true
      }
      dev.verifyAll(tally)
      for (let i = 0; i < 32; i++) {
        const lba = Math.floor(random() * (this.pattern.blocks - 16))
        dev.write(lba, 16)
        written += 16
      }
    } finally {
      dev.close()
    }
    return { written, verified: tally.verified, bad: badCount(tally), examples: tally.examples }
  }

  /** Detaches the volume if attached. */
  async detach() {
    if (this.device !== undefined) await this.until("disconnect")
  }
}
