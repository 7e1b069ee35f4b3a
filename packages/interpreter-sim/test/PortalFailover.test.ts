/**
 * Single-path connects with several listed portals (`target_portals`, no
 * multipath) on the simulated host: the portals are tried in order, as
 * os-brick does; each failed attempt is undone before the next starts; the
 * result names the path that served.
 */
import { type BrickError, connectVolume, disconnectVolume } from "@brick/core"
import { Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import type { SimSnapshot } from "../src/index.ts"
import { makeHost, runVirtual } from "./harness.ts"

const iqnA = "iqn.2010-10.org.openstack:volume-a"
const iqnB = "iqn.2010-10.org.openstack:volume-b"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"]
const listed = (iqns: ReadonlyArray<string>) => ({
  target_portals: portals,
  target_iqns: iqns,
  target_luns: portals.map(() => 1),
  volume_id: "vol-f"
})
const options = { loginTimeout: 1, deviceScanAttempts: 1, deviceScanInterval: 100 }

const failureOf = (exit: Exit.Exit<unknown, unknown>) => {
  const e = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
  if (Option.isNone(e)) throw new Error(`expected a failure: ${String(exit)}`)
  return e.value as BrickError.ConnectError
}

describe("single path over listed portals", () => {
  it("the first portal refuses: the second serves; the first's attempt leaves nothing, the third is never tried", async () => {
    const h = makeHost({
      targets: [{ iqn: iqnA, portals, luns: [{ lun: 1 }] }],
      network: { [portals[0]!]: { state: "refusing", fast: true } }
    })
    const before = h.snapshot()
    const info = listed(portals.map(() => iqnA))
    const exit = await runVirtual(connectVolume(info, options).pipe(Effect.provide(h.layer())))
    if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
    const snap = h.snapshot()
    expect(snap.sessions.map((s) => s.portal)).toEqual([portals[1]])
    expect(snap.nodes.map((n) => n.portal)).toEqual([portals[1]])
    expect(exit.value.scsi_wwn).toBe(h.host.wwn(iqnA, 1))
    expect(h.ops.get("iscsiadm.login")).toBe(2)
    expect(Exit.isSuccess(await runVirtual(disconnectVolume(info).pipe(Effect.provide(h.layer()))))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("a portal that logs in but has no such LUN is logged out before the next portal is tried", async () => {
    const h = makeHost({
      targets: [
        { iqn: iqnA, portals, luns: [{ lun: 1, exported: false }] },
        { iqn: iqnB, portals, luns: [{ lun: 1 }] }
      ]
    })
    const before = h.snapshot()
    const atSecondLogin: Array<SimSnapshot.SimSnapshot> = []
    h.host.on("iscsiadm.login", { nth: 2 }, () => atSecondLogin.push(h.snapshot()))
    const info = listed([iqnA, iqnB, iqnB])
    const exit = await runVirtual(connectVolume(info, options).pipe(Effect.provide(h.layer())), { stepMs: 50 })
    if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
    expect(exit.value.scsi_wwn).toBe(h.host.wwn(iqnB, 1))
    expect(atSecondLogin).toHaveLength(1)
    // the first portal's session, device and record are gone; only the second's record, made for its login
    const { nodes, ...rest } = atSecondLogin[0]!
    const { nodes: _, ...restBefore } = before
    expect(rest).toEqual(restBefore)
    expect(nodes.map((n) => [n.portal, n.iqn])).toEqual([[portals[1], iqnB]])
    expect(h.snapshot().sessions.map((s) => [s.portal, s.iqn])).toEqual([[portals[1], iqnB]])
    expect(Exit.isSuccess(await runVirtual(disconnectVolume(info).pipe(Effect.provide(h.layer()))))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("every listed portal fails: LoginFailed naming each, in order; the host is as it was", async () => {
    const h = makeHost({
      targets: [{ iqn: iqnA, portals, luns: [{ lun: 1 }] }],
      network: Object.fromEntries(portals.map((p) => [p, { state: "refusing" as const, fast: true }]))
    })
    const before = h.snapshot()
    const error = failureOf(
      await runVirtual(
        connectVolume(listed(portals.map(() => iqnA)), options).pipe(
          Effect.provide(h.layer())
        )
      )
    )
    expect(error.reason._tag).toBe("LoginFailed")
    if (error.reason._tag === "LoginFailed") expect(error.reason.paths.map((p) => p.portal)).toEqual(portals)
    expect(h.snapshot()).toEqual(before)
  })
})
