/**
 * The whole iSCSI host as the soak compares it (read from sysfs, the node
 * database and brick's lock directory), and what it must be when a given set
 * of volumes is attached: exactly their sessions, node records, SCSI
 * devices, by-path links and multipath maps, nothing else (no discovery
 * record, no lock file).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import type { VolumeSpec } from "./SoakPlan.ts"

export interface HostPicture {
  /** `iqn portal state` per session */
  readonly sessions: ReadonlyArray<string>
  /** `iqn portal` per node record */
  readonly records: ReadonlyArray<string>
  readonly discoveryRecords: ReadonlyArray<string>
  /** `iqn portal lun` per SCSI device */
  readonly devices: ReadonlyArray<string>
  readonly byPath: ReadonlyArray<string>
  /** `wwn: <iqn portal lun>, …` per multipath map (its slaves) */
  readonly maps: ReadonlyArray<string>
  readonly locks: ReadonlyArray<string>
}

const read = (p: string) => {
  try {
    return fs.readFileSync(p, "utf8").trim()
  } catch {
    return "?"
  }
}
const ls = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort() : [])
const sorted = (xs: ReadonlyArray<string>) => [...xs].sort()

/** `iqn portal` of session `sessionN`. */
const sessionOf = (session: string) => {
  const conn = ls(`/sys/class/iscsi_session/${session}/device`).find((d) => d.startsWith("connection"))
  const c = `/sys/class/iscsi_connection/${conn ?? "?"}`
  return `${read(`/sys/class/iscsi_session/${session}/targetname`)} ${read(`${c}/persistent_address`)}:${
    read(`${c}/persistent_port`)
  }`
}

/** `iqn portal lun` of SCSI device `H:C:T:L`. */
const scsiDevice = (hctl: string) => {
  const real = fs.realpathSync(`/sys/class/scsi_device/${hctl}/device`)
  const session = real.split("/").find((p) => /^session\d+$/.test(p))
  return `${session === undefined ? "no-session" : sessionOf(session)} ${hctl.split(":")[3]}`
}

/** The host now. */
export const look = (): HostPicture => {
  const nodes = spawnSync("iscsiadm", ["-m", "node"], { encoding: "utf8" })
  const dm = spawnSync("dmsetup", ["ls", "--target", "multipath"], { encoding: "utf8" }).stdout ?? ""
  const maps = dm.includes("No devices found") ? [] : dm.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const minor = /\(\d+[:,]\s*(\d+)\)/.exec(l)?.[1]
    const slaves = ls(`/sys/block/dm-${minor}/slaves`).map((sd) => {
      const hctl = path.basename(fs.realpathSync(`/sys/block/${sd}/device`))
      return scsiDevice(hctl)
    })
    return `${read(`/sys/block/dm-${minor}/dm/uuid`).replace(/^mpath-/, "")}: ${sorted(slaves).join(", ")}`
  })
  return {
    sessions: sorted(
      ls("/sys/class/iscsi_session").map((s) => `${sessionOf(s)} ${read(`/sys/class/iscsi_session/${s}/state`)}`)
    ),
    records: sorted(
      (nodes.status === 0 ? nodes.stdout : "").split("\n").filter((l) => l.includes(" ")).map((l) => {
        const [portal, iqn] = l.trim().split(/\s+/)
        return `${iqn} ${portal!.replace(/,\d+$/, "")}`
      })
    ),
    discoveryRecords: ls("/etc/iscsi/send_targets"),
    devices: sorted(ls("/sys/class/scsi_device").map(scsiDevice)),
    byPath: ls("/dev/disk/by-path").filter((l) => l.includes("-iscsi-")),
    maps: sorted(maps),
    locks: ls("/run/brick/locks")
  }
}

/** An attached volume: its spec and its WWN. */
export interface Attached {
  readonly spec: VolumeSpec
  readonly wwn: string
}

/**
 * What the host holds with exactly `attached` attached (each whole: a
 * multipath volume's map over every one of its paths): their sessions, node
 * records, SCSI devices and by-path links, nothing else. A single-path
 * volume's device may sit in a one-path map (multipathd makes one for any
 * disk when find_multipaths is off, as in the lab), which `actual` is
 * allowed to have.
 */
export const expected = (attached: ReadonlyArray<Attached>, actual: HostPicture): HostPicture => {
  const paths = (v: VolumeSpec) => v.portals.map((p) => `${v.iqn} ${p} ${v.lun}`)
  const uniq = (xs: ReadonlyArray<string>) => sorted([...new Set(xs)])
  const each = (f: (v: VolumeSpec, p: string) => string) =>
    uniq(attached.flatMap((a) => a.spec.portals.map((p) => f(a.spec, p))))
  const singleMaps = attached.filter((a) => !a.spec.multipath).map((a) => `${a.wwn}: ${paths(a.spec).join(", ")}`)
  return {
    sessions: each((v, p) => `${v.iqn} ${p} LOGGED_IN`),
    records: each((v, p) => `${v.iqn} ${p}`),
    discoveryRecords: [],
    devices: uniq(attached.flatMap((a) => paths(a.spec))),
    byPath: each((v, p) => `ip-${p}-iscsi-${v.iqn}-lun-${v.lun}`),
    maps: uniq([
      ...attached.filter((a) => a.spec.multipath).map((a) => `${a.wwn}: ${sorted(paths(a.spec)).join(", ")}`),
      ...actual.maps.filter((m) => singleMaps.includes(m))
    ]),
    locks: []
  }
}
