/**
 * A login iscsid is still completing for brick's record (one brick cut short
 * earlier: iscsid goes on retrying its connect, seen in the lab): `iscsiadm
 * --login` answers "session exists" (exit 15) before the session shows in
 * sysfs. The path waits for it, up to the login timeout, and uses it.
 */
import { connectVolume, type DeviceInfo, disconnectVolume } from "@brick/core"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { SimNames, SimSessions } from "../src/index.ts"
import { makeHost, runVirtual, type TestHost } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:pending"
const portal = "10.99.0.1:3260"
const info = { target_portal: portal, target_iqn: iqn, target_lun: 1 }

const exitOf = <A, E>(h: TestHost, effect: Effect.Effect<A, E, any>) =>
  runVirtual((effect as Effect.Effect<A, E, never>).pipe(Effect.provide(h.layer())), { stepMs: 100 })

/** iscsid completes a login of the record `afterMs` after brick's login is answered "session exists". */
const pendingLogin = (h: TestHost, afterMs: number) => {
  h.host.on("iscsiadm.login", { at: "before" }, () =>
    h.state.schedule.after(afterMs, () => {
      const node = h.state.nodes.get(SimNames.nodeKey(portal, iqn, "default"))!
      SimSessions.createSession(h.state, node, h.state.ifaces.get("default")!, 1)
    }))
  h.host.failNext("iscsiadm.login", { reason: "SessionExists", detail: "session already present" })
}

describe("a login iscsid is still completing", () => {
  it("is waited for (its session shows 3 s later) and used; disconnect logs it out", async () => {
    const h = makeHost({ targets: [{ iqn, portals: [portal], luns: [{ lun: 1 }] }], latency: "zero" })
    pendingLogin(h, 3_000)
    const exit = await exitOf(h, connectVolume(info, { loginTimeout: 15 }))
    if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
    const device: DeviceInfo.DeviceInfo = exit.value
    expect(device.paths?.map((p) => p.state)).toEqual(["serving"])
    expect(h.snapshot().sessions).toHaveLength(1)
    const off = await exitOf(h, disconnectVolume(info, device))
    expect(Exit.isSuccess(off)).toBe(true)
    expect(h.snapshot().sessions).toEqual([])
  })

  it("fails the path (HostError) when the session does not show within the login timeout; nothing is left", async () => {
    const h = makeHost({ targets: [{ iqn, portals: [portal], luns: [{ lun: 1 }] }], latency: "zero" })
    pendingLogin(h, 60_000)
    const exit = await exitOf(h, connectVolume(info, { loginTimeout: 5 }))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("sysfs does not show")
    expect(h.snapshot().nodes).toEqual([])
  })
})
