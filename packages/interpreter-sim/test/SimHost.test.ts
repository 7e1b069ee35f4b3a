import { Iscsiadm, Lock, Sysfs } from "@brick/core"
import { Clock, Effect, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { SimHost, SimMultipathd, SimSnapshot } from "../src/index.ts"
import { iqn, node, p1, p2, path, reasonOf, runExit, runTest, spec } from "./helpers.ts"

/** Logs in with manual scan, then scans LUN 1 on the session's own SCSI host (read from sysfs). */
const attach = (n = node()) =>
  Effect.gen(function*() {
    const adm = yield* Iscsiadm.Iscsiadm
    const fs = yield* Sysfs.Sysfs
    yield* adm.createNode(n, { scan: "manual" })
    yield* adm.login(n)
    for (const s of yield* fs.list(path("/sys/class/iscsi_session"))) {
      const portal = yield* fs.read(
        path(
          `/sys/class/iscsi_session/${s}/device/connection${s.slice(7)}:0/iscsi_connection/connection${
            s.slice(7)
          }:0/persistent_address`
        )
      )
      const target = yield* fs.read(path(`/sys/class/iscsi_session/${s}/targetname`))
      if (Option.getOrUndefined(target) !== n.iqn || `${Option.getOrUndefined(portal)}:3260` !== n.portal) continue
      const link = Option.getOrThrow(yield* fs.readlink(path(`/sys/class/iscsi_session/${s}`)))
      const hostNo = /host(\d+)/.exec(link)![1]
      yield* fs.write(path(`/sys/class/scsi_host/host${hostNo}/scan`), "0 0 1")
    }
  })

describe("locks", () => {
  it("exclude each other across two processes on one host, and time out", async () => {
    const host = SimHost.make(spec())
    const events: Array<string> = []
    const holder = (who: string, ms: number) =>
      Lock.withLock("target-x", "10 seconds")(Effect.gen(function*() {
        events.push(`${who} in`)
        yield* Effect.sleep(ms)
        events.push(`${who} out`)
      }))
    const out = await Effect.runPromise(
      Effect.gen(function*() {
        const a = yield* Effect.forkChild(Effect.provide(holder("a", 1000), host.process("a")))
        yield* Effect.yieldNow
        const b = yield* Effect.forkChild(Effect.provide(holder("b", 10), host.process("b")))
        const c = yield* Effect.forkChild(
          Effect.exit(Effect.provide(Lock.withLock("target-x", "100 millis")(Effect.void), host.process("c")))
        )
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(a)
        yield* Fiber.join(b)
        const other = yield* Effect.provide(Lock.withLock("target-y", 0)(Effect.succeed("free")), host.process("d"))
        return { c: yield* Fiber.join(c), other }
      }).pipe(Effect.provide(TestClock.layer()))
    )
    expect(events).toEqual(["a in", "a out", "b in", "b out"])
    expect(reasonOf(out.c)).toBe("Timeout")
    expect(out.other).toBe("free")
    expect(host.counts("a")["lock.acquire"]).toBe(1)
    expect(host.counts()["lock.acquire"]).toBe(4)
  })

  it("wait out a queue that moves: each hand-off starts the timeout anew", async () => {
    const host = SimHost.make(spec())
    const taken: Array<string> = []
    // five holders of 1 s each in turn, all waiting with a timeout of 1.5 s
    const holder = (who: string) =>
      Effect.exit(
        Lock.withLock("target-q", "1500 millis")(Effect.gen(function*() {
          taken.push(`${who}@${yield* Clock.currentTimeMillis}`)
          yield* Effect.sleep("1 second")
        })).pipe(Effect.provide(host.process(who)))
      )
    const exits = await Effect.runPromise(
      Effect.gen(function*() {
        const fibers = []
        for (const who of ["a", "b", "c", "d", "e"]) {
          fibers.push(yield* Effect.forkChild(holder(who)))
          yield* Effect.yieldNow
        }
        yield* TestClock.adjust("10 seconds")
        return yield* Fiber.joinAll(fibers)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    expect(exits.map((e) => e._tag)).toEqual(["Success", "Success", "Success", "Success", "Success"])
    expect(taken.map((t) => Number(t.split("@")[1]))).toEqual([0, 1000, 2000, 3000, 4000])
  })
})

describe("determinism and snapshots", () => {
  const scenario = async (seed: number) => {
    const host = SimHost.make(spec({ latency: "realistic", network: { [p2]: { state: "flaky", p: 0.5 } } }), { seed })
    await runTest(
      host,
      Effect.gen(function*() {
        for (let i = 0; i < 6; i++) {
          yield* Effect.exit(attach(node(p1)))
          yield* Effect.exit(attach(node(p2)))
          yield* Effect.sleep("1 second")
          yield* Effect.exit(Iscsiadm.Iscsiadm.use((adm) => adm.logout(node(i % 2 === 0 ? p1 : p2))))
        }
        yield* host.settle
      }).pipe(Effect.forkChild, Effect.flatMap((f) => Effect.andThen(TestClock.adjust("1 minute"), Fiber.join(f))))
    )
    return { snapshot: host.snapshot(), wwid: host.wwid(iqn, 1), counts: host.counts() }
  }

  it("same seed and operations give the same host", async () => {
    const a = await scenario(42)
    const b = await scenario(42)
    expect(b).toEqual(a)
    const c = await scenario(43)
    expect(c.wwid).not.toBe(a.wwid)
  })

  it("diff names what an attach added and a detach removed", async () => {
    const host = SimHost.make(spec())
    host.preattach(3)
    const before = host.snapshot()
    await runTest(host, Effect.andThen(attach(), host.settle))
    const attached = host.snapshot()
    const d = SimSnapshot.diff(before, attached)
    expect(d.sessions.added).toEqual([`${p1}|${iqn}|default`])
    expect(d.nodes.added).toHaveLength(1)
    expect(d.scsiDevices.added).toHaveLength(1)
    expect(d.maps.added).toEqual([host.wwn(iqn, 1)])
    expect(d.sessions.removed).toEqual([])
    await runTest(
      host,
      Effect.gen(function*() {
        const adm = yield* Iscsiadm.Iscsiadm
        yield* adm.logout(node())
        yield* adm.deleteNode(node())
      })
    )
    SimMultipathd.flushMap(host.state, host.state.maps.get(host.wwn(iqn, 1))!)
    const after = SimSnapshot.diff(before, host.snapshot())
    expect(SimSnapshot.isEmpty(after)).toBe(true)
  })
})

describe("scripted faults", () => {
  it("fail once on the nth matching call, then behave", async () => {
    const host = SimHost.make(spec())
    host.failNext("iscsiadm.login", { reason: "Timeout" }, { nth: 2 })
    const first = await runExit(host, attach(node(p1)))
    const second = await runExit(
      host,
      Iscsiadm.Iscsiadm.use((adm) => Effect.andThen(adm.createNode(node(p2), {}), adm.login(node(p2))))
    )
    const third = await runExit(host, Iscsiadm.Iscsiadm.use((adm) => adm.login(node(p2))))
    expect(reasonOf(first)).toBeUndefined()
    expect(reasonOf(second)).toBe("Timeout")
    expect(String(second)).toContain("exit 8")
    expect(reasonOf(third)).toBeUndefined()
    expect(host.faults.pending).toBe(0)
  })

  it("after the 1st login, blackhole the other portal", async () => {
    const host = SimHost.make(spec())
    host.on("iscsiadm.login", { at: "after" }, () => host.setNetwork(p2, "blackholed"))
    await runTest(host, attach(node(p1)))
    const exit = await Effect.runPromise(
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(
          Effect.exit(
            Iscsiadm.Iscsiadm.use((adm) =>
              Effect.andThen(adm.createNode(node(p2), { loginTimeout: 1, loginRetryMax: 1 }), adm.login(node(p2)))
            )
          )
        )
        yield* TestClock.adjust("1 second")
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(host.layer), Effect.provide(TestClock.layer()))
    )
    expect(reasonOf(exit)).toBe("Timeout")
  })

  it("match restricts a fault to some arguments (a sysfs write to one path)", async () => {
    const host = SimHost.make(spec())
    host.failNext("sysfs.write", { reason: "PermissionDenied" }, { match: ([p]) => String(p).endsWith("/delete") })
    const out = await runTest(
      host,
      Effect.gen(function*() {
        yield* attach()
        const fs = yield* Sysfs.Sysfs
        const denied = yield* Effect.exit(fs.write(path("/sys/block/sda/device/delete"), "1"))
        const still = yield* fs.read(path("/sys/block/sda/size"))
        yield* fs.write(path("/sys/block/sda/device/delete"), "1")
        return { denied, still, gone: yield* fs.read(path("/sys/block/sda/size")) }
      })
    )
    expect(reasonOf(out.denied)).toBe("PermissionDenied")
    expect(Option.isSome(out.still)).toBe(true)
    expect(out.gone).toEqual(Option.none())
  })
})

describe("crowded hosts", () => {
  it("preattach adds sessions, disks, links and maps without counting operations", async () => {
    const host = SimHost.make(spec())
    const vols = host.preattach(50, { multipath: true })
    const s = host.snapshot()
    expect(vols).toHaveLength(50)
    expect(s.sessions).toHaveLength(100)
    expect(s.scsiDevices).toHaveLength(100)
    expect(s.maps).toHaveLength(50)
    expect(Object.keys(s.byPath)).toHaveLength(100)
    expect(host.totalOps()).toBe(0)
    const sessions = await runTest(host, Sysfs.Sysfs.use((fs) => fs.list(path("/sys/class/iscsi_session"))))
    expect(sessions).toHaveLength(100)
    expect(host.counts()).toEqual({ "sysfs.list": 1 })
    // a new attach still gets the lowest free host number and the next disk letter
    await runTest(
      host,
      Effect.andThen(
        Iscsiadm.Iscsiadm.use((adm) => Effect.andThen(adm.createNode(node(), {}), adm.login(node()))),
        host.settle
      )
    )
    expect(host.snapshot().sessions.at(-1)).toMatchObject({ sid: 101, host: 100, iqn })
    expect(host.snapshot().scsiDevices.filter((d) => d.sid === 101).map((d) => d.name)).toEqual(["sdcw", "sdcx"])
  })
})
