/**
 * `brick ifaces` and `brick plan --facts` on a simulated host with offload
 * hardware: the HBA port with its transport, hardware and IP addresses and
 * PCI function, the records that use it, records the host cannot serve and
 * why; the plan's by-path names carry the port's PCI function.
 */
import { SimHost } from "@brick/interpreter-sim"
import { describe, expect, it } from "vitest"
import { runCli, volume } from "./CliHarness.ts"

const hw = "00:0e:1e:04:8b:2e"
const spec = {
  targets: [{ iqn: volume.target_iqn, portals: ["10.99.0.1:3260"], luns: [{ lun: 1 }] }],
  latency: "zero" as const,
  transports: ["tcp", "qla4xxx"],
  hbas: [{ transport: "qla4xxx" as const, hwaddress: hw, pciAddress: "0000:03:00.1", ipaddress: "10.99.0.50" }],
  ifaces: [{ name: "bnx2i.00:10:18:aa:bb:cc", transport: "bnx2i", hwaddress: "00:10:18:aa:bb:cc" }]
}

interface Report {
  readonly transports: ReadonlyArray<string>
  readonly ifaces: ReadonlyArray<{ name: string; usable: boolean; reason: string | null; pciAddress: string | null }>
  readonly ports: ReadonlyArray<
    { kind: string; transport: string; pciAddress: string | null; ifaces: ReadonlyArray<string> }
  >
  readonly facts?: { readonly netdevs: ReadonlyArray<{ name: string }> }
}

describe("brick ifaces", () => {
  it("lists every record and the HBA port, usable or why not; --facts adds what was read; changes nothing", async () => {
    const sim = SimHost.make(spec, { seed: 3 })
    const before = sim.snapshot()
    const r = await runCli(["ifaces", "--facts"], { hostFactory: () => sim.layer })
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as Report
    expect(report.transports).toEqual(expect.arrayContaining(["qla4xxx", "tcp"]))
    const byName = new Map(report.ifaces.map((i) => [i.name, i]))
    expect(byName.get("default")).toMatchObject({ usable: true, reason: null })
    expect(byName.get(`qla4xxx.${hw}.ipv4.0`)).toMatchObject({ usable: true, pciAddress: "0000:03:00.1" })
    expect(byName.get("bnx2i.00:10:18:aa:bb:cc")).toMatchObject({ usable: false, reason: "TransportNotLoaded" })
    const port = report.ports.find((p) => p.transport === "qla4xxx")
    expect(port).toMatchObject({ kind: "iscsi_host", pciAddress: "0000:03:00.1", ifaces: [`qla4xxx.${hw}.ipv4.0`] })
    expect(report.facts?.netdevs.map((n) => n.name)).toEqual(["lo", "eth0"])
    expect(sim.snapshot()).toEqual(before)
  })
})

describe("brick plan --facts through an offload HBA", () => {
  it("names the by-path links after the HBA port's PCI function", async () => {
    const sim = SimHost.make(spec, { seed: 3 })
    const files = { "vol.json": JSON.stringify({ driver_volume_type: "iscsi", data: volume }) }
    const r = await runCli(["plan", "--info", "vol.json", "--facts", "--iface", `qla4xxx.${hw}.ipv4.0`], {
      files,
      hostFactory: () => sim.layer
    })
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.stdout)
    expect(plan.iface).toMatchObject({ decision: "use", transport: "qla4xxx" })
    expect(plan.pci).toBe("0000:03:00.1")
    expect(plan.paths[0].byPath).toMatch(/^\/dev\/disk\/by-path\/pci-0000:03:00\.1-ip-10\.99\.0\.1:3260-iscsi-/)
    const none = await runCli(["plan", "--info", "vol.json", "--iface", `qla4xxx.${hw}.ipv4.0`], { files })
    expect(JSON.parse(none.stdout).iface).toMatchObject({ decision: "fallback", reason: "IfaceNotFound" })
  })
})
