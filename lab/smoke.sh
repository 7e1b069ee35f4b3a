#!/usr/bin/env bash
# brick lab smoke test. Runs INSIDE the guest:   lab/run.sh -- bash lab/smoke.sh
#
# LIO target with 2 portals x 2 LUNs -> sendtargets discovery -> login on both portals ->
# /dev/disk/by-path links + dm-multipath maps -> sysfs facts (and the WWN the initiator reads
# equals the one lab-target predicted) -> flush maps, delete SCSI devices, logout, delete
# records -> the host is clean again. Exits 0 only if every step worked.
set -euo pipefail

IQN=iqn.2003-01.org.brick:smoke
P1=10.99.0.1:3260
P2=10.99.0.2:3260
T_START=$EPOCHREALTIME

fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }
step() { printf '\n== %s  (t=%ss)\n' "$*" "$(elapsed "$T_START")"; }
elapsed() { awk -v a="$EPOCHREALTIME" -v b="$1" 'BEGIN{printf "%.2f", a-b}'; }
wait_for() { # wait_for SECONDS DESCRIPTION CMD...
    local limit=$1 what=$2 t0=$EPOCHREALTIME; shift 2
    local deadline=$((SECONDS + limit))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || fail "timed out after ${limit}s waiting for $what"
        sleep 0.1
    done
    echo "   $what after $(elapsed "$t0")s"
}

[ -d /sys/kernel/config/target ] && command -v iscsiadm >/dev/null ||
    fail "not in the lab guest (run: lab/run.sh -- bash lab/smoke.sh)"
iscsiadm -m session >/dev/null 2>&1 && fail "sessions exist before the test"

step "create target (2 portals, 2 LUNs)"
t0=$EPOCHREALTIME
[ -e "/sys/kernel/config/target/iscsi/$IQN" ] && lab-target delete --iqn "$IQN" >/dev/null
TGT=$(lab-target create --iqn "$IQN" --portal "$P1" --portal "$P2" --lun 0:64M --lun 1:32M)
echo "   lab-target create took $(elapsed "$t0")s"
declare -A WWN
for l in 0 1; do
    WWN[$l]=$(jq -r --argjson l "$l" '.luns[] | select(.lun == $l) | .wwn' <<<"$TGT")
    echo "   LUN $l: wwn ${WWN[$l]} size $(jq -r --argjson l "$l" '.luns[] | select(.lun == $l) | .size' <<<"$TGT")"
done

step "sendtargets discovery on $P1"
t0=$EPOCHREALTIME
DISC=$(iscsiadm -m discovery -t sendtargets -p "$P1")
echo "$DISC" | sed 's/^/   /'
echo "   discovery took $(elapsed "$t0")s"
grep -qx "$P1,1 $IQN" <<<"$DISC" || fail "discovery did not return $P1"
grep -qx "$P2,1 $IQN" <<<"$DISC" || fail "discovery did not return $P2"

step "login on both portals"
for p in "$P1" "$P2"; do
    t0=$EPOCHREALTIME
    iscsiadm -m node -T "$IQN" -p "$p" --login | sed 's/^/   /'
    echo "   login $p took $(elapsed "$t0")s"
done
iscsiadm -m session | sed 's/^/   /'

step "wait for /dev/disk/by-path links and multipath maps"
links_ok() {
    local p l
    for p in "$P1" "$P2"; do for l in 0 1; do
        [ -e "/dev/disk/by-path/ip-$p-iscsi-$IQN-lun-$l" ] || return 1
    done; done
}
wait_for 30 "4 by-path links" links_ok
maps_ok() {
    local p l dev h
    for p in "$P1" "$P2"; do for l in 0 1; do
        dev=$(basename "$(readlink -f "/dev/disk/by-path/ip-$p-iscsi-$IQN-lun-$l")")
        h=$(ls "/sys/block/$dev/holders" 2>/dev/null | head -1)
        [ -n "$h" ] || return 1
    done; done
}
wait_for 30 "dm holders on all 4 paths" maps_ok
ls -l /dev/disk/by-path/ | sed 's/^/   /'
multipath -ll | sed 's/^/   /'

step "sysfs facts"
# rd VAR FILE: read a sysfs attribute without forking (forks are slow under TCG)
rd() { read -r "$1" <"$2" 2>/dev/null || printf -v "$1" '?'; }
for s in /sys/class/iscsi_session/session*; do
    sid=${s##*session}
    real=$(readlink -f "$s")
    [[ $real =~ (host[0-9]+) ]] && host=${BASH_REMATCH[1]}
    echo "   $s -> $real"
    for f in targetname state ifacename tpgt recovery_tmo initiatorname; do
        rd v "$s/$f"; printf '     %-14s %s\n' "$f" "$v"
    done
    for c in /sys/class/iscsi_connection/connection"$sid":*; do
        rd pa "$c/persistent_address"; rd pp "$c/persistent_port"; rd a "$c/address"; rd p "$c/port"
        printf '     %-14s %s persistent=%s:%s address=%s:%s\n' "connection" "${c##*/}" "$pa" "$pp" "$a" "$p"
    done
    hd=/sys/class/iscsi_host/$host
    rd nd "$hd/netdev"; rd ip "$hd/ipaddress"; rd ini "$hd/initiatorname"
    printf '     %-14s %s netdev=%s ipaddress=%s initiatorname=%s\n' "iscsi_host" "$host" "$nd" "$ip" "$ini"
    for t in "$s"/device/target*; do
        printf '     %-14s %s\n' "scsi target" "${t##*/}"
    done
    hnum=${host#host}
    for d in /sys/class/scsi_device/"$hnum":*; do
        hctl=${d##*/}
        blks=("$d"/device/block/*); blk=${blks[0]##*/}
        rd wwid "$d/device/wwid"; rd vendor "$d/device/vendor"; rd model "$d/device/model"
        rd size "/sys/block/$blk/size"
        hs=("/sys/block/$blk/holders/"*); dm=${hs[0]##*/}
        lun=${hctl##*:}
        printf '     %-14s %s /dev/%s wwid=%s vendor=%s model=%s holders=%s bytes=%s\n' "lun $lun" "$hctl" \
            "$blk" "$wwid" "$vendor" "$model" "$dm" "$((size * 512))"
        [ "$wwid" = "${WWN[$lun]}" ] || fail "$hctl wwid $wwid != lab-target's ${WWN[$lun]}"
        rd uuid "/sys/block/$dm/dm/uuid"
        [ "$uuid" = "mpath-3${WWN[$lun]#naa.}" ] || fail "/sys/block/$dm/dm/uuid is $uuid, expected mpath-3${WWN[$lun]#naa.}"
    done
done
echo "   OK: every path's wwid matches lab-target's prediction; dm uuid = mpath-3<naa hex>"

step "teardown: flush maps, delete SCSI devices, logout, delete records"
t0=$EPOCHREALTIME
for l in 0 1; do
    map=3${WWN[$l]#naa.}
    multipath -f "$map" || fail "multipath -f $map"
done
for d in /sys/class/iscsi_session/session*/device/target*/*:*:*:*; do
    [ -e "$d/delete" ] && echo 1 >"$d/delete"
done
iscsiadm -m node -T "$IQN" --logout | sed 's/^/   /'
iscsiadm -m node -T "$IQN" -o delete
iscsiadm -m discoverydb -t sendtargets -p "$P1" -o delete
echo "   teardown took $(elapsed "$t0")s"
lab-target delete --iqn "$IQN" >/dev/null

step "host is clean"
udevadm settle -t 10 || true
rc=0; iscsiadm -m session >/dev/null 2>&1 || rc=$?
[ "$rc" = 21 ] || fail "iscsiadm -m session rc=$rc (sessions left?)"
rc=0; iscsiadm -m node >/dev/null 2>&1 || rc=$?
[ "$rc" = 21 ] || fail "iscsiadm -m node rc=$rc (node records left?)"
rc=0; iscsiadm -m discoverydb >/dev/null 2>&1 || rc=$?
[ "$rc" = 21 ] || [ "$rc" = 0 ] || fail "iscsiadm -m discoverydb rc=$rc"
ls /sys/block | grep -q '^sd' && fail "sd devices left: $(ls /sys/block | grep '^sd' | xargs)"
[ -z "$(ls /dev/disk/by-path 2>/dev/null)" ] || fail "by-path links left"
dmsetup ls --target multipath 2>&1 | grep -q 'No devices found' || fail "dm maps left: $(dmsetup ls --target multipath)"
[ "$(lab-target list | jq '.targets | length')" = 0 ] || fail "target left"
echo "   no sessions, no node records, no sd devices, no by-path links, no dm maps, no targets"

printf '\nSMOKE OK in %ss\n' "$(elapsed "$T_START")"
