/**
 * The life of an iface record brick makes (here `tcp.<eth0's MAC>` for a
 * spec binding eth0): the connect that made it says so in its device info
 * (`iface_created`); a disconnect given that device info deletes it once no
 * session or node record uses it; a failed connect rolls it back; a record
 * brick did not make, or one still in use, stays.
 */
import { connectVolume, disconnectVolume } from "@brick/core"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import type { SimSpec } from "../src/SimSpec.ts"
import { makeHost, runVirtual, type TestHost } from "./harness.ts"

const iqnA = "iqn.2010-10.org.openstack:volume-a"
const iqnB = "iqn.2010-10.org.openstack:volume-b"
const portal = "10.99.0.1:3260"
const spec = (): SimSpec => ({
  targets: [iqnA, iqnB].map((iqn) => ({ iqn, portals: [portal], luns: [{ lun: 1 }] })),
  latency: "zero"
})
const info = (iqn: string) => ({ target_portal: portal, target_iqn: iqn, target_lun: 1, volume_id: iqn })
const options = { iface: { transport: "tcp", netIfacename: "eth0" } }

const connect = async (h: TestHost, iqn: string) => {
  const exit = await runVirtual(connectVolume(info(iqn), options).pipe(Effect.provide(h.layer())))
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}
const disconnect = async (h: TestHost, iqn: string, device?: unknown) => {
  const exit = await runVirtual(disconnectVolume(info(iqn), device, {}, options).pipe(Effect.provide(h.layer())))
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
}
const customIfaces = (h: TestHost) =>
  h.snapshot().ifaces.map((i) => i.name).filter((n) => n !== "default" && n !== "iser")

describe("an iface record brick makes", () => {
  it("the connect that made it says so; the disconnect given its device info deletes it: host as before", async () => {
    const h = makeHost(spec())
    const before = h.snapshot()
    const dev = await connect(h, iqnA)
    expect(dev.iface).toMatch(/^tcp\.02:99:/)
    expect(dev.iface_created).toBe(true)
    expect(customIfaces(h)).toEqual([dev.iface])
    await disconnect(h, iqnA, dev)
    expect(customIfaces(h)).toEqual([])
    expect(h.snapshot()).toEqual(before)
  })

  it("stays while another volume's session uses it, and after that volume's disconnect (it did not make it)", async () => {
    const h = makeHost(spec())
    const a = await connect(h, iqnA)
    const b = await connect(h, iqnB)
    expect([a.iface_created, b.iface_created]).toEqual([true, undefined])
    expect(b.iface).toBe(a.iface)
    await disconnect(h, iqnA, a)
    expect(customIfaces(h)).toEqual([a.iface])
    expect(h.snapshot().sessions.map((s) => s.iface)).toEqual([a.iface])
    await disconnect(h, iqnB, b)
    // B did not make it: it stays (brick deletes only what its device info says it made)
    expect(customIfaces(h)).toEqual([a.iface])
  })

  it("B's disconnect first keeps it (not B's); A's disconnect, the maker's, deletes it once nothing uses it", async () => {
    const h = makeHost(spec())
    const a = await connect(h, iqnA)
    const b = await connect(h, iqnB)
    await disconnect(h, iqnB, b)
    expect(customIfaces(h)).toEqual([a.iface])
    await disconnect(h, iqnA, a)
    expect(customIfaces(h)).toEqual([])
  })

  it("a disconnect without the device info leaves it (nothing says brick made it)", async () => {
    const h = makeHost(spec())
    const a = await connect(h, iqnA)
    await disconnect(h, iqnA)
    expect(customIfaces(h)).toEqual([a.iface])
  })

  it("a record that was there before is used as it is and never deleted", async () => {
    const h = makeHost(spec())
    const a = await connect(h, iqnA)
    await disconnect(h, iqnA)
    const again = await connect(h, iqnA)
    expect(again.iface).toBe(a.iface)
    expect(again.iface_created).toBeUndefined()
    await disconnect(h, iqnA, again)
    expect(customIfaces(h)).toEqual([a.iface])
  })

  it("a failed connect (no such LUN) rolls the record back", async () => {
    const h = makeHost(spec())
    const before = h.snapshot()
    const exit = await runVirtual(
      connectVolume({ ...info(iqnA), target_lun: 9 }, { ...options, deviceScanAttempts: 1, deviceScanInterval: 100 })
        .pipe(Effect.provide(h.layer()))
    )
    expect(Exit.isFailure(exit)).toBe(true)
    expect(customIfaces(h)).toEqual([])
    expect(h.snapshot()).toEqual(before)
  })
})
