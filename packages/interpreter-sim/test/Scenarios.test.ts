/**
 * Scenario tests of brick's programs on the simulated host: each sets up a
 * host, runs connect/disconnect under a TestClock, and checks the result and
 * the host's state before and after.
 */
import {
  BrickError,
  connectVolume,
  DeviceInfo,
  disconnectVolume,
  extendVolume,
  getConnectorProperties,
  getVolumePaths,
  Iscsiadm
} from "@brick/core"
import { Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as SimNodeDb from "../src/SimNodeDb.ts"
import * as SimSessions from "../src/SimSessions.ts"
import type { SimSpec } from "../src/SimSpec.ts"
import { makeHost, runVirtual, type TestHost, timedVirtual } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:volume-1"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260", "10.99.0.4:3260"]
const multipathInfo = (lun = 1, ps: ReadonlyArray<string> = portals) => ({
  target_portal: ps[0],
  target_iqn: iqn,
  target_lun: lun,
  target_portals: ps,
  target_iqns: ps.map(() => iqn),
  target_luns: ps.map(() => lun),
  volume_id: "vol-1"
})
const singleInfo = (lun = 1) => ({ target_portal: portals[0], target_iqn: iqn, target_lun: lun, volume_id: "vol-1" })
const spec = (extra: Partial<SimSpec> = {}): SimSpec => ({
  targets: [{ iqn, portals, luns: [{ lun: 1 }, { lun: 2 }] }],
  latency: "zero",
  ...extra
})
const wwnOf = (h: TestHost, lun = 1) => `3${h.state.lun(iqn, lun).wwid.slice(4)}`
const connect = (h: TestHost, info: unknown, options?: unknown) =>
  runVirtual(connectVolume(info, options).pipe(Effect.provide(h.layer())))
const disconnect = (
  h: TestHost,
  info: unknown,
  device?: unknown,
  flags?: { force?: boolean; ignoreErrors?: boolean }
) => runVirtual(disconnectVolume(info, device, flags).pipe(Effect.provide(h.layer())))
const errorOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  const e = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
  if (Option.isNone(e)) throw new Error(`expected a failure, got ${String(exit)}`)
  return e.value
}
const valueOf = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`expected success, got ${String(exit.cause)}`)
  return exit.value
}

describe("connect/disconnect scenarios", () => {
  it("all paths up: returns the dm of the volume over 4 paths; disconnect restores the host", async () => {
    const h = makeHost(spec())
    const before = h.snapshot()
    const info = valueOf(await connect(h, multipathInfo(), { useMultipath: true }))
    expect(info.path).toMatch(/^\/dev\/dm-\d+$/)
    expect(info.scsi_wwn).toBe(wwnOf(h))
    expect(info.multipath_id).toBe(wwnOf(h))
    expect(h.snapshot().maps[0]?.paths.length).toBe(4)
    expect(h.snapshot().sessions.length).toBe(4)
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(), info))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("several paths: every node record is made before the first login starts (even when one is slow to make)", async () => {
    const h = makeHost(spec({ latency: "lab" }))
    const calls: Array<string> = []
    const program = Effect.gen(function*() {
      const inner = yield* Iscsiadm.Iscsiadm
      const recording = Iscsiadm.Iscsiadm.of({
        ...inner,
        // the last portal's record is slow to make: no login may start before it is made
        createNode: (node, settings) =>
          Effect.sleep(node.portal === portals[3] ? 500 : 0).pipe(
            Effect.andThen(inner.createNode(node, settings)),
            Effect.andThen(Effect.sync(() => calls.push(`new ${node.portal}`)))
          ),
        login: (node) => Effect.andThen(Effect.sync(() => calls.push(`login ${node.portal}`)), inner.login(node))
      })
      return yield* Effect.provideService(
        connectVolume(multipathInfo(), { useMultipath: true }),
        Iscsiadm.Iscsiadm,
        recording
      )
    })
    valueOf(await runVirtual(program.pipe(Effect.provide(h.layer()))))
    expect(calls.slice(0, 4).map((c) => c.split(" ")[0])).toEqual(["new", "new", "new", "new"])
    expect(calls.slice(4).map((c) => c.split(" ")[0])).toEqual(["login", "login", "login", "login"])
    expect(new Set(calls.slice(4).map((c) => c.split(" ")[1]))).toEqual(new Set(portals))
  })

  it("single path without multipath returns /dev/sdX of the LUN", async () => {
    const h = makeHost(spec({ multipathd: { running: false } }))
    const before = h.snapshot()
    const info = valueOf(await connect(h, singleInfo()))
    expect(info.path).toMatch(/^\/dev\/sd[a-z]+$/)
    expect(info.multipath_id).toBeUndefined()
    expect(info.scsi_wwn).toBe(wwnOf(h))
    expect(Exit.isSuccess(await disconnect(h, singleInfo(), info))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("2 of 4 logins fail: the dm still forms over the 2 good paths, the failed ones leave nothing", async () => {
    const h = makeHost(spec({ network: { [portals[1]!]: "refusing", [portals[3]!]: "refusing" } }))
    const before = h.snapshot()
    const info = valueOf(await connect(h, multipathInfo(), { useMultipath: true }))
    expect(info.path).toMatch(/^\/dev\/dm-/)
    const after = h.snapshot()
    expect(after.sessions.map((s) => s.portal).sort()).toEqual([portals[0], portals[2]])
    expect(after.nodes.map((n) => n.portal).sort()).toEqual([portals[0], portals[2]])
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(), info))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("no dm ever forms: warns and returns the single device; under enforceMultipath fails and leaves nothing", async () => {
    const noMap = () => {
      const h = makeHost(spec({ multipathd: { mode: "never" } }))
      h.faults.fail("multipath.addMap", { reason: "Failed", detail: "map refused" }, { times: 1000 })
      h.faults.fail("multipath.addPath", { reason: "Failed", detail: "path refused" }, { times: 1000 })
      return h
    }
    const options = { useMultipath: true, multipathWaitTimeout: 2, multipathAddDelay: 100 }
    const h1 = noMap()
    const info = valueOf(await connect(h1, multipathInfo(), options))
    expect(info.path).toMatch(/^\/dev\/sd[a-z]+$/)
    expect(info.multipath_id).toBeUndefined()
    expect(info.scsi_wwn).toBe(wwnOf(h1))

    const h2 = noMap()
    const before = h2.snapshot()
    const error = errorOf(await connect(h2, multipathInfo(), { ...options, enforceMultipath: true }))
    expect(error).toBeInstanceOf(BrickError.ConnectError)
    expect((error as BrickError.ConnectError).reason._tag).toBe("MultipathRequired")
    expect(h2.snapshot()).toEqual(before)
  })

  it("automatic scan at login (manualScan: false): a failed connect removes every device its logins brought", async () => {
    const h = makeHost(spec({ multipathd: { mode: "never" } }))
    h.faults.fail("multipath.addMap", { reason: "Failed", detail: "map refused" }, { times: 1000 })
    h.faults.fail("multipath.addPath", { reason: "Failed", detail: "path refused" }, { times: 1000 })
    const before = h.snapshot()
    const options = {
      useMultipath: true,
      enforceMultipath: true,
      manualScan: false,
      multipathWaitTimeout: 1,
      multipathAddDelay: 100
    }
    const error = errorOf(await connect(h, multipathInfo(), options)) as BrickError.ConnectError
    expect(error.reason._tag).toBe("MultipathRequired")
    expect(h.snapshot()).toEqual(before)
  })

  it("a path whose device has another WWN is not the volume's: it is excluded and removed", async () => {
    const h = makeHost(spec())
    const before = h.snapshot()
    // a misconfigured connection info: the second portal's LUN is another volume
    const info = { ...multipathInfo(1, portals.slice(0, 2)), target_luns: [1, 2] }
    const device = valueOf(await connect(h, info, { useMultipath: true }))
    const wwids = new Set(h.snapshot().scsiDevices.map((d) => d.wwid))
    expect(wwids.size).toBe(1)
    expect(device.scsi_wwn).toBe(wwnOf(h, [...wwids][0] === h.state.lun(iqn, 1).wwid ? 1 : 2))
    expect(device.devices?.length).toBe(1)
    expect(Exit.isSuccess(await disconnect(h, info, device))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("enforceMultipath without multipathd fails before touching the host", async () => {
    const h = makeHost(spec({ multipathd: { running: false } }))
    const error = errorOf(
      await connect(h, multipathInfo(), { useMultipath: true, enforceMultipath: true })
    ) as BrickError.ConnectError
    expect(error.reason._tag).toBe("MultipathUnavailable")
    expect(h.ops.get("iscsiadm.login") ?? 0).toBe(0)
  })

  it("all logins fail: LoginFailed naming every path, host unchanged", async () => {
    const h = makeHost(spec({ network: Object.fromEntries(portals.map((p) => [p, "refusing"])) }))
    const before = h.snapshot()
    const error = errorOf(await connect(h, multipathInfo(), { useMultipath: true })) as BrickError.ConnectError
    expect(error.reason._tag).toBe("LoginFailed")
    if (error.reason._tag === "LoginFailed") expect(error.reason.paths.length).toBe(4)
    expect(h.snapshot()).toEqual(before)
  })

  it("the LUN never appears: DeviceNotFound after the scan attempts, host unchanged", async () => {
    const h = makeHost(spec({ targets: [{ iqn, portals, luns: [{ lun: 1, exported: false }] }] }))
    const before = h.snapshot()
    const { exit, ms } = await timedVirtual(
      connectVolume(singleInfo(), { deviceScanAttempts: 3, deviceScanInterval: 1000 }).pipe(Effect.provide(h.layer()))
    )
    const error = errorOf(exit) as BrickError.ConnectError
    expect(error.reason._tag).toBe("DeviceNotFound")
    expect(ms).toBeGreaterThanOrEqual(3000)
    expect(h.ops.get("sysfs.write")).toBe(3)
    expect(h.snapshot()).toEqual(before)
  })

  it("an existing session is reused, never logged in twice", async () => {
    const h = makeHost(spec())
    valueOf(await connect(h, singleInfo(2)))
    const logins = h.ops.get("iscsiadm.login")
    const sessions = h.snapshot().sessions
    const info = valueOf(await connect(h, singleInfo(1)))
    expect(h.ops.get("iscsiadm.login")).toBe(logins)
    expect(h.snapshot().sessions).toEqual(sessions)
    expect(info.scsi_wwn).toBe(wwnOf(h, 1))
    // connecting the same volume again changes nothing
    const again = h.snapshot()
    expect(valueOf(await connect(h, singleInfo(1)))).toEqual(info)
    expect(h.snapshot()).toEqual(again)
  })

  it("a session with no device yet (iscsiadm says it exists) is reused", async () => {
    const h = makeHost(spec())
    const node = SimNodeDb.makeNode(h.state, portals[0]!, iqn, "default")
    h.state.nodes.set(node.key, node)
    SimSessions.createSession(h.state, node, h.state.ifaces.get("default")!, 1)
    const sessions = h.snapshot().sessions
    valueOf(await connect(h, singleInfo(1)))
    expect(h.snapshot().sessions).toEqual(sessions)
  })

  it("shared target: disconnecting one LUN keeps the session the other LUN uses", async () => {
    const h = makeHost(spec())
    const before = h.snapshot()
    const one = valueOf(await connect(h, multipathInfo(1), { useMultipath: true }))
    const two = valueOf(await connect(h, multipathInfo(2), { useMultipath: true }))
    const withBoth = h.snapshot()
    expect(withBoth.sessions.length).toBe(4)
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(1), one))).toBe(true)
    const after = h.snapshot()
    expect(after.sessions).toEqual(withBoth.sessions)
    expect(after.scsiDevices.every((d) => d.wwid === h.state.lun(iqn, 2).wwid)).toBe(true)
    expect(after.maps.map((m) => m.name)).toEqual([two.multipath_id])
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(2), two))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("iface missing or of an unsupported transport: falls back to default", async () => {
    const h = makeHost(spec({ ifaces: [{ name: "weird", transport: "warp" }] }))
    const missing = valueOf(await connect(h, singleInfo(1), { iface: "nosuch" }))
    expect(missing.iface).toBe("default")
    const weird = valueOf(await connect(h, singleInfo(2), { iface: "weird" }))
    expect(weird.iface).toBe("default")
    expect(h.snapshot().sessions.every((s) => s.iface === "default")).toBe(true)
    const refused = errorOf(
      await connect(makeHost(spec()), singleInfo(1), { iface: "nosuch", ifaceFallback: false })
    ) as BrickError.ConnectError
    expect(refused.reason._tag).toBe("IfaceUnusable")
  })

  it("a login failing on a custom iface is retried on default, and the custom node record is removed", async () => {
    const h = makeHost(spec({ ifaces: [{ name: "eth0-iscsi", transport: "tcp", netIfacename: "eth0" }] }))
    const before = h.snapshot()
    h.faults.fail("iscsiadm.login", { reason: "LoginFailed", detail: "injected" }, {
      times: 100,
      match: (args) => (args[0] as Iscsiadm.NodeRecord).iface === "eth0-iscsi"
    })
    const info = valueOf(await connect(h, singleInfo(1), { iface: "eth0-iscsi" }))
    expect(info.iface).toBe("default")
    expect(h.snapshot().nodes.map((n) => n.iface)).toEqual(["default"])
    expect(Exit.isSuccess(await disconnect(h, singleInfo(1), info))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("a custom iface that works serves the sessions", async () => {
    const h = makeHost(spec({ ifaces: [{ name: "eth0-iscsi", transport: "tcp", netIfacename: "eth0" }] }))
    const info = valueOf(await connect(h, multipathInfo(), { iface: "eth0-iscsi", useMultipath: true }))
    expect(info.iface).toBe("eth0-iscsi")
    expect(h.snapshot().sessions.every((s) => s.iface === "eth0-iscsi")).toBe(true)
  })

  it("CHAP is set on every portal; a wrong secret fails cleanly", async () => {
    const chap = { username: "user", password: "s3cret-pw" }
    const h = makeHost(spec({ targets: [{ iqn, portals, luns: [{ lun: 1 }], chap }] }))
    const auth = { auth_method: "CHAP", auth_username: "user", auth_password: "s3cret-pw" }
    const info = valueOf(await connect(h, { ...multipathInfo(), ...auth }, { useMultipath: true }))
    expect(info.path).toMatch(/^\/dev\/dm-/)
    expect(h.snapshot().nodes.map((n) => n.authUsername)).toEqual(["user", "user", "user", "user"])
    const h2 = makeHost(spec({ targets: [{ iqn, portals, luns: [{ lun: 1 }], chap }] }))
    const before = h2.snapshot()
    const error = errorOf(
      await connect(h2, { ...multipathInfo(), ...auth, auth_password: "wrong-pw" }, { useMultipath: true })
    ) as BrickError.ConnectError
    expect(error.reason._tag).toBe("LoginFailed")
    if (error.reason._tag === "LoginFailed") {
      expect(error.reason.paths.every((p) => p._tag === "AuthenticationFailed")).toBe(true)
    }
    expect(error.message).not.toContain("wrong-pw")
    expect(h2.snapshot()).toEqual(before)
  })

  it("discovery from one portal logs into every portal of the target", async () => {
    const h = makeHost(
      spec({
        targets: [{ iqn, portals, luns: [{ lun: 1 }] }, {
          iqn: "iqn.2010-10.org.openstack:other",
          portals,
          luns: [{ lun: 1 }]
        }]
      })
    )
    const before = h.snapshot()
    const info = valueOf(await connect(h, singleInfo(1), { useMultipath: true }))
    expect(info.path).toMatch(/^\/dev\/dm-/)
    expect(h.snapshot().sessions.length).toBe(4)
    expect(h.snapshot().nodes.every((n) => n.iqn === iqn)).toBe(true)
    expect(Exit.isSuccess(await disconnect(h, singleInfo(1), info))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("disconnect with a failing flush: stops without force, goes on and reports with force", async () => {
    const h = makeHost(spec())
    const info = valueOf(await connect(h, multipathInfo(), { useMultipath: true }))
    const attached = h.snapshot()
    h.state.flushFaults.set("*", "fail")
    const error = errorOf(await disconnect(h, multipathInfo(), info)) as BrickError.DisconnectError
    expect(error.reason._tag).toBe("StepsFailed")
    if (error.reason._tag === "StepsFailed") expect(error.reason.failures.map((f) => f.step)).toEqual(["flushDevice"])
    // the map went first; the devices and sessions are all still there
    expect(h.snapshot().scsiDevices).toEqual(attached.scsiDevices.map((d) => ({ ...d, map: null })))
    expect(h.snapshot().sessions).toEqual(attached.sessions)

    const forced = errorOf(await disconnect(h, multipathInfo(), info, { force: true })) as BrickError.DisconnectError
    if (forced.reason._tag === "StepsFailed") {
      expect(forced.reason.failures.filter((f) => f.step === "flushDevice").length).toBe(4)
    }
    expect(h.snapshot().scsiDevices).toEqual([])
    expect(h.snapshot().sessions).toEqual([])
    // and again: idempotent
    expect(Exit.isSuccess(await disconnect(h, multipathInfo(), info))).toBe(true)
  })

  it("disconnect with ignoreErrors succeeds and logs", async () => {
    const h = makeHost(spec())
    const info = valueOf(await connect(h, singleInfo(1)))
    h.state.flushFaults.set("*", "fail")
    expect(Exit.isSuccess(await disconnect(h, singleInfo(1), info, { ignoreErrors: true }))).toBe(true)
  })

  it("disconnecting a volume that is not attached succeeds", async () => {
    const h = makeHost(spec())
    const before = h.snapshot()
    expect(Exit.isSuccess(await disconnect(h, multipathInfo()))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("a blackholed portal does not delay the multipath result beyond 2x the healthy time", async () => {
    const options = { useMultipath: true }
    const healthy = makeHost(spec({ latency: "lab" }))
    const t1 = await timedVirtual(connectVolume(multipathInfo(), options).pipe(Effect.provide(healthy.layer())), {
      stepMs: 10
    })
    valueOf(t1.exit)
    const holed = makeHost(spec({ latency: "lab", network: { [portals[2]!]: "blackholed" } }))
    const before = holed.snapshot()
    const t2 = await timedVirtual(connectVolume(multipathInfo(), options).pipe(Effect.provide(holed.layer())), {
      stepMs: 10
    })
    const info = valueOf(t2.exit)
    expect(info.path).toMatch(/^\/dev\/dm-/)
    console.log(`healthy 4-path attach ${t1.ms} ms, one portal blackholed ${t2.ms} ms (virtual, lab latency)`)
    expect(t2.ms).toBeLessThanOrEqual(2 * t1.ms)
    // the blackholed path was stopped and left nothing
    expect(holed.snapshot().nodes.map((n) => n.portal)).not.toContain(portals[2])
    expect(
      valueOf(
        await runVirtual(disconnectVolume(multipathInfo(), info).pipe(Effect.provide(holed.layer())), { stepMs: 10 })
      )
    ).toBeUndefined()
    expect(holed.snapshot()).toEqual(before)
  })

  it("a stopped straggler whose login the kernel completes anyway leaves no session behind", async () => {
    const h = makeHost(spec({ network: { [portals[1]!]: "blackholed" } }))
    const before = h.snapshot()
    // iscsid finishes the blackholed login just as brick gives up on it
    let completed = 0
    h.host.on("iscsiadm.login", {
      at: "after",
      times: 10,
      match: (args) => (args[0] as Iscsiadm.NodeRecord).portal === portals[1]
    }, () => {
      const node = [...h.state.nodes.values()].find((n) => n.portal === portals[1] && n.iqn === iqn)
      if (node && !h.state.sessionByNode.has(node.key)) {
        SimSessions.createSession(h.state, node, h.state.ifaces.get("default")!, 1)
        completed++
      }
    })
    const info = multipathInfo(1, portals.slice(0, 2))
    const device = valueOf(await connect(h, info, { useMultipath: true }))
    expect(device.path).toMatch(/^\/dev\/dm-/)
    expect(completed).toBe(1)
    expect(h.snapshot().sessions.map((x) => x.portal)).toEqual([portals[0]])
    expect(h.snapshot().nodes.map((x) => x.portal)).toEqual([portals[0]])
    expect(Exit.isSuccess(await disconnect(h, info, device))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("extend rescans every path and returns the new size", async () => {
    const h = makeHost(spec())
    valueOf(await connect(h, multipathInfo(), { useMultipath: true }))
    h.state.lun(iqn, 1).sizeBytes = 2 * 1024 ** 3
    const size = valueOf(await runVirtual(extendVolume(multipathInfo()).pipe(Effect.provide(h.layer()))))
    expect(size).toBe(2 * 1024 ** 3)
  })

  it("paths and properties", async () => {
    const h = makeHost(spec())
    const paths = valueOf(
      await runVirtual(getVolumePaths(multipathInfo(), { useMultipath: true }).pipe(Effect.provide(h.layer())))
    )
    expect(paths).toEqual(portals.map((p) => `/dev/disk/by-path/ip-${p}-iscsi-${iqn}-lun-1`))
    const props = valueOf(
      await runVirtual(getConnectorProperties({ useMultipath: true }).pipe(Effect.provide(h.layer())))
    )
    expect(props.initiator).toBe(h.state.initiatorName)
    expect(props.multipath).toBe(true)
  })

  it("the result decodes as a DeviceInfo", async () => {
    const h = makeHost(spec())
    const info = valueOf(await connect(h, multipathInfo(), { useMultipath: true }))
    const decoded = Effect.runSyncExit(DeviceInfo.decode(JSON.parse(JSON.stringify(info))))
    expect(Exit.isSuccess(decoded)).toBe(true)
  })
})
