import { SimHost } from "@brick/interpreter-sim"
import { Effect, Exit, Logger } from "effect"
import { describe, expect, it } from "vitest"
import { checkSize, runOnSim, withVolume } from "../effect-compose.ts"

describe("examples/effect-compose", () => {
  it("attaches, checks the size inside spans, logs through its own logger, and detaches", async () => {
    const r = await runOnSim()
    expect(r.bytes).toBe(5 * 1024 ** 3)
    expect(r.sessionsLeft).toBe(0)
    expect(r.spans).toEqual(
      expect.arrayContaining([
        "example.attachCheckDetach",
        "example.withVolume",
        "brick.connect",
        "example.checkSize",
        "brick.disconnect"
      ])
    )
    const tree = r.tree.join("\n")
    expect(tree).toMatch(/^example\.attachCheckDetach/)
    expect(tree).toMatch(/\n {4}example\.use[^\n]*\n {6}example\.checkSize/)
    expect(r.logs.some((l) => l.includes("/dev/dm-") && l.includes("5368709120 bytes"))).toBe(true)
  })

  it("detaches even when the work fails", async () => {
    const iqn = "iqn.2010-10.org.openstack:volume-fail"
    const sim = SimHost.make({
      targets: [{ iqn, portals: ["10.99.0.1:3260"], luns: [{ lun: 0, sizeBytes: 1024 ** 3 }] }],
      latency: "zero"
    })
    const exit = await Effect.runPromiseExit(
      withVolume({ target_portal: "10.99.0.1:3260", target_iqn: iqn, target_lun: 0 }, {}, checkSize(2 * 1024 ** 3))
        .pipe(
          Effect.provide(sim.layer),
          Effect.provide(Logger.layer([]))
        )
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toContain("SizeMismatch")
    expect(sim.snapshot().sessions).toHaveLength(0)
    expect(sim.snapshot().scsiDevices).toHaveLength(0)
  })
})
