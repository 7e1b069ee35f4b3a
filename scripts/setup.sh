#!/usr/bin/env bash
# Installs everything brick needs on a new machine: the host tools the tests run for real
# (open-iscsi's iscsiadm: its node-record commands work without an iSCSI kernel), pnpm's
# packages, the build, and the Debian packages of the real iSCSI lab (qemu, debootstrap, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM=(npx -y pnpm@12.21.0)

has_iscsiadm() { command -v iscsiadm >/dev/null || [ -x /usr/sbin/iscsiadm ] || [ -x /sbin/iscsiadm ]; }
if ! has_iscsiadm; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing open-iscsi (iscsiadm) from Debian" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends open-iscsi >&2
  else
    echo "setup: iscsiadm is missing and this is not root with apt-get: install open-iscsi;" \
      "until then the tests that need it skip, naming it" >&2
  fi
fi

"${PNPM[@]}" install --frozen-lockfile
"${PNPM[@]}" run build
if [ "${BRICK_SKIP_LAB:-0}" != 1 ]; then
  bash lab/build.sh
fi
