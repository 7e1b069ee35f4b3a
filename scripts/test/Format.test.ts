// The format check (`dprint check`, part of the test command) fails on a badly formatted file and
// passes once `dprint fmt` has rewritten it, with the project's own dprint.json.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = resolve(import.meta.dirname, "../..")
const dprint = join(root, "node_modules/.bin/dprint")
const dir = mkdtempSync(join(tmpdir(), "brick-format-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const config = JSON.parse(readFileSync(join(root, "dprint.json"), "utf8"))
config.plugins = config.plugins.map((p: string) => resolve(root, p))
writeFileSync(join(dir, "dprint.json"), JSON.stringify(config))

const run = (verb: "check" | "fmt") =>
  spawnSync(dprint, [verb, "--config", join(dir, "dprint.json")], { cwd: dir, encoding: "utf8" })

describe("format check", () => {
  it("fails on a badly formatted file, naming it, and passes after fmt", () => {
    writeFileSync(join(dir, "bad.ts"), "const  x = {a:1,\n b : 'two'};;\nexport   default x\n")
    const before = run("check")
    expect(before.status).not.toBe(0)
    expect(before.stdout + before.stderr).toContain("bad.ts")
    expect(run("fmt").status).toBe(0)
    expect(readFileSync(join(dir, "bad.ts"), "utf8")).toBe("const x = { a: 1, b: \"two\" }\nexport default x\n")
    expect(run("check").status).toBe(0)
  })

  it("holds lines to 120 columns", () => {
    const args = Array.from({ length: 12 }, (_, i) => `argument${i}`).join(", ")
    writeFileSync(join(dir, "long.ts"), `export const f = (g: (...a: Array<number>) => number) => g(${args})\n`)
    expect(run("check").status).not.toBe(0)
    run("fmt")
    const lines = readFileSync(join(dir, "long.ts"), "utf8").split("\n")
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120)
  })
})
