import { Option } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type ConnectorOptions, IfaceChoice, IfaceName, type Iscsiadm, Transport } from "../src/index.ts"

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
const facts = (
  ifaces: ReadonlyArray<Iscsiadm.IfaceRecord> = [],
  hbaHwaddresses: ReadonlyArray<string> = []
): IfaceChoice.IfaceFacts => ({
  ifaces,
  hbaHwaddresses
})
const hba = "00:0e:1e:00:00:01"

describe("IfaceChoice.choose", () => {
  it("uses open-iscsi's default without a request", () => {
    expect(IfaceChoice.choose(undefined, facts(), true)).toEqual({
      _tag: "Use",
      iface: "default",
      transport: "default",
      create: Option.none()
    })
    expect(IfaceChoice.choose(N("default"), facts(), false)).toEqual({
      _tag: "Use",
      iface: "default",
      transport: "default",
      create: Option.none()
    })
  })

  it("uses the built-in iser iface without a record", () => {
    expect(IfaceChoice.choose(N("iser"), facts(), true)).toMatchObject({
      _tag: "Use",
      iface: "iser",
      transport: "iser"
    })
  })

  it("uses a named tcp record", () => {
    expect(IfaceChoice.choose(N("eth1"), facts([record("eth1", "tcp")]), true))
      .toEqual({ _tag: "Use", iface: "eth1", transport: "default", create: Option.none() })
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

  it("uses an offload record when its HBA is present (hwaddress compared case-insensitively)", () => {
    expect(IfaceChoice.choose(N("bnx2i.x"), facts([record("bnx2i.x", "bnx2i", hba.toUpperCase())], [hba]), true))
      .toEqual({ _tag: "Use", iface: "bnx2i.x", transport: "bnx2i", create: Option.none() })
  })

  it("falls back with HardwareAbsent when an offload record's HBA is missing", () => {
    expect(IfaceChoice.choose(N("bnx2i.x"), facts([record("bnx2i.x", "bnx2i", hba)], ["00:00:00:00:00:02"]), true))
      .toMatchObject({ _tag: "Fallback", iface: "default", reason: { _tag: "HardwareAbsent", hwaddress: hba } })
    expect(IfaceChoice.choose(N("be2"), facts([record("be2", "be2iscsi")], [hba]), true))
      .toMatchObject({ _tag: "Fallback", reason: { _tag: "HardwareAbsent", hwaddress: undefined } })
  })

  it("falls back when an offload spec has no HBA", () => {
    const spec: ConnectorOptions.IfaceSpec = { transport: "cxgb4i", hwaddress: hba }
    expect(IfaceChoice.choose(spec, facts(), true))
      .toEqual({
        _tag: "Fallback",
        iface: "default",
        transport: "default",
        requested: `cxgb4i.${hba}`,
        reason: { _tag: "HardwareAbsent", hwaddress: hba }
      })
  })

  it("creates an offload iface from a spec when the HBA is present", () => {
    const spec: ConnectorOptions.IfaceSpec = { transport: "qla4xxx", hwaddress: hba, ipaddress: "10.0.0.9" }
    expect(IfaceChoice.choose(spec, facts([], [hba]), true)).toEqual({
      _tag: "Use",
      iface: `qla4xxx.${hba}`,
      transport: "qla4xxx",
      create: Option.some({
        transport: "qla4xxx",
        hwaddress: Option.some(hba),
        ipaddress: Option.some("10.0.0.9"),
        netIfacename: Option.none()
      })
    })
  })

  it("refuses to bind an IP address on a software transport (SoftwareIpBinding)", () => {
    expect(IfaceChoice.choose({ transport: "tcp", ipaddress: "10.0.0.5" }, facts(), true))
      .toMatchObject({
        _tag: "Fallback",
        iface: "default",
        requested: "tcp.10.0.0.5",
        reason: { _tag: "SoftwareIpBinding" }
      })
  })

  it("creates a software iface bound to a network interface", () => {
    expect(IfaceChoice.choose({ transport: "tcp", netIfacename: "eth1", ipaddress: "10.0.0.5" }, facts(), true))
      .toEqual({
        _tag: "Use",
        iface: "tcp.eth1",
        transport: "default",
        create: Option.some({
          transport: "default",
          hwaddress: Option.none(),
          ipaddress: Option.none(),
          netIfacename: Option.some("eth1")
        })
      })
  })

  it("does not create a record that already exists with identical settings", () => {
    const existing = record("tcp.eth1", "tcp", undefined, { netIfacename: Option.some("eth1") })
    expect(IfaceChoice.choose({ transport: "tcp", netIfacename: "eth1" }, facts([existing]), true))
      .toEqual({ _tag: "Use", iface: "tcp.eth1", transport: "default", create: Option.none() })
    const offload = record("mine", "bnx2i", hba.toUpperCase())
    expect(IfaceChoice.choose({ name: N("mine"), transport: "bnx2i", hwaddress: hba }, facts([offload], [hba]), true))
      .toMatchObject({ _tag: "Use", iface: "mine", create: Option.none() })
  })

  it("rewrites a record of the same name whose settings differ", () => {
    const stale = record("tcp.eth1", "tcp", undefined, { netIfacename: Option.some("eth2") })
    expect(IfaceChoice.choose({ transport: "tcp", netIfacename: "eth1" }, facts([stale]), true))
      .toMatchObject({ _tag: "Use", iface: "tcp.eth1", create: Option.some({ netIfacename: Option.some("eth1") }) })
  })

  it("refuses instead of falling back when ifaceFallback is off", () => {
    expect(IfaceChoice.choose(N("nope"), facts(), false)).toEqual({
      _tag: "Refuse",
      requested: "nope",
      reason: { _tag: "IfaceNotFound" }
    })
    expect(IfaceChoice.choose({ transport: "bnx2i", hwaddress: hba }, facts(), false))
      .toMatchObject({ _tag: "Refuse", reason: { _tag: "HardwareAbsent" } })
  })

  it("names a spec's record after a netIfacename holding characters an iface name cannot", () => {
    expect(IfaceChoice.specName({ transport: "tcp", netIfacename: "eth0@vlan" })).toBe("tcp.eth0_vlan")
    expect(IfaceChoice.choose({ transport: "tcp", netIfacename: "eth0@vlan" }, facts(), true)).toMatchObject({
      _tag: "Use",
      iface: "tcp.eth0_vlan"
    })
    expect(IfaceChoice.specName({ transport: "default" })).toBe("tcp.brick")
    expect(IfaceChoice.specName({ name: N("given"), transport: "bnx2i", hwaddress: hba })).toBe("given")
  })

  it("describes every reason without secrets", () => {
    expect(IfaceChoice.describeReason({ _tag: "IfaceNotFound" })).toBe("no such iface record")
    expect(IfaceChoice.describeReason({ _tag: "UnsupportedTransport", transport: "qedi" })).toContain("\"qedi\"")
    expect(IfaceChoice.describeReason({ _tag: "HardwareAbsent", hwaddress: undefined })).toContain("(none given)")
    expect(IfaceChoice.describeReason({ _tag: "SoftwareIpBinding" })).toContain("netIfacename")
    expect(IfaceChoice.describeReason({ _tag: "LoginFailed" })).toContain("login")
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
  { requiredKeys: ["transport"] }
)
const requested = fc.oneof(fc.constant(undefined), names.map(N), spec)

describe("IfaceChoice.choose properties", () => {
  it("is Use of the requested (or spec) name, or Fallback/Refuse to default: never another iface", () => {
    fc.assert(
      fc.property(
        requested,
        fc.array(anyRecord, { maxLength: 5 }),
        fc.array(hwaddr, { maxLength: 2 }),
        fc.boolean(),
        (req, ifaces, hbas, allow) => {
          const choice = IfaceChoice.choose(req, facts(ifaces, hbas), allow)
          const wanted = req === undefined ? "default" : typeof req === "string" ? req : IfaceChoice.specName(req)
          switch (choice._tag) {
            case "Use":
              expect(choice.iface).toBe(wanted)
              if (typeof req !== "object") expect(Option.isNone(choice.create)).toBe(true)
              if (Transport.isOffload(choice.transport)) {
                // an offload iface is only used when its HBA is on the host
                const hw = typeof req === "object"
                  ? req.hwaddress
                  : Option.getOrUndefined(ifaces.find((r) => r.name === req)!.hwaddress)
                expect(hbas.some((h) => h.toLowerCase() === hw?.toLowerCase())).toBe(true)
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
          const other = IfaceChoice.choose(req, facts(ifaces, hbas), !allow)
          expect(other._tag === "Use").toBe(choice._tag === "Use")
          expect(IfaceName.isIfaceName(wanted)).toBe(true)
        }
      ),
      { numRuns: 2000 }
    )
  })
})
