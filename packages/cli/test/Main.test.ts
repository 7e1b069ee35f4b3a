import { describe, expect, it } from "vitest"
import { ExitCodes } from "../src/index.ts"
import { forbiddenHost, runCli, secrets, volume } from "./CliHarness.ts"

const commands = ["connect", "disconnect", "extend", "paths", "properties", "plan"] as const
const files = { "vol.json": JSON.stringify(volume) }

describe("brick: command line", () => {
  it.each(commands)("%s --help prints its usage on stdout and exits 0", async (name) => {
    const r = await runCli([name, "--help"], { hostFactory: forbiddenHost })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`brick ${name}`)
    expect(r.stdout).toContain("USAGE")
    expect(r.stdout).toContain("--root")
    expect(r.stderr).toBe("")
  })

  it("brick --help lists every command", async () => {
    const r = await runCli(["--help"])
    expect(r.code).toBe(0)
    for (const name of commands) expect(r.stdout).toContain(name)
  })

  it("--version prints the version", async () => {
    const r = await runCli(["--version"])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^brick \d+\.\d+\.\d+/)
  })

  it.each([
    [["frob"], "Unknown subcommand"],
    [["plan"], "--info"],
    [["plan", "--info", "vol.json", "--bogus"], "--bogus"],
    [["plan", "--info", "vol.json", "--scan-attempts", "many"], "--scan-attempts"],
    [[], "a command is required"]
  ])("usage error %j exits 64 with one JSON object", async (argv, mention) => {
    const r = await runCli(argv, { files, hostFactory: forbiddenHost })
    expect(r.code).toBe(ExitCodes.exitCodes.Usage)
    expect(r.stderrJson).toHaveLength(1)
    expect(r.stderrJson[0]).toMatchObject({ error: "UsageError", kind: "Usage" })
    expect(String(r.stderrJson[0]!["message"])).toContain(mention)
  })

  it("only one document can come from stdin", async () => {
    const r = await runCli(["disconnect", "--info", "-", "--device", "-"], { hostFactory: forbiddenHost })
    expect(r.code).toBe(64)
    expect(r.stderrJson[0]!["message"]).toContain("stdin")
  })

  it("bad device info names its field, before any host", async () => {
    const r = await runCli(["disconnect", "--info", "vol.json", "--device", "dev.json"], {
      files: { ...files, "dev.json": JSON.stringify({ type: "block", path: "/etc/passwd", scsi_wwn: "3600" }) },
      hostFactory: forbiddenHost
    })
    expect(r.code).toBe(2)
    expect(r.stderrJson[0]).toMatchObject({
      error: "InvalidInput",
      fields: ["path"],
      reason: { source: "device_info" }
    })
  })

  it("global flags go before or after the command", async () => {
    const a = await runCli(["--multipath", "plan", "--info", "vol.json"], { files })
    const b = await runCli(["plan", "--info", "vol.json", "--multipath"], { files })
    expect(a.code).toBe(0)
    expect(a.stdout).toBe(b.stdout)
    expect(JSON.parse(a.stdout).multipath).toBe(true)
  })
})

describe("brick: input errors", () => {
  it("malformed connection info names the field, exits 2, builds no host", async () => {
    const bad = {
      ...volume,
      target_iqn: "not-an-iqn",
      target_portals: undefined,
      target_iqns: undefined,
      target_luns: undefined
    }
    const r = await runCli(["connect", "--info", "bad.json"], {
      files: { "bad.json": JSON.stringify(bad) },
      hostFactory: forbiddenHost
    })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe("")
    expect(r.stderrJson).toHaveLength(1)
    const e = r.stderrJson[0]!
    expect(e["error"]).toBe("InvalidInput")
    expect(e["fields"]).toEqual(["target_iqn"])
    expect(r.stderr).not.toContain(volume.auth_password)
  })

  it("invalid JSON gives a position, never the text", async () => {
    const r = await runCli(["plan", "--info", "-"], { stdin: `{"auth_password": "${volume.auth_password}` })
    expect(r.code).toBe(2)
    expect(r.stderrJson[0]).toMatchObject({ error: "InvalidInput", fields: ["(input)"] })
    expect(r.stderr).not.toContain(volume.auth_password)
    expect(r.stderr).not.toContain("auth_password")
  })

  it("an unreadable file exits 66", async () => {
    const r = await runCli(["plan", "--info", "missing.json"])
    expect(r.code).toBe(ExitCodes.exitCodes.InputUnreadable)
    expect(r.stderrJson[0]).toMatchObject({ error: "InputUnreadable", flag: "--info", path: "missing.json" })
  })

  it("bad options name the option, from flags and from --options", async () => {
    const r = await runCli(["plan", "--info", "vol.json", "--options", "opts.json", "--scan-attempts", "0"], {
      files: { ...files, "opts.json": JSON.stringify({ loginTimeout: -1, iface: { transport: "carrier-pigeon" } }) },
      hostFactory: forbiddenHost
    })
    expect(r.code).toBe(2)
    const fields = r.stderrJson[0]!["fields"] as Array<string>
    expect(fields).toEqual(expect.arrayContaining(["deviceScanAttempts", "loginTimeout"]))
    expect(fields.some((f) => f.startsWith("iface"))).toBe(true)
  })
})

describe("brick plan", () => {
  it("prints paths, by-path names and redacted commands, building no host", async () => {
    const r = await runCli(["plan", "--info", "vol.json", "--multipath", "--iface", "iface0"], {
      files,
      hostFactory: forbiddenHost
    })
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.stdout)
    expect(plan.paths.map((p: { portal: string }) => p.portal)).toEqual(["10.99.0.1:3260", "10.99.0.2:3260"])
    expect(plan.paths[0].byPath).toBe(
      "/dev/disk/by-path/ip-10.99.0.1:3260-iscsi-iqn.2003-01.org.linux-iscsi.lab:vol1-lun-1"
    )
    expect(plan.iface).toMatchObject({
      decision: "fallback",
      name: "default",
      requested: "iface0",
      reason: "IfaceNotFound"
    })
    expect(plan.session).toMatchObject({ auth: "CHAP", mutualChap: true })
    const logins = plan.commands.filter((c: string) => c.endsWith("--login"))
    expect(logins).toHaveLength(2)
    expect(plan.commands.join("\n")).toContain("node.session.auth.password -v <redacted>")
    for (const s of secrets) {
      expect(r.stdout).not.toContain(s)
      expect(r.stderr).not.toContain(s)
    }
  })

  it("refuses the iface when fallback is off", async () => {
    const r = await runCli(["plan", "--info", "vol.json", "--iface", "iface0", "--no-iface-fallback"], { files })
    const plan = JSON.parse(r.stdout)
    expect(plan.iface.decision).toBe("refuse")
    expect(plan.commands).toEqual([])
    expect(plan.outcome).toContain("would fail")
  })

  it("uses --iscsiadm and --command-prefix in the commands", async () => {
    const r = await runCli(
      ["plan", "--info", "vol.json", "--iscsiadm", "/opt/bin/iscsiadm", "--command-prefix", "nsenter -t 1 -m -n --"],
      { files }
    )
    const plan = JSON.parse(r.stdout)
    expect(plan.commands[0]).toMatch(/^nsenter -t 1 -m -n -- \/opt\/bin\/iscsiadm -m node /)
  })

  it("discovers first with multipath and a single portal", async () => {
    const single = {
      target_portal: "[fd00::1]:3260",
      target_iqn: volume.target_iqn,
      target_lun: 300,
      addressing_mode: "SAM2"
    }
    const r = await runCli(["plan", "--info", "-", "--multipath"], { stdin: JSON.stringify(single) })
    const plan = JSON.parse(r.stdout)
    expect(plan.discovery).toMatchObject({ portal: "[fd00::1]:3260", auth: "None" })
    expect(plan.paths[0].kernelLun).toBe(300 | 0x4000)
    expect(plan.commands[0]).toContain("-m discovery -t sendtargets -p '[fd00::1]:3260'")
  })
})
