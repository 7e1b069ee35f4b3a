/**
 * The lab guest as the lab tests see it: whether they run inside it, its
 * `lab-target` helper, and the whole host read the way the kernel and the
 * tools show it (sysfs sessions and SCSI devices, `iscsiadm -m node`/`-m
 * iface`, sendtargets records, `dmsetup ls --target multipath` with each
 * map's slaves, /dev/disk/by-path), so a test can compare the host before and
 * after. Shared by the `*.lab.test.ts` files of examples/.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import type { HostPicture } from "./labScenarios.ts"

/** True inside the lab guest (LIO's configfs and `lab-target` present). */
export const inGuest = fs.existsSync("/sys/kernel/config/target") &&
  spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

/** Runs a command; throws unless its exit status is one of `okCodes`. Resolves to its stdout. */
export const sh = (cmd: string, args: ReadonlyArray<string>, okCodes: ReadonlyArray<number> = [0]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000 })
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(" ")}: rc ${r.status}: ${r.stderr}`)
  return r.stdout
}

/** `lab-target ARGS…`'s stdout (JSON); throws on failure. */
export const labTarget = (...args: ReadonlyArray<string>) => sh("lab-target", args)

/** A sysfs (or any) file's trimmed text, `?` when unreadable. */
export const read = (p: string) => {
  try {
    return fs.readFileSync(p, "utf8").trim()
  } catch {
    return "?"
  }
}

/** A directory's entries, sorted; none when it does not exist. */
export const ls = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort() : [])

/** The whole host as the kernel and the tools show it, right now. */
export const look = (): HostPicture => {
  const sessions = ls("/sys/class/iscsi_session").map((s) => {
    const dir = `/sys/class/iscsi_session/${s}`
    const conn = `/sys/class/iscsi_connection/connection${s.slice("session".length)}:0`
    return `${read(`${dir}/targetname`)} ${read(`${conn}/persistent_address`)}:${read(`${conn}/persistent_port`)} ${
      read(`${dir}/ifacename`)
    }`
  })
  const nodes = sh("iscsiadm", ["-m", "node"], [0, 21]).split("\n").filter((l) => l.includes(" ")).map((l) => {
    const [portal, iqn] = l.trim().split(/\s+/)
    return `${iqn} ${portal!.replace(/,\d+$/, "")}`
  })
  const ifaces = sh("iscsiadm", ["-m", "iface"], [0, 21]).split("\n").map((l) => l.split(/\s+/)[0] ?? "")
    .filter((n) => n !== "" && n !== "default" && n !== "iser")
  const scsiDevices = ls("/sys/class/scsi_device").map((h) => {
    const dev = `/sys/class/scsi_device/${h}/device`
    return `${ls(`${dev}/block`).join(",") || "-"} ${read(`${dev}/wwid`)}`
  })
  const dm = sh("dmsetup", ["ls", "--target", "multipath"])
  const maps = dm.includes("No devices found") ? [] : dm.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const [name] = l.trim().split(/\s+/)
    const minor = /\(\d+[:,]\s*(\d+)\)/.exec(l)?.[1]
    return `${name}: ${ls(`/sys/block/dm-${minor}/slaves`).join(" ")}`
  })
  const byPath = ls("/dev/disk/by-path").filter((l) => l.includes("-iscsi-"))
  return {
    sessions: sessions.sort(),
    nodes: nodes.sort(),
    discoveryRecords: ls("/etc/iscsi/send_targets").sort(),
    ifaces: ifaces.sort(),
    scsiDevices: scsiDevices.sort(),
    byPath,
    maps: maps.sort()
  }
}

/**
 * The whole host once it has settled: udev's links and multipathd's maps follow
 * the kernel's devices asynchronously (links ~1 s, maps 0.2-3 s), so look until
 * two looks 1 s apart agree (at most 30 s).
 */
export const picture = async (): Promise<HostPicture> => {
  spawnSync("udevadm", ["settle", "--timeout=30"])
  let last = look()
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 1000))
    const now = look()
    if (JSON.stringify(now) === JSON.stringify(last)) return now
    last = now
  }
  return last
}
