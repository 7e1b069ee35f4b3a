/**
 * extend never succeeds with a size it did not verify on every path: with a
 * path down (its portal dropped after the target grew the LUN) it fails with
 * `PathDown` naming the path and the sizes seen, whichever path it is and
 * with one path only; once the portal is back it returns the new size. A map
 * that multipathd leaves at its old size while answering ok is a
 * `SizeMismatch`. And the simulated multipathd resizes as multipath-tools
 * 0.9.4 does: by the map's first path, refused by device-mapper when another
 * path is smaller.
 */
import { BrickError, connectVolume, extendVolume, HostPath, Multipath, Sysfs } from "@brick/core"
import { Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, settle, type TestHost } from "./harness.ts"
import { iqn, multipathData, p1, p2 } from "./helpers.ts"

const portals = [p1, p2]
const MiB = 1024 ** 2
const multipathInfo = multipathData(portals)
const singleInfo = { target_portal: p1, target_iqn: iqn, target_lun: 1, volume_id: "vol-1" }
const host = () => makeHost({ targets: [{ iqn, portals, luns: [{ lun: 1, sizeBytes: 16 * MiB }] }], latency: "zero" })

const connect = async (h: TestHost, info: unknown, multipath: boolean) => {
  const exit = await runVirtual(connectVolume(info, { useMultipath: multipath }).pipe(Effect.provide(h.layer())))
  if (Exit.isFailure(exit)) throw new Error(`connect failed: ${String(exit.cause)}`)
  return exit.value
}
const extend = (h: TestHost, info: unknown) => runVirtual(extendVolume(info).pipe(Effect.provide(h.layer())))
const reasonOf = <A>(exit: Exit.Exit<A, unknown>): BrickError.ExtendReason => {
  const e = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
  if (Option.isNone(e)) throw new Error(`expected a failure, got ${String(exit)}`)
  expect(e.value).toBeInstanceOf(BrickError.ExtendError)
  return (e.value as BrickError.ExtendError).reason
}
/** The path device (`sdX`) and H:C:T:L of the session through `portal`. */
const pathThrough = (h: TestHost, portal: string) => {
  const d = Array.from(h.state.scsi.values()).find((x) => x.session.portal === portal && !x.removed)!
  return { device: d.name, hctl: d.hctl }
}

describe("extend with a path down", () => {
  for (const which of [0, 1]) {
    it(`2 paths, the LUN grown, portal ${which + 1} dropped: PathDown naming it; portal back: the new size`, async () => {
      const h = host()
      await connect(h, multipathInfo, true)
      const downPath = pathThrough(h, portals[which]!)
      h.host.resizeLun(iqn, 1, 32 * MiB)
      h.host.portalDown(portals[which]!)
      const exit = await extend(h, multipathInfo)
      const reason = reasonOf(exit)
      expect(reason._tag).toBe("PathDown")
      if (reason._tag !== "PathDown") return
      expect(reason.down.map((p) => [p.device, p.hctl, p.state, p.session])).toEqual([
        [downPath.device, downPath.hctl, "blocked", "FAILED"]
      ])
      // the up path was rescanned (new size), the down one keeps the old
      expect(reason.paths.map((p) => p.size).sort()).toEqual([16 * MiB, 32 * MiB].sort())
      const message = (Exit.findErrorOption(exit as Exit.Exit<number, BrickError.ExtendError>) as Option.Some<Error>)
        .value.message
      expect(message).toContain(downPath.device)
      expect(message).toContain("blocked")
      // the map was left as it was
      expect(h.snapshot().maps[0]?.sizeBytes).toBe(16 * MiB)

      h.host.portalUp(portals[which]!)
      await settle(h.host)
      expect(await extend(h, multipathInfo)).toEqual(Exit.succeed(32 * MiB))
      expect(h.snapshot().maps[0]?.sizeBytes).toBe(32 * MiB)
    })
  }

  it("a single path whose device is down: PathDown, not the old size; back up: the new size", async () => {
    const h = host()
    await connect(h, singleInfo, false)
    h.host.resizeLun(iqn, 1, 24 * MiB)
    h.host.portalDown(portals[0]!, "blackholed")
    const reason = reasonOf(await extend(h, singleInfo))
    expect(reason._tag).toBe("PathDown")
    if (reason._tag === "PathDown") expect(reason.down.map((p) => [p.state, p.size])).toEqual([["blocked", 16 * MiB]])
    h.host.portalUp(portals[0]!)
    await settle(h.host)
    expect(await extend(h, singleInfo)).toEqual(Exit.succeed(24 * MiB))
  })

  it("the path drops while its rescan runs (the rescan changes nothing): PathDown, not the old size", async () => {
    const h = host()
    await connect(h, singleInfo, false)
    h.host.resizeLun(iqn, 1, 24 * MiB)
    const program = Effect.gen(function*() {
      const inner = yield* Sysfs.Sysfs
      const dropping = Sysfs.Sysfs.of({
        ...inner,
        write: (path, value) =>
          Effect.andThen(
            Effect.sync(() => path.endsWith("/rescan") && h.host.portalDown(p1)),
            inner.write(path, value)
          )
      })
      return yield* Effect.provideService(extendVolume(singleInfo), Sysfs.Sysfs, dropping)
    })
    const reason = reasonOf(await runVirtual(program.pipe(Effect.provide(h.layer()))))
    expect(reason._tag).toBe("PathDown")
    if (reason._tag === "PathDown") expect(reason.down.map((p) => [p.state, p.size])).toEqual([["blocked", 16 * MiB]])
  })

  it("a resize that multipathd answers ok without resizing the map: SizeMismatch naming the map", async () => {
    const h = host()
    await connect(h, multipathInfo, true)
    h.host.resizeLun(iqn, 1, 32 * MiB)
    const program = Effect.gen(function*() {
      const inner = yield* Multipath.Multipath
      return yield* Effect.provideService(
        extendVolume(multipathInfo),
        Multipath.Multipath,
        Multipath.Multipath.of({ ...inner, resizeMap: () => Effect.void })
      )
    })
    const reason = reasonOf(await runVirtual(program.pipe(Effect.provide(h.layer()))))
    expect(reason._tag).toBe("SizeMismatch")
    if (reason._tag === "SizeMismatch") {
      expect(reason.map?.size).toBe(16 * MiB)
      expect(reason.paths.map((p) => p.size)).toEqual([32 * MiB, 32 * MiB])
    }
  })
})

describe("the simulated multipathd's resize (multipath-tools 0.9.4)", () => {
  const resize = (h: TestHost, name: string) =>
    runVirtual(Multipath.Multipath.use((m) => m.resizeMap(name)).pipe(Effect.provide(h.layer())))
  const setup = async () => {
    const h = host()
    await connect(h, multipathInfo, true)
    const map = Array.from(h.state.maps.values())[0]!
    const [first, second] = Array.from(map.paths)
    return { h, map, first: first!, second: second! }
  }

  it("a rescan of a blocked disk returns at once and changes nothing (the kernel skips a device not running)", async () => {
    const { h, first } = await setup()
    h.host.resizeLun(iqn, 1, 32 * MiB)
    h.host.portalDown(first.session.portal)
    const write = Sysfs.Sysfs.use((fs) =>
      fs.write(HostPath.make(`/sys/class/scsi_device/${first.hctl}/device/rescan`), "1")
    )
    expect(Exit.isSuccess(await runVirtual(write.pipe(Effect.provide(h.layer()))))).toBe(true)
    expect(first.sizeBytes).toBe(16 * MiB)
  })

  it("the first path still at the map's size: ok, nothing changes", async () => {
    const { h, map, second } = await setup()
    second.sizeBytes = 32 * MiB
    expect(Exit.isSuccess(await resize(h, map.name))).toBe(true)
    expect(map.sizeBytes).toBe(16 * MiB)
  })

  it("the first path grown, another smaller: fail (device-mapper: too small for target)", async () => {
    const { h, map, first, second } = await setup()
    first.sizeBytes = 32 * MiB
    const exit = await resize(h, map.name)
    expect(Exit.isFailure(exit) && String(exit.cause)).toContain(`${second.name} too small for target`)
    expect(map.sizeBytes).toBe(16 * MiB)
  })

  it("every path grown: the map takes their size", async () => {
    const { h, map, first, second } = await setup()
    first.sizeBytes = second.sizeBytes = 32 * MiB
    expect(Exit.isSuccess(await resize(h, map.name))).toBe(true)
    expect(map.sizeBytes).toBe(32 * MiB)
  })
})
