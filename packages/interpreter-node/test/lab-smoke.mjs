// interpreter-node against the real kernel, as a plain node script over the compiled
// dist (vitest workers do not start within vitest's fixed 60 s limit in a loaded TCG guest).
// Build first (npx tsc -b), then: lab/run.sh -- node packages/interpreter-node/test/lab-smoke.mjs
// Prints one line per check and `LAB-SMOKE OK` / `LAB-SMOKE FAIL`; exits non-zero on failure.
import { BlockDevice, DevicePath, HostPath, IfaceName, Iqn, Iscsiadm, Multipath, Portal, Sysfs, Wwn } from "@brick/core"
import { Effect, Option, Redacted } from "effect"
import * as NodeChild from "node:child_process"
import { CommandRunner, NodeHost } from "../dist/src/index.js"

const IQN = Iqn.unsafeMake(`iqn.2003-01.org.brick:node-smoke-${process.pid}`)
const P1 = Portal.unsafeMake("10.99.0.1:3260")
const P2 = Portal.unsafeMake("10.99.0.2:3260")
const iface = IfaceName.defaultIface
const chap = (password) => ({
  username: "brickuser",
  password: Redacted.make(password),
  usernameIn: Option.none(),
  passwordIn: Option.none()
})
let failed = 0
const check = (what, ok, detail = "") => {
  if (!ok) failed++
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? `: ${detail}` : ""}`)
}
const sh = (cmd, args) => NodeChild.spawnSync(cmd, args, { encoding: "utf8" })
if (sh("sh", ["-c", "command -v lab-target"]).status !== 0) {
  console.log("LAB-SMOKE SKIPPED (not in the lab guest)")
  process.exit(0)
}
const created = JSON.parse(
  sh("lab-target", [
    "create",
    "--iqn",
    IQN,
    "--portal",
    P1,
    "--portal",
    P2,
    "--lun",
    "0:16M",
    "--chap-user",
    "brickuser",
    "--chap-password",
    "brickpass1234"
  ]).stdout
)
const wwid = created.luns[0].wwn

const waitFor = (check, seconds) =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds * 10; i++) {
      const v = yield* check
      if (Option.isSome(v)) return v
      yield* Effect.sleep(100)
    }
    return Option.none()
  })
const t0 = Date.now()
const ms = () => `${Date.now() - t0} ms`

const program = Effect.gen(function*() {
  const i = yield* Iscsiadm.Iscsiadm
  const sysfs = yield* Sysfs.Sysfs
  const mp = yield* Multipath.Multipath
  const bd = yield* BlockDevice.BlockDevice
  const runner = yield* CommandRunner.CommandRunner

  const found = yield* i.discover({ portal: P1, iface, auth: Option.none() })
  check(
    "discover returns both portals",
    found.filter((t) => t.iqn === IQN).length === 2,
    `${JSON.stringify(found)} ${ms()}`
  )

  for (const portal of [P1, P2]) {
    const node = { iqn: IQN, portal, iface }
    if (portal === P1) {
      yield* i.createNode(node, { startup: "manual", loginRetryMax: 1, auth: Option.some(chap("wrong-password-99")) })
      const e = yield* Effect.flip(i.login(node))
      check(
        "wrong CHAP is AuthenticationFailed",
        e.reason._tag === "AuthenticationFailed",
        `${e.reason._tag} ${e.exitCode} ${e.detail} ${ms()}`
      )
      check(
        "no secret in the error",
        !JSON.stringify(e).includes("wrong-password-99") && !e.message.includes("wrong-password-99")
      )
    }
    yield* runner.resetCounts
    yield* i.createNode(node, { startup: "manual", scan: "auto", auth: Option.some(chap("brickpass1234")) })
    yield* i.login(node)
    const counts = yield* runner.spawnCounts
    // both records exist after discovery: update + login
    check(
      `login ${portal} in 2 iscsiadm calls (discovered record)`,
      counts.iscsiadm === 2,
      `${JSON.stringify(counts)} ${ms()}`
    )
  }
  const again = yield* Effect.flip(i.login({ iqn: IQN, portal: P1, iface }))
  check("second login is SessionExists", again.reason._tag === "SessionExists", again.reason._tag)

  const sessions = yield* sysfs.list(HostPath.make("/sys/class/iscsi_session"))
  const ours = []
  for (const s of sessions) {
    const name = yield* sysfs.read(HostPath.make(`/sys/class/iscsi_session/${s}/targetname`))
    if (Option.getOrNull(name) === IQN) ours.push(s)
  }
  check("sysfs shows 2 sessions of the target", ours.length === 2, ours.join(","))
  const ifn = yield* sysfs.read(HostPath.make(`/sys/class/iscsi_session/${ours[0]}/ifacename`))
  check("session ifacename is default", Option.getOrNull(ifn) === "default")

  const byPath = `/dev/disk/by-path/ip-${P1}-iscsi-${IQN}-lun-0`
  const link = yield* waitFor(sysfs.readlink(HostPath.make(byPath)), 30)
  check("by-path link appears", Option.isSome(link), `${Option.getOrNull(link)} ${ms()}`)
  const dev = Option.getOrElse(link, () => "").split("/").pop()
  const w = yield* sysfs.read(HostPath.make(`/sys/block/${dev}/device/wwid`))
  check("wwid is the LUN's", Option.getOrNull(w) === wwid, `${Option.getOrNull(w)} vs ${wwid}`)
  const size = yield* bd.size(DevicePath.unsafeMake(byPath))
  check("size is 16 MiB", size === 16 * 1024 * 1024, String(size))
  const flushed = yield* Effect.exit(bd.flush(DevicePath.unsafeMake(byPath)))
  check("blockdev --flushbufs works", flushed._tag === "Success", JSON.stringify(flushed))

  check("multipathd is running", yield* mp.isRunning)
  const wwn = Wwn.fromSysfsWwid(wwid)
  const holders = yield* waitFor(
    Effect.map(
      sysfs.list(HostPath.make(`/sys/block/${dev}/holders`)),
      (h) => h.length > 0 ? Option.some(h) : Option.none()
    ),
    20
  )
  check("dm map formed", Option.isSome(holders), `${JSON.stringify(Option.getOrNull(holders))} ${ms()}`)
  const resized = yield* Effect.exit(mp.resizeMap(wwn))
  check("multipathd resize map <wwid>", resized._tag === "Success", JSON.stringify(resized))
  const removed = yield* Effect.exit(mp.removePath(dev))
  check("multipathd del path sdX", removed._tag === "Success", JSON.stringify(removed))
  const added = yield* Effect.exit(mp.addPath(dev))
  check("multipathd add path sdX", added._tag === "Success", JSON.stringify(added))
  const flushMap = yield* Effect.exit(mp.flushMap(wwn))
  check("multipath -f <map>", flushMap._tag === "Success", JSON.stringify(flushMap))
  const flushAgain = yield* Effect.flip(mp.flushMap(wwn))
  check(
    "flushing a missing map is NotFound",
    flushAgain.reason._tag === "NotFound",
    `${flushAgain.reason._tag}: ${flushAgain.detail}`
  )
  yield* runner.resetCounts
  const addMap = yield* Effect.exit(mp.addMap(wwn))
  const mpCounts = yield* runner.spawnCounts
  const back = yield* waitFor(
    Effect.map(
      sysfs.list(HostPath.make(`/sys/block/${dev}/holders`)),
      (h) => h.length > 0 ? Option.some(h) : Option.none()
    ),
    10
  )
  check(
    "addMap recreates the map",
    addMap._tag === "Success" && Option.isSome(back),
    `${JSON.stringify(addMap)} counts ${JSON.stringify(mpCounts)}`
  )
  const dmName = Option.getOrElse(back, () => ["?"])[0]
  const inUse = yield* Effect.scoped(Effect.gen(function*() {
    const fs = yield* Effect.promise(() => import("node:fs/promises"))
    const h = yield* Effect.acquireRelease(
      Effect.promise(() => fs.open(`/dev/${dmName}`, "r")),
      (h) => Effect.promise(() => h.close())
    )
    void h
    return yield* Effect.flip(mp.flushMap(wwn))
  }))
  check("flushing an open map is InUse", inUse.reason._tag === "InUse", `${inUse.reason._tag}: ${inUse.detail}`)
  yield* Effect.exit(mp.flushMap(wwn))

  for (const portal of [P1, P2]) {
    yield* i.logout({ iqn: IQN, portal, iface })
    yield* i.deleteNode({ iqn: IQN, portal, iface })
  }
  const second = yield* Effect.flip(i.logout({ iqn: IQN, portal: P1, iface }))
  check("second logout is NotFound", second.reason._tag === "NotFound", second.reason._tag)
  const left = (yield* i.listNodes).filter((n) => n.iqn === IQN)
  check("no record left", left.length === 0, JSON.stringify(left))
})

try {
  await Effect.runPromise(program.pipe(Effect.provide(NodeHost.layerWithServices({}))))
} catch (e) {
  failed++
  console.log(`FAIL unexpected: ${e?.message ?? e}`)
} finally {
  for (const p of [P1, P2]) {
    sh("iscsiadm", ["-m", "node", "-T", IQN, "-p", p, "--logout"])
    sh("iscsiadm", ["-m", "node", "-T", IQN, "-p", p, "-o", "delete"])
  }
  sh("lab-target", ["delete", "--iqn", IQN])
}
console.log(failed === 0 ? "LAB-SMOKE OK" : `LAB-SMOKE FAIL (${failed})`)
process.exit(failed === 0 ? 0 : 1)
