import { describe, expect, it } from "vitest"
import { run } from "../flaky-fabric.ts"

describe("examples/flaky-fabric", () => {
  it("returns the dm device over the healthy portals and leaves a clean host", async () => {
    const r = await run()
    expect(r.device.path).toMatch(/^\/dev\/dm-\d+$/)
    expect(r.device.multipath_id).toBe(r.device.scsi_wwn)
    expect(r.mapPaths.length).toBeGreaterThanOrEqual(2)
    expect(r.sessionPortals).toEqual(expect.arrayContaining(["10.99.0.1:3260", "10.99.0.2:3260"]))
    expect(r.sessionPortals).not.toContain("10.99.0.3:3260")
    expect(r.clean).toBe(true)
    // the blackholed portal's 15 s login timeout is not waited for
    expect(r.connectMs).toBeLessThan(15_000)
    const text = r.narrative.join("\n")
    expect(text).toContain("connect returned after")
    expect(text).toContain("exactly as before")
  })

  it("is clean after disconnect whatever the flaky portal's luck", async () => {
    for (const seed of [1, 2, 4, 5]) {
      const r = await run(seed)
      expect([seed, r.clean]).toEqual([seed, true])
      expect(r.device.path).toMatch(/^\/dev\/dm-\d+$/)
    }
  })
})
