// node:test reporter writing a vitest-JSON-shaped summary (what scripts/summarize.mjs reads):
// {numTotalTests, numPassedTests, numFailedTests, numPendingTests, numTodoTests, success,
//  testResults: [{name, assertionResults: [{fullName, status, duration, failureMessages}]}]}.
// testResults are grouped by top-level suite. Suites (describe) are not counted; a failure outside any test (a hook, a file that throws
// on import) counts as a failed test so it cannot go unnoticed.
// With BRICK_LAB_REPORT=FILE it also rewrites FILE after every test ("complete": false
// until the run ends), so a run cut short by the guest's timeout still leaves its results.
import { writeFileSync } from "node:fs"

export default async function* jsonReporter(source) {
  const progressFile = process.env.BRICK_LAB_REPORT
  const files = new Map()
  const counts = { passed: 0, failed: 0, pending: 0, todo: 0 }
  const startTime = Date.now()
  const names = []
  let loadSeconds
  for await (const event of source) {
    const d = event.data
    if (event.type === "test:start") {
      // seconds from process start to the first test: loading the (bundled) modules
      loadSeconds ??= Math.round(process.uptime() * 10) / 10
      names[d.nesting] = d.name
      continue
    }
    if (event.type !== "test:pass" && event.type !== "test:fail") continue
    names[d.nesting] = d.name
    const isSuite = d.details?.type === "suite"
    // a suite that failed by itself (hook) while its tests did not: count it
    if (isSuite && !(event.type === "test:fail" && d.details?.error?.failureType !== "subtestsFailed")) continue
    const status = d.skip !== undefined
      ? "pending"
      : d.todo !== undefined
      ? "todo"
      : event.type === "test:pass"
      ? "passed"
      : "failed"
    counts[status] += 1
    // grouped by top-level suite (the tests may all come from one bundled file)
    const file = d.nesting > 0 ? names[0] : (d.file ?? "(top level)")
    if (!files.has(file)) files.set(file, [])
    const err = d.details?.error
    files.get(file).push({
      fullName: names.slice(0, d.nesting + 1).join(" > "),
      title: d.name,
      status,
      duration: Math.round(d.details?.duration_ms ?? 0),
      failureMessages: err ? [String(err.cause?.stack ?? err.cause ?? err.message ?? err)] : []
    })
    if (progressFile) writeFileSync(progressFile, render(false))
  }
  yield render(true)
  if (progressFile) writeFileSync(progressFile, render(true))

  function render(complete) {
    return JSON.stringify(
      {
        numTotalTests: counts.passed + counts.failed + counts.pending + counts.todo,
        numPassedTests: counts.passed,
        numFailedTests: counts.failed,
        numPendingTests: counts.pending,
        numTodoTests: counts.todo,
        startTime,
        loadSeconds: loadSeconds ?? null,
        success: counts.failed === 0,
        testResults: Array.from(files, ([name, assertionResults]) => ({
          name,
          status: assertionResults.some((a) => a.status === "failed") ? "failed" : "passed",
          assertionResults
        })),
        complete
      },
      null,
      2
    ) + "\n"
  }
}
