#!/bin/sh
# SPDX-License-Identifier: ISC
# tftp_broker.sh: pfhelper goes away under a standalone tftp-proxy and
# tftp-proxy loses nothing (pfh_keep in common/pfh_client.c, the
# parent's reconnection in common/parent.c).
#   1. kill -9 of tftp-proxy's own pfhelper mid-transfer: the parent
#      spawns another, the worker makes its sessions again; the transfer
#      and a request after it arrive with the right checksum.  Then
#      between requests: an IPv6 request after the next kill -9.
#   2. kill -9 of the pfhelper service (-S) mid-transfer, then a request
#      while no pfhelper is there: it waits, and once the test starts the
#      service again it is served (checksum), as the transfer is.
#   3. The bound (-W 2): the service does not come back; the waiting
#      clients (IPv4, IPv6) get a TFTP ERROR, the log says why, and
#      tftp-proxy exits 1.
# In 1 and 2 the parent and its worker never exit, no request is
# dropped, and no element is left once the requests end.  The transfer
# is slowed by a token bucket on the server's link (96 kbit/s).
#
# Needs root, ip(8), tc(8), nft(8), in.tftpd, tftp-hpa, curl, bin/*.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root

set_up topo_up
set_up admin_rules
set_up tftpd_up
R=$WORK/tftproot
mkfile "$R/slow" 96
mkfile "$R/quick" 8
LOG=$WORK/tftp-proxy.log
set_up in_srv tc qdisc add dev eth0 root tbf rate 96kbit burst 1600 \
    latency 400ms

svc_up() {
	bg ip netns exec "$FW" "$BIN/pfhelper" -S -d -D 7 -s "$PFHDIR" \
	    2>> "$WORK/pfhelper.log"
	SVCPID=$LASTPID
	wait_for 5 test -S "$PFHDIR/tftp"
}

# slow N: the slow download in the background, under way.
slow() {
	rm -f "$WORK/slow.$1"
	bg hpa_get "$S4" slow "$WORK/slow.$1"
	SLOWPID=$LASTPID
	grown "$WORK/slow.$1" 8192 10
}

# after N what: the checks once pfhelper is back.
after() {
	check "$2: the sessions are made again" \
	    wait_re "$LOG" "a new pfhelper: [0-9]+ sessions made again" 10
	check "$2: a request after the loss: sha256" eval \
	    "curl_get $S4 quick $WORK/quick.$1 && same $WORK/quick.$1 $R/quick"
	wait "$SLOWPID"
	check "$2: the transfer across the loss: sha256" \
	    same "$WORK/slow.$1" "$R/slow"
	check "$2: the parent and its worker never exited" \
	    eval 'alive "$PP" && alive "$WPID" &&
	    [ "$(worker_of "$PP")" = "$WPID" ]'
	check "$2: no request was dropped" \
	    eval '! grep -q "dropped request" "$LOG"'
	check "$2: no element left once the requests end" \
	    wait_for 10 no_permits tftp-proxy
}

# lib.sh's proxy_stop, for tftp-proxy's parent: its status in PROXYRC.
stop() { PROXYPID=$PP; proxy_stop; }

# --- 1. kill -9 of the spawned pfhelper, mid-transfer -------------------
set_up tftp_proxy_up
PP=$TFTPPROXYPID
WPID=$(worker_of "$PP")
PFH=$(pfhelper_pid "$PP")
set_up test -n "$WPID" -a -n "$PFH"
set_up slow 1
kill -9 "$PFH"
check "spawned: the worker asks for another pfhelper" \
    wait_re "$LOG" "worker $WPID lost pfhelper" 5
check "spawned: the parent spawned a new pfhelper" eval '
    wait_for 5 sh -c "p=\$(pgrep -P $PP -x pfhelper);
    [ -n \"\$p\" ] && [ \"\$p\" != $PFH ]"'
after 1 spawned
PFH=$(pfhelper_pid "$PP")
kill -9 "$PFH"
check "spawned, between requests: the worker asks for another again" \
    wait_grep "$LOG" "worker $WPID lost pfhelper" 2
check "spawned, between requests: IPv6, sha256" eval \
    "curl_get $S6 quick $WORK/quick.6 && same $WORK/quick.6 $R/quick"
check "spawned: the worker never exited" \
    eval '[ "$(worker_of "$PP")" = "$WPID" ]'
stop
check "spawned: SIGTERM: tftp-proxy exits 0" test "$PROXYRC" -eq 0

# --- 2. kill -9 of the service, mid-transfer and between requests -------
mkdir -p "$PFHDIR"
chmod 700 "$PFHDIR"
set_up svc_up
: > "$LOG"
set_up tftp_proxy_up -S
PP=$TFTPPROXYPID
WPID=$(worker_of "$PP")
set_up test -n "$WPID"
set_up slow 2
kill -9 "$SVCPID"
wait "$SVCPID" 2>/dev/null
check "service: the worker asks for another pfhelper" \
    wait_re "$LOG" "worker $WPID lost pfhelper" 5
rm -f "$WORK/wait.2"
bg hpa_get "$S4" quick "$WORK/wait.2"
WAITPID=$LASTPID
check "service: a request while pfhelper is away waits" \
    wait_re "$LOG" "waits for pfhelper" 5
set_up svc_up
wait "$WAITPID"
check "service: the request that waited is served: sha256" \
    same "$WORK/wait.2" "$R/quick"
after 2 service

# --- 3. the bound ---------------------------------------------------------
stop
: > "$LOG"
set_up tftp_proxy_up -S -W 2
PP=$TFTPPROXYPID
set_up wait_re "$LOG" "serving [0-9]+ socket" 5
kill -9 "$SVCPID"
wait "$SVCPID" 2>/dev/null
set_up wait_re "$LOG" "lost pfhelper" 5
CLIENTS=""
for a in "$S4" "$S6"; do
	bg sh -c "timeout 30 ip netns exec $CLI tftp $(hpafam "$a") \
	    -m binary $a -c get quick $WORK/bound > $WORK/bound.$a 2>&1"
	CLIENTS="$CLIENTS $LASTPID"
done
for c in $CLIENTS; do wait "$c"; done
for a in "$S4" "$S6"; do
	check "bound: a client that waited past -W gets a TFTP ERROR ($a)" \
	    grep -q "lost its packet filter helper" "$WORK/bound.$a"
done
check "bound: the log says why" \
    wait_re "$LOG" "dropped request .*pfhelper went away" 5
check "bound: tftp-proxy exits 1" eval '
    wait_gone "$PP" 50 && { wait "$PP"; [ $? -eq 1 ]; }'
PIDS=$(echo " $PIDS " | sed "s/ $PP / /")
finish
