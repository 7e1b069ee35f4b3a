#!/usr/bin/env bash
# `pnpm test:lab`: the real-kernel tests, in ONE boot of the lab guest.
#
#   bash lab/test.sh                         build, boot once, run every *.lab.test.ts, report
#   BRICK_LAB_TESTS=a,b bash lab/test.sh    only lab test files whose path contains a or b
#   BRICK_LAB_SKIP=c,d bash lab/test.sh     not those whose path contains c or d
#   BRICK_LAB_TESTS=soak bash lab/test.sh   the randomized soak alone (BRICK_SOAK_SEED, BRICK_SOAK_ROUNDS)
#   BRICK_LAB_BUNDLE=0 bash lab/test.sh     import the compiled files one by one (no bundle)
#   BRICK_LAB_JSON=FILE bash lab/test.sh     also copy the JSON report to FILE (scripts/test-all.sh)
#
# 1. On the host: `tsc -b` (the guest runs the compiled JS of the tests; it has no
#    network and no pnpm), then lab/build.sh (a no-op when the image is cached).
#    Then bundles every compiled lab test (packages/*/dist/test/*.lab.test.js,
#    examples/dist/test/*.lab.test.js) with what they import into one file
#    (lab/test/bundle-lab-tests.mjs, rolldown): a cold import of effect + the packages,
#    ~400 modules over 9p under TCG, took 37-188 s in the guest.
# 2. Boots the guest once and runs node's own test runner there on that file, in one
#    process: the tests run one after the other.
# 3. Writes lab/.out/test-<stamp>/{report.json,run.log}: report.json is vitest-JSON
#    shaped ({numPassedTests, numFailedTests, numPendingTests, testResults: ...}, see
#    lab/test/json-reporter.mjs), run.log the whole captured output with the build and
#    boot times and a per-test time table; prints run.log at the end.
# Exit status: non-zero when a test failed, no test ran, the build failed or the guest
# did not report (timeout 124, no result 125). The guest's limit is BRICK_LAB_TIMEOUT
# (default 3000 s, within CI's 90 min with setup and unit tests); the report is rewritten after every
# test, so a run cut short still reports what ran, plus one failure for the cut.
set -uo pipefail
cd "$(dirname "$0")/.."
PROJECT=$(pwd -P)
STAMP=$(date +%Y%m%d-%H%M%S)
OUT="lab/.out/test-$STAMP-$$"
mkdir -p "$OUT"
LOG="$OUT/run.log"
REPORT="$OUT/report.json"
: >"$LOG"
# keep the 10 newest test dirs
ls -1d lab/.out/test-*/ 2>/dev/null | sort | head -n -10 | xargs -r rm -rf

say() { printf '[lab/test %s] %s\n' "$(date +%T)" "$*" | tee -a "$LOG" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }
finish() {
    local rc=$1
    if [ -n "${BRICK_LAB_JSON:-}" ]; then
        if [ -s "$REPORT" ]; then cp "$REPORT" "$BRICK_LAB_JSON"; else rm -f "$BRICK_LAB_JSON"; fi
    fi
    say "exit $rc; log $LOG, report $REPORT"
    exit "$rc"
}

say "lab tests: build on the host (tsc -b)"
t0=$(now)
# the project's build: tsc -b, plus the one-file `brick` (packages/cli/dist/brick.mjs) when
# the repo bundles it (the CLI lab tests prefer it: 1 module to load over 9p, not ~375)
if ! { npx tsc -b && { [ ! -f scripts/bundle.mjs ] || node scripts/bundle.mjs; }; } >>"$LOG" 2>&1; then
    cat "$LOG"
    say "tsc -b failed"
    finish 1
fi
t1=$(now)
say "tsc -b (+ scripts/bundle.mjs): $(secs "$t0" "$t1")s"
if ! bash lab/build.sh >>"$LOG" 2>&1; then
    cat "$LOG"
    say "lab/build.sh failed"
    finish 1
fi
t2=$(now)
say "lab/build.sh: $(secs "$t1" "$t2")s ($(tail -1 "$LOG"))"
if [ "${BRICK_LAB_BUNDLE:-1}" = 1 ]; then
    if ! node lab/test/bundle-lab-tests.mjs "$OUT/lab-tests.mjs" >>"$LOG" 2>&1; then
        cat "$LOG"
        say "bundling the lab tests failed"
        finish 1
    fi
    entry="$OUT/lab-tests.mjs"
else
    entry=lab/test/run-lab-tests.mjs
fi
t2b=$(now)
say "bundle: $(secs "$t2" "$t2b")s ($(tail -1 "$LOG"))"

timeout=${BRICK_LAB_TIMEOUT:-3600}
say "booting the guest (timeout ${timeout}s)"
guest=(node
    --test-reporter=spec --test-reporter-destination=stdout
    --test-reporter="$PROJECT/lab/test/json-reporter.mjs" --test-reporter-destination=/dev/null
    "$entry")
# the reporter rewrites the report after every test: a run cut short still leaves one
bash lab/run.sh --timeout "$timeout" --merge --cwd . --env NO_COLOR=1 --env BRICK_LAB_REPORT="$PROJECT/$REPORT" \
    -- "${guest[@]}" >"$OUT/guest.log" 2>&1
rc=$?
t3=$(now)
cat "$OUT/guest.log" >>"$LOG"
rundir=$(grep -oE 'run dir lab/\.out/[^ ]+' "$OUT/guest.log" | head -1 | cut -d' ' -f3)
ready=$(cat "$rundir/ready-seconds" 2>/dev/null || echo '?')
{
    echo
    echo "== times"
    echo "tsc -b $(secs "$t0" "$t1")s; lab/build.sh $(secs "$t1" "$t2")s; bundle $(secs "$t2" "$t2b")s; guest ready at ${ready}s ($(tr '\n' ' ' <"$rundir/boot-times" 2>/dev/null)); guest run (boot + tests + poweroff) $(secs "$t2b" "$t3")s; rc=$rc"
    if [ -s "$REPORT" ] && [ "$rc" != 0 ]; then
        # a run that did not end by itself (guest timeout 124, no result 125, a crash)
        # counts as one more failed test, whatever its partial report says
        node -e '
            const fs = require("fs"), [file, rc] = process.argv.slice(1)
            const r = JSON.parse(fs.readFileSync(file, "utf8"))
            if (!r.complete || r.numFailedTests === 0) {
              r.numFailedTests += 1
              r.success = false
              r.testResults.push({ name: "lab/test.sh", status: "failed", assertionResults: [{ fullName: `the lab run (rc=${rc}${r.complete ? "" : ", cut short"})`, title: "the lab run", status: "failed", duration: 0, failureMessages: [`lab/run.sh exited ${rc}`] }] })
              fs.writeFileSync(file, JSON.stringify(r, null, 2) + "\n")
            }
        ' "$REPORT" "$rc"
    fi
    if [ -s "$REPORT" ]; then
        node -e '
            const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
            for (const f of r.testResults) {
              console.log(f.name.replace(/^.*?\/(packages\/|examples\/)/, "$1"))
              for (const a of f.assertionResults) console.log(`  ${a.status.padEnd(7)} ${(a.duration / 1000).toFixed(1).padStart(6)}s  ${a.fullName}`)
            }
            console.log(`modules loaded in the guest in ${r.loadSeconds ?? "?"}s (process start to first test)`)
            // every failure message again, at the end, where a reader of only the tail sees it
            for (const f of r.testResults) {
              for (const a of f.assertionResults.filter((a) => a.status === "failed")) {
                const lines = a.failureMessages.join("\n").split("\n")
                console.log(`why failed: ${a.fullName}`)
                for (const line of lines.slice(0, 40)) console.log(`  | ${line}`)
                if (lines.length > 40) console.log(`  | … ${lines.length - 40} more lines in run.log`)
              }
            }
            console.log(`lab: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)
        ' "$REPORT"
    else
        echo "no report: the guest wrote none (rc=$rc)"
    fi
} >>"$LOG"
cat "$LOG"
if [ ! -s "$REPORT" ]; then
    [ "$rc" = 0 ] && rc=1
    finish "$rc"
fi
if ! node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(r.numFailedTests === 0 && r.numPassedTests > 0 ? 0 : 1)' "$REPORT"; then
    [ "$rc" = 0 ] && rc=1
fi
finish "$rc"
