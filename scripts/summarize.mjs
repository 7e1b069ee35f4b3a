// Prints one closing line, "tests: N passed, N failed, N skipped", from vitest-JSON-shaped
// reports (vitest's own, and lab/test.sh's, written by lab/test/json-reporter.mjs).
// Every report named must exist and show at least one executed test: a missing or
// empty report (e.g. the lab guest ran no test) counts as a failure.
// A skipped (or todo) test fails the run unless its title, or a suite's title above it,
// names what it needs ("... needs root", "... (needs a non-root user)"): a skip is then
// listed with that reason, and a skip that names nothing is a test that silently never runs.
import { readFileSync } from "node:fs"
import { pathToFileURL } from "node:url"

/** Whether a title names what the test needs to run. */
export const namesNeed = (title) => /\bneeds \S/.test(title)

/** The skipped tests of a report: their names, and how many name no need. */
export const skipsOf = (report) => {
  const listed = (report.testResults ?? []).flatMap((file) =>
    (file.assertionResults ?? []).filter((a) => a.status === "skipped" || a.status === "pending" || a.status === "todo")
  )
  const named = listed.filter((a) => [a.fullName, a.title, ...(a.ancestorTitles ?? [])].some((t) => namesNeed(t ?? "")))
  const total = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  return {
    total,
    named: named.map((a) => a.fullName ?? a.title),
    unnamed: listed.filter((a) => !named.includes(a)).map((a) => a.fullName ?? a.title),
    // a count the report does not itemise cannot show a reason either
    unlisted: Math.max(0, total - listed.length)
  }
}

const main = (files) => {
  let passed = 0, failed = 0, skipped = 0, unnamed = 0
  for (const file of files) {
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
    if (passedTests + failedTests === 0) {
      console.error(`no test ran in ${file}`)
      failed += 1
    }
    const skips = skipsOf(report)
    skipped += skips.total
    for (const name of skips.named) console.log(`skipped: ${name}`)
    for (const name of skips.unnamed) console.error(`skipped without naming what it needs: ${name}`)
    if (skips.unlisted > 0) console.error(`${skips.unlisted} skipped in ${file}, not itemised`)
    unnamed += skips.unnamed.length + skips.unlisted
  }
  const why = unnamed > 0 ? ` (${unnamed} without naming what they need: the run fails)` : ""
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped${why}`)
  return failed > 0 || unnamed > 0 || passed === 0 ? 1 : 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(main(process.argv.slice(2)))
}
