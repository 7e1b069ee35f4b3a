/**
 * What the CLI's lab tests share (faults.lab.test.ts, reliability.lab.test.ts):
 * the built `brick` they run, a run's outcome, the host snapshot they compare
 * before and after, the lab target's helper and portal faults, and a scenario
 * that leaves a clean host behind even when it fails. They run compiled, in
 * the lab guest (lab/test.sh).
 */
import * as assert from "node:assert/strict"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { it } from "node:test"
import { fileURLToPath } from "node:url"

// these modules run compiled, as dist/test/*.js. The one-file bundle (`node scripts/bundle.mjs`) starts in
// a fraction of the time over 9p; it is used only when it is newer than every compiled module it bundles
// (a stale bundle would test old code), else dist/src/bin.js.
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
/** Whether the one-file bundle is newer than every compiled module. */
export const bundleIsCurrent = fs.existsSync(bundle) && fs.statSync(bundle).mtimeMs >= newestModule()
/** The `brick` the tests run. */
export const bin = bundleIsCurrent ? bundle : binJs

/** The lab target's portals. */
export const P = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"] as const
/** True inside the lab guest (LIO's configfs and `lab-target` present). */
export const inGuest = fs.existsSync("/sys/kernel/config/target") &&
  spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

/** A shell command's trimmed stdout. */
export const sh = (command: string) => spawnSync("sh", ["-c", command], { encoding: "utf8" }).stdout.trim()
/** `lab-target ARGS…`'s stdout; throws on failure. */
export const labTarget = (...args: ReadonlyArray<string>) => execFileSync("lab-target", args, { encoding: "utf8" })
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A finished `brick` run. */
export interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** The flags every connect/disconnect of a failure scenario gets: low timeouts, debug logs. */
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

/** A device info as `brick connect` prints it. */
export interface Device {
  readonly type: string
  readonly path: string
  readonly scsi_wwn: string
  readonly multipath_id?: string
  readonly paths?: ReadonlyArray<{
    readonly portal: string
    readonly iface?: string
    readonly state: string
    readonly device?: string
    readonly session?: number
    readonly reason?: string
    readonly otherIfaces?: ReadonlyArray<{ readonly iface: string; readonly session: number }>
  }>
}
/** The device info a successful run printed. */
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

/** Cinder's multipath form of a volume's connection data. */
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
/** A host snapshot. */
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

/** Polls `check` every 20 ms until it holds; throws after `seconds`. */
export const waitUntil = async (what: string, seconds: number, check: () => boolean) => {
  const end = Date.now() + seconds * 1000
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${seconds}s waiting for ${what}`)
    await sleep(20)
  }
}
/** The session names (`sessionN`) of a target. */
export const sessionsOf = (iqn: string) =>
  fs.readdirSync("/sys/class/iscsi_session").filter((s) => {
    try {
      return fs.readFileSync(`/sys/class/iscsi_session/${s}/targetname`, "utf8").trim() === iqn
    } catch {
      return false
    }
  })
/** The states of a target's sessions. */
export const sessionStates = (iqn: string) =>
  sessionsOf(iqn).map((s) => fs.readFileSync(`/sys/class/iscsi_session/${s}/state`, "utf8").trim())
/** A dm device's path devices. */
export const slavesOf = (dm: string) => fs.readdirSync(`/sys/block/${path.basename(dm)}/slaves`).sort()
/** The block device udev's by-path link of a path points to. */
export const byPathDevice = (portal: string, iqn: string, lun: number) => {
  try {
    return path.basename(fs.readlinkSync(`/dev/disk/by-path/ip-${portal}-iscsi-${iqn}-lun-${lun}`))
  } catch {
    return undefined
  }
}

/** Deletes every sendtargets discovery record. */
export const dropDiscoveryRecords = () =>
  spawnSync("sh", [
    "-c",
    `for p in /etc/iscsi/send_targets/*,*; do [ -e "$p" ] && iscsiadm -m discoverydb -t st -p "$(basename "$p" | tr , :)" -o delete; done; true`
  ], { encoding: "utf8", timeout: 60_000 })

/**
 * One lab test file's runs: a temp dir for the input files, `brick` runs
 * (each one's stderr kept in lab/.out/<name>-logs/ for post-mortems), the
 * portals it took down, and its scenarios.
 */
export const makeLab = (name: string) => {
  const logDir = fileURLToPath(new URL(`../../../../lab/.out/${name}-logs/`, import.meta.url))
  const downed = new Set<string>()
  let runs = 0
  let dir = ""
  const lab = {
    /** The temp dir (made by `open`). */
    get dir() {
      return dir
    },
    /** Makes the temp dir; checks the binary is there. */
    open: () => {
      if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`)
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `brick-${name}-`))
    },
    /** Brings every portal it took down back, logs everything out, deletes every record and the temp dir. */
    close: () => {
      lab.cleanupAll()
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    },
    /** Starts `brick args…` (cwd: the temp dir), killed after `limitMs`; `done` resolves when it exits. */
    start: (args: ReadonlyArray<string>, limitMs = 150_000) => {
      const t0 = Date.now()
      const n = ++runs
      const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d) => (stdout += d))
      child.stderr.on("data", (d) => (stderr += d))
      const timer = setTimeout(() => child.kill("SIGKILL"), limitMs)
      const done = new Promise<Run>((resolve) => {
        child.on("close", (code, signal) => {
          clearTimeout(timer)
          try {
            fs.mkdirSync(logDir, { recursive: true })
            fs.writeFileSync(
              path.join(logDir, `${String(n).padStart(2, "0")}-${args[0]}-${args[2] ?? ""}.log`),
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
    },
    /** Runs `brick args…` to its end. */
    brick: (...args: ReadonlyArray<string>) => lab.start(args).done,
    /** Writes a connection info file (the whole connection_info) into the temp dir; its name. */
    info: (file: string, data: Record<string, unknown>) => {
      fs.writeFileSync(path.join(dir, file), JSON.stringify({ driver_volume_type: "iscsi", data }))
      return file
    },
    /** Writes a file into the temp dir; its name. */
    file: (file: string, text: string) => {
      fs.writeFileSync(path.join(dir, file), text)
      return file
    },
    /** `brick disconnect` of the volume in `vol` with the device `connected` printed (kept as `device-<vol>`). */
    disconnect: (vol: string, connected: Run, ...flags: ReadonlyArray<string>) =>
      lab.brick(
        "disconnect",
        "--info",
        vol,
        "--device",
        lab.file(`device-${vol}`, connected.stdout),
        "--multipath",
        ...normal,
        ...flags
      ),
    portalDown: (portal: string, mode: "drop" | "reject" | "np") => {
      downed.add(portal)
      labTarget("portal-down", "--portal", portal, "--mode", mode)
    },
    portalUp: (portal: string) => {
      labTarget("portal-up", "--portal", portal)
      downed.delete(portal)
    },
    /** After a failed scenario: back to a clean host, so the next scenario starts from one. */
    cleanupAll: () => {
      for (const p of [...downed]) lab.portalUp(p)
      spawnSync("sh", [
        "-c",
        `multipath -F; iscsiadm -m node --logoutall=all; multipath -F; iscsiadm -m node -o delete; for p in /etc/iscsi/send_targets/*,*; do [ -e "$p" ] && iscsiadm -m discoverydb -t st -p "$(basename "$p" | tr , :)" -o delete; done; rm -f /run/brick/locks/*`
      ], { encoding: "utf8", timeout: 120_000 })
    },
    /**
     * A scenario: a test that leaves a clean host behind even when it fails.
     * `selected` narrows the run (e.g. to names an environment variable lists).
     */
    scenario: (
      title: string,
      timeout: number,
      body: (t: { diagnostic: (s: string) => void }) => Promise<void>,
      selected: (title: string) => boolean = () => true
    ) =>
      it(title, { timeout, skip: !selected(title) }, async (t) => {
        try {
          await body(t)
        } catch (e) {
          t.diagnostic(`failed; host before cleanup: ${JSON.stringify(snapshot())}`)
          lab.cleanupAll()
          throw e
        }
      })
  }
  return lab
}
