/**
 * The Promise facade (`@brick/interpreter-node`'s createConnector) on the
 * simulated host through its `layer` parameter: results, typed BrickError
 * rejections naming fields, no secret in errors.
 */
import { Connector } from "@brick/interpreter-node"
import { SimHost, SimSnapshot } from "@brick/interpreter-sim"
import { describe, expect, it } from "vitest"

const iqn = "iqn.2010-10.org.openstack:volume-facade"
const password = "Facade-S3cret-pw"
const spec = {
  targets: [{
    iqn,
    portals: ["10.99.0.1:3260", "10.99.0.2:3260"],
    luns: [{ lun: 0, sizeBytes: 1024 ** 3 }],
    chap: { username: "user", password }
  }],
  latency: "zero" as const,
  udev: { delayMs: 1 },
  multipathd: { running: true, mapDelayMs: 1 }
}
const info = {
  target_portals: ["10.99.0.1:3260", "10.99.0.2:3260"],
  target_iqns: [iqn, iqn],
  target_luns: [0, 0],
  auth_method: "CHAP",
  auth_username: "user",
  auth_password: password
}

describe("createConnector (Promise facade)", () => {
  it("connects, reports paths, properties and size, and disconnects cleanly", async () => {
    const sim = SimHost.make(spec, { seed: 1 })
    const before = sim.snapshot()
    const logs: Array<string> = []
    const connector = Connector.createConnector({
      options: { useMultipath: true },
      layer: sim.layer,
      onLog: (r) => logs.push(`${r.level} ${r.message}`),
      logLevel: "Debug"
    })
    try {
      const device = await connector.connectVolume(info)
      expect(device).toMatchObject({ type: "block", scsi_wwn: sim.wwn(iqn, 0), multipath_id: sim.wwn(iqn, 0) })
      expect(device.path).toMatch(/^\/dev\/dm-\d+$/)
      expect(await connector.getVolumePaths(info)).toHaveLength(2)
      expect(await connector.getConnectorProperties()).toMatchObject({ multipath: true })
      expect(await connector.extendVolume(info)).toBe(1024 ** 3)
      await connector.disconnectVolume(info, device)
      expect(SimSnapshot.isEmpty(SimSnapshot.diff(before, sim.snapshot()))).toBe(true)
      expect(logs.length).toBeGreaterThan(0)
      expect(logs.join("\n")).not.toContain(password)
    } finally {
      await connector.close()
    }
  })

  it("rejects bad input with a BrickError naming the field, before touching the host", async () => {
    const sim = SimHost.make(spec, { seed: 2 })
    const connector = Connector.createConnector({ layer: sim.layer })
    const error = await connector.connectVolume({ ...info, target_luns: [0, 99999] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Connector.BrickError)
    const e = error as Connector.BrickError
    expect(e.tag).toBe("InvalidInput")
    expect(e.invalidFields).toEqual(["target_luns[1]"])
    expect(JSON.stringify(e.toJSON()) + e.message).not.toContain(password)
    expect(sim.totalOps()).toBe(0)
    await connector.close()
  })

  it("rejects a failed login with tag and reason, and no secret", async () => {
    const sim = SimHost.make(spec, { seed: 3 })
    const connector = Connector.createConnector({ layer: sim.layer })
    const e =
      (await connector.connectVolume({ ...info, auth_password: "wrong-password-1" }).catch((x: unknown) =>
        x
      )) as Connector.BrickError
    expect(e.tag).toBe("ConnectError")
    expect((e.reason as { _tag: string })._tag).toBe("LoginFailed")
    expect(JSON.stringify(e.toJSON()) + e.message + String(e.stack)).not.toContain("wrong-password-1")
    await connector.close()
  })

  it("throws at creation on invalid options, naming the option", () => {
    expect(() => Connector.createConnector({ options: { deviceScanAttempts: 0 } })).toThrow(/deviceScanAttempts/)
  })
})
