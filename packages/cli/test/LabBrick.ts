/**
 * What the CLI's lab tests share (inside the lab guest, as root): the built
 * `brick` command run as a process, the volumes' JSON files, lab-target, a
 * whole-host snapshot (sessions, node DB, SCSI devices, block devices, dm
 * maps, by-path links, brick's lock files) and the waits around it.
 */
import * as assert from "node:assert/strict"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

// the tests run compiled, from dist/test/. The one-file bundle (`node scripts/bundle.mjs`) starts in a fraction
// of the time over 9p; it is used only when it is newer than every compiled module it bundles (a stale bundle
// would test old code), else dist/src/bin.js.
const binJs = fileURLToPath(new URL("../src/bin.js", import.meta.url))
const bundle = fileURLToPath(new URL("../brick.mjs", import.meta.url))
const newestModule = () => {
  let newest = 0
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name))
      else if (e.name.endsWith(".js")) newest = Math.max(newest, fs.statSync(path.join(d, e.name)).mtimeMs)
    }
  }
  for (const pkg of ["core", "interpreter-node", "cli"]) {
    const d = fileURLToPath(new URL(`../../../${pkg}/dist/src/`, import.meta.url))
    if (fs.existsSync(d)) walk(d)
  }
  return newest
}
export const bundleIsCurrent = fs.existsSync(bundle) && fs.statSync(bundle).mtimeMs >= newestModule()
/** The `brick` program the tests run. */
export const bin = bundleIsCurrent ? bundle : binJs

/** Whether this runs inside the lab guest (a LIO target and lab-target). */
export const inGuest = fs.existsSync("/sys/kernel/config/target") &&
  spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

export const sh = (command: string) => spawnSync("sh", ["-c", command], { encoding: "utf8" }).stdout.trim()
export const labTarget = (...args: ReadonlyArray<string>) => execFileSync("lab-target", args, { encoding: "utf8" })
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** `brick` run as processes in `dir` (where the volumes' JSON files are); each run's stderr kept in `logDir`. */
export class BrickRunner {
  private runs = 0
  constructor(readonly dir: string, readonly logDir: string) {}

  /** Starts `brick args…`, killed after `limitMs`; `done` resolves when it exits. */
  start(args: ReadonlyArray<string>, limitMs = 150_000) {
    const t0 = Date.now()
    const n = ++this.runs
    const child = spawn(process.execPath, [bin, ...args], { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs)
    const done = new Promise<Run>((resolve) => {
      child.on("close", (code, signal) => {
        clearTimeout(timer)
        try {
          fs.mkdirSync(this.logDir, { recursive: true })
          fs.writeFileSync(
            path.join(this.logDir, `${String(n).padStart(2, "0")}-${args[0]}-${args[2] ?? ""}.log`),
            `brick ${args.join(" ")}\nexit ${code} ${signal ?? ""} after ${
              Date.now() - t0
            } ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`
          )
        } catch {
          // logs are a convenience
        }
        resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 })
      })
    })
    return { child, done }
  }

  /** Runs `brick args…` to its end. */
  run(...args: ReadonlyArray<string>) {
    return this.start(args).done
  }

  /** Writes a volume's connection info as `name` and returns the name. */
  info(name: string, data: Record<string, unknown>) {
    fs.writeFileSync(path.join(this.dir, name), JSON.stringify({ driver_volume_type: "iscsi", data }))
    return name
  }

  /** `brick disconnect` of the volume in `vol` with the device `connected` printed (kept as `device-<vol>`). */
  disconnect(vol: string, connected: Run, flags: ReadonlyArray<string> = normal) {
    const device = `device-${vol}`
    fs.writeFileSync(path.join(this.dir, device), connected.stdout)
    return this.run("disconnect", "--info", vol, "--device", device, "--multipath", ...flags)
  }
}

/** Flags for connects and disconnects that may fail: low timeouts, debug logs (searched for secrets). */
export const fast = [
  "--login-timeout",
  "3",
  "--scan-attempts",
  "3",
  "--scan-interval",
  "1000",
  "--multipath-timeout",
  "15",
  "--lock-timeout",
  "240",
  "--log-level",
  "debug"
]
/** For attaches that must succeed: a login timeout the loaded, emulated guest always meets. */
export const normal = [
  "--login-timeout",
  "15",
  "--scan-attempts",
  "5",
  "--scan-interval",
  "2000",
  "--multipath-timeout",
  "30",
  "--lock-timeout",
  "240",
  "--log-level",
  "debug"
]

/** The connection data of LUN `lun` of `iqn` on every portal of `portals`. */
export const multi = (
  iqn: string,
  lun: number,
  portals: ReadonlyArray<string>,
  extra: Record<string, unknown> = {}
) => ({
  target_portals: portals,
  target_iqns: portals.map(() => iqn),
  target_luns: portals.map(() => lun),
  target_portal: portals[0],
  target_iqn: iqn,
  target_lun: lun,
  ...extra
})

export interface Device {
  readonly type: string
  readonly path: string
  readonly scsi_wwn: string
  readonly multipath_id?: string
}
export const deviceOf = (r: Run): Device => {
  assert.equal(r.code, 0, `exit ${r.code} ${r.signal ?? ""}: ${r.stderr.slice(-4000)}`)
  return JSON.parse(r.stdout) as Device
}
/** The JSON error report: the last stderr line. */
export const errorOf = (r: Run): Record<string, unknown> => {
  const lines = r.stderr.trim().split("\n")
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>
}
/** Kernel wwid `naa.6001405…` → the `3…` WWN brick reports. */
export const scsiWwn = (naa: string) => `3${naa.replace(/^naa\./, "")}`

/** Everything of the host an attach can leave behind. */
export const snapshot = () => ({
  sessions: sh("iscsiadm -m session 2>/dev/null | sed 's/\\[[0-9]*\\]//' | sort"),
  nodeDb: sh("find /etc/iscsi/nodes /etc/iscsi/send_targets /etc/iscsi/ifaces -mindepth 1 2>/dev/null | sort"),
  scsiDevices: sh("ls /sys/class/scsi_device 2>/dev/null | sort"),
  disks: sh("ls /sys/block | grep -v -E '^(vd|loop|ram)' | sort"),
  dmMaps: sh("dmsetup ls 2>/dev/null | grep -v 'No devices found' | sort"),
  byPath: sh("ls /dev/disk/by-path 2>/dev/null | grep iscsi | sort"),
  locks: sh("ls -A /run/brick/locks 2>/dev/null | sort")
})
export type Snapshot = ReturnType<typeof snapshot>

/** Waits (udev removes links asynchronously) until the host equals `before`, then asserts it. */
export const assertHostIs = async (before: Snapshot, what: string) => {
  const end = Date.now() + 10_000
  let now = snapshot()
  while (JSON.stringify(now) !== JSON.stringify(before) && Date.now() < end) {
    await sleep(300)
    now = snapshot()
  }
  assert.deepEqual(now, before, `${what}: the host differs`)
}

export const waitUntil = async (what: string, seconds: number, check: () => boolean) => {
  const end = Date.now() + seconds * 1000
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds}s waiting for ${what}`)
    await sleep(20)
  }
}
export const sessionsOf = (iqn: string) =>
  fs.readdirSync("/sys/class/iscsi_session").filter((s) => {
    try {
      return fs.readFileSync(`/sys/class/iscsi_session/${s}/targetname`, "utf8").trim() === iqn
    } catch {
      return false
    }
  })
export const sessionStates = (iqn: string) =>
  sessionsOf(iqn).map((s) => fs.readFileSync(`/sys/class/iscsi_session/${s}/state`, "utf8").trim())
export const slavesOf = (dm: string) => fs.readdirSync(`/sys/block/${path.basename(dm)}/slaves`).sort()
export const byPathDevice = (portal: string, iqn: string, lun: number) => {
  try {
    return path.basename(fs.readlinkSync(`/dev/disk/by-path/ip-${portal}-iscsi-${iqn}-lun-${lun}`))
  } catch {
    return undefined
  }
}

/** Portals taken down with lab-target, to bring up again after a failure. */
const downed = new Set<string>()
export const portalDown = (portal: string, mode: "drop" | "reject" | "np") => {
  downed.add(portal)
  labTarget("portal-down", "--portal", portal, "--mode", mode)
}
export const portalUp = (portal: string) => {
  labTarget("portal-up", "--portal", portal)
  downed.delete(portal)
}

/** Back to a clean host (every portal up, no session, record, map or lock), so the next test starts from one. */
export const cleanupAll = () => {
  for (const p of [...downed]) portalUp(p)
  spawnSync("sh", [
    "-c",
    `multipath -F; iscsiadm -m node --logoutall=all; multipath -F; iscsiadm -m node -o delete; for p in /etc/iscsi/send_targets/*,*; do [ -e "$p" ] && iscsiadm -m discoverydb -t st -p "$(basename "$p" | tr , :)" -o delete; done; rm -f /run/brick/locks/*`
  ], { encoding: "utf8", timeout: 120_000 })
}
