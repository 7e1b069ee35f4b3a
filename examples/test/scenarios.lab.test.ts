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
import { inGuest, labTarget, picture, read, sh } from "./labHost.ts"
import { check, type LabDriver, scenarios, type TargetSpec } from "./labScenarios.ts"

const host = Layer.merge(NodeHost.layerWithServices({}), Logger.layer([]))

const labDriver: LabDriver = {
  name: "lab",
  initiatorName: inGuest
    ? read("/etc/iscsi/initiatorname.iscsi").split("\n").find((l) => l.startsWith("InitiatorName="))!.slice(
      "InitiatorName=".length
    )
    : "",
  unique: crypto.randomBytes(3).toString("hex"),
  hwaddress: (netdev) => read(`/sys/class/net/${netdev}/address`),
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
  // rows needing offload HBAs run on the simulator only: the guest has no HBA (labScenarios.offloadHbas)
  for (const s of scenarios.filter((x) => x.needs === undefined)) {
    it(s.name, { timeout: 300_000 }, () => check(labDriver, s))
  }
})
