// The key of brick's code caches and startup snapshots (scripts/program-hash.mjs) changes with the
// program, with the node flags the snapshot is built and run with, and with the launcher's text: a
// bundle differing in any of them must not start from another bundle's snapshot (node would refuse
// one built under other flags with exit status 14, and the shell prologue could not tell).
import { describe, expect, it } from "vitest"

const { programHash } = await import("../program-hash.mjs")

const base = { source: "program();", nodeFlags: ["--no-opt"], launcherTexts: ["launcher", "snapshot", "cache"] }

describe("programHash", () => {
  it("is 24 hex digits and the same for the same inputs", () => {
    expect(programHash(base)).toMatch(/^[0-9a-f]{24}$/)
    expect(programHash({ ...base, nodeFlags: [...base.nodeFlags] })).toBe(programHash(base))
  })

  it("changes with the program, the node flags and each launcher module's text", () => {
    const hashes = [
      programHash(base),
      programHash({ ...base, source: "program(); " }),
      programHash({ ...base, nodeFlags: [] }),
      programHash({ ...base, nodeFlags: ["--no-opt", "--no-sparkplug"] }),
      programHash({ ...base, launcherTexts: ["launcher2", "snapshot", "cache"] }),
      programHash({ ...base, launcherTexts: ["launcher", "snapshot", "cache2"] })
    ]
    expect(new Set(hashes).size).toBe(hashes.length)
  })

  it("does not confuse where one input ends and the next begins", () => {
    expect(programHash({ ...base, launcherTexts: ["ab", "c", ""] })).not.toBe(
      programHash({ ...base, launcherTexts: ["a", "bc", ""] })
    )
  })
})
