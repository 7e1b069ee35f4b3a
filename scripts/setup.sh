#!/usr/bin/env bash
# Installs everything brick needs on a new machine: pnpm's packages, the build,
# and the Debian packages of the real iSCSI lab (qemu, debootstrap, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM=(npx -y pnpm@12.21.0)
"${PNPM[@]}" install --frozen-lockfile
"${PNPM[@]}" run build
if [ "${BRICK_SKIP_LAB:-0}" != 1 ]; then
  bash lab/build.sh
fi
