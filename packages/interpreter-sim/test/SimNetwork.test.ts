import { IfaceName, Iscsiadm, Portal, Sysfs } from "@brick/core"
import { Effect, Fiber, Option, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { SimHost } from "../src/index.ts"
import { iqn, node, p1, p2, path, reasonOf, runExit, runTest, spec } from "./helpers.ts"

const chap = (username: string, password: string, mutual?: [string, string]): Iscsiadm.ChapCredentials => ({
  username,
  password: Redacted.make(password),
  usernameIn: mutual ? Option.some(mutual[0]) : Option.none(),
  passwordIn: mutual ? Option.some(Redacted.make(mutual[1])) : Option.none()
})

const loginWith = (settings: Iscsiadm.NodeSettings = {}, n = node()) =>
  Effect.gen(function*() {
    const adm = yield* Iscsiadm.Iscsiadm
    yield* adm.createNode(n, settings)
    yield* adm.login(n)
  })

describe("discovery", () => {
  it("reports every portal of the target and records nothing (like `-o nonpersistent`)", async () => {
    const host = SimHost.make(spec(), { seed: 2 })
    const found = await runTest(
      host,
      Effect.gen(function*() {
        const adm = yield* Iscsiadm.Iscsiadm
        return yield* adm.discover({
          portal: Portal.unsafeMake(p1),
          iface: IfaceName.defaultIface,
          auth: Option.none()
        })
      })
    )
    expect(found).toEqual([{ portal: p1, tpgt: 1, iqn }, { portal: p2, tpgt: 1, iqn }])
    expect(host.snapshot().nodes).toEqual([])
  })

  it("reports every target of the storage system, as LIO does, and refused discovery exits 11", async () => {
    const other = "10.99.0.3:3260"
    const host = SimHost.make(spec({
      targets: [
        { iqn, portals: [p1, p2], luns: [{ lun: 1 }] },
        { iqn: `${iqn}-chap`, portals: [other], luns: [{ lun: 1 }] },
        { iqn: `${iqn}-elsewhere`, portals: ["10.77.0.1:3260"], luns: [{ lun: 1 }], system: "other-array" }
      ],
      network: { "10.99.0.9:3260": { state: "refusing", fast: true } }
    }))
    const discover = (portal: string) =>
      Iscsiadm.Iscsiadm.use((adm) =>
        adm.discover({ portal: Portal.unsafeMake(portal), iface: IfaceName.defaultIface, auth: Option.none() })
      )
    const found = await runTest(host, discover(other))
    expect(found.map((f) => `${f.portal} ${f.iqn}`)).toEqual([`${p1} ${iqn}`, `${p2} ${iqn}`, `${other} ${iqn}-chap`])
    const refused = await runExit(host, discover("10.99.0.9:3260"))
    expect(reasonOf(refused)).toBe("Timeout")
    expect(String(refused)).toContain("exit 11")
  })

  it("reports only the asked portal when the target is configured so", async () => {
    const host = SimHost.make(
      spec({ targets: [{ iqn, portals: [p1, p2], luns: [{ lun: 1 }], reportAllPortals: false }] })
    )
    const found = await runTest(
      host,
      Effect.gen(function*() {
        return yield* (yield* Iscsiadm.Iscsiadm).discover({
          portal: Portal.unsafeMake(p2),
          iface: IfaceName.defaultIface,
          auth: Option.none()
        })
      })
    )
    expect(found.map((f) => f.portal)).toEqual([p2])
  })

  it("demands discovery CHAP when the target has it", async () => {
    const host = SimHost.make(
      spec({ targets: [{ iqn, portals: [p1], luns: [{ lun: 1 }], discoveryChap: { username: "d", password: "dpw" } }] })
    )
    const discover = (auth: Option.Option<Iscsiadm.ChapCredentials>) =>
      Iscsiadm.Iscsiadm.use((adm) =>
        adm.discover({ portal: Portal.unsafeMake(p1), iface: IfaceName.defaultIface, auth })
      )
    expect(reasonOf(await runExit(host, discover(Option.none())))).toBe("AuthenticationFailed")
    expect(reasonOf(await runExit(host, discover(Option.some(chap("d", "wrong")))))).toBe("AuthenticationFailed")
    expect(reasonOf(await runExit(host, discover(Option.some(chap("d", "dpw")))))).toBeUndefined()
  })
})

describe("login", () => {
  it("needs a node record (NotFound, rc 21) and refuses a second session (SessionExists, rc 15)", async () => {
    const host = SimHost.make(spec())
    const missing = await runExit(host, Iscsiadm.Iscsiadm.use((adm) => adm.login(node())))
    expect(reasonOf(missing)).toBe("NotFound")
    expect(String(missing)).toContain("exit 21")
    await runTest(host, loginWith())
    const again = await runExit(host, Iscsiadm.Iscsiadm.use((adm) => adm.login(node())))
    expect(reasonOf(again)).toBe("SessionExists")
    expect(String(again)).toContain("exit 15")
  })

  it("checks CHAP and mutual CHAP", async () => {
    const host = SimHost.make(
      spec({
        targets: [{
          iqn,
          portals: [p1],
          luns: [{ lun: 1 }],
          chap: { username: "u", password: "pw", mutual: { username: "t", password: "tpw" } }
        }]
      })
    )
    const attempt = async (auth?: Iscsiadm.ChapCredentials) => {
      const exit = await runExit(host, loginWith(auth ? { auth: Option.some(auth) } : {}))
      if (reasonOf(exit) === undefined) await runTest(host, Iscsiadm.Iscsiadm.use((adm) => adm.logout(node())))
      return reasonOf(exit)
    }
    expect(await attempt()).toBe("AuthenticationFailed")
    expect(await attempt(chap("u", "bad"))).toBe("AuthenticationFailed")
    // the target proves a secret the initiator does not expect: the initiator ends the login (exit 19, as in the lab)
    expect(await attempt(chap("u", "pw", ["t", "bad"]))).toBe("LoginRejected")
    expect(await attempt(chap("u", "pw"))).toBeUndefined()
    expect(await attempt(chap("u", "pw", ["t", "tpw"]))).toBeUndefined()
    expect(host.snapshot().sessions).toEqual([])
  })

  it("refused logins fail like the lab measured: exit 8 after login timeout × retries; `fast` at once", async () => {
    const host = SimHost.make(spec({ network: { [p1]: "refusing", [p2]: { state: "refusing", fast: true } } }))
    const fast = await runExit(host, loginWith({}, node(p2)))
    expect(reasonOf(fast)).toBe("Timeout")
    expect(String(fast)).toContain("exit 8")
    expect(String(fast)).toContain("connection refused")
    expect(host.now).toBe(0)
    const slow = await Effect.runPromise(
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(Effect.exit(loginWith({ loginTimeout: 15, loginRetryMax: 1 })))
        yield* TestClock.adjust("14999 millis")
        const early = fiber.pollUnsafe()
        yield* TestClock.adjust("1 millis")
        return { early, exit: yield* Fiber.join(fiber) }
      }).pipe(Effect.provide(host.layer), Effect.provide(TestClock.layer()))
    )
    expect(slow.early).toBeUndefined()
    expect(reasonOf(slow.exit)).toBe("Timeout")
  })

  it("blackholed portals time out after login timeout × retries", async () => {
    const host = SimHost.make(spec({ network: { [p2]: "blackholed" } }))
    const exit = await Effect.runPromise(
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(Effect.exit(loginWith({ loginTimeout: 2, loginRetryMax: 3 }, node(p2))))
        yield* TestClock.adjust("5999 millis")
        const early = fiber.pollUnsafe()
        yield* TestClock.adjust("1 millis")
        return { early, exit: yield* Fiber.join(fiber) }
      }).pipe(Effect.provide(host.layer), Effect.provide(TestClock.layer()))
    )
    expect(exit.early).toBeUndefined()
    expect(reasonOf(exit.exit)).toBe("Timeout")
    expect(host.snapshot().sessions).toEqual([])
  })

  it("flaky portals fail some logins, the same ones for the same seed", async () => {
    const outcomes = async (seed: number) => {
      // flaky failures are immediate
      const host = SimHost.make(spec({ network: { [p1]: { state: "flaky", p: 0.5 } } }), { seed })
      const results: Array<string> = []
      for (let i = 0; i < 24; i++) {
        const exit = await runExit(host, loginWith())
        results.push(reasonOf(exit) ?? "ok")
        if (reasonOf(exit) === undefined) await runTest(host, Iscsiadm.Iscsiadm.use((adm) => adm.logout(node())))
      }
      return results
    }
    const a = await outcomes(7)
    expect(a).toContain("ok")
    expect(a).toContain("Timeout")
    expect(await outcomes(7)).toEqual(a)
  })

  it("adds a portal's latency to each login", async () => {
    const host = SimHost.make(spec({ network: { [p1]: { state: "up", latencyMs: 250 } } }))
    const t = await runTest(
      host,
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(loginWith())
        yield* TestClock.adjust("250 millis")
        yield* Fiber.join(fiber)
        return host.now
      })
    )
    expect(t).toBe(250)
    expect(host.snapshot().sessions).toHaveLength(1)
  })

  it("a portal dying fails its session, and its coming back recovers it", async () => {
    const host = SimHost.make(spec())
    await runTest(host, loginWith())
    host.portalDown(p1)
    const read = Sysfs.Sysfs.use((fs) => fs.read(path("/sys/class/iscsi_session/session1/state")))
    expect(await runTest(host, read)).toEqual(Option.some("FAILED"))
    expect(host.snapshot().scsiDevices.map((d) => d.state)).toEqual(["blocked", "blocked"])
    host.portalUp(p1)
    expect(await runTest(host, read)).toEqual(Option.some("LOGGED_IN"))
  })
})

describe("ifaces and transports", () => {
  it("a software iface bound by IP address fails; one bound to a netdev works", async () => {
    const host = SimHost.make(
      spec({
        ifaces: [{ name: "byip", transport: "tcp", ipaddress: "10.99.0.100" }, {
          name: "bydev",
          transport: "tcp",
          netIfacename: "eth0"
        }]
      })
    )
    const byIp = await runExit(host, loginWith({}, node(p1, iqn, "byip")))
    expect(reasonOf(byIp)).toBe("LoginFailed")
    expect(String(byIp)).toContain("not supported with software iSCSI")
    await runTest(host, loginWith({}, node(p1, iqn, "bydev")))
    const netdev = await runTest(host, Sysfs.Sysfs.use((fs) => fs.read(path("/sys/class/iscsi_host/host0/netdev"))))
    expect(netdev).toEqual(Option.some("eth0"))
  })

  it("an iface whose transport module is not loaded, or whose HBA is missing, is TransportUnavailable (rc 12)", async () => {
    const host = SimHost.make(spec({ ifaces: [{ name: "bnx", transport: "bnx2i", hwaddress: "00:10:18:aa:bb:cc" }] }))
    const iser = await runExit(host, loginWith({}, node(p1, iqn, "iser")))
    expect(reasonOf(iser)).toBe("TransportUnavailable")
    expect(String(iser)).toContain("exit 12")
    host.setTransportLoaded("bnx2i", true)
    expect(reasonOf(await runExit(host, loginWith({}, node(p1, iqn, "bnx"))))).toBe("TransportUnavailable")
  })

  it("an offload HBA hosts its sessions on its own SCSI host with a pci- by-path link", async () => {
    const host = SimHost.make(spec({
      transports: ["tcp", "bnx2i"],
      hbas: [{
        transport: "bnx2i",
        hwaddress: "00:10:18:AA:BB:CC",
        pciAddress: "0000:03:00.1",
        ipaddress: "10.99.0.50"
      }]
    }))
    const ifaces = await runTest(host, Iscsiadm.Iscsiadm.use((adm) => adm.listIfaces))
    const hbaIface = ifaces.find((i) => i.transport === "bnx2i")!
    expect(hbaIface.name).toBe("bnx2i.00:10:18:aa:bb:cc")
    await runTest(host, loginWith({}, node(p1, iqn, hbaIface.name)))
    await runTest(host, loginWith({}, node(p2, iqn, hbaIface.name)))
    const out = await runTest(
      host,
      Effect.gen(function*() {
        const fs = yield* Sysfs.Sysfs
        yield* host.settle
        return {
          hostLink: yield* fs.readlink(path("/sys/class/iscsi_host/host0")),
          devices: yield* fs.list(path("/sys/class/scsi_device")),
          byPath: yield* fs.list(path("/dev/disk/by-path")),
          transports: yield* fs.list(path("/sys/class/iscsi_transport"))
        }
      })
    )
    expect(out.hostLink).toEqual(
      Option.some("../../devices/pci0000:00/0000:00:1c.0/0000:03:00.1/host0/iscsi_host/host0")
    )
    expect(out.devices).toEqual(["0:0:0:1", "0:0:0:2", "0:0:1:1", "0:0:1:2"])
    expect(out.byPath).toContain(`pci-0000:03:00.1-ip-${p1}-iscsi-${iqn}-lun-1`)
    expect(out.transports).toEqual(["bnx2i", "tcp"])
  })
})
