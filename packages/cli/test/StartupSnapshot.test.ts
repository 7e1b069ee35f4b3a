/**
 * What a snapshot build killed midway leaves beside the snapshot (its
 * temporary snapshot, entry script and warm-up root) is removed by the next
 * build; nothing else in the directory is.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as StartupSnapshot from "../src/internal/StartupSnapshot.ts"

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-snapshot-"))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("StartupSnapshot.removeLeftovers", () => {
  it("removes a killed build's .tmp, .cjs and .warm beside the snapshot, and nothing else", () => {
    const blob = path.join(dir, "snapshot-0123456789abcdef01234567-host.blob")
    const other = path.join(dir, "snapshot-fedcba9876543210fedcba98-host.blob")
    const leftovers = [`${blob}.4242.tmp`, `${blob}.4242.cjs`, `${blob}.4243.warm`]
    const kept = [blob, `${blob}.building`, `${blob}.x.tmp`, `${blob}.4242.tmp.keep`, `${other}.4242.tmp`, other]
    for (const f of [...leftovers, ...kept]) {
      if (f.endsWith(".warm")) {
        fs.mkdirSync(path.join(f, "run", "brick", "locks"), { recursive: true })
        fs.writeFileSync(path.join(f, "run", "brick", "locks", "a.lock"), "{}")
      } else {
        fs.writeFileSync(f, "x")
      }
    }
    StartupSnapshot.removeLeftovers(blob)
    expect(fs.readdirSync(dir).sort()).toEqual(kept.map((f) => path.basename(f)).sort())
  })

  it("is silent when the directory is gone", () => {
    expect(() => StartupSnapshot.removeLeftovers(path.join(dir, "missing", "snapshot-x-host.blob"))).not.toThrow()
  })
})
