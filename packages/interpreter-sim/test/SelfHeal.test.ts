/**
 * The result's path report and the self-healing connect on the simulated
 * host: a connect's `paths` say which paths serve the volume and why the
 * others do not; a connect of a volume already attached adds the paths it is
 * missing (logs in, scans, joins the map) and changes nothing else.
 */
import { connectVolume, type DeviceInfo, disconnectVolume } from "@brick/core"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import type { SimSpec } from "../src/SimSpec.ts"
import { makeHost, runVirtual, type TestHost } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:heal"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260", "10.99.0.4:3260"]
const info = {
  target_portals: portals,
  target_iqns: portals.map(() => iqn),
  target_luns: portals.map(() => 1),
  volume_id: "vol-heal"
}
const options = { useMultipath: true }
const spec = (extra: Partial<SimSpec> = {}): SimSpec => ({
  targets: [{ iqn, portals, luns: [{ lun: 1 }] }],
  latency: "lab",
  ...extra
})

const connect = async (h: TestHost, earlier?: DeviceInfo.DeviceInfo, extra: object = {}) => {
  const exit = await runVirtual(
    connectVolume(info, { ...options, ...extra }, earlier).pipe(Effect.provide(h.layer())),
    {
      stepMs: 20
    }
  )
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}
const states = (d: DeviceInfo.DeviceInfo) => (d.paths ?? []).map((p) => [p.portal, p.state, p.reason ?? ""])
const slaves = (h: TestHost, d: DeviceInfo.DeviceInfo) =>
  h.snapshot().maps.find((m) => `/dev/${m.dm}` === d.path)?.paths.length ?? 0

describe("the result's paths and the self-healing connect", () => {
  it("a blackholed portal's path is reported stopped; a second connect once it is back adds it and nothing else", async () => {
    const h = makeHost(spec({ network: { [portals[3]!]: "blackholed" } }))
    const before = h.snapshot()
    const first = await connect(h)
    expect(first.path).toMatch(/^\/dev\/dm-\d+$/)
    expect(states(first)).toEqual([
      [portals[0], "serving", ""],
      [portals[1], "serving", ""],
      [portals[2], "serving", ""],
      [portals[3], "stopped", "Stopped"]
    ])
    expect(first.paths?.[0]?.device).toMatch(/^\/dev\/sd[a-z]+$/)
    expect(slaves(h, first)).toBe(3)
    const attached = h.snapshot()
    h.host.portalUp(portals[3]!)
    const logins = h.ops.get("iscsiadm.login") ?? 0
    const second = await connect(h, first)
    expect(second.path).toBe(first.path)
    expect(second.scsi_wwn).toBe(first.scsi_wwn)
    expect(states(second).every(([, state]) => state === "serving")).toBe(true)
    expect(slaves(h, second)).toBe(4)
    expect((h.ops.get("iscsiadm.login") ?? 0) - logins).toBe(1)
    // the three paths there before are as they were: same sessions, same devices
    const now = h.snapshot()
    for (const s of attached.sessions) expect(now.sessions).toContainEqual(s)
    for (const d of attached.scsiDevices) expect(now.scsiDevices).toContainEqual(d)
    expect(now.sessions.length).toBe(4)
    expect(Exit.isSuccess(await runVirtual(disconnectVolume(info, second).pipe(Effect.provide(h.layer()))))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("a path multipathd does not add by itself is added to the existing map (multipathd add path)", async () => {
    const h = makeHost(spec({ network: { [portals[3]!]: "blackholed" } }))
    const first = await connect(h)
    h.host.portalUp(portals[3]!)
    h.host.setMultipathd({ mode: "never" })
    const adds = h.ops.get("multipath.addPath") ?? 0
    const second = await connect(h, first)
    expect(states(second).every(([, state]) => state === "serving")).toBe(true)
    expect(slaves(h, second)).toBe(4)
    expect((h.ops.get("multipath.addPath") ?? 0) - adds).toBe(1)
    expect(Exit.isSuccess(await runVirtual(disconnectVolume(info, second).pipe(Effect.provide(h.layer()))))).toBe(true)
  })

  it("no map formed and a path went down meanwhile: the device returned is a path that is up, the other PathDown", async () => {
    const two = { ...info, target_portals: portals.slice(0, 2), target_iqns: [iqn, iqn], target_luns: [1, 1] }
    const h = makeHost(spec({ multipathd: { mode: "never" } }))
    h.host.failNext("multipath.addPath", { reason: "NotRunning", detail: "timeout receiving packet" }, { times: 2 })
    h.host.failNext("multipath.addMap", { reason: "NotRunning", detail: "timeout receiving packet" })
    // the portal goes down once multipathd has been asked: both paths had their devices
    h.host.on("multipath.addMap", { at: "before" }, () => h.host.portalDown(portals[0]!, "blackholed"))
    const exit = await runVirtual(connectVolume(two, options).pipe(Effect.provide(h.layer())), { stepMs: 20 })
    if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
    const result = exit.value
    const up = result.paths?.find((p) => p.portal === portals[1])
    expect(result.path).toMatch(/^\/dev\/sd[a-z]+$/)
    expect(up?.state).toBe("serving")
    expect(result.path).toBe(up?.device)
    const down = result.paths?.find((p) => p.portal === portals[0])
    expect([down?.state, down?.reason]).toEqual(["unused", "PathDown"])
    expect(down?.detail).toMatch(/session FAILED, device blocked/)
    h.host.portalUp(portals[0]!)
    expect(Exit.isSuccess(await runVirtual(disconnectVolume(two, result).pipe(Effect.provide(h.layer()))))).toBe(true)
  })

  it("a disk that read no capacity (its path dropped between INQUIRY and READ CAPACITY) is never returned", async () => {
    const one = { target_portal: portals[0], target_iqn: iqn, target_lun: 1, volume_id: "vol-capacity" }
    const h = makeHost(spec())
    const before = h.snapshot()
    const isScan = ([file]: ReadonlyArray<unknown>) => String(file).endsWith("/scan")
    h.host.on("sysfs.write", { at: "before", match: isScan }, () => h.host.setCapacityUnreadable(portals[0]!, true))
    h.host.on("sysfs.write", { at: "after", match: isScan }, () => h.host.portalDown(portals[0]!, "blackholed"))
    const exit = await runVirtual(
      connectVolume(one, { deviceScanAttempts: 2 }).pipe(Effect.provide(h.layer())),
      { stepMs: 20 }
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toMatch(
      /no capacity and its path is down \(device blocked\)/
    )
    h.host.portalUp(portals[0]!)
    h.host.setCapacityUnreadable(portals[0]!, false)
    expect(h.snapshot()).toEqual(before)
  })

  it("a portal that refuses is reported failed with its reason; connecting the healthy volume again changes nothing", async () => {
    const h = makeHost(spec({ network: { [portals[1]!]: { state: "refusing", fast: true } } }))
    const first = await connect(h)
    expect(states(first)[1]).toEqual([portals[1], "failed", "LoginTimeout"])
    expect(first.paths?.[1]?.detail).toContain("exit 8")
    h.host.portalUp(portals[1]!)
    const second = await connect(h, first)
    const healed = h.snapshot()
    const third = await connect(h, second)
    expect(h.snapshot()).toEqual(healed)
    expect([third.path, third.scsi_wwn, third.paths]).toEqual([second.path, second.scsi_wwn, second.paths])
    expect([...(third.devices ?? [])].sort()).toEqual([...(second.devices ?? [])].sort())
    expect(Exit.isSuccess(await runVirtual(disconnectVolume(info, third).pipe(Effect.provide(h.layer()))))).toBe(true)
  })
})
