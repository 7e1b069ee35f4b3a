import { Option, Redacted } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ByPath, ConnectorOptions, ConnectPlan, IfaceChoice, IfaceName, Lun, TargetPath } from "../src/index.ts"
import { connectionData, decodeValid } from "./arbitraries.ts"
import { port, withPorts } from "./hostFacts.ts"

const a = "iqn.2010-10.org.x:a"
const b = "iqn.2010-10.org.x:b"
const noFacts = IfaceChoice.noFacts
const options = (o: Partial<ConnectorOptions.ConnectorOptions> = {}): ConnectorOptions.ConnectorOptions => ({
  ...ConnectorOptions.defaults,
  ...o
})
const single = { target_portal: "10.0.0.1", target_iqn: a, target_lun: 1 }
const plural = { ...single, target_portals: ["10.0.0.1", "10.0.0.2"], target_iqns: [a, b], target_luns: [1, 2] }
const plan = (data: unknown, o: Partial<ConnectorOptions.ConnectorOptions> = {}, facts = noFacts) =>
  ConnectPlan.make(decodeValid(data), options(o), facts)

describe("ConnectPlan.make", () => {
  it("plans one path, no discovery, without multipath", () => {
    const p = plan(plural)
    expect(p.multipath).toBe(false)
    expect(p.paths.map((x) => [x.portal, x.iqn, x.lun])).toEqual([["10.0.0.1:3260", a, 1]])
    expect(Option.isNone(p.discovery)).toBe(true)
  })

  it("without multipath, the other listed paths are alternates, in order, without the primary again", () => {
    expect(plan(plural).alternates.map((x) => [x.portal, x.iqn, x.lun])).toEqual([["10.0.0.2:3260", b, 2]])
    const listedOnly = { target_portals: ["10.0.0.3", "10.0.0.1"], target_iqns: [a, a], target_luns: [4, 4] }
    const p = plan(listedOnly)
    expect(p.paths.map((x) => x.portal)).toEqual(["10.0.0.3:3260"])
    expect(p.alternates.map((x) => x.portal)).toEqual(["10.0.0.1:3260"])
    expect(plan(single).alternates).toEqual([])
    expect(plan(plural, { useMultipath: true }).alternates).toEqual([])
  })

  it("discovers through the single portal with multipath and no target_portals", () => {
    const p = plan({
      ...single,
      discovery_auth_method: "CHAP",
      discovery_auth_username: "du",
      discovery_auth_password: "dp"
    }, { useMultipath: true })
    const d = Option.getOrThrow(p.discovery)
    expect(d.portal).toBe("10.0.0.1:3260")
    const auth = Option.getOrThrow(d.auth)
    expect([auth.username, Redacted.value(auth.password)]).toEqual(["du", "dp"])
    expect(Option.isNone(plan(single, { useMultipath: true }).discovery.pipe(Option.flatMap((x) => x.auth)))).toBe(true)
  })

  it("does not discover when the portals are listed", () => {
    expect(Option.isNone(plan(plural, { useMultipath: true }).discovery)).toBe(true)
    expect(
      Option.isNone(
        plan({ ...plural, target_portals: ["10.0.0.1"], target_iqns: [a], target_luns: [1] }, { useMultipath: true })
          .discovery
      )
    ).toBe(true)
    expect(plan(plural, { useMultipath: true }).paths).toHaveLength(2)
  })

  it.each(
    [
      [undefined, 300, 300],
      ["transparent", 300, 300],
      ["SAM", 5, 5],
      ["SAM2", 5, 5],
      ["SAM2", 256, 0x4100],
      ["SAM3-flat", 1, 0x4001]
    ] as const
  )("addressing %s: LUN %d is kernel LUN %d", (mode, lun, kernel) => {
    const p = plan({ ...single, target_lun: lun, ...(mode === undefined ? {} : { addressing_mode: mode }) })
    expect(p.addressingMode).toBe(mode ?? "transparent")
    expect(p.paths[0]!.lun).toBe(lun)
    expect(p.paths[0]!.kernelLun).toBe(kernel)
    expect(p.paths[0]!.byPathName.endsWith(`-lun-${ByPath.lunText(kernel)}`)).toBe(true)
  })

  it("carries CHAP in the node settings only when auth_method is CHAP", () => {
    const chap = plan({ ...single, auth_method: "CHAP", auth_username: "u", auth_password: "p" }).nodeSettings
    const creds = Option.getOrThrow(chap.auth!)
    expect([creds.username, Redacted.value(creds.password)]).toEqual(["u", "p"])
    for (const method of [undefined, "None", "none"]) {
      const s = plan({ ...single, auth_username: "u", auth_password: "p", ...(method ? { auth_method: method } : {}) })
        .nodeSettings
      expect(Option.isNone(s.auth!)).toBe(true)
    }
  })

  it("writes manual startup, the scan mode and the login timeout", () => {
    expect(plan(single).nodeSettings).toMatchObject({
      startup: "manual",
      scan: "manual",
      loginTimeout: 15,
      loginRetryMax: 1
    })
    expect(plan(single, { manualScan: false, loginTimeout: 30 }).nodeSettings).toMatchObject({
      scan: "auto",
      loginTimeout: 30
    })
  })

  it("names by-path links per transport: ip-… for software, pci-<the HBA port's PCI function>-ip-… for offload", () => {
    const sw = plan({ ...single, target_portal: "[fe80::1]:3260" })
    expect(sw.offload).toBe(false)
    expect(Option.isNone(sw.pci)).toBe(true)
    expect(sw.paths[0]!.byPathName).toBe(`ip-fe80::1:3260-iscsi-${a}-lun-1`)
    const hba = "00:0e:1e:00:00:01"
    const facts = withPorts([
      port("bnx2i", "00:0e:1e:00:00:02", { host: 5, pciAddress: Option.some("0000:05:00.0") }),
      port("bnx2i", hba, { host: 6, pciAddress: Option.some("0000:03:00.1") })
    ])
    const off = plan(plural, { iface: { transport: "bnx2i", hwaddress: hba }, useMultipath: true }, facts)
    expect(off.offload).toBe(true)
    expect(off.iface).toMatchObject({ _tag: "Use", transport: "bnx2i", port: Option.some(facts.hostPorts[1]) })
    expect(off.pci).toEqual(Option.some("0000:03:00.1"))
    expect(off.paths.map((p) => p.byPathName)).toEqual([
      `pci-0000:03:00.1-ip-10.0.0.1:3260-iscsi-${a}-lun-1`,
      `pci-0000:03:00.1-ip-10.0.0.2:3260-iscsi-${b}-lun-2`
    ])
    expect(off.paths.every((p) => ByPath.matches(p.byPathName, p, true))).toBe(true)
  })

  it("plans a fallback to default as a software plan, and reports the iface used", () => {
    const p = plan(single, { iface: { transport: "bnx2i", hwaddress: "00:0e:1e:00:00:01" } })
    // with no facts nothing is loaded
    expect(p.iface).toMatchObject({ _tag: "Fallback", iface: "default", reason: { _tag: "TransportNotLoaded" } })
    expect(p.offload).toBe(false)
    expect(Option.getOrThrow(ConnectPlan.ifaceOf(p))).toBe("default")
    const refused = plan(single, { iface: IfaceName.unsafeMake("nope"), ifaceFallback: false })
    expect(refused.iface._tag).toBe("Refuse")
    expect(Option.isNone(ConnectPlan.ifaceOf(refused))).toBe(true)
  })
})

describe("ConnectPlan.make properties", () => {
  it("plans exactly the normalised paths, each with its kernel LUN and by-path name", () => {
    fc.assert(
      fc.property(
        connectionData,
        fc.boolean(),
        fc.constantFrom(undefined, "transparent", "SAM", "SAM2", "SAM3-flat"),
        (raw, multipath, mode) => {
          const data = decodeValid(mode === undefined ? raw : { ...raw, addressing_mode: mode })
          const p = ConnectPlan.make(data, options({ useMultipath: multipath }), noFacts)
          const expected = TargetPath.fromConnectionData(data, multipath)
          expect(p.paths.map(TargetPath.key)).toEqual(expected.map(TargetPath.key))
          for (const path of p.paths) {
            expect(path.kernelLun).toBe(Lun.kernelLun(path.lun, mode ?? "transparent"))
            expect(ByPath.parse(path.byPathName)).toEqual({
              pci: undefined,
              portal: path.portal,
              iqn: path.iqn,
              kernelLun: path.kernelLun
            })
          }
          // discovery only for multipath with a single portal
          expect(Option.isSome(p.discovery)).toBe(multipath && data.target_portals === undefined)
          // CHAP only when asked for
          expect(Option.isSome(p.nodeSettings.auth!)).toBe(data.auth_method === "CHAP")
        }
      ),
      { numRuns: 1000 }
    )
  })
})
