#!/usr/bin/env bash
# Runs every test: format check, type-check, unit and property tests (simulated host), then
# the real-kernel tests inside the lab guest. Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
PNPM=(npx -y pnpm@12.21.0)
out=$(mktemp -d)
status=0
"${PNPM[@]}" run build || exit 1
"${PNPM[@]}" exec dprint check || status=1
"${PNPM[@]}" exec vitest run --reporter=default --reporter=json --outputFile.json="$out/unit.json" || status=1
reports=("$out/unit.json")
if [ "${BRICK_SKIP_LAB:-0}" != 1 ]; then
  # the lab's report must exist and show tests run: summarize.mjs fails a missing or empty one
  reports+=("$out/lab.json")
  BRICK_LAB_JSON="$out/lab.json" bash lab/test.sh || status=1
fi
node scripts/summarize.mjs "${reports[@]}" || status=1
exit $status
