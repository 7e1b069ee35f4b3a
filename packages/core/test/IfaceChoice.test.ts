import { Option } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type ConnectorOptions, IfaceChoice, IfaceName, type Iscsiadm, Transport } from "../src/index.ts"
import { port, withPorts } from "./hostFacts.ts"

const N = IfaceName.unsafeMake
const record = (
  name: string,
  transport: string,
  hwaddress?: string,
  extra: Partial<Iscsiadm.IfaceRecord> = {}
): Iscsiadm.IfaceRecord => ({
  name: N(name),
  transport,
  hwaddress: Option.fromUndefinedOr(hwaddress),
  ipaddress: Option.none(),
  netIfacename: Option.none(),
  initiatorName: Option.none(),
  ...extra
})
const hba = "00:0e:1e:00:00:01"
/** A host with these records and HBA ports of these hardware addresses (bnx2i, qla4xxx, be2iscsi, cxgb4i each). */
const facts = (
  ifaces: ReadonlyArray<Iscsiadm.IfaceRecord> = [],
  hbaHwaddresses: ReadonlyArray<string> = []
): IfaceChoice.IfaceFacts =>
  withPorts(
    hbaHwaddresses.flatMap((h, i) =>
      (["bnx2i", "qla4xxx", "be2iscsi", "cxgb4i"] as const).map((t, j) => port(t, h, { host: 10 * i + j }))
    ),
    { ifaces }
  )
const use = (iface: string, transport: Transport.Transport, extra: Partial<IfaceChoice.IfaceChoice> = {}) => ({
  _tag: "Use",
  iface,
  transport,
  create: Option.none(),
  port: Option.none(),
  ...extra
})

describe("IfaceChoice.choose", () => {
  it("uses open-iscsi's default without a request", () => {
    expect(IfaceChoice.choose(undefined, IfaceChoice.noFacts, true)).toEqual(use("default", "default"))
    expect(IfaceChoice.choose(N("default"), IfaceChoice.noFacts, false)).toEqual(use("default", "default"))
  })

  it("uses the built-in iser iface without a record when the host has an RDMA device, else falls back", () => {
    expect(IfaceChoice.choose(N("iser"), facts(), true)).toEqual(use("iser", "iser"))
    expect(IfaceChoice.choose({ transport: "iser" }, facts(), true)).toEqual(use("iser", "iser"))
    const noRdma = { ...facts(), rdmaDevices: [] }
    expect(IfaceChoice.choose(N("iser"), noRdma, true))
      .toMatchObject({ _tag: "Fallback", iface: "default", requested: "iser", reason: { _tag: "NoRdmaDevice" } })
    expect(IfaceChoice.choose({ transport: "iser" }, noRdma, false))
      .toMatchObject({ _tag: "Refuse", reason: { _tag: "NoRdmaDevice" } })
  })

  it("uses the built-in default iface for a tcp spec that binds nothing (no record made)", () => {
    expect(IfaceChoice.choose({ transport: "tcp" }, IfaceChoice.noFacts, true)).toEqual(use("default", "default"))
    expect(IfaceChoice.choose({ transport: "default" }, IfaceChoice.noFacts, true)).toEqual(use("default", "default"))
  })

  it("uses a named tcp record", () => {
    expect(IfaceChoice.choose(N("eth1"), facts([record("eth1", "tcp")]), true))
      .toEqual(use("eth1", "default"))
  })

  it("falls back when the named record is missing", () => {
    expect(IfaceChoice.choose(N("nope"), facts([record("eth1", "tcp")]), true))
      .toEqual({
        _tag: "Fallback",
        iface: "default",
        transport: "default",
        requested: "nope",
        reason: { _tag: "IfaceNotFound" }
      })
  })

  it("falls back on a record with a transport brick does not support", () => {
    expect(IfaceChoice.choose(N("q"), facts([record("q", "qedi", hba)], [hba]), true))
      .toMatchObject({
        _tag: "Fallback",
        iface: "default",
        requested: "q",
        reason: { _tag: "UnsupportedTransport", transport: "qedi" }
      })
  })

  it("uses an offload record when its HBA port is present (hwaddress compared case-insensitively)", () => {
    const f = facts([record("bnx2i.x", "bnx2i", hba.toUpperCase())], [hba])
    expect(IfaceChoice.choose(N("bnx2i.x"), f, true))
      .toEqual(use("bnx2i.x", "bnx2i", { port: Option.some(f.hostPorts.find((p) => p.transport === "bnx2i")!) }))
  })

  it("an offload iface needs its transport loaded, then an HBA port of that transport and hardware address", () => {
    const r = record("bnx2i.x", "bnx2i", hba)
    const notLoaded = { ...facts([r], [hba]), transports: ["tcp"] }
    expect(IfaceChoice.choose(N("bnx2i.x"), notLoaded, true))
      .toMatchObject({ _tag: "Fallback", reason: { _tag: "TransportNotLoaded", transport: "bnx2i" } })
    expect(IfaceChoice.choose(N("bnx2i.x"), facts([r], ["00:00:00:00:00:02"]), true))
      .toMatchObject({
        _tag: "Fallback",
        iface: "default",
        reason: { _tag: "HardwareAbsent", transport: "bnx2i", hwaddress: hba }
      })
    // a port of that hardware address but of another transport is not it
    const other = withPorts([port("qla4xxx", hba)], { ifaces: [r], transports: ["tcp", "bnx2i", "qla4xxx"] })
    expect(IfaceChoice.choose(N("bnx2i.x"), other, true)).toMatchObject({ reason: { _tag: "HardwareAbsent" } })
    expect(IfaceChoice.choose(N("be2"), facts([record("be2", "be2iscsi")], [hba]), true))
      .toMatchObject({ _tag: "Fallback", reason: { _tag: "HardwareAbsent", hwaddress: undefined } })
  })

  it("an offload iface's IP address must be on its HBA port when the port shows any", () => {
    const shows = withPorts([port("qla4xxx", hba, { ipaddresses: ["10.0.0.9"] })])
    expect(IfaceChoice.choose({ transport: "qla4xxx", hwaddress: hba, ipaddress: "10.0.0.9" }, shows, true))
      .toMatchObject({ _tag: "Use", iface: `qla4xxx.${hba}` })
    expect(IfaceChoice.choose({ transport: "qla4xxx", hwaddress: hba, ipaddress: "10.0.0.8" }, shows, true))
      .toMatchObject({
        _tag: "Fallback",
        reason: { _tag: "AddressNotOnHba", hwaddress: hba, ipaddress: "10.0.0.8", addresses: ["10.0.0.9"] }
      })
    // bnx2i/cxgb4i show an address only while connected: any is accepted then
    const none = withPorts([port("cxgb4i", hba)])
    expect(IfaceChoice.choose({ transport: "cxgb4i", hwaddress: hba, ipaddress: "10.0.0.8" }, none, true))
      .toMatchObject({ _tag: "Use" })
    // the port found by its IP address alone
    expect(IfaceChoice.choose({ transport: "qla4xxx", ipaddress: "10.0.0.9" }, shows, true))
      .toMatchObject({ _tag: "Use", iface: `qla4xxx.${hba}`, create: Option.some({ hwaddress: Option.some(hba) }) })
  })

  it("an offload spec finds its port by network interface (bnx2i, cxgb4i show the netdev they offload)", () => {
    const f = withPorts([port("cxgb4i", hba, { netdev: Option.some("eth4") })])
    expect(IfaceChoice.choose({ transport: "cxgb4i", netIfacename: "eth4" }, f, true))
      .toMatchObject({ _tag: "Use", iface: `cxgb4i.${hba}`, port: Option.some(f.hostPorts[0]) })
    expect(IfaceChoice.choose({ transport: "cxgb4i", netIfacename: "eth5" }, f, true))
      .toMatchObject({ _tag: "Fallback", reason: { _tag: "HardwareAbsent" } })
  })

  it("an offload spec uses the record iscsiadm made for its port (transport.hwaddress[.ipv4.N]) instead of a new one", () => {
    const auto = record(`qla4xxx.${hba}.ipv4.0`, "qla4xxx", hba, { ipaddress: Option.some("10.0.0.9") })
    const f = withPorts([port("qla4xxx", hba, { ipaddresses: ["10.0.0.9"] })], { ifaces: [auto] })
    expect(IfaceChoice.choose({ transport: "qla4xxx", hwaddress: hba }, f, true))
      .toMatchObject({ _tag: "Use", iface: `qla4xxx.${hba}.ipv4.0`, create: Option.none() })
    expect(IfaceChoice.choose({ transport: "qla4xxx", hwaddress: hba, ipaddress: "10.0.0.9" }, f, true))
      .toMatchObject({ _tag: "Use", iface: `qla4xxx.${hba}.ipv4.0`, create: Option.none() })
  })

  it("falls back when an offload spec has no HBA", () => {
    const spec: ConnectorOptions.IfaceSpec = { transport: "cxgb4i", hwaddress: hba }
    expect(IfaceChoice.choose(spec, withPorts([], { transports: ["tcp", "cxgb4i"] }), true))
      .toEqual({
        _tag: "Fallback",
        iface: "default",
        transport: "default",
        requested: `cxgb4i.${hba}`,
        reason: { _tag: "HardwareAbsent", transport: "cxgb4i", hwaddress: hba }
      })
  })

  it("creates an offload iface from a spec when the HBA is present", () => {
    const spec: ConnectorOptions.IfaceSpec = { transport: "qla4xxx", hwaddress: hba, ipaddress: "10.0.0.9" }
    const f = facts([], [hba])
    expect(IfaceChoice.choose(spec, f, true)).toEqual(use(`qla4xxx.${hba}`, "qla4xxx", {
      create: Option.some({
        transport: "qla4xxx",
        hwaddress: Option.some(hba),
        ipaddress: Option.some("10.0.0.9"),
        netIfacename: Option.none()
      }),
      port: Option.some(f.hostPorts.find((p) => p.transport === "qla4xxx")!)
    }))
  })

  const eth1 = { name: "eth1", hwaddress: Option.some("52:54:00:00:00:e1"), addresses: ["10.0.0.5", "fd00::5"] }
  const vlan = { name: "eth0@vlan", hwaddress: Option.none(), addresses: ["10.0.9.5"] }
  const withNetdevs = (f: IfaceChoice.IfaceFacts) => ({ ...f, netdevs: [eth1, vlan] })
  const boundTo = (netdev: string) => ({
    transport: "default" as const,
    hwaddress: Option.none(),
    ipaddress: Option.none(),
    netIfacename: Option.some(netdev)
  })

  it("binds a software iface to the network interface that carries its IP address, named tcp.<its MAC>", () => {
    for (const spec of [{ ipaddress: "10.0.0.5" }, { transport: "tcp" as const, ipaddress: "fd00::5" }]) {
      expect(IfaceChoice.choose(spec, withNetdevs(facts()), true))
        .toEqual(use("tcp.52:54:00:00:00:e1", "default", { create: Option.some(boundTo("eth1")) }))
    }
    // the same binding asked by name or by hardware address: the same record
    for (const spec of [{ netIfacename: "eth1" }, { transport: "tcp" as const, hwaddress: "52:54:00:00:00:E1" }]) {
      expect(IfaceChoice.choose(spec, withNetdevs(facts()), true)).toMatchObject({ iface: "tcp.52:54:00:00:00:e1" })
    }
  })

  it("falls back (NetdevNotFound) when no network interface has that name, IP or hardware address", () => {
    expect(IfaceChoice.choose({ ipaddress: "10.0.0.6" }, withNetdevs(facts()), true)).toMatchObject({
      _tag: "Fallback",
      iface: "default",
      requested: "tcp.10.0.0.6",
      reason: { _tag: "NetdevNotFound", by: "ipaddress", value: "10.0.0.6" }
    })
    expect(IfaceChoice.choose({ transport: "iser", netIfacename: "eth9" }, withNetdevs(facts()), false))
      .toMatchObject({ _tag: "Refuse", reason: { _tag: "NetdevNotFound", by: "name", value: "eth9" } })
    expect(IfaceChoice.choose({ hwaddress: "52:54:00:00:00:e2" }, withNetdevs(facts()), true))
      .toMatchObject({ reason: { _tag: "NetdevNotFound", by: "hwaddress" } })
  })

  it("an IP address or netdev that is an offload HBA's: that HBA's transport and port (no transport given)", () => {
    const f = withPorts([
      port("qla4xxx", hba, { ipaddresses: ["10.0.0.9"] }),
      port("cxgb4i", "52:54:00:00:00:e1", { host: 7, netdev: Option.some("eth1") })
    ], { netdevs: [eth1, vlan] })
    expect(IfaceChoice.choose({ ipaddress: "10.0.0.9" }, f, true))
      .toMatchObject({ _tag: "Use", iface: `qla4xxx.${hba}`, transport: "qla4xxx", port: Option.some(f.hostPorts[0]) })
    expect(IfaceChoice.choose({ ipaddress: "10.0.0.5" }, f, true))
      .toMatchObject({ _tag: "Use", iface: "cxgb4i.52:54:00:00:00:e1", transport: "cxgb4i" })
    expect(IfaceChoice.choose({ netIfacename: "eth1" }, f, true)).toMatchObject({ transport: "cxgb4i" })
    // with its transport not loaded the NIC is a plain one: tcp bound to it
    const unloaded = { ...f, transports: ["tcp", "qla4xxx"] }
    expect(IfaceChoice.choose({ netIfacename: "eth1" }, unloaded, true))
      .toMatchObject({ _tag: "Use", transport: "default", create: Option.some(boundTo("eth1")) })
  })

  it("refuses a software iface record that binds an IP address only (iscsid cannot)", () => {
    const byIp = record("byip", "tcp", undefined, { ipaddress: Option.some("10.0.0.5") })
    expect(IfaceChoice.choose(N("byip"), facts([byIp]), true))
      .toMatchObject({ _tag: "Fallback", requested: "byip", reason: { _tag: "SoftwareIpBinding" } })
  })

  it("does not create a record that already exists with identical settings", () => {
    const existing = record("tcp.52:54:00:00:00:e1", "tcp", undefined, { netIfacename: Option.some("eth1") })
    expect(IfaceChoice.choose({ transport: "tcp", netIfacename: "eth1" }, withNetdevs(facts([existing])), true))
      .toEqual(use("tcp.52:54:00:00:00:e1", "default"))
    const offload = record("mine", "bnx2i", hba.toUpperCase())
    expect(IfaceChoice.choose({ name: N("mine"), transport: "bnx2i", hwaddress: hba }, facts([offload], [hba]), true))
      .toMatchObject({ _tag: "Use", iface: "mine", create: Option.none() })
  })

  it("rewrites a record of the same name whose settings differ", () => {
    const stale = record("tcp.52:54:00:00:00:e1", "tcp", undefined, { netIfacename: Option.some("eth2") })
    expect(IfaceChoice.choose({ transport: "tcp", netIfacename: "eth1" }, withNetdevs(facts([stale])), true))
      .toMatchObject({ _tag: "Use", create: Option.some({ netIfacename: Option.some("eth1") }) })
  })

  it("names a record after a netdev without a MAC, with characters an iface name cannot hold as _", () => {
    expect(IfaceChoice.choose({ netIfacename: "eth0@vlan" }, withNetdevs(facts()), true))
      .toMatchObject({ _tag: "Use", iface: "tcp.eth0_vlan" })
    expect(IfaceChoice.specName({ transport: "tcp", netIfacename: "eth0@vlan" })).toBe("tcp.eth0_vlan")
    expect(IfaceChoice.specName({ transport: "default", ipaddress: "10.0.0.5" })).toBe("tcp.10.0.0.5")
    expect(IfaceChoice.specName({ transport: "iser" })).toBe("iser")
    expect(IfaceChoice.specName({ name: N("given"), transport: "bnx2i", hwaddress: hba })).toBe("given")
  })

  it("refuses instead of falling back when ifaceFallback is off", () => {
    expect(IfaceChoice.choose(N("nope"), facts(), false)).toEqual({
      _tag: "Refuse",
      requested: "nope",
      reason: { _tag: "IfaceNotFound" }
    })
    expect(IfaceChoice.choose({ transport: "bnx2i", hwaddress: hba }, facts(), false))
      .toMatchObject({ _tag: "Refuse", reason: { _tag: "TransportNotLoaded" } })
  })

  it("describes every reason without secrets", () => {
    expect(IfaceChoice.describeReason({ _tag: "IfaceNotFound" })).toBe("no such iface record")
    expect(IfaceChoice.describeReason({ _tag: "UnsupportedTransport", transport: "qedi" })).toContain("\"qedi\"")
    expect(IfaceChoice.describeReason({ _tag: "HardwareAbsent", transport: "bnx2i", hwaddress: undefined }))
      .toContain("nothing names the bnx2i HBA")
    expect(IfaceChoice.describeReason({ _tag: "HardwareAbsent", transport: "bnx2i", hwaddress: hba })).toContain(hba)
    expect(IfaceChoice.describeReason({ _tag: "TransportNotLoaded", transport: "qla4xxx" }))
      .toContain("/sys/class/iscsi_transport/qla4xxx")
    expect(IfaceChoice.describeReason({
      _tag: "AddressNotOnHba",
      transport: "qla4xxx",
      hwaddress: hba,
      ipaddress: "10.0.0.8",
      addresses: ["10.0.0.9"]
    })).toContain("10.0.0.9, not 10.0.0.8")
    expect(IfaceChoice.describeReason({ _tag: "NoRdmaDevice" })).toContain("RDMA")
    expect(IfaceChoice.describeReason({ _tag: "NetdevNotFound", by: "ipaddress", value: "10.0.0.5" }))
      .toContain("IP address 10.0.0.5")
    expect(IfaceChoice.describeReason({ _tag: "SoftwareIpBinding" })).toContain("netIfacename")
  })
})

const names = fc.constantFrom("default", "iser", "eth1", "bnx2i.a", "q", "mine", "tcp.eth1", "tcp.eth0_vlan")
const hwaddr = fc.constantFrom("00:0e:1e:00:00:01", "00:0E:1E:00:00:01", "aa:bb:cc:dd:ee:ff", "00:11:22:33:44:55")
const recordTransport = fc.constantFrom(
  "tcp",
  "iser",
  "bnx2i",
  "be2iscsi",
  "cxgb4i",
  "qla4xxx",
  "qedi",
  "ocs",
  "nonsense"
)
const anyRecord = fc.tuple(
  names,
  recordTransport,
  fc.option(hwaddr, { nil: undefined }),
  fc.option(fc.constantFrom("eth1", "eth0@vlan"), { nil: undefined })
)
  .map(([n, t, h, net]) => record(n, t, h, { netIfacename: Option.fromUndefinedOr(net) }))
const spec: fc.Arbitrary<ConnectorOptions.IfaceSpec> = fc.record(
  {
    name: names.map(N),
    transport: fc.constantFrom(...Transport.transports),
    hwaddress: hwaddr,
    ipaddress: fc.constantFrom("10.0.0.5", "fe80::1"),
    netIfacename: fc.constantFrom("eth1", "eth0@vlan", "bond0.100")
  },
  { requiredKeys: [] }
).filter((x) =>
  x.transport !== undefined || x.hwaddress !== undefined || x.ipaddress !== undefined || x.netIfacename !== undefined
)
const requested = fc.oneof(fc.constant(undefined), names.map(N), spec)
/** Network interfaces a host may have: one per name, carrying some of the addresses the specs use. */
const netdevs = fc.subarray([
  { name: "eth1", hwaddress: Option.some("00:11:22:33:44:55"), addresses: ["10.0.0.5"] },
  { name: "bond0.100", hwaddress: Option.some("aa:bb:cc:dd:ee:ff"), addresses: ["fe80::1"] },
  { name: "eth0@vlan", hwaddress: Option.none<string>(), addresses: [] }
])

describe("IfaceChoice.choose properties", () => {
  it("is Use of the requested (or spec) name, or Fallback/Refuse to default: never another iface", () => {
    fc.assert(
      fc.property(
        requested,
        fc.array(anyRecord, { maxLength: 5 }),
        fc.array(hwaddr, { maxLength: 2 }),
        netdevs,
        fc.boolean(),
        (req, ifaces, hbas, nets, allow) => {
          const f = { ...facts(ifaces, hbas), netdevs: nets }
          const choice = IfaceChoice.choose(req, f, allow)
          const wanted = req === undefined ? "default" : typeof req === "string" ? req : IfaceChoice.specName(req)
          switch (choice._tag) {
            case "Use":
              if (typeof req !== "object") expect(Option.isNone(choice.create)).toBe(true)
              if (Transport.isOffload(choice.transport)) {
                // an offload iface is only used through a port of its transport and hardware address on the host
                const p = Option.getOrThrow(choice.port)
                expect(f.hostPorts).toContainEqual(p)
                expect(p.transport).toBe(choice.transport)
                const hw = typeof req === "object"
                  ? req.hwaddress
                  : Option.getOrUndefined(ifaces.find((r) => r.name === req)!.hwaddress)
                if (hw !== undefined) expect(hw.toLowerCase()).toBe(Option.getOrThrow(p.hwaddress))
                // a spec's record is the one made for that port, or named after it
                if (typeof req === "object") {
                  expect(
                    choice.iface === wanted ||
                      choice.iface.startsWith(`${choice.transport}.${Option.getOrThrow(p.hwaddress)}`) ||
                      ifaces.some((r) => r.name === choice.iface)
                  ).toBe(true)
                }
              } else if (typeof req === "object") {
                // a software spec: the built-in iface, or a record binding a network interface the host has
                const bound = Option.getOrUndefined(Option.flatMap(choice.create, (c) => c.netIfacename))
                if (bound !== undefined) expect(nets.map((n) => n.name)).toContain(bound)
                if (Option.isNone(choice.create)) {
                  expect(["default", "iser"].includes(choice.iface) || ifaces.some((r) => r.name === choice.iface))
                    .toBe(true)
                } else {
                  expect(choice.iface === req.name || /^(tcp|iser)\./.test(choice.iface)).toBe(true)
                }
              } else {
                expect(choice.iface).toBe(wanted)
              }
              break
            case "Fallback":
              expect(allow).toBe(true)
              expect([choice.iface, choice.transport, choice.requested]).toEqual(["default", "default", wanted])
              break
            case "Refuse":
              expect(allow).toBe(false)
              expect(choice.requested).toBe(wanted)
              break
          }
          // the fallback switch only turns a Fallback into a Refuse
          const other = IfaceChoice.choose(req, f, !allow)
          expect(other._tag === "Use").toBe(choice._tag === "Use")
          expect(IfaceName.isIfaceName(wanted)).toBe(true)
        }
      ),
      { numRuns: 2000 }
    )
  })
})
