/**
 * What the host matrix reads of the host: multipath's memory (wwids and
 * bindings files), a target's SCSI devices, a node record's settings, the
 * maps and their paths, whether multipath claims a device, and when brick
 * fell back to adding the map itself. Only meaningful inside the lab guest.
 */
import * as assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Run, sessionsOf, sh, slavesOf, sleep } from "./LabHost.ts"

/** A file's lines, comments and empty lines left out (none when it is absent). */
export const lines = (file: string) =>
  fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "" && !l.startsWith("#")) : []
/** What multipath remembers: its wwids and bindings files. */
export const memory = () => ({ wwids: lines("/etc/multipath/wwids"), bindings: lines("/etc/multipath/bindings") })
export const remembers = (wwid: string) => memory().wwids.includes(`/${wwid}/`)

export const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : [])
export const read = (p: string) => fs.readFileSync(p, "utf8").trim()
/** The LUN of each of the target `iqn`'s SCSI devices (sysfs: session → target → H:C:T:L), sorted. */
export const targetLuns = (iqn: string) =>
  sessionsOf(iqn).flatMap((s) => {
    const dev = `/sys/class/iscsi_session/${s}/device`
    return ls(dev).filter((t) => t.startsWith("target")).flatMap((t) =>
      ls(`${dev}/${t}`).filter((h) => /^\d+:\d+:\d+:\d+$/.test(h)).map((h) => h.split(":")[3]!)
    )
  }).sort()
/** `node.startup` and `node.session.scan` of the record of `iqn` through `portal` (undefined: none). */
export const recordSettings = (iqn: string, portal: string) => {
  const text = sh(`iscsiadm -m node -T ${iqn} -p ${portal} 2>/dev/null`)
  const value = (name: string) => new RegExp(`^${name.replace(/\./g, "\\.")} = (.*)$`, "m").exec(text)?.[1]
  return { startup: value("node.startup"), scan: value("node.session.scan") }
}
export const dmOf = (device: string) => path.basename(fs.realpathSync(device))
/** Waits until the map has `n` paths (multipathd adds late paths by itself). */
export const waitForSlaves = async (device: string, n: number) => {
  const end = Date.now() + 30_000
  while (slavesOf(device).length < n && Date.now() < end) await sleep(200)
  assert.equal(slavesOf(device).length, n, `${device} has ${n} paths: ${slavesOf(device).join(",")}`)
}
/** The maps holding `sd`, looked at for up to `ms` (multipathd claims a device 0.2-3 s after it appears). */
export const holdersWithin = async (sd: string, ms: number) => {
  const end = Date.now() + ms
  while (ls(`/sys/block/${sd}/holders`).length === 0 && Date.now() < end) await sleep(200)
  return ls(`/sys/block/${sd}/holders`)
}

/** The dm device whose uuid is `mpath-<wwid>`, if any. */
export const mapOfWwid = (wwid: string) =>
  ls("/sys/block").find((b) =>
    b.startsWith("dm-") && fs.existsSync(`/sys/block/${b}/dm/uuid`) &&
    read(`/sys/block/${b}/dm/uuid`) === `mpath-${wwid}`
  )

/**
 * Whether multipath claims the single-path device `sd` (udev's
 * DM_MULTIPATH_DEVICE_PATH=1 once udev is done with it: then the device is
 * an mpath_member) and the maps holding it (multipathd forms one from a
 * claimed device within seconds).
 */
export const claimOf = async (sd: string) => {
  sh("udevadm settle --timeout=20")
  const claimed = /^DM_MULTIPATH_DEVICE_PATH=1$/m.test(sh(`udevadm info -q property /dev/${sd}`))
  return { claimed, holders: claimed ? await holdersWithin(sd, 10_000) : ls(`/sys/block/${sd}/holders`) }
}

/** When (ms after brick started) brick logged its add-map fallback, from its debug log. */
export const fallbackAt = (r: Run, t0: number) => {
  const line = r.stderr.split("\n").find((l) => l.includes("has not formed the map"))
  const time = line === undefined ? undefined : (JSON.parse(line) as { time?: string }).time
  return time === undefined ? undefined : Date.parse(time) - t0
}
