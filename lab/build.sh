#!/usr/bin/env bash
# brick lab: build the iSCSI guest (Debian bookworm, kernel, initramfs, root image) from
# Debian packages only, into ${BRICK_LAB_CACHE:-$HOME/.cache/brick-lab}/<hash>.
#
#   lab/build.sh            build if needed, print the cache dir on stdout
#   lab/build.sh --print    only print the cache dir that the current recipe maps to
#   lab/build.sh --force    rebuild the image stage even if cached
#   lab/build.sh --prune    delete every other cache entry
#
# Two stages, each built in a temp dir and renamed into place (an interrupted build never
# leaves a usable-looking broken entry):
#   base-<basehash>/   debootstrap root + guest packages + kernel + modules  (slow, ~2-4 min)
#                      basehash = sha256(build.sh, guest/packages.txt, BRICK_LAB_KERNEL, suite)
#   <hash>/            root.img + vmlinuz + initrd.gz                         (~20-40 s)
#                      hash = sha256(basehash, guest/* recipe files, host node binary identity)
# Progress goes to stderr; the only stdout line is the cache dir.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${BRICK_LAB_CACHE:-$HOME/.cache/brick-lab}
SUITE=bookworm
KERNEL_PIN=${BRICK_LAB_KERNEL:-}   # e.g. linux-image-6.1.0-47-amd64; default: newest 6.1 -amd64
IMAGE_SIZE=${BRICK_LAB_IMAGE_SIZE:-3G}
# Files of the image stage (besides build.sh). lab-target is also run from the share by
# run.sh, but a copy lives in the image so the guest is usable on its own.
IMAGE_RECIPE=(guest/init guest/initramfs-init guest/multipath.conf guest/lab-target)

log() { printf '[lab/build %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[lab/build] ERROR: %s\n' "$*" >&2; exit 1; }

mode=build
for a in "$@"; do
    case $a in
        --print) mode=print ;;
        --force) mode=force ;;
        --prune) mode=prune ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) die "unknown option: $a" ;;
    esac
done

node_bin=$(readlink -f "$(command -v node 2>/dev/null || true)" 2>/dev/null || true)
[ -n "$node_bin" ] && [ -x "$node_bin" ] || die "node not found on the host (it is copied into the guest)"

npm_dir=""
for d in "$(dirname "$node_bin")/../lib/node_modules/npm" /usr/lib/node_modules/npm /usr/local/lib/node_modules/npm; do
    [ -f "$d/package.json" ] && { npm_dir=$(cd "$d" && pwd -P); break; }
done
sha() { sha256sum | cut -c1-16; }
base_hash=$(
    {
        echo "suite=$SUITE kernel=$KERNEL_PIN"
        for f in build.sh guest/packages.txt; do echo "== $f"; cat "$LAB_DIR/$f"; done
    } | sha
)
hash=$(
    {
        echo "base=$base_hash size=$IMAGE_SIZE"
        for f in "${IMAGE_RECIPE[@]}"; do echo "== $f"; cat "$LAB_DIR/$f"; done
        echo "== node $node_bin $(stat -c '%s %Y' "$node_bin")"
        [ -z "$npm_dir" ] || echo "== npm $npm_dir $(stat -c '%s %Y' "$npm_dir/package.json")"
    } | sha
)
BASE="$CACHE_ROOT/base-$base_hash"
OUT="$CACHE_ROOT/$hash"

if [ "$mode" = print ]; then echo "$OUT"; exit 0; fi
if [ "$mode" = prune ]; then
    shopt -s nullglob
    for d in "$CACHE_ROOT"/* "$CACHE_ROOT"/.tmp-*; do
        case $d in "$BASE"|"$OUT") continue ;; esac
        log "removing $d"; rm -rf --one-file-system "$d"
    done
    exit 0
fi
if [ "$mode" = build ] && [ -f "$OUT/BUILD_OK" ]; then echo "$OUT"; exit 0; fi

[ "$(id -u)" = 0 ] || die "building the guest needs root (debootstrap, chroot, mknod)"
T0=$(date +%s)
mkdir -p "$CACHE_ROOT"
# one build at a time per cache root
exec 9>"$CACHE_ROOT/.lock"
flock -w 3600 9 || die "timed out waiting for another build (lock $CACHE_ROOT/.lock)"
if [ "$mode" = build ] && [ -f "$OUT/BUILD_OK" ]; then echo "$OUT"; exit 0; fi

# ---------------------------------------------------------------- host packages
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v mkfs.ext4 >/dev/null || need_pkgs+=(e2fsprogs)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need_pkgs+=(busybox-static)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "installing host packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

mirror=${BRICK_LAB_MIRROR:-}
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}

TMP=""
cleanup() {
    local rc=$?
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        for m in dev/pts proc sys; do
            mountpoint -q "$TMP/rootfs/$m" 2>/dev/null && umount -l "$TMP/rootfs/$m" || true
        done
        rm -rf --one-file-system "$TMP"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- stage 1: base root
build_base() {
    TMP=$(mktemp -d "$CACHE_ROOT/.tmp-base-$base_hash.XXXXXX")
    local R="$TMP/rootfs" t
    log "stage 1: debootstrap --variant=minbase $SUITE from $mirror (into $TMP)"
    t=$(date +%s)
    debootstrap --variant=minbase "$SUITE" "$R" "$mirror" >"$TMP/debootstrap.log" 2>&1 ||
        { tail -30 "$TMP/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    log "debootstrap done in $(($(date +%s) - t)) s"

    # same apt view as the host (incl. bookworm-updates and -security)
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$R/etc/apt/sources.list.d/debian.sources"
        rm -f "$R/etc/apt/sources.list"
    fi
    printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"; chmod +x "$R/usr/sbin/policy-rc.d"
    mount -t proc proc "$R/proc"
    mount -t sysfs sysfs "$R/sys"
    mkdir -p "$R/dev/pts"; mount -t devpts devpts "$R/dev/pts"

    local pkgs
    pkgs=$(sed -e 's/#.*//' "$LAB_DIR/guest/packages.txt" | xargs)
    log "installing guest packages: $pkgs"
    t=$(date +%s)
    chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs" \
        >"$TMP/apt.log" 2>&1 || { tail -30 "$TMP/apt.log" >&2; die "guest apt-get install failed (log above)"; }
    log "guest packages installed in $(($(date +%s) - t)) s"

    # kernel: linux-image-6.1.*-amd64 (not -cloud: it lacks 9p), via apt-get download + dpkg -x
    local kpkg=$KERNEL_PIN
    if [ -z "$kpkg" ]; then
        kpkg=$(chroot "$R" apt-cache pkgnames linux-image-6.1 |
            grep -E '^linux-image-6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -1)
    fi
    [ -n "$kpkg" ] || die "no linux-image-6.1.*-amd64 package found"
    log "kernel package: $kpkg"
    mkdir -p "$TMP/kdeb" "$TMP/kernel"
    (cd "$TMP/kdeb" && chroot "$R" sh -c "cd /tmp && apt-get download -qq $kpkg" >&2 && mv "$R"/tmp/*.deb .)
    dpkg -x "$TMP"/kdeb/*.deb "$TMP/kernel"
    local kver
    kver=$(ls "$TMP/kernel/lib/modules")
    [ -f "$TMP/kernel/boot/vmlinuz-$kver" ] || die "no vmlinuz in $kpkg"
    cp "$TMP/kernel/boot/vmlinuz-$kver" "$TMP/vmlinuz"
    mkdir -p "$R/lib/modules"
    cp -a "$TMP/kernel/lib/modules/$kver" "$R/lib/modules/"
    # drop module trees a headless iSCSI guest never loads (saves ~60% of the modules)
    for d in drivers/gpu drivers/media sound drivers/net/wireless drivers/staging drivers/bluetooth \
        net/bluetooth drivers/iio drivers/hid drivers/input drivers/usb drivers/net/ethernet \
        drivers/net/can drivers/isdn drivers/comedi drivers/video net/wireless net/mac80211; do
        rm -rf "$R/lib/modules/$kver/kernel/$d"
    done
    chroot "$R" depmod "$kver"
    echo "$kver" >"$TMP/kernel-version"
    echo "$kpkg" >"$TMP/kernel-package"
    rm -rf "$TMP/kdeb" "$TMP/kernel"

    # guest configuration that depends only on packages
    sed -i -e 's/^node\.startup = .*/node.startup = manual/' "$R/etc/iscsi/iscsid.conf"
    grep -q '^node.startup = manual' "$R/etc/iscsi/iscsid.conf" || die "could not set node.startup = manual"
    echo 'InitiatorName=iqn.2004-10.com.brick:lab-initiator' >"$R/etc/iscsi/initiatorname.iscsi"
    echo brick-lab >"$R/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 brick-lab\n' >"$R/etc/hosts"
    : >"$R/etc/fstab"

    chroot "$R" dpkg-query -W -f='${Package} ${Version}\n' >"$TMP/packages.lock"
    umount "$R/dev/pts" "$R/sys" "$R/proc"
    chroot "$R" apt-get clean
    rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/tmp/* "$R/usr/sbin/policy-rc.d"
    rm -rf "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/locale/* "$R"/usr/share/info/*
    touch "$TMP/BASE_OK"
    rm -rf --one-file-system "$BASE"
    mv -T "$TMP" "$BASE"
    TMP=""
}

if [ ! -f "$BASE/BASE_OK" ]; then
    build_base
else
    log "stage 1: reusing $BASE"
fi

# ---------------------------------------------------------------- stage 2: image
TMP=$(mktemp -d "$CACHE_ROOT/.tmp-$hash.XXXXXX")
log "stage 2: assembling image in $TMP"
t=$(date +%s)
kver=$(cat "$BASE/kernel-version")
R="$TMP/rootfs"
cp -a "$BASE/rootfs" "$R"
install -m 0755 "$LAB_DIR/guest/init" "$R/sbin/brick-init"
install -m 0755 "$LAB_DIR/guest/lab-target" "$R/usr/local/bin/lab-target"
install -m 0644 "$LAB_DIR/guest/multipath.conf" "$R/etc/multipath.conf"
install -m 0755 "$node_bin" "$R/usr/local/bin/node"
# npm/npx from the host's node installation, when it has them (handy for `npx vitest`)
if [ -n "$npm_dir" ]; then
    mkdir -p "$R/usr/local/lib/node_modules"
    cp -a "$npm_dir" "$R/usr/local/lib/node_modules/npm"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
fi
cp "$BASE/kernel-version" "$BASE/kernel-package" "$BASE/packages.lock" "$BASE/vmlinuz" "$TMP/"

# initramfs: busybox + virtio/ext4 modules in dependency order
I="$TMP/initramfs"
mkdir -p "$I/bin"
cp /bin/busybox "$I/bin/busybox"
ln -s busybox "$I/bin/sh"
: >"$I/modules.list"
for m in virtio_pci virtio_blk crc32c_generic ext4; do
    chroot "$R" modprobe -S "$kver" --show-depends "$m" | while read -r kind path _; do
        [ "$kind" = insmod ] || continue
        grep -qxF "$path" "$I/modules.list" && continue
        mkdir -p "$I$(dirname "$path")"
        case $path in
            *.xz) xz -dc "$R$path" >"$I${path%.xz}"; echo "${path%.xz}" >>"$I/modules.list" ;;
            *) cp "$R$path" "$I$path"; echo "$path" >>"$I/modules.list" ;;
        esac
    done
done
install -m 0755 "$LAB_DIR/guest/initramfs-init" "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1) >"$TMP/initrd.gz"
rm -rf "$I"

mkfs.ext4 -q -F -L brick-lab -E lazy_itable_init=1,lazy_journal_init=1 -d "$R" "$TMP/root.img" "$IMAGE_SIZE" >&2
rm -rf --one-file-system "$R"
{
    echo "hash=$hash"
    echo "base=$base_hash"
    echo "kernel=$kver ($(cat "$TMP/kernel-package"))"
    echo "node=$node_bin $("$node_bin" --version)"
    echo "npm=${npm_dir:-none}"
    echo "mirror=$mirror"
    echo "built=$(date -u +%FT%TZ)"
} >"$TMP/manifest.txt"
touch "$TMP/BUILD_OK"
log "stage 2 done in $(($(date +%s) - t)) s"
rm -rf --one-file-system "$OUT"
mv -T "$TMP" "$OUT"
TMP=""
log "built $OUT in $(($(date +%s) - T0)) s"
echo "$OUT"
