import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { ExitCodes } from "../src/index.ts"

describe("exit codes", () => {
  it("are the published table (a contract: never renumber)", () => {
    expect(ExitCodes.exitCodes).toEqual({
      Ok: 0,
      Failed: 1,
      InvalidInput: 2,
      LoginFailed: 3,
      AuthenticationFailed: 4,
      DeviceNotFound: 5,
      MultipathNotFormed: 6,
      LockTimeout: 7,
      DisconnectFailed: 8,
      ExtendFailed: 9,
      IfaceUnusable: 10,
      HostToolFailed: 11,
      PermissionDenied: 12,
      DiscoveryFailed: 13,
      ReadOnlyDevice: 14,
      Usage: 64,
      InputUnreadable: 66,
      Internal: 70,
      Interrupted: 130
    })
  })

  it("are distinct, and only success is 0", () => {
    const codes = Object.values(ExitCodes.exitCodes)
    expect(new Set(codes).size).toBe(codes.length)
    expect(codes.filter((c) => c === 0)).toHaveLength(1)
    for (const c of codes) expect(c).toBeLessThan(256)
  })

  it("are documented in packages/cli/README.md", () => {
    const readme = fs.readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8")
    expect(readme).toContain(ExitCodes.markdown())
  })
})
