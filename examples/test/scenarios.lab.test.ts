/**
 * The lab scenarios (labScenarios.ts) on the real kernel, inside the lab
 * guest: brick's core programs in-process on NodeHost, a LIO target per
 * scenario (`lab-target create`, unique IQN), the whole host read before and
 * after (sysfs sessions and SCSI devices, `iscsiadm -m node`/`-m iface`,
 * `dmsetup ls --target multipath` and each map's slaves, /dev/disk/by-path).
 * labScenarios.test.ts runs the same table on the simulator.
 * Runs with node's test runner (lab/test.sh); skipped outside the guest.
 */
import { NodeHost } from "@brick/interpreter-node"
import { Effect, Layer, Logger } from "effect"
import { spawnSync } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { after, describe, it } from "node:test"
import { check, type HostPicture, type LabDriver, scenarios, type TargetSpec } from "./labScenarios.ts"

const inGuest = fs.existsSync("/sys/kernel/config/target") &&
  spawnSync("sh", ["-c", "command -v lab-target"]).status === 0

const sh = (cmd: string, args: ReadonlyArray<string>, okCodes: ReadonlyArray<number> = [0]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000 })
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(" ")}: rc ${r.status}: ${r.stderr}`)
  return r.stdout
}
const labTarget = (...args: ReadonlyArray<string>) => sh("lab-target", args)
const read = (p: string) => {
  try {
    return fs.readFileSync(p, "utf8").trim()
  } catch {
    return "?"
  }
}
const ls = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort() : [])

/** The whole host as the kernel and the tools show it, right now. */
const look = (): HostPicture => {
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
const picture = async (): Promise<HostPicture> => {
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

const host = Layer.merge(NodeHost.layerWithServices({}), Logger.layer([]))

const labDriver: LabDriver = {
  name: "lab",
  initiatorName: inGuest
    ? read("/etc/iscsi/initiatorname.iscsi").split("\n").find((l) => l.startsWith("InitiatorName="))!.slice(
      "InitiatorName=".length
    )
    : "",
  unique: crypto.randomBytes(3).toString("hex"),
  createTarget: async (t: TargetSpec) => {
    const created = JSON.parse(labTarget(
      "create",
      "--iqn",
      t.iqn,
      ...t.portals.flatMap((p) => ["--portal", p]),
      ...t.luns.flatMap((l) => ["--lun", `${l.lun}:${l.sizeBytes}`]),
      ...(t.chap ? ["--chap-user", t.chap.username, "--chap-password", t.chap.password] : []),
      ...(t.mutual ? ["--mutual-user", t.mutual.username, "--mutual-password", t.mutual.password] : []),
      ...(t.discoveryChap
        ? ["--discovery-chap-user", t.discoveryChap.username, "--discovery-chap-password", t.discoveryChap.password]
        : [])
    )) as { luns: ReadonlyArray<{ lun: number; wwn: string }> }
    return new Map(created.luns.map((l) => [l.lun, l.wwn]))
  },
  deleteTarget: async (t: TargetSpec) => {
    labTarget("delete", "--iqn", t.iqn, "--if-exists")
    if (t.discoveryChap) {
      // LIO's discovery auth is global to the fabric: switch it off again
      fs.writeFileSync("/sys/kernel/config/target/iscsi/discovery_auth/enforce_discovery_auth", "0")
    }
  },
  resizeLun: async (iqn, lun, size) => {
    labTarget("resize", "--iqn", iqn, "--lun", String(lun), "--size", String(size))
  },
  picture,
  run: (effect) => Effect.runPromiseExit(Effect.provide(effect, host)),
  readBlock: async (device) => {
    const fd = fs.openSync(device, "r")
    try {
      return fs.readSync(fd, Buffer.alloc(4096), 0, 4096, 0)
    } finally {
      fs.closeSync(fd)
    }
  }
}

describe("lab scenarios on the real kernel (core programs on NodeHost)", { skip: !inGuest }, () => {
  after(() => {
    // whatever a failed scenario left: its targets (the host checks already failed it)
    for (const l of sh("lab-target", ["list"]).matchAll(/"(iqn\.2003-01\.org\.brick:scn-[^"]+)"/g)) {
      spawnSync("lab-target", ["delete", "--iqn", l[1]!, "--if-exists"])
    }
  })
  for (const s of scenarios) it(s.name, { timeout: 300_000 }, () => check(labDriver, s))
})
