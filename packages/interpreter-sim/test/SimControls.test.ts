import { Iscsiadm, Lock, Multipath, Sysfs } from "@brick/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { SimHost } from "../src/index.ts"
import { iqn, node, p1, p2, path, reasonOf, runExit, runTest, spec } from "./helpers.ts"

const login = (n = node()) => Iscsiadm.Iscsiadm.use((adm) => Effect.andThen(adm.createNode(n, {}), adm.login(n)))

describe("host controls", () => {
  it("iscsid down: logins and logouts are DaemonUnreachable (rc 20), records still editable", async () => {
    const host = SimHost.make(spec())
    await runTest(host, login())
    host.setIscsid(false)
    const logout = await runExit(host, Iscsiadm.Iscsiadm.use((adm) => adm.logout(node())))
    expect(reasonOf(logout)).toBe("DaemonUnreachable")
    expect(String(logout)).toContain("exit 20")
    expect(reasonOf(await runExit(host, Iscsiadm.Iscsiadm.use((adm) => adm.createNode(node(p2), {}))))).toBeUndefined()
    expect(reasonOf(await runExit(host, Iscsiadm.Iscsiadm.use((adm) => adm.login(node(p2)))))).toBe("DaemonUnreachable")
    host.setIscsid(true)
    await runTest(host, Iscsiadm.Iscsiadm.use((adm) => adm.logout(node())))
    expect(host.snapshot().sessions).toEqual([])
  })

  it("deleting a record in use fails SessionExists; deleting a missing one NotFound", async () => {
    const host = SimHost.make(spec())
    await runTest(host, login())
    expect(reasonOf(await runExit(host, Iscsiadm.Iscsiadm.use((adm) => adm.deleteNode(node()))))).toBe("SessionExists")
    expect(reasonOf(await runExit(host, Iscsiadm.Iscsiadm.use((adm) => adm.deleteNode(node(p2)))))).toBe("NotFound")
  })

  it("multipathd started late adopts existing paths; removePath/addPath move a path out of and back into its map", async () => {
    const host = SimHost.make(spec({ multipathd: { running: false } }))
    const wwn = host.wwn(iqn, 1)
    const out = await runTest(
      host,
      Effect.gen(function*() {
        yield* login(node(p1))
        yield* login(node(p2))
        yield* host.settle
        const before = host.snapshot().maps.length
        host.setMultipathd({ running: true, mapDelayMs: 100 })
        yield* TestClock.adjust("100 millis")
        yield* host.settle
        const adopted = host.snapshot().maps.find((m) => m.name === wwn)?.paths
        const mp = yield* Multipath.Multipath
        yield* mp.removePath("sda")
        const removed = host.snapshot().maps.find((m) => m.name === wwn)?.paths
        yield* mp.addPath("sda")
        const readded = host.snapshot().maps.find((m) => m.name === wwn)?.paths
        const missing = yield* Effect.exit(mp.addPath("sdzz"))
        return { before, adopted, removed, readded, missing }
      })
    )
    expect(out.before).toBe(0)
    expect(out.adopted).toEqual(["sda", "sdc"])
    expect(out.removed).toEqual(["sdc"])
    expect(out.readded).toEqual(["sda", "sdc"])
    expect(reasonOf(out.missing)).toBe("NotFound")
  })

  it("udev `late` adds its extra delay before links appear", async () => {
    const host = SimHost.make(
      spec({ udev: { delayMs: 100, mode: "late", lateMs: 3000 }, multipathd: { running: false } })
    )
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const fs = yield* Sysfs.Sysfs
        yield* login()
        yield* TestClock.adjust("3099 millis")
        const early = yield* fs.list(path("/dev/disk/by-path"))
        yield* TestClock.adjust("1 millis")
        return { early, late: yield* fs.list(path("/dev/disk/by-path")) }
      })
    )
    expect(out.early).toEqual([])
    expect(out.late).toEqual([`ip-${p1}-iscsi-${iqn}-lun-1`, `ip-${p1}-iscsi-${iqn}-lun-2`])
  })

  it("counts every operation per process", async () => {
    const host = SimHost.make(spec())
    await runTest(host, login())
    await Effect.runPromise(
      Sysfs.Sysfs.use((fs) => fs.list(path("/sys/class/iscsi_session"))).pipe(Effect.provide(host.process("other")))
    )
    expect(host.counts("main")).toEqual({ "iscsiadm.createNode": 1, "iscsiadm.login": 1 })
    expect(host.counts("other")).toEqual({ "sysfs.list": 1 })
    expect(host.totalOps()).toBe(3)
    expect(host.totalOps("main")).toBe(2)
    expect(host.totalOps("other")).toBe(1)
    expect(host.totalOps("nobody")).toBe(0)
    host.resetCounts()
    expect(host.totalOps()).toBe(0)
    expect(host.totalOps("main")).toBe(0)
    expect(host.counts()).toEqual({})
    await runTest(host, login(node(p2)))
    expect(host.totalOps("main")).toBe(2)
    expect(host.totalOps()).toBe(Object.values(host.counts()).reduce((a, b) => a + b, 0))
  })

  it("listener gone: a session logged in through the portal stays LOGGED_IN, a new login is refused; back when it is up", async () => {
    const host = SimHost.make(spec({ network: { [p2]: { state: "up", fast: true } } }))
    await runTest(host, login(node(p1)))
    host.portalDown(p1, "listenerGone")
    host.setNetwork(p2, { state: "listenerGone", fast: true })
    expect(host.snapshot().sessions.map((s) => `${s.portal} ${s.state}`)).toEqual([`${p1} LOGGED_IN`])
    const refused = await runExit(host, login(node(p2)))
    expect(reasonOf(refused)).toBe("Timeout")
    expect(String(refused)).toContain("connection refused")
    host.portalUp(p2)
    await runTest(host, login(node(p2)))
    expect(host.snapshot().sessions.map((s) => `${s.portal} ${s.state}`).sort()).toEqual([
      `${p1} LOGGED_IN`,
      `${p2} LOGGED_IN`
    ])
  })

  it("a session failed by a refusing portal does not come back while the portal has no listener", async () => {
    const host = SimHost.make(spec())
    await runTest(host, login(node(p1)))
    host.portalDown(p1, "refusing")
    host.portalDown(p1, "listenerGone")
    expect(host.snapshot().sessions.map((s) => s.state)).toEqual(["FAILED"])
    host.portalUp(p1)
    expect(host.snapshot().sessions.map((s) => s.state)).toEqual(["LOGGED_IN"])
  })

  it("kill: the process starts no operation any more, runs no cleanup, and the lock it held is free", async () => {
    const host = SimHost.make(spec())
    const victim = host.process("victim")
    const held = await Effect.runPromise(
      Effect.gen(function*() {
        const fiber = yield* Effect.forkDetach(
          Effect.scoped(Effect.gen(function*() {
            yield* Lock.Lock.use((l) => l.acquire("target", "1 second"))
            yield* Effect.addFinalizer(() => Effect.orDie(Iscsiadm.Iscsiadm.use((adm) => adm.deleteNode(node(p1)))))
            yield* Iscsiadm.Iscsiadm.use((adm) => adm.createNode(node(p1), {}))
            yield* Effect.sleep("1 second")
            yield* Iscsiadm.Iscsiadm.use((adm) => adm.createNode(node(p2), {}))
          })).pipe(Effect.provide(victim))
        )
        yield* TestClock.adjust("10 millis")
        host.kill("victim")
        yield* TestClock.adjust("2 seconds")
        const ended = fiber.pollUnsafe()
        // another process takes the lock at once
        const other = yield* Effect.exit(
          Effect.scoped(Lock.Lock.use((l) => l.acquire("target", "10 millis"))).pipe(Effect.provide(host.layer))
        )
        return { ended, other }
      }).pipe(Effect.provide(TestClock.layer()))
    )
    expect(held.ended).toBeUndefined()
    expect(held.other._tag).toBe("Success")
    // the record it made stays (no cleanup ran), the one after the kill was never made
    expect(host.snapshot().nodes.map((n) => n.portal)).toEqual([p1])
    expect(host.killed("victim")).toBe(true)
    expect(host.killed("main")).toBe(false)
  })
})
