// The closing summary (scripts/summarize.mjs, run by scripts/test-all.sh): a skipped test passes
// only when its title or a suite's title names what it needs; any other skip fails the run.
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const summarize = resolve(import.meta.dirname, "../summarize.mjs")
const dir = mkdtempSync(join(tmpdir(), "brick-summary-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Result {
  readonly title: string
  readonly status: "passed" | "failed" | "skipped" | "pending" | "todo"
  readonly ancestorTitles?: ReadonlyArray<string>
  readonly fullName?: string
}

/** A vitest-JSON-shaped report of `results`, written to a file. */
const report = (name: string, results: ReadonlyArray<Result>, overrides: Record<string, unknown> = {}) => {
  const count = (...s: ReadonlyArray<Result["status"]>) => results.filter((r) => s.includes(r.status)).length
  const assertionResults = results.map((r) => ({
    ancestorTitles: r.ancestorTitles ?? [],
    fullName: r.fullName ?? [...(r.ancestorTitles ?? []), r.title].join(" "),
    ...r
  }))
  const file = join(dir, `${name}.json`)
  writeFileSync(
    file,
    JSON.stringify({
      numPassedTests: count("passed"),
      numFailedTests: count("failed"),
      numPendingTests: count("skipped", "pending"),
      numTodoTests: count("todo"),
      testResults: [{ name: "a.test.ts", assertionResults }],
      ...overrides
    })
  )
  return file
}

const run = (...files: ReadonlyArray<string>) =>
  spawnSync(process.execPath, [summarize, ...files], { encoding: "utf8" })

describe("scripts/summarize.mjs", () => {
  it("passes skips that name what they need, listing each", () => {
    const file = report("named", [
      { title: "works", status: "passed" },
      { title: "EACCES (needs a non-root user)", status: "skipped" },
      { title: "lists records", ancestorTitles: ["real iscsiadm: needs iscsiadm"], status: "skipped" }
    ])
    const r = run(file)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain("skipped: EACCES (needs a non-root user)")
    expect(r.stdout).toContain("skipped: real iscsiadm: needs iscsiadm lists records")
    expect(r.stdout.trim().split("\n").at(-1)).toBe("tests: 1 passed, 0 failed, 2 skipped")
  })

  it("fails on a skip or todo that names nothing, naming the test", () => {
    const file = report("unnamed", [
      { title: "works", status: "passed" },
      { title: "resizeMap on multipathd's answer", status: "skipped" },
      { title: "some day", status: "todo" }
    ])
    const r = run(report("fine", [{ title: "ok", status: "passed" }]), file)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("skipped without naming what it needs: resizeMap on multipathd's answer")
    expect(r.stderr).toContain("skipped without naming what it needs: some day")
    expect(r.stdout).toContain("tests: 2 passed, 0 failed, 2 skipped (2 without naming what they need: the run fails)")
  })

  it("reads the lab's reports (suites joined by ' > ' in fullName)", () => {
    const lab = report("lab", [
      { title: "attach", status: "passed", fullName: "brick on the real kernel > attach" },
      { title: "iser", status: "pending", fullName: "brick on the real kernel (needs ib_iser) > iser" }
    ])
    expect(run(lab).status).toBe(0)
  })

  it("fails on skips a report counts but does not itemise", () => {
    const file = report("counted", [{ title: "works", status: "passed" }], { numPendingTests: 3 })
    const r = run(file)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("3 skipped")
  })

  it("fails on a missing report, a failed test and a report where nothing ran", () => {
    expect(run(join(dir, "absent.json")).stderr).toContain("no report in")
    expect(run(join(dir, "absent.json")).status).toBe(1)
    expect(run(report("red", [{ title: "x", status: "failed" }])).status).toBe(1)
    expect(run(report("empty", [])).status).toBe(1)
  })
})
