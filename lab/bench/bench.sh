#!/usr/bin/env bash
# `pnpm bench:lab`: builds brick (tsc -b, bundles), boots the lab guest ONCE and runs lab/bench/bench.mjs
# in it (brick vs os-brick vs the floor). Raw output: lab/bench/results/<stamp>.{txt,json}.
# Extra args are passed to lab/run.sh before `--` (e.g. --env BENCH_REPS=7).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -b && node scripts/bundle.mjs
stamp=$(date -u +%Y%m%d-%H%M%S)
out=lab/bench/results/$stamp.txt
mkdir -p lab/bench/results
{
  echo "# pnpm bench:lab  $(date -u '+%Y-%m-%d %H:%M:%S UTC')  commit $(git rev-parse --short HEAD) ($(git status --porcelain -uno -- packages | wc -l) package files modified in the work tree)"
  echo "# host: nproc=$(nproc), CPU:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), guest: qemu TCG -smp 2"
  echo "# host load before: $(cut -d' ' -f1-3 /proc/loadavg); qemu guests running: $(pgrep -c qemu-system || true)"
} > "$out"
set +e
lab/run.sh --timeout "${BENCH_TIMEOUT:-2700}" --env "BENCH_JSON=$PWD/lab/bench/results/$stamp.json" "$@" -- node lab/bench/bench.mjs > >(tee -a "$out") 2> >(tee "lab/bench/results/$stamp.log" >&2)
rc=$?
set -e
sleep 1
echo "# host load after: $(cut -d' ' -f1-3 /proc/loadavg); exit $rc" >> "$out"
echo "results: $out" >&2
exit $rc
