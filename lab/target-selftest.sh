#!/usr/bin/env bash
# Self-test of lab/guest/lab-target against the real initiator. Runs INSIDE the guest:
#   lab/run.sh -- bash lab/target-selftest.sh
# CHAP (one-way, mutual, discovery), explicit ACLs, resize, add/remove LUN, the
# portal-down/up modes, iSER portals, IPv6 portals, a backstore shared by two targets and
# LUN 300, each checked with a real iscsiadm login / sysfs read.
set -uo pipefail

T_START=$EPOCHREALTIME
FAILS=0
IQN=iqn.2003-01.org.brick:selftest
P1=10.99.0.1:3260
P2=10.99.0.2:3260

el() { awk -v a="$EPOCHREALTIME" -v b="${1:-$T_START}" 'BEGIN{printf "%.2f", a-b}'; }
section() { printf '\n== %s  (t=%ss)\n' "$*" "$(el)"; }
ok() { echo "   ok   $*"; }
bad() { echo "   FAIL $*"; FAILS=$((FAILS + 1)); }
# expect_rc WANT DESCRIPTION CMD... : run CMD, compare its exit status
expect_rc() {
    local want=$1 what=$2 rc=0 out; shift 2
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" = "$want" ]; then ok "$what (rc=$rc)"; else
        bad "$what: rc=$rc, wanted $want"; printf '%s\n' "$out" | sed 's/^/        /'; fi
}
wait_until() { # wait_until SECONDS DESCRIPTION CMD...
    local limit=$1 what=$2 t0=$EPOCHREALTIME; shift 2
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then bad "$what (not within ${limit}s)"; return 1; fi
        sleep 0.2
    done
    ok "$what after $(el "$t0")s"
}
node_set() { iscsiadm -m node -T "$1" -p "$2" -o update -n "$3" -v "$4"; }
login() { iscsiadm -m node -T "$1" -p "$2" --login; }
reset_initiator() {
    iscsiadm -m node --logout >/dev/null 2>&1
    multipath -F >/dev/null 2>&1
    iscsiadm -m node -o delete >/dev/null 2>&1
    iscsiadm -m discoverydb -t sendtargets -p "$P1" -o delete >/dev/null 2>&1
    iscsiadm -m discoverydb -t sendtargets -p "$P2" -o delete >/dev/null 2>&1
    lab-target delete-all >/dev/null
}
session_state() { # session_state PORTAL -> LOGGED_IN / FAILED / FREE ...
    local s
    for s in /sys/class/iscsi_session/session*; do
        [ -e "$s" ] || continue
        local c=(/sys/class/iscsi_connection/connection"${s##*session}":*)
        if [ "$(cat "${c[0]}/persistent_address"):$(cat "${c[0]}/persistent_port")" = "$1" ]; then
            cat "$s/state"; return 0
        fi
    done
    echo NONE
}
state_is() { [ "$(session_state "$1")" = "$2" ]; }
state_is_not() { [ "$(session_state "$1")" != "$2" ]; }

[ -d /sys/kernel/config/target ] || { echo "run inside the lab guest: lab/run.sh -- bash lab/target-selftest.sh" >&2; exit 1; }
reset_initiator

# ------------------------------------------------------------------ one-way CHAP, demo mode
section "CHAP (demo-mode TPG auth)"
lab-target create --iqn "$IQN" --portal "$P1" --lun 0:16M --chap-user alice --chap-password alicesecret12 >/dev/null
iscsiadm -m discovery -t st -p "$P1" >/dev/null
node_set "$IQN" "$P1" node.session.auth.authmethod CHAP
node_set "$IQN" "$P1" node.session.auth.username alice
node_set "$IQN" "$P1" node.session.auth.password wrongsecret12
expect_rc 24 "login with a wrong CHAP password fails (authorization failure)" login "$IQN" "$P1"
node_set "$IQN" "$P1" node.session.auth.authmethod None
expect_rc 24 "login without CHAP fails" login "$IQN" "$P1"
node_set "$IQN" "$P1" node.session.auth.authmethod CHAP
node_set "$IQN" "$P1" node.session.auth.password alicesecret12
expect_rc 0 "login with the right CHAP password" login "$IQN" "$P1"
reset_initiator

section "mutual CHAP"
lab-target create --iqn "$IQN" --portal "$P1" --lun 0:16M --chap-user alice --chap-password alicesecret12 \
    --mutual-user target1 --mutual-password targetsecret1 >/dev/null
iscsiadm -m discovery -t st -p "$P1" >/dev/null
node_set "$IQN" "$P1" node.session.auth.authmethod CHAP
node_set "$IQN" "$P1" node.session.auth.username alice
node_set "$IQN" "$P1" node.session.auth.password alicesecret12
node_set "$IQN" "$P1" node.session.auth.username_in target1
node_set "$IQN" "$P1" node.session.auth.password_in wrongtarget12
expect_rc 19 "login fails when the target's (mutual) secret is wrong (non-retryable)" login "$IQN" "$P1"
node_set "$IQN" "$P1" node.session.auth.password_in targetsecret1
expect_rc 0 "login with correct mutual CHAP" login "$IQN" "$P1"
reset_initiator

section "discovery CHAP"
lab-target create --iqn "$IQN" --portal "$P1" --lun 0:16M \
    --discovery-chap-user disco --discovery-chap-password discosecret12 >/dev/null
rc=0; out=$(iscsiadm -m discovery -t sendtargets -p "$P1" 2>&1) || rc=$?
if [ "$rc" != 0 ]; then ok "discovery without credentials fails (rc=$rc: $(tail -1 <<<"$out"))"; else bad "discovery without credentials succeeded"; fi
iscsiadm -m discoverydb -t sendtargets -p "$P1" -o new >/dev/null
iscsiadm -m discoverydb -t sendtargets -p "$P1" -o update -n discovery.sendtargets.auth.authmethod -v CHAP
iscsiadm -m discoverydb -t sendtargets -p "$P1" -o update -n discovery.sendtargets.auth.username -v disco
iscsiadm -m discoverydb -t sendtargets -p "$P1" -o update -n discovery.sendtargets.auth.password -v wrongdisco12
expect_rc 24 "discovery with a wrong secret fails" iscsiadm -m discoverydb -t sendtargets -p "$P1" --discover
iscsiadm -m discoverydb -t sendtargets -p "$P1" -o update -n discovery.sendtargets.auth.password -v discosecret12
expect_rc 0 "discovery with the right secret" iscsiadm -m discoverydb -t sendtargets -p "$P1" --discover
expect_rc 0 "login after CHAP discovery (session itself has no CHAP)" login "$IQN" "$P1"
reset_initiator
[ "$(lab-target list | jq -r .discovery_auth.enforce)" = false ] && ok "delete-all cleared discovery auth" || bad "discovery auth still enforced after delete-all"

# ------------------------------------------------------------------ explicit ACLs
section "explicit node ACLs (--initiator)"
lab-target create --iqn "$IQN" --portal "$P1" --lun 0:16M --lun 1:16M \
    --initiator iqn.2004-10.com.brick:lab-initiator >/dev/null
iscsiadm -m iface -I other -o new >/dev/null
iscsiadm -m iface -I other -o update -n iface.initiatorname -v iqn.2004-10.com.brick:someone-else >/dev/null
iscsiadm -m discovery -t st -p "$P1" -I default -I other >/dev/null
rc=0; iscsiadm -m node -T "$IQN" -p "$P1" -I other --login >/dev/null 2>&1 || rc=$?
if [ "$rc" != 0 ]; then ok "login from an initiator without an ACL is refused (rc=$rc)"; else bad "unknown initiator logged in"; fi
expect_rc 0 "login from the ACL'd initiator" iscsiadm -m node -T "$IQN" -p "$P1" -I default --login
wait_until 20 "both mapped LUNs visible" test -e "/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-1"
reset_initiator
iscsiadm -m iface -I other -o delete >/dev/null

# ------------------------------------------------------------------ resize / add / remove LUN
section "resize, add-lun, remove-lun"
lab-target create --iqn "$IQN" --portal "$P1" --lun 0:64M >/dev/null
iscsiadm -m discovery -t st -p "$P1" >/dev/null
login "$IQN" "$P1" >/dev/null
wait_until 20 "LUN 0 visible" test -e "/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-0"
sd=$(basename "$(readlink -f "/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-0")")
before=$(($(cat "/sys/block/$sd/size") * 512))
out=$(lab-target resize --iqn "$IQN" --lun 0 --size 128M)
[ "$(jq -r .size <<<"$out")" = 134217728 ] && ok "lab-target resize reports 128M" || bad "resize output: $out"
iscsiadm -m session -R >/dev/null
after=$(($(cat "/sys/block/$sd/size") * 512))
[ "$before" = 67108864 ] && [ "$after" = 134217728 ] && ok "initiator sees $before -> $after after iscsiadm -m session -R" ||
    bad "initiator size $before -> $after"
lab-target add-lun --iqn "$IQN" --lun 3:8M >/dev/null
iscsiadm -m session -R >/dev/null
wait_until 20 "added LUN 3 appears after a session rescan" test -e "/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-3"
w3=$(lab-target list | jq -r '.targets[0].luns[] | select(.lun == 3) | .wwn')
sd3=$(basename "$(readlink -f "/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-3")")
[ "$(cat "/sys/block/$sd3/device/wwid")" = "$w3" ] && ok "LUN 3 wwid = $w3" || bad "LUN 3 wwid mismatch"
lab-target remove-lun --iqn "$IQN" --lun 3 >/dev/null
rc=0; dd if="/dev/$sd3" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null || rc=$?
[ "$rc" != 0 ] && ok "I/O to a removed LUN fails (dd rc=$rc)" || bad "I/O to a removed LUN still works"
echo "     $sd3 state after remove-lun: $(cat /sys/block/$sd3/device/state 2>/dev/null || echo gone)"
reset_initiator

# ------------------------------------------------------------------ portal down/up
section "portal-down / portal-up"
lab-target create --iqn "$IQN" --portal "$P1" --portal "$P2" --lun 0:16M >/dev/null
iscsiadm -m discovery -t st -p "$P1" >/dev/null
login "$IQN" "$P1" >/dev/null; login "$IQN" "$P2" >/dev/null
wait_until 20 "2 paths + dm map" bash -c "ls /sys/block/sd*/holders/ | grep -c dm | grep -qx 2"
echo "     recovery_tmo (set by multipathd): $(cat /sys/class/iscsi_session/session*/recovery_tmo | xargs)"

lab-target portal-down --portal "$P2" --mode drop >/dev/null
wait_until 60 "drop: the $P2 session leaves LOGGED_IN" state_is_not "$P2" LOGGED_IN
echo "     state now: $(session_state "$P2"); multipath: $(multipathd show paths format '%d %t %T' | tail -n +2 | xargs)"
rc=0; dd if=/dev/dm-0 of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null || rc=$?
[ "$rc" = 0 ] && ok "I/O through the dm map still works with one path dropped" || bad "dm I/O failed (rc=$rc)"
lab-target portal-up --portal "$P2" >/dev/null
wait_until 90 "drop: session back to LOGGED_IN after portal-up" state_is "$P2" LOGGED_IN

lab-target portal-down --portal "$P2" --mode reject >/dev/null
wait_until 60 "reject: the $P2 session leaves LOGGED_IN" state_is_not "$P2" LOGGED_IN
lab-target portal-up --portal "$P2" >/dev/null
wait_until 90 "reject: session back after portal-up" state_is "$P2" LOGGED_IN

iscsiadm -m node -T "$IQN" -p "$P2" --logout >/dev/null
lab-target portal-down --portal "$P2" --mode np >/dev/null
t0=$EPOCHREALTIME
rc=0; iscsiadm -m discovery -t sendtargets -p "$P2" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] && ok "np: discovery on $P2 fails (rc=$rc, $(el "$t0")s)" || bad "np: discovery on $P2 still works"
lab-target portal-up --portal "$P2" >/dev/null
expect_rc 0 "np: login again after portal-up" login "$IQN" "$P2"

lab-target portal-down --portal "$P2" --mode addr >/dev/null
ip -4 -o addr | grep -q "10.99.0.2/" && bad "addr: 10.99.0.2 still configured" || ok "addr: 10.99.0.2 removed"
wait_until 60 "addr: the $P2 session leaves LOGGED_IN" state_is_not "$P2" LOGGED_IN
lab-target portal-up --portal "$P2" >/dev/null
wait_until 90 "addr: session back after portal-up" state_is "$P2" LOGGED_IN
reset_initiator

# ------------------------------------------------------------------ iSER over soft-RoCE
section "iSER (portal-iser, create --iser)"
for _ in $(seq 1 600); do [ -e /run/brick-lab/rxe ] && break; sleep 0.1; done
rxe=$(head -1 /run/brick-lab/rxe 2>/dev/null)
if [ "${rxe%% *}" = ok ]; then
    ok "soft-RoCE up at boot: $rxe ($(rdma link show rxe0/1 | grep -o 'state [A-Z]*' | head -1))"
    lab-target create --iqn "$IQN" --portal "$P1" --portal "$P2" --lun 0:16M >/dev/null
    [ "$(lab-target list | jq -c '.targets[0].iser_portals')" = '[]' ] && ok "no iSER portal by default" || bad "iser_portals not empty"
    out=$(lab-target portal-iser --portal "$P1" on)
    [ "$(jq -c .tpgs <<<"$out")" = "[[\"$IQN\",1]]" ] && ok "portal-iser on: $(jq -c . <<<"$out")" || bad "portal-iser on: $out"
    [ "$(cat /sys/kernel/config/target/iscsi/$IQN/tpgt_1/np/$P1/iser)" = 1 ] && ok "configfs np/$P1/iser = 1" || bad "np iser not set"
    [ "$(lab-target list | jq -c '.targets[0].iser_portals')" = "[\"$P1\"]" ] && ok "list: iser_portals [$P1]" || bad "list iser_portals: $(lab-target list | jq -c '.targets[0].iser_portals')"
    out=$(iscsiadm -m discovery -t st -p "$P1" -I iser 2>&1)
    [ "$out" = "$P1,1 $IQN" ] && ok "sendtargets discovery over iSER lists only the iSER portal: $out" ||
        bad "discovery over iSER: $out"
    iscsiadm -m node -T "$IQN" -p "$P2" -I iser -o new >/dev/null
    node_set "$IQN" "$P2" node.conn[0].timeo.login_timeout 3
    node_set "$IQN" "$P2" node.session.initial_login_retry_max 1
    t0=$EPOCHREALTIME
    expect_rc 8 "iSER login to $P2 (TCP only) times out" iscsiadm -m node -T "$IQN" -p "$P2" -I iser --login
    echo "     (after $(el "$t0")s with login_timeout 3)"
    expect_rc 0 "iSER login to $P1" iscsiadm -m node -T "$IQN" -p "$P1" -I iser --login
    s=$(basename /sys/class/iscsi_session/session*)
    [ "$(cat /sys/class/iscsi_session/$s/ifacename)" = iser ] && ok "$s ifacename = iser" || bad "$s ifacename $(cat /sys/class/iscsi_session/$s/ifacename)"
    case $(readlink -f /sys/class/iscsi_session/$s) in
        /sys/devices/platform/host*) ok "iSER session's host is under /sys/devices/platform (no PCI parent)" ;;
        *) bad "iSER session at $(readlink -f /sys/class/iscsi_session/$s)" ;;
    esac
    h=$(basename "$(readlink -f /sys/class/iscsi_session/$s/device/..)")
    [ "$(cat /sys/class/scsi_host/$h/proc_name)" = iscsi_iser ] && ok "$h proc_name = iscsi_iser" || bad "$h proc_name $(cat /sys/class/scsi_host/$h/proc_name)"
    echo "     iscsi_host $h: hwaddress=$(cat /sys/class/iscsi_host/$h/hwaddress) netdev=$(cat /sys/class/iscsi_host/$h/netdev) ipaddress=$(cat /sys/class/iscsi_host/$h/ipaddress 2>&1 | head -1)"
    wait_until 20 "plain ip- by-path link of the iSER LUN" test -e "/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-0"
    dd if=/dev/urandom of=/tmp/iser.pat bs=64k count=16 status=none
    dd if=/tmp/iser.pat of="/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-0" bs=64k oflag=direct status=none
    dd if="/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-0" bs=64k count=16 iflag=direct status=none | cmp -s - /tmp/iser.pat &&
        ok "1 MiB written and read back over iSER" || bad "iSER read-back differs"
    iscsiadm -m node -T "$IQN" -p "$P1" -I iser --logout >/dev/null
    lab-target portal-iser --portal "$P1" off >/dev/null
    [ "$(cat /sys/kernel/config/target/iscsi/$IQN/tpgt_1/np/$P1/iser)" = 0 ] && ok "portal-iser off: np iser = 0" || bad "np iser still set"
    node_set "$IQN" "$P1" node.conn[0].timeo.login_timeout 3
    node_set "$IQN" "$P1" node.session.initial_login_retry_max 1
    expect_rc 8 "iSER login to $P1 with iSER off times out" iscsiadm -m node -T "$IQN" -p "$P1" -I iser --login
    iscsiadm -m node -T "$IQN" -p "$P1" -I default -o new >/dev/null
    expect_rc 0 "TCP login to $P1 still works" iscsiadm -m node -T "$IQN" -p "$P1" -I default --login
    reset_initiator
    lab-target create --iqn "$IQN" --portal "$P1" --portal "$P2" --lun 0:16M --iser >/dev/null
    [ "$(lab-target list | jq -c '.targets[0].iser_portals | length')" = 2 ] && ok "create --iser: both portals speak iSER" || bad "create --iser: $(lab-target list | jq -c '.targets[0].iser_portals')"
    lab-target portal-down --portal "$P2" --mode np >/dev/null
    lab-target portal-up --portal "$P2" >/dev/null
    [ "$(lab-target list | jq -c '.targets[0].iser_portals | length')" = 2 ] && ok "np down/up keeps iSER on the portal" || bad "iSER lost by np down/up"
    expect_rc 1 "portal-iser on a portal nobody listens on" lab-target portal-iser --portal 10.99.0.4:3260 on
    reset_initiator
else
    bad "soft-RoCE is not up: $(cat /run/brick-lab/rxe 2>/dev/null || echo 'no /run/brick-lab/rxe')"
fi

# ------------------------------------------------------------------ IPv6 portals
section "IPv6 portals"
V1="[fd00:99::1]:3260"
V2="[fd00:99::2]:3260"
out=$(lab-target create --iqn "$IQN" --portal "$V1" --portal fd00:99::2 --lun 0:16M)
[ "$(jq -c '.portals | sort' <<<"$out")" = '["[fd00:99::1]:3260","[fd00:99::2]:3260"]' ] &&
    ok "portals as LIO names them: $(jq -c .portals <<<"$out")" || bad "portals: $(jq -c .portals <<<"$out")"
expect_rc 0 "sendtargets discovery through $V1" iscsiadm -m discovery -t st -p "$V1"
expect_rc 0 "login to $V1" login "$IQN" "$V1"
expect_rc 0 "login to $V2" login "$IQN" "$V2"
wait_until 20 "by-path links ip-fd00:99::1:3260-… and ip-fd00:99::2:3260-… (unbracketed)" \
    test -e "/dev/disk/by-path/ip-fd00:99::1:3260-iscsi-$IQN-lun-0" -a -e "/dev/disk/by-path/ip-fd00:99::2:3260-iscsi-$IQN-lun-0"
lab-target portal-down --portal "$V2" --mode drop >/dev/null
wait_until 60 "drop (ip6 rules): the $V2 session leaves LOGGED_IN" state_is_not "fd00:99::2:3260" LOGGED_IN
lab-target portal-up --portal "$V2" >/dev/null
wait_until 90 "drop: session back after portal-up" state_is "fd00:99::2:3260" LOGGED_IN
reset_initiator

# ------------------------------------------------------------------ one backstore, two targets
section "--shared-lun: one backstore behind two targets (distinct IQN and LUN)"
IQNB=$IQN-b
wa=$(lab-target create --iqn "$IQN" --portal "$P1" --lun 0:16M | jq -r '.luns[0].wwn')
out=$(lab-target create --iqn "$IQNB" --portal "$P2" --shared-lun "5:$IQN:0")
[ "$(jq -r '.luns[0].lun' <<<"$out")" = 5 ] && [ "$(jq -r '.luns[0].wwn' <<<"$out")" = "$wa" ] &&
    ok "$IQNB LUN 5 has $IQN LUN 0's wwn $wa" || bad "shared LUN: $out"
iscsiadm -m discovery -t st -p "$P1" >/dev/null
login "$IQN" "$P1" >/dev/null; login "$IQNB" "$P2" >/dev/null
wait_until 20 "both by-path links" test -e "/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-0" -a -e "/dev/disk/by-path/ip-$P2-iscsi-$IQNB-lun-5"
w1=$(cat "/sys/block/$(basename "$(readlink -f "/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-0")")/device/wwid")
w2=$(cat "/sys/block/$(basename "$(readlink -f "/dev/disk/by-path/ip-$P2-iscsi-$IQNB-lun-5")")/device/wwid")
[ "$w1" = "$wa" ] && [ "$w2" = "$wa" ] && ok "the initiator reads one wwid through both" || bad "wwids $w1 / $w2, wanted $wa"
reset_initiator
wa=$(lab-target create --iqn "$IQN" --portal "$P1" --lun 0:16M | jq -r '.luns[0].wwn')
lab-target create --iqn "$IQNB" --portal "$P2" --shared-lun "5:$IQN:0" >/dev/null
lab-target delete --iqn "$IQN" >/dev/null
left=$(lab-target list | jq -c --arg b "$IQNB" '[.targets[] | select(.iqn == $b) | .luns[] | {lun, wwn}]')
[ "$left" = "[{\"lun\":5,\"wwn\":\"$wa\"}]" ] && ok "deleting $IQN keeps the backstore $IQNB still uses" || bad "after deleting $IQN: $left"
lab-target delete --iqn "$IQNB" >/dev/null
[ -z "$(ls /var/lib/lab-target 2>/dev/null)" ] && ok "deleting the last user removes the backing file" || bad "left in /var/lib/lab-target: $(ls -R /var/lib/lab-target)"
reset_initiator

# ------------------------------------------------------------------ LUN >= 256
section "LUN 300 (LIO reports it in peripheral addressing)"
lab-target create --iqn "$IQN" --portal "$P1" --lun 300:16M >/dev/null
iscsiadm -m discovery -t st -p "$P1" >/dev/null
login "$IQN" "$P1" >/dev/null
link="/dev/disk/by-path/ip-$P1-iscsi-$IQN-lun-0x012c000000000000"
wait_until 20 "by-path link …-lun-0x012c000000000000" test -e "$link"
sd=$(basename "$(readlink -f "$link")")
hctl=$(basename "$(readlink -f "/sys/block/$sd/device")")
[ "${hctl##*:}" = 300 ] && ok "kernel LUN 300 ($hctl)" || bad "H:C:T:L $hctl"
luns=$(sg_luns -d "/dev/$sd" 2>&1)
grep -q "^ *012c000000000000" <<<"$luns" && ok "sg_luns -d: 012c000000000000 (peripheral)" || bad "sg_luns: $luns"
reset_initiator

section "clean"
[ "$(lab-target list | jq '.targets | length')" = 0 ] && ok "no targets" || bad "targets left"
[ -z "$(nft list tables 2>/dev/null | grep labtarget)" ] && ok "no nft table" || bad "nft table left"
rc=0; iscsiadm -m session >/dev/null 2>&1 || rc=$?
[ "$rc" = 21 ] && ok "no sessions" || bad "sessions left"
rc=0; iscsiadm -m node >/dev/null 2>&1 || rc=$?
[ "$rc" = 21 ] && ok "no node records" || bad "node records left: $(iscsiadm -m node 2>&1)"

printf '\n%s: %d failure(s) in %ss\n' "$([ $FAILS = 0 ] && echo 'SELFTEST OK' || echo 'SELFTEST FAILED')" "$FAILS" "$(el)"
[ $FAILS = 0 ]
