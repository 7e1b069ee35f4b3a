#!/usr/bin/env bash
# brick lab: run a command inside a freshly booted iSCSI guest.
#
#   lab/run.sh [options] -- CMD [ARGS...]
#   lab/run.sh --shell                       interactive shell on the guest console
#
# The project root (this script's ../) is shared into the guest over 9p at the SAME absolute
# path, so pnpm's symlinks and absolute paths keep working. CMD runs there (or in the
# directory matching the host's cwd when that is inside the project, or --cwd), with PATH =
# lab/guest (lab-target) : node_modules/.bin : /usr/local/bin (node) : system dirs.
# Every boot starts from the pristine image (snapshot=on). CMD's stdout and stderr are
# written to lab/.out/<run>/ on the share and printed after the guest powers off; the
# script exits with CMD's exit status.
#
# Options:
#   --timeout SEC     whole-run limit (default $BRICK_LAB_TIMEOUT or 1200); exit 124 on hang
#   --env K=V         set K in the guest (repeatable); BRICK_*, CI, CI_*, GITHUB_*,
#                     NODE_OPTIONS, DEBUG, FORCE_COLOR, NO_COLOR are forwarded automatically
#   --cwd DIR         directory to run in, relative to the project root
#   --merge           send CMD's stderr to the same stream as its stdout (ordered output)
#   --console         stream the guest's console to stderr while it runs
#   --smp N / --mem MB   guest CPUs (default 2) / memory (default 2048)
#   --quiet           no progress lines on stderr
# Exit codes: CMD's status; 124 guest timed out; 125 guest/lab failure (no result).
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT=$(cd "$LAB_DIR/.." && pwd -P)
TIMEOUT=${BRICK_LAB_TIMEOUT:-1200}
SMP=${BRICK_LAB_SMP:-2}
MEM=${BRICK_LAB_MEM:-2048}
MERGE=0 CONSOLE=0 SHELL_MODE=0 QUIET=0 CWD_REL=""
ENVS=()

log() { [ "$QUIET" = 1 ] || printf '[lab/run %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[lab/run] ERROR: %s\n' "$*" >&2; exit 125; }

while [ $# -gt 0 ]; do
    case $1 in
        --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
        --timeout=*) TIMEOUT=${1#*=}; shift ;;
        --env) ENVS+=("${2:?--env needs K=V}"); shift 2 ;;
        --env=*) ENVS+=("${1#*=}"); shift ;;
        --cwd) CWD_REL=${2:?}; shift 2 ;;
        --cwd=*) CWD_REL=${1#*=}; shift ;;
        --merge) MERGE=1; shift ;;
        --console) CONSOLE=1; shift ;;
        --shell) SHELL_MODE=1; shift ;;
        --smp) SMP=${2:?}; shift 2 ;;
        --mem) MEM=${2:?}; shift 2 ;;
        --quiet|-q) QUIET=1; shift ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        --) shift; break ;;
        *) die "unknown option '$1' (the command goes after --)" ;;
    esac
done
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
if [ "$SHELL_MODE" = 0 ] && [ $# -eq 0 ]; then
    die "usage: lab/run.sh [options] -- CMD [ARGS...]   (or --shell)"
fi

T0=$(date +%s.%N)
IMG=$("$LAB_DIR/build.sh") || die "lab/build.sh failed"
IMG=$(printf '%s\n' "$IMG" | tail -1)
[ -f "$IMG/BUILD_OK" ] || die "build did not produce $IMG"

# ---- where to run, inside the project
if [ -z "$CWD_REL" ]; then
    here=$(pwd -P)
    case $here/ in "$PROJECT"/*) CWD_REL=${here#"$PROJECT"}; CWD_REL=${CWD_REL#/} ;; esac
fi
case /$CWD_REL/ in */../*) die "--cwd must stay inside the project" ;; esac
[ -z "$CWD_REL" ] || [ -d "$PROJECT/$CWD_REL" ] || die "--cwd $CWD_REL: no such directory in $PROJECT"

APPEND="console=ttyS0 root=/dev/vda rw panic=-1 quiet loglevel=3 brick.share=$PROJECT"
QEMU=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM"
    -display none -monitor none -no-reboot -nic none
    -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.gz"
    -drive "file=$IMG/root.img,if=virtio,format=raw,snapshot=on"
    -virtfs "local,path=$PROJECT,mount_tag=share,security_model=none,id=share")

if [ "$SHELL_MODE" = 1 ]; then
    log "booting $IMG with an interactive shell (Ctrl-A x quits qemu)"
    exec "${QEMU[@]}" -serial mon:stdio -append "$APPEND"
fi

# ---- run dir on the share
RUN_REL="lab/.out/$(date +%Y%m%d-%H%M%S)-$$"
RUNDIR="$PROJECT/$RUN_REL"
mkdir -p "$RUNDIR"
{
    echo '# written by lab/run.sh'
    [ "$MERGE" = 1 ] && echo 'exec 2>&1'
    printf 'exec'; printf ' %q' "$@"; printf '\n'
} >"$RUNDIR/cmd.sh"
printf '%s\n' "$CWD_REL" >"$RUNDIR/cwd"
{
    while IFS='=' read -r k _; do
        case $k in
            BRICK_LAB_CACHE|BRICK_LAB_TIMEOUT|BRICK_LAB_SMP|BRICK_LAB_MEM) ;;
            BRICK_*|CI|CI_*|GITHUB_*|NODE_OPTIONS|DEBUG|FORCE_COLOR|NO_COLOR)
                printf 'export %s=%q\n' "$k" "${!k-}" ;;
        esac
    done < <(env -0 | tr '\0' '\n' | grep -E '^[A-Za-z_][A-Za-z0-9_]*=' || true)
    for kv in ${ENVS[@]+"${ENVS[@]}"}; do
        k=${kv%%=*}
        [[ $k =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && [ "$k" != "$kv" ] || die "--env $kv: expected K=V"
        printf 'export %s=%q\n' "$k" "${kv#*=}"
    done
} >"$RUNDIR/env"
# keep the 30 newest run dirs
ls -1d "$PROJECT"/lab/.out/*/ 2>/dev/null | sort | head -n -30 | xargs -r rm -rf

GUEST_TIMEOUT=$((TIMEOUT > 60 ? TIMEOUT - 30 : TIMEOUT))
log "booting $(basename "$IMG") (smp=$SMP mem=${MEM}M timeout=${TIMEOUT}s) run dir $RUN_REL"
set +e
if [ "$CONSOLE" = 1 ]; then
    timeout -k 10 "$TIMEOUT" "${QEMU[@]}" -serial stdio \
        -append "$APPEND brick.run=$RUN_REL brick.timeout=$GUEST_TIMEOUT" </dev/null |
        tee "$RUNDIR/console.log" >&2
    qrc=${PIPESTATUS[0]}
else
    timeout -k 10 "$TIMEOUT" "${QEMU[@]}" -serial stdio \
        -append "$APPEND brick.run=$RUN_REL brick.timeout=$GUEST_TIMEOUT" </dev/null >"$RUNDIR/console.log" 2>&1
    qrc=$?
fi
set -e
T1=$(date +%s.%N)

# ---- results
[ -f "$RUNDIR/stdout" ] && cat "$RUNDIR/stdout"
[ -f "$RUNDIR/stderr" ] && cat "$RUNDIR/stderr" >&2
rc=""
[ -s "$RUNDIR/rc" ] && rc=$(tr -dc '0-9' <"$RUNDIR/rc")
[ -n "$rc" ] || rc=$(grep -aoE '^rc=[0-9]+' "$RUNDIR/console.log" 2>/dev/null | tail -1 | cut -d= -f2 || true)
ready=$(cat "$RUNDIR/ready-seconds" 2>/dev/null || echo '?')
total=$(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.1f", b - a}')
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    printf '[lab/run] ERROR: guest timed out after %ss (qemu killed); console tail:\n' "$TIMEOUT" >&2
    tail -n 40 "$RUNDIR/console.log" >&2 || true
    printf '[lab/run] full logs: %s\n' "$RUNDIR" >&2
    exit 124
fi
if [ -z "$rc" ]; then
    printf '[lab/run] ERROR: the guest reported no result (qemu rc=%s); console tail:\n' "$qrc" >&2
    tail -n 40 "$RUNDIR/console.log" >&2 || true
    printf '[lab/run] full logs: %s\n' "$RUNDIR" >&2
    exit 125
fi
log "rc=$rc (guest ready at ${ready}s, total ${total}s, logs $RUN_REL)"
exit "$rc"
