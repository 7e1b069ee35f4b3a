/**
 * What the CLI's real-kernel tests (faults, host matrix) share: the built
 * `brick` to run, runs of it with their logs kept, the volume files, the
 * whole-host snapshot, waits on sysfs, lab-target's portal switches and the
 * clean-up after a failed scenario. Only meaningful inside the lab guest.
 */
import * as assert from "node:assert/strict"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** Inside the lab guest (a LIO target and lab-target): the lab tests run, else they skip. */
export const inGuest = fs.existsSync("/sys/kernel/config/target") &&
  spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

// this file runs compiled, as dist/test/LabHost.js. The one-file bundle (`node scripts/bundle.mjs`)
// starts in a fraction of the time over 9p; it is used only when it is newer than every compiled
// module it bundles (a stale bundle would test old code), else dist/src/bin.js.
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
/** Whether the one-file bundle is current. */
export const bundleIsCurrent = fs.existsSync(bundle) && fs.statSync(bundle).mtimeMs >= newestModule()
/** The `brick` to run: the bundle when current, else the compiled bin. */
export const bin = bundleIsCurrent ? bundle : binJs
/** The note the tests print once about which `brick` runs. */
export const binNote = () =>
  `brick = ${bin}${
    bundleIsCurrent
      ? ""
      : " (dist/brick.mjs is missing or older than the compiled sources: run `node scripts/bundle.mjs` for faster starts)"
  }`

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

/** How a brick run is started: the argv of the process for brick's own arguments. */
export type Launch = (brickArgs: ReadonlyArray<string>) => { readonly command: string; readonly args: Array<string> }
/**
 * brick as a user runs it, in this mount namespace: the bundle as an executable (its prologue
 * starts node from the startup snapshot once the first run has built it), else the compiled bin by
 * this node.
 */
export const direct: Launch = (brickArgs) =>
  bundleIsCurrent
    ? { command: bundle, args: [...brickArgs] }
    : { command: process.execPath, args: [bin, ...brickArgs] }

/**
 * Runs of brick with the volume files in `workDir()` (its cwd), each run's
 * stdout/stderr (its debug log) kept in `lab/.out/<logName>/` (gitignored)
 * for post-mortems.
 */
export const brickRunner = (options: {
  readonly workDir: () => string
  readonly logName: string
  readonly launch?: () => Launch
}) => {
  const logDir = fileURLToPath(new URL(`../../../../lab/.out/${options.logName}/`, import.meta.url))
  let runs = 0
  /** Starts `brick args…`, killed after `limitMs`; `done` resolves when it exits. */
  const start = (args: ReadonlyArray<string>, limitMs = 150_000) => {
    const t0 = Date.now()
    const n = ++runs
    const how = (options.launch?.() ?? direct)(args)
    const child = spawn(how.command, how.args, { cwd: options.workDir(), stdio: ["ignore", "pipe", "pipe"] })
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
  }
  const brick = (...args: ReadonlyArray<string>) => start(args).done
  /** Writes connection_info `data` to `name` in the work dir; returns the name. */
  const info = (name: string, data: Record<string, unknown>) => {
    fs.writeFileSync(path.join(options.workDir(), name), JSON.stringify({ driver_volume_type: "iscsi", data }))
    return name
  }
  /** `brick disconnect` of the volume in `vol` with the device `connected` printed (kept as `device-<vol>`). */
  const disconnect = (vol: string, connected: Run, flags: ReadonlyArray<string> = normal) => {
    const device = `device-${vol}`
    fs.writeFileSync(path.join(options.workDir(), device), connected.stdout)
    return brick("disconnect", "--info", vol, "--device", device, "--multipath", ...flags)
  }
  return { start, brick, info, disconnect }
}

/** The flags every connect/disconnect gets: low timeouts, debug logs (searched for secrets). */
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

/** connection_info data of one LUN on every portal of one target. */
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
  readonly devices?: ReadonlyArray<string>
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

const snapshotParts = {
  sessions: "iscsiadm -m session 2>/dev/null | sed 's/\\[[0-9]*\\]//' | sort",
  nodeDb: "find /etc/iscsi/nodes /etc/iscsi/send_targets /etc/iscsi/ifaces -mindepth 1 2>/dev/null | sort",
  scsiDevices: "ls /sys/class/scsi_device 2>/dev/null | sort",
  disks: "ls /sys/block | grep -v -E '^(vd|loop|ram)' | sort",
  dmMaps: "dmsetup ls 2>/dev/null | grep -v 'No devices found' | sort",
  byPath: "ls /dev/disk/by-path 2>/dev/null | grep iscsi | sort",
  locks: "ls -A /run/brick/locks 2>/dev/null | sort"
} as const
const snapshotScript = Object.values(snapshotParts).map((c) => `${c}; echo @@`).join("; ")

/** Everything of the host an attach can leave behind (one shell: process starts are slow under emulation). */
export const snapshot = (): { readonly [K in keyof typeof snapshotParts]: string } => {
  const parts = spawnSync("sh", ["-c", snapshotScript], { encoding: "utf8" }).stdout.split("@@\n")
  return Object.fromEntries(Object.keys(snapshotParts).map((k, i) => [k, (parts[i] ?? "").trim()])) as {
    readonly [K in keyof typeof snapshotParts]: string
  }
}
export type Snapshot = ReturnType<typeof snapshot>

/** Waits (udev removes links asynchronously) until `look()` equals `before`, then asserts it. */
export const assertHostIs = async <S>(before: S, what: string, look: () => S = snapshot as () => S) => {
  const end = Date.now() + 10_000
  let now = look()
  while (JSON.stringify(now) !== JSON.stringify(before) && Date.now() < end) {
    await sleep(300)
    now = look()
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

const downed = new Set<string>()
export const portalDown = (portal: string, mode: "drop" | "reject") => {
  downed.add(portal)
  labTarget("portal-down", "--portal", portal, "--mode", mode)
}
export const isDown = (portal: string) => downed.has(portal)
export const portalUp = (portal: string) => {
  labTarget("portal-up", "--portal", portal)
  downed.delete(portal)
}

/** After a failed scenario: back to a clean host, so the next scenario starts from one. */
export const cleanupAll = () => {
  for (const p of [...downed]) portalUp(p)
  spawnSync("sh", [
    "-c",
    `multipath -F; iscsiadm -m node --logoutall=all; multipath -F; iscsiadm -m node -o delete; for p in /etc/iscsi/send_targets/*,*; do [ -e "$p" ] && iscsiadm -m discoverydb -t st -p "$(basename "$p" | tr , :)" -o delete; done; rm -f /run/brick/locks/*`
  ], { encoding: "utf8", timeout: 120_000 })
}
