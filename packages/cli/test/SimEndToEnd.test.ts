/**
 * The whole CLI (parsing, input, programs, output, errors) end to end on a
 * simulated host, installed in-process through `Main.run`'s hostFactory —
 * no hidden flag in the shipped CLI. Checks results, exit codes, a clean
 * host after disconnect, and that no secret reaches stdout or stderr even
 * at `--log-level all`.
 */
import { SimHost, SimSnapshot } from "@brick/interpreter-sim"
import { describe, expect, it } from "vitest"
import { runCli, secrets, volume } from "./CliHarness.ts"

const iqn = volume.target_iqn
const spec = {
  targets: [{
    iqn,
    portals: ["10.99.0.1:3260", "10.99.0.2:3260"],
    luns: [{ lun: 1, sizeBytes: 64 * 1024 * 1024 }],
    chap: {
      username: volume.auth_username,
      password: volume.auth_password,
      mutual: { username: volume.auth_username_in, password: volume.auth_password_in }
    }
  }],
  latency: "zero" as const,
  udev: { delayMs: 5 },
  multipathd: { running: true, mapDelayMs: 5 }
}
const files = { "vol.json": JSON.stringify({ driver_volume_type: "iscsi", data: volume }) }

const noSecrets = (text: string) => {
  for (const s of secrets) expect(text).not.toContain(s)
}

describe("brick on a simulated host", () => {
  it("connect --multipath returns the dm device; disconnect leaves the host as it was", async () => {
    const sim = SimHost.make(spec, { seed: 7 })
    const before = sim.snapshot()
    const hostFactory = () => sim.layer
    const c = await runCli(["connect", "--info", "vol.json", "--multipath", "--log-level", "all"], {
      files,
      hostFactory
    })
    noSecrets(c.stdout + c.stderr)
    expect(c.code).toBe(0)
    const device = JSON.parse(c.stdout)
    expect(device).toMatchObject({ type: "block", scsi_wwn: sim.wwn(iqn, 1), multipath_id: sim.wwn(iqn, 1) })
    expect(device.path).toMatch(/^\/dev\/dm-\d+$/)
    for (const line of c.stderr.trim().split("\n")) expect(JSON.parse(line)).toHaveProperty("level")
    expect(sim.snapshot().sessions).toHaveLength(2)

    const d = await runCli([
      "disconnect",
      "--info",
      "vol.json",
      "--device",
      "dev.json",
      "--multipath",
      "--log-level",
      "all"
    ], {
      files: { ...files, "dev.json": c.stdout },
      hostFactory
    })
    noSecrets(d.stdout + d.stderr)
    expect(d.code).toBe(0)
    expect(JSON.parse(d.stdout)).toEqual({ disconnected: true })
    expect(SimSnapshot.isEmpty(SimSnapshot.diff(before, await sim.snapshot()))).toBe(true)
  })

  it("a wrong CHAP password: exit 4 (AuthenticationFailed), one JSON object, host unchanged", async () => {
    const sim = SimHost.make(spec, { seed: 8 })
    const before = sim.snapshot()
    const wrong = { ...volume, auth_password: "Wrong-Passw0rd-123" }
    const r = await runCli(["connect", "--info", "-", "--multipath", "--log-level", "none"], {
      stdin: JSON.stringify(wrong),
      hostFactory: () => sim.layer
    })
    expect(r.code).toBe(4)
    expect(r.stdout).toBe("")
    expect(r.stderrJson).toHaveLength(1)
    expect(r.stderrJson[0]).toMatchObject({
      error: "ConnectError",
      kind: "AuthenticationFailed",
      reason: { _tag: "LoginFailed" }
    })
    expect(r.stderr).not.toContain("Wrong-Passw0rd-123")
    noSecrets(r.stderr)
    expect(SimSnapshot.isEmpty(SimSnapshot.diff(before, sim.snapshot()))).toBe(true)
  })

  it("paths, properties and extend", async () => {
    const sim = SimHost.make(spec, { seed: 9 })
    const hostFactory = () => sim.layer
    const p = await runCli(["paths", "--info", "vol.json", "--multipath"], { files, hostFactory })
    expect(p.code).toBe(0)
    expect(JSON.parse(p.stdout)).toEqual([
      `/dev/disk/by-path/ip-10.99.0.1:3260-iscsi-${iqn}-lun-1`,
      `/dev/disk/by-path/ip-10.99.0.2:3260-iscsi-${iqn}-lun-1`
    ])
    const props = await runCli(["properties", "--multipath"], { hostFactory })
    expect(props.code).toBe(0)
    expect(JSON.parse(props.stdout)).toMatchObject({ multipath: true, multipathd_running: true })

    const notAttached = await runCli(["extend", "--info", "vol.json"], { files, hostFactory })
    expect(notAttached.code).toBe(9)
    expect(notAttached.stderrJson.at(-1)).toMatchObject({ error: "ExtendError", reason: { _tag: "NotAttached" } })

    const c = await runCli(["connect", "--info", "vol.json", "--log-level", "none"], { files, hostFactory })
    expect(c.code).toBe(0)
    sim.resizeLun(iqn, 1, 128 * 1024 * 1024)
    const e = await runCli(["extend", "--info", "vol.json", "--log-level", "none"], { files, hostFactory })
    expect(e.code).toBe(0)
    expect(JSON.parse(e.stdout)).toEqual({ size: 128 * 1024 * 1024 })
  })
})
