#!/bin/sh
# SPDX-License-Identifier: ISC
# broker_load.sh: pfhelper dies under load and ftp-proxy loses no
# session (issue 23: pfh_keep in common/pfh_client.c, the parent's
# reconnection in common/parent.c).  64 clients loop sessions
# (regress/tools/ftpbench load: login, PASV, RETR, QUIT) from 8
# addresses for 12 s; a session none of whose steps waits 10 s is not
# hung, and pfhelper comes back well within -W (10 s):
#   1. kill -9 of ftp-proxy's own pfhelper, twice (the second once the
#      first new one has served sessions): the parent spawns another.
#   2. kill -9 of the pfhelper service (-S), started again by the test.
# Each time: 0 sessions failed, hung or refused; sessions went on after
# the kill; the live sessions were made again in the new pfhelper
# (its log line); the parent and its worker keep their pids; no session
# got 421 or 425; no element is left once the load stops.  With -W 0
# (the old exit on pfhelper's loss) 18 of these checks fail.
#
# Needs root, ip(8), nft(8), vsftpd, and bin/*, obj/regress/tools/.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
need "$FB"

SECS=${BROKER_LOAD_SECS:-12}
VSFTPD_EXTRA="max_per_ip=0
max_clients=0"
set_up topo_up
set_up admin_rules
set_up vsftpd_up
mkfile "$WORK/ftproot/pub/small" 1
SRCS=""
for i in 11 12 13 14 15 16 17 18; do
	in_cli ip addr add "192.0.2.$i/24" dev eth0
	SRCS="$SRCS${SRCS:+,}192.0.2.$i"
done
LOG=$WORK/ftp-proxy.log

# load N: 64 clients for $SECS s in the background, the result line in
# $WORK/load.N, hung sessions' lines in $WORK/load.N.err.
load() {
	bg ip netns exec "$CLI" timeout $((SECS + 40)) "$FB" load -h "$S4" \
	    -c 64 -t "$SECS" -f pub/small -b "$SRCS" \
	    > "$WORK/load.$1" 2> "$WORK/load.$1.err"
	LOADPID=$LASTPID
}
# sessions: how many sessions ftp-proxy has logged so far.
sessions() { grep -c 'FTP session 192\.0\.2\.' "$LOG"; }
# more N: until ftp-proxy has logged N sessions more than now (20 s).
more() {
	_m=$(($(sessions) + $1))
	wait_for 20 sh -c "[ \$(grep -c 'FTP session 192\.0\.2\.' '$LOG') \
	    -ge $_m ]" || { echo "fewer than $_m sessions logged"; false; }
}
# lost pid what n: kill -9 of pfhelper pid under the load; the worker
# says so (the n-th time in this log).
lost() {
	kill -9 "$1"
	check "$2: the worker says it lost pfhelper" \
	    wait_grep "$LOG" "worker $WPID lost pfhelper" "$3"
}
REMADE='a new pfhelper: [0-9]* sessions made again'
remade() {
	check "$1: the new pfhelper has the live sessions made again" \
	    wait_for 10 sh -c "[ \$(grep -c '$REMADE' '$LOG') -ge $2 ]"
	grep "$REMADE" "$LOG" | tail -n 1 | sed "s/^/# $1: /"
	check "$1: sessions go on after the kill" more 100
}
# after N what: the load's figures and the front end, once it ended.
after() {
	wait "$LOADPID"
	_o=$(cat "$WORK/load.$1")
	echo "# $2: $_o"
	check "$2: sessions completed under the load" \
	    test "$(field sessions "$_o")" -gt 0
	check "$2: 0 sessions failed" test "$(field fail "$_o")" = 0
	check "$2: 0 sessions hung" test "$(field hung "$_o")" = 0
	check "$2: 0 sessions refused (421 or 425)" \
	    test "$(field refused "$_o")" = 0
	check "$2: the parent and its worker never exited" \
	    eval 'alive "$PROXYPID" && alive "$WPID" &&
	    [ "$(child_of "$PROXYPID" ftp-proxy)" = "$WPID" ]'
	check "$2: no element left once the load stops" wait_permits 0
}

# --- 1. kill -9 of the spawned pfhelper, twice ----------------------------
set_up proxy_up -D 6
WPID=$WORKERPID
load 1
set_up more 100
PFH=$(pfhelper_pid "$PROXYPID")
lost "$PFH" "spawned" 1
remade spawned 1
PFH2=$(pfhelper_pid "$PROXYPID")
check "spawned: the parent spawned a new pfhelper" \
    eval '[ -n "$PFH2" ] && [ "$PFH2" != "$PFH" ]'
lost "$PFH2" "spawned, again" 2
remade "spawned, again" 2
after 1 spawned
proxy_stop
check "spawned: SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0

# --- 2. kill -9 of the pfhelper service ----------------------------------
svc_up() {
	bg ip netns exec "$FW" "$BIN/pfhelper" -S -d -s "$PFHDIR" \
	    2>> "$WORK/pfhelper.log"
	SVCPID=$LASTPID
	wait_for 5 test -S "$PFHDIR/ftp"
}
mkdir -p "$PFHDIR"
chmod 700 "$PFHDIR"
set_up svc_up
: > "$LOG"
set_up proxy_up -S -D 6
WPID=$WORKERPID
load 2
set_up more 100
lost "$SVCPID" service 1
wait "$SVCPID" 2>/dev/null
rm -f "$PFHDIR/ftp" "$PFHDIR/tftp"
set_up svc_up
remade service 1
after 2 service
proxy_stop
check "service: SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0
finish
