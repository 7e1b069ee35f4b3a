/**
 * What the CLI's lab tests share beyond LabHost.ts (whose helpers it passes
 * on): the lab target's portals, and makeLab, one lab test file's runs
 * (a temp dir, brick runs with their logs kept, the portals it took down, its
 * scenarios). They run compiled, in the lab guest (lab/test.sh).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { it } from "node:test"
import { bin, brickRunner, labTarget, normal, type Run, snapshot } from "./LabHost.ts"

export {
  assertHostIs,
  bin,
  bundleIsCurrent,
  byPathDevice,
  type Device,
  deviceOf,
  errorOf,
  fast,
  inGuest,
  labTarget,
  multi,
  normal,
  type Run,
  scsiWwn,
  sessionsOf,
  sessionStates,
  sh,
  slavesOf,
  sleep,
  type Snapshot,
  snapshot,
  waitUntil
} from "./LabHost.ts"

/** The lab target's portals. */
export const P = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"] as const

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
  const downed = new Set<string>()
  let dir = ""
  const runner = brickRunner({ workDir: () => dir, logName: `${name}-logs` })
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
    start: (args: ReadonlyArray<string>, limitMs = 150_000) => runner.start(args, limitMs),
    /** Runs `brick args…` to its end. */
    brick: (...args: ReadonlyArray<string>) => runner.brick(...args),
    /** Writes a connection info file (the whole connection_info) into the temp dir; its name. */
    info: (file: string, data: Record<string, unknown>) => runner.info(file, data),
    /** Writes a file into the temp dir; its name. */
    file: (file: string, text: string) => {
      fs.writeFileSync(path.join(dir, file), text)
      return file
    },
    /** `brick disconnect` of the volume in `vol` with the device `connected` printed (kept as `device-<vol>`). */
    disconnect: (vol: string, connected: Run, ...flags: ReadonlyArray<string>) =>
      runner.disconnect(vol, connected, [...normal, ...flags]),
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
