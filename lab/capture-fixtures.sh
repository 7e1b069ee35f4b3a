#!/usr/bin/env bash
# Capture real iscsiadm / multipath / sysfs output as parser-test fixtures.
# Runs INSIDE the guest:   lab/run.sh -- bash lab/capture-fixtures.sh [OUTDIR]
# (default OUTDIR: lab/fixtures). Each fixture NAME gets:
#   NAME.txt          the command's stdout, byte for byte
#   NAME.stderr.txt   its stderr (only when non-empty)
#   NAME.cmd          how it was produced: the exact command, its exit status, the state
#                     of the guest at that moment, kernel / open-iscsi versions
# LUN unit serials are fixed, so WWNs are stable between captures; session ids, host
# numbers and sd names are those of a fresh boot (session1/host0/sda ...).
set -euo pipefail

OUT=${1:-lab/fixtures}
[ -d /sys/kernel/config/target ] && command -v iscsiadm >/dev/null ||
    { echo "not in the lab guest (run: lab/run.sh -- bash lab/capture-fixtures.sh)" >&2; exit 1; }
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.cmd

IQN=iqn.2003-01.org.brick:fixtures
IQN_CHAP=iqn.2003-01.org.brick:fixtures-chap
P1=10.99.0.1:3260
P2=10.99.0.2:3260
P3=10.99.0.3:3260
PDEAD=10.99.0.4:3260        # a local address nothing listens on
SER0=032d99e0-4333-40d1-be28-3fcb3b6f85dc
SER1=c07a840f-492f-4d83-9e70-8ac4e407bcf4
SER2=06059e66-5730-4327-8f1c-efbe3bfcd03d
KVER=$(uname -r)
ISCSI_VER=$(iscsiadm --version 2>&1 | head -1)
STATE="fresh guest"
INDEX=()

# cap NAME 'COMMAND' ['note']  -- run COMMAND with bash -c, record stdout/stderr/rc
cap() {
    local name=$1 cmd=$2 note=${3:-} rc=0 t0=$EPOCHREALTIME dur
    bash -c "$cmd" >"$OUT/$name.txt" 2>"$OUT/$name.stderr.txt" </dev/null || rc=$?
    dur=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN{printf "%.2f", a-b}')
    [ -s "$OUT/$name.stderr.txt" ] || rm -f "$OUT/$name.stderr.txt"
    {
        echo "# fixture: $name"
        echo "# produced by lab/capture-fixtures.sh inside the brick lab guest (lab/run.sh)"
        echo "# kernel $KVER, $ISCSI_VER, Debian bookworm; captured $(date -u +%FT%TZ)"
        echo "# state: $STATE"
        [ -n "$note" ] && echo "# note: $note"
        echo "# exit status: $rc (took ${dur}s under TCG)"
        echo "# stdout -> $name.txt$([ -f "$OUT/$name.stderr.txt" ] && echo ", stderr -> $name.stderr.txt")"
        echo "\$ $cmd"
    } >"$OUT/$name.cmd"
    INDEX+=("$(printf '%-34s rc=%-3s %s' "$name" "$rc" "$cmd")")
    printf '  %-34s rc=%-3s %6ss\n' "$name" "$rc" "$dur"
}

echo "capturing into $OUT"
lab-target delete-all >/dev/null

# ------------------------------------------------------------ versions, empty host
cap version-iscsiadm 'iscsiadm --version'
cap version-kernel 'uname -r'
cap version-multipath 'multipath -h 2>&1 | head -1' 'multipath prints its version in the usage text'
cap version-os-brick "python3 -c 'import importlib.metadata as m; print(m.version(\"os-brick\"))'"
cap initiatorname 'cat /etc/iscsi/initiatorname.iscsi'
cap session-none 'iscsiadm -m session' 'no sessions: rc 21 (ISCSI_ERR_NO_OBJS_FOUND)'
cap session-none-P3 'iscsiadm -m session -P 3'
cap node-none 'iscsiadm -m node' 'no node records: rc 21'
cap node-show-missing "iscsiadm -m node -T $IQN -p $P1" 'node show for a record that does not exist'
cap iface-list 'iscsiadm -m iface' 'the built-in ifaces (default, iser) + any under /etc/iscsi/ifaces'
cap iface-show-default 'iscsiadm -m iface -I default'
cap iface-show-default-o-show 'iscsiadm -m iface -I default -o show'
cap iface-show-missing 'iscsiadm -m iface -I nosuchiface'
cap ip-json-address 'ip -json address show' 'the network interfaces: lo, dummy0 (portals, IPv4 + IPv6), dummy1; dummy MACs are random per boot'
cap dmsetup-ls-multipath-none 'dmsetup ls --target multipath'
cap multipath-ll-none 'multipath -ll'
# ------------------------------------------------------------ targets
lab-target create --iqn "$IQN" --portal "$P1" --portal "$P2" --lun 0:64M --lun 1:32M \
    --serial "0:$SER0" --serial "1:$SER1" >"$OUT/lab-target-create.json"
lab-target create --iqn "$IQN_CHAP" --portal "$P3" --lun 0:16M --serial "0:$SER2" \
    --chap-user brickuser --chap-password brickpass1234 >/dev/null
MAP0=3$(jq -r '.luns[] | select(.lun == 0) | .wwn' "$OUT/lab-target-create.json" | sed 's/^naa\.//')
MAP1=3$(jq -r '.luns[] | select(.lun == 1) | .wwn' "$OUT/lab-target-create.json" | sed 's/^naa\.//')
STATE="target $IQN on $P1 + $P2 (LUN 0 64M serial $SER0, LUN 1 32M serial $SER1); target $IQN_CHAP on $P3 with CHAP (brickuser/brickpass1234), LUN 0 serial $SER2; no sessions"
cap lab-target-list 'lab-target list'
cap discovery-sendtargets "iscsiadm -m discovery -t sendtargets -p $P1"
cap discovery-sendtargets-chap-target "iscsiadm -m discovery -t sendtargets -p $P3" 'discovery itself needs no CHAP here'
cap discoverydb-show "iscsiadm -m discoverydb -t sendtargets -p $P1"
cap discoverydb-list 'iscsiadm -m discoverydb'
cap node-list 'iscsiadm -m node'
cap node-list-P1 'iscsiadm -m node -P 1'
cap node-show "iscsiadm -m node -T $IQN -p $P1" 'record show (secrets would be printed as ********)'
cap node-show-T-only "iscsiadm -m node -T $IQN"
cap node-update "iscsiadm -m node -T $IQN -p $P1 -o update -n node.session.timeo.replacement_timeout -v 120"

# ------------------------------------------------------------ logged in
cap login-P1 "iscsiadm -m node -T $IQN -p $P1 --login"
cap login-P1-again "iscsiadm -m node -T $IQN -p $P1 --login" 'already logged in: rc 15 (ISCSI_ERR_SESS_EXISTS)'
cap login-P2 "iscsiadm -m node -T $IQN -p $P2 --login"
for _ in $(seq 1 100); do
    n=$(ls /dev/disk/by-path 2>/dev/null | wc -l)
    holders=$(ls /sys/block/sd*/holders 2>/dev/null | grep -c dm || true)
    [ "$n" -ge 4 ] && [ "$holders" -ge 4 ] && break
    sleep 0.2
done
udevadm settle -t 10 || true
bp() { basename "$(readlink -f "/dev/disk/by-path/ip-$1-iscsi-$IQN-lun-$2")"; }
SD_P1L0=$(bp "$P1" 0) SD_P2L0=$(bp "$P2" 0) SD_P1L1=$(bp "$P1" 1) SD_P2L1=$(bp "$P2" 1)
DM_L0=$(ls "/sys/block/$SD_P1L0/holders" | head -1) DM_L1=$(ls "/sys/block/$SD_P1L1/holders" | head -1)
STATE="logged in to $IQN on $P1 (session 1) and $P2 (session 2); LUN 0 -> $SD_P1L0 + $SD_P2L0 -> $DM_L0 ($MAP0), LUN 1 -> $SD_P1L1 + $SD_P2L1 -> $DM_L1 ($MAP1) (which map becomes dm-0 varies from boot to boot)"
cap session 'iscsiadm -m session'
cap session-P0 'iscsiadm -m session -P 0'
cap session-P1 'iscsiadm -m session -P 1'
cap session-P2 'iscsiadm -m session -P 2'
cap session-P3 'iscsiadm -m session -P 3'
cap session-r1 'iscsiadm -m session -r 1'
cap session-r1-P3 'iscsiadm -m session -r 1 -P 3'
cap session-r-missing 'iscsiadm -m session -r 99' 'no such session id'
cap session-rescan 'iscsiadm -m session -R'
cap session-r1-rescan 'iscsiadm -m session -r 1 --rescan'
cap node-show-logged-in "iscsiadm -m node -T $IQN -p $P1"
cap lsscsi 'lsscsi'
cap lsscsi-t 'lsscsi -t'
cap lsscsi-i 'lsscsi -i'
cap ls-dev-disk-by-path 'ls -l /dev/disk/by-path'
cap ls-dev-disk-by-id 'ls -l /dev/disk/by-id'
cap multipath-ll 'multipath -ll'
cap multipath-ll-map "multipath -ll $MAP0" 'by map name: 3 + the naa hex (user_friendly_names no)'
cap multipathd-show-maps 'multipathd show maps'
cap multipathd-show-maps-format 'multipathd show maps format "%n %w %d"'
cap multipathd-show-maps-raw-format 'multipathd show maps raw format "%n %w %d %N %Q %t"'
cap multipathd-show-maps-json 'multipathd show maps json'
cap multipathd-show-paths 'multipathd show paths'
cap multipathd-show-paths-format 'multipathd show paths format "%i %d %D %w %m %t %T %o"'
cap multipathd-show-paths-raw-format 'multipathd show paths raw format "%i %d %D %w %m %t %T %o"'
cap multipathd-show-topology 'multipathd show topology'
cap multipathd-show-config-defaults 'multipathd show config local | sed -n "/^defaults/,/^}/p"'
cap multipathd-show-daemon 'multipathd show daemon'
cap dmsetup-ls-multipath 'dmsetup ls --target multipath'
cap dmsetup-table-multipath 'dmsetup table --target multipath'
cap dmsetup-info-c 'dmsetup info -c'
cap dmsetup-status-multipath 'dmsetup status --target multipath'
cap blockdev-getsize64 'for d in /dev/sda /dev/dm-0; do echo "$d $(blockdev --getsize64 $d)"; done'

# sysfs layout
cap sysfs-find-session1 'find /sys/class/iscsi_session/session1/ -maxdepth 1 | sort'
cap sysfs-readlink-session1 'readlink -f /sys/class/iscsi_session/session1 /sys/class/iscsi_session/session1/device /sys/class/iscsi_connection/connection1:0 /sys/class/iscsi_host/host0 /sys/class/scsi_host/host0 /sys/block/sda /sys/block/dm-0 /sys/class/scsi_device/0:0:0:0'
cap sysfs-session-attrs 'grep -HsI . /sys/class/iscsi_session/session*/*' 'every readable text attribute of each session as path:value (unreadable/empty ones are absent)'
cap sysfs-connection-attrs 'grep -HsI . /sys/class/iscsi_connection/connection*/*'
cap sysfs-iscsi-host-attrs 'grep -HsI . /sys/class/iscsi_host/host*/*'
cap sysfs-scsi-host-attrs 'grep -HsI . /sys/class/scsi_host/host0/*'
cap sysfs-scsi-device-attrs 'grep -HsI . /sys/class/scsi_device/0:0:0:0/device/*; ls -l /sys/class/scsi_device/0:0:0:0/device/vpd_pg* /sys/class/scsi_device/0:0:0:0/device/inquiry' 'binary files (inquiry, vpd_pg*) skipped by grep -I, listed with their sizes'
cap sysfs-wwids 'grep -H . /sys/class/scsi_device/*/device/wwid'
cap sysfs-ls-session1 'ls -la /sys/class/iscsi_session/session1/ /sys/class/iscsi_session/session1/device/'
cap sysfs-ls-session1-target 'ls -la /sys/class/iscsi_session/session1/device/target0:0:0/ /sys/class/iscsi_session/session1/device/target0:0:0/0:0:0:0/'
cap sysfs-ls-class-iscsi_session 'ls -la /sys/class/iscsi_session/ /sys/class/iscsi_connection/ /sys/class/iscsi_host/ /sys/class/scsi_host/'
cap sysfs-ls-block-sda-dm0 'ls -la /sys/block/sda/ /sys/block/dm-0/'
cap sysfs-ls-block-sda-device 'ls -la /sys/block/sda/device/'
cap sysfs-block-holders-slaves 'grep -H . /sys/block/sd*/holders/* 2>/dev/null; ls -l /sys/block/sd*/holders/ /sys/block/dm-*/slaves/'
cap sysfs-dm0-dm 'grep -H . /sys/block/dm-0/dm/* /sys/block/dm-1/dm/*'
cap sysfs-block-sizes 'grep -H . /sys/block/sd*/size /sys/block/dm-*/size /sys/block/sd*/queue/logical_block_size /sys/block/sd*/device/state'
cap find-sys-devices-platform-host0 'find /sys/devices/platform/host0 -maxdepth 4 | sort'

# resize LUN 0 to 128M, as a connector's extend_volume would see it
lab-target resize --iqn "$IQN" --lun 0 --size 128M >/dev/null
STATE="$STATE; LUN 0 grown to 128M on the target, before any rescan"
SIZES="/sys/block/$SD_P1L0/size /sys/block/$SD_P2L0/size /sys/block/$DM_L0/size"
cap resize-1-size-before-rescan "grep -H . $SIZES" 'sizes in 512-byte sectors'
cap resize-2-device-rescan "echo 1 > /sys/block/$SD_P1L0/device/rescan && echo 1 > /sys/block/$SD_P2L0/device/rescan && grep -H . $SIZES" 'per-device rescan: each sd path grows, the dm map does not yet'
cap resize-3-multipathd-resize "multipathd resize map $MAP0" 'map name = 3 + naa hex; prints "ok" on success'
cap resize-4-size-after "grep -H . $SIZES; blockdev --getsize64 /dev/$DM_L0"
cap resize-5-multipathd-resize-by-dm "multipathd resize map $DM_L0" 'resize again (no change) addressing the map by dm-N'
cap resize-6-session-rescan-sizes "lab-target resize --iqn $IQN --lun 1 --size 48M >/dev/null && iscsiadm -m session -R && grep -H . /sys/block/$SD_P1L1/size /sys/block/$SD_P2L1/size /sys/block/$DM_L1/size" 'LUN 1 grown 32M -> 48M on the target, then a session-wide rescan (iscsiadm -m session -R) grows the sd paths too'


# ------------------------------------------------------------ custom iface
STATE="as before; adding a custom iface"
cap iface-new 'iscsiadm -m iface -I brick0 -o new'
cap iface-update-netdev 'iscsiadm -m iface -I brick0 -o update -n iface.net_ifacename -v dummy0'
cap iface-show-custom 'iscsiadm -m iface -I brick0'
cap iface-list-custom 'iscsiadm -m iface'
cap iface-delete 'iscsiadm -m iface -I brick0 -o delete'

# ------------------------------------------------------------ teardown
STATE="logged in (2 sessions), maps present; tearing down"
cap multipath-f "multipath -f $MAP1" 'flush one map by name (no output on success)'
cap multipath-f-missing 'multipath -f 3600140500000000000000000000000000' 'flush of a map that does not exist'
cap logout-P1 "iscsiadm -m node -T $IQN -p $P1 --logout"
cap logout-P1-again "iscsiadm -m node -T $IQN -p $P1 --logout" 'logout when not logged in: rc 21'
cap logout-all-T "iscsiadm -m node -T $IQN --logout" 'logout of the remaining session by target'
cap session-none-after 'iscsiadm -m session'
cap node-delete "iscsiadm -m node -T $IQN -p $P1 -o delete"
cap node-delete-missing "iscsiadm -m node -T $IQN -p $P1 -o delete" 'deleting a record that is gone'
cap node-delete-T "iscsiadm -m node -T $IQN -o delete"
cap discoverydb-delete "iscsiadm -m discoverydb -t sendtargets -p $P1 -o delete"
sleep 1
cap dmsetup-ls-multipath-after-logout 'dmsetup ls --target multipath' 'LUN 1 map was flushed before logout; does LUN 0 map outlive its paths?'
cap multipath-F 'multipath -F' 'flush all unused maps'
cap dmsetup-ls-multipath-after 'dmsetup ls --target multipath'

# ------------------------------------------------------------ failures (last, so that the
# successful sessions above are session1/session2 on host0/host1 of a fresh boot)
STATE="target $IQN_CHAP on $P3 with CHAP (brickuser/brickpass1234); $IQN gone from the initiator; no sessions"
cap node-update-chap-wrong "iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.authmethod -v CHAP && iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.username -v brickuser && iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.password -v wrongpassword1"
cap node-show-chap "iscsiadm -m node -T $IQN_CHAP -p $P3" 'CHAP set on the record: password shown as ********'
cap login-chap-wrong "iscsiadm -m node -T $IQN_CHAP -p $P3 --login" 'wrong CHAP password: authorization failure, rc 24'
cap login-no-chap-on-chap-target "iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.authmethod -v None && iscsiadm -m node -T $IQN_CHAP -p $P3 --login" 'target requires CHAP, initiator offers none'
iscsiadm -m node -T "$IQN_CHAP" -p "$P3" -o delete
lab-target delete --iqn "$IQN_CHAP" >/dev/null
lab-target create --iqn "$IQN_CHAP" --portal "$P3" --lun 0:16M --serial "0:$SER2" \
    --chap-user brickuser --chap-password brickpass1234 --mutual-user bricktarget --mutual-password brickmutual12 >/dev/null
iscsiadm -m discovery -t sendtargets -p "$P3" >/dev/null
STATE="target $IQN_CHAP on $P3 with mutual CHAP (brickuser/brickpass1234, target bricktarget/brickmutual12)"
cap node-update-mutual-wrong "iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.authmethod -v CHAP && iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.username -v brickuser && iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.password -v brickpass1234 && iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.username_in -v bricktarget && iscsiadm -m node -T $IQN_CHAP -p $P3 -o update -n node.session.auth.password_in -v wrongmutual12"
cap login-mutual-chap-wrong "iscsiadm -m node -T $IQN_CHAP -p $P3 --login" 'the target proves a different secret than the initiator expects: rc 19 (non-retryable), not 24'
iscsiadm -m node -T "$IQN_CHAP" -p "$P3" -o delete

STATE="no sessions, no records; nothing listens on $PDEAD"
cap discovery-refused "iscsiadm -m discovery -t sendtargets -p $PDEAD" 'no listener on the portal (connection refused)'
cap node-new-dead "iscsiadm -m node -T $IQN -p $PDEAD -o new" 'create a record by hand for a portal nobody serves'
cap node-update-dead "iscsiadm -m node -T $IQN -p $PDEAD -o update -n node.session.initial_login_retry_max -v 1"
cap login-refused "iscsiadm -m node -T $IQN -p $PDEAD --login" 'login to a non-existent portal (initial_login_retry_max=1)'
cap node-delete-dead "iscsiadm -m node -T $IQN -p $PDEAD -o delete"
cap logout-not-logged-in "iscsiadm -m node -T $IQN -p $P1 --logout" 'no record, no session'
STATE="everything torn down"
cap discoverydb-delete-P3 "iscsiadm -m discoverydb -t sendtargets -p $P3 -o delete"
cap node-none-after 'iscsiadm -m node'
cap discoverydb-none 'iscsiadm -m discoverydb'


lab-target delete-all >/dev/null

{
    echo "# brick lab fixtures: index"
    echo "# regenerate: lab/run.sh -- bash lab/capture-fixtures.sh"
    echo "# kernel $KVER, $ISCSI_VER; captured $(date -u +%FT%TZ)"
    echo "# name                               exit  command"
    printf '%s\n' "${INDEX[@]}"
} >"$OUT/INDEX"
echo "captured ${#INDEX[@]} fixtures into $OUT"
