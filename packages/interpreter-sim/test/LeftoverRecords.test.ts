/**
 * What a connect killed before its logins leaves (SIGKILL runs no undo): the
 * node records it made for its paths first. The volume's disconnect removes
 * them; records it has no claim on (another portal, another target) stay.
 * Found by the lab soak (a multipath connect SIGKILLed after its first login).
 */
import { connectVolume, disconnectVolume, Iscsiadm } from "@brick/core"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, type Services, type TestHost } from "./harness.ts"
import { node } from "./helpers.ts"

const iqn = "iqn.2010-10.org.openstack:volume-1"
const other = "iqn.2010-10.org.openstack:volume-2"
const portals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"]
const multipathInfo = (ps: ReadonlyArray<string>) => ({
  target_portals: ps,
  target_iqns: ps.map(() => iqn),
  target_luns: ps.map(() => 1)
})
const host = () =>
  makeHost({
    targets: [{ iqn, portals, luns: [{ lun: 1 }, { lun: 2 }] }, { iqn: other, portals, luns: [{ lun: 1 }] }]
  })
/** Runs a program of the host's main process under virtual time. */
const run = <A, E>(h: TestHost, effect: Effect.Effect<A, E, Services>) =>
  runVirtual(effect.pipe(Effect.provide(h.layer())))
/** Node records made as a connect makes them before logging in. */
const records = (h: TestHost, nodes: ReadonlyArray<Iscsiadm.NodeRecord>) =>
  run(h, Effect.forEach(nodes, (n) => Iscsiadm.Iscsiadm.use((adm) => adm.createNode(n, {})), { discard: true }))

describe("records a killed connect left", () => {
  it("the volume's disconnect deletes its paths' records that no session uses; other portals' and targets' stay", async () => {
    const h = host()
    const before = h.snapshot()
    const theirs = [node(portals[2], iqn), node(portals[0], other)]
    await records(h, theirs)
    const kept = h.snapshot()
    await records(h, [node(portals[0], iqn), node(portals[1], iqn)])
    expect(h.snapshot().nodes.length).toBe(kept.nodes.length + 2)
    expect(Exit.isSuccess(await run(h, disconnectVolume(multipathInfo(portals.slice(0, 2)))))).toBe(true)
    expect(h.snapshot()).toEqual(kept)
    expect(kept).not.toEqual(before)
  })

  it("killed after its first login: the disconnect logs that session out and deletes both records", async () => {
    const h = host()
    const before = h.snapshot()
    // the first path logged in (as the killed connect did), the second only has its record
    expect(Exit.isSuccess(await run(h, connectVolume({ target_portal: portals[0], target_iqn: iqn, target_lun: 1 }))))
      .toBe(true)
    await records(h, [node(portals[1], iqn)])
    expect(Exit.isSuccess(await run(h, disconnectVolume(multipathInfo(portals.slice(0, 2)))))).toBe(true)
    expect(h.snapshot()).toEqual(before)
  })

  it("a record another attached LUN's session uses stays", async () => {
    const h = host()
    const lun2 = { target_portal: portals[0], target_iqn: iqn, target_lun: 2 }
    expect(Exit.isSuccess(await run(h, connectVolume(lun2)))).toBe(true)
    const attached = h.snapshot()
    await records(h, [node(portals[1], iqn)])
    expect(Exit.isSuccess(await run(h, disconnectVolume(multipathInfo(portals.slice(0, 2)))))).toBe(true)
    expect(h.snapshot()).toEqual(attached)
  })
})
