// Prints one closing line, "tests: N passed, N failed, N skipped", from vitest-JSON-shaped
// reports (vitest's own, and lab/test.sh's, written by lab/test/json-reporter.mjs).
// Every report named must exist and show at least one executed test: a missing or
// empty report (e.g. the lab guest ran no test) counts as a failure.
import { readFileSync } from "node:fs"

let passed = 0, failed = 0, skipped = 0
for (const file of process.argv.slice(2)) {
  let report
  try {
    report = JSON.parse(readFileSync(file, "utf8"))
  } catch {
    console.error(`no report in ${file}`)
    failed += 1
    continue
  }
  const passedTests = report.numPassedTests ?? 0
  const failedTests = report.numFailedTests ?? 0
  passed += passedTests
  failed += failedTests > 0 ? failedTests : (report.numFailedTestSuites ?? 0)
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  if (passedTests + failedTests === 0) {
    console.error(`no test ran in ${file}`)
    failed += 1
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
