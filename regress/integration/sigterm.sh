#!/bin/sh
# SPDX-License-Identifier: ISC
# sigterm.sh: every daemon ends with status 0 on SIGTERM while its
# peers and sessions are live, the way `systemctl stop' ends them:
#   1. ftp-proxy and its spawned pfhelper, both signalled at once (a
#      unit's whole cgroup), a logged-in session with a PASV permit;
#   2. the spawned pfhelper signalled alone;
#   3. tftp-proxy standalone and its pfhelper, a request in progress;
#   4. pfhelper -S: its front ends (ftp-proxy -S, tftp-proxy -S) end
#      and it serves on; then the service itself, with peers, sessions
#      and permits live (it used to die of SIGSEGV there: ctl_end()
#      freed the never-set buffer of every unused status slot).
# pfhelper's exit status, where it is a front end's child, comes from
# regress/tools/exitwatch.  make sanitize runs this suite under ASan and
# UBSan: a report in a daemon's log (all in $WORK) fails it there.
#
# Needs root, ip(8), nft(8), vsftpd, in.tftpd, python3, and the builds
# bin/* and obj/regress/tools/exitwatch.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
EW=${EXITWATCH:-$TOP/obj/regress/tools/exitwatch}
require_root
need "$BIN/ftp-proxy" "$BIN/tftp-proxy" "$BIN/pfhelper" "$EW"
[ -n "${KEEP:-}" ] && echo "work directory: $WORK"

set_up topo_up
set_up admin_rules
set_up vsftpd_up
set_up tftpd_up
mkfile "$WORK/tftproot/t" 64
D=$PFHDIR		# the service's socket directory (pfhelper -s)

# exited file pid status: exitwatch recorded `pid status' (5 s at most).
exited() {
	wait_re "$1" "^$2 " 5 >/dev/null
	grep "^$2 " "$1" 2>/dev/null || echo "no exit recorded for $2"
	grep -q "^$2 $3$" "$1" 2>/dev/null
}

# stop pid: the exit status of our child pid after it was signalled,
# in RC (255: still there after 10 s, killed).
reap() {
	if wait_gone "$1" 100; then
		wait "$1"
		RC=$?
	else
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		RC=255
	fi
	PIDS=$(echo " $PIDS " | sed "s/ $1 / /")
}

# hold NAME: an FTP session through the proxy, logged in, with a PASV
# permit, kept until the proxy closes it (20 s at most); its replies
# in $WORK/hold.NAME.
hold() {
	rm -f "$WORK/hold.$1"
	PYTIMEOUT=25 py "$CLI" "$S4" > "$WORK/hold.$1" 2>&1 <<-'EOF' &
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], timeout=20)
	assert c.login() == 230
	print("pasv", c.code("PASV"), flush=True)
	l = c.line()
	print("got", l, flush=True)
	print("eof" if l is None or c.eof(20) else "no eof", flush=True)
	EOF
	HOLDPID=$!
	wait_re "$WORK/hold.$1" "^pasv 227" 10
}

# A TFTP request in progress: an RRQ whose data is never acknowledged
# (the client's socket is gone), its permit in table $1 meanwhile.
tftp_pending() {
	udpsend "$CLI" $S4 69 "$(hexof '\000\001t\000octet\000')"
	_i=0
	while [ $_i -lt 30 ] && [ "$(permits "$1")" -eq 0 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(permits "$1")" -gt 0 ]
}

# ftp_spawned: ftp-proxy in the foreground, its pfhelper under
# exitwatch (recording in $WORK/pfh.exit): PROXYPID, PFHPID.
ftp_spawned() {
	bg ip netns exec "$FW" env PFHELPER="$EW" \
	    EXITWATCH_PROG="$BIN/pfhelper" EXITWATCH_FILE="$WORK/pfh.exit" \
	    "$BIN/ftp-proxy" -d -D 7 -s "$PFHDIR" "$@" \
	    2>> "$WORK/ftp-proxy.log"
	PROXYPID=$LASTPID
	wait_port "$FW" 8021 || return 1
	PFHPID=$(helper_of "$PROXYPID")
	[ -n "$PFHPID" ]
}

# The pfhelper under exitwatch that front end $1 started (5 s at most).
helper_of() {
	_i=0
	while [ $_i -lt 50 ]; do
		_h=$(child_of "$(child_of "$1" exitwatch)" pfhelper)
		[ -n "$_h" ] && { echo "$_h"; return 0; }
		sleep 0.1
		_i=$((_i + 1))
	done
}

# --- 1. ftp-proxy and its pfhelper, signalled together ----------------
set_up ftp_spawned
check "a session with a PASV permit is live" hold one
kill -TERM "$PFHPID" "$PROXYPID"
reap "$PROXYPID"
check "ftp-proxy and pfhelper signalled at once: ftp-proxy exits 0 ($RC)" \
    test "$RC" -eq 0
check "and its pfhelper exits 0" exited "$WORK/pfh.exit" "$PFHPID" "exit 0"
wait "$HOLDPID"
check "the session was closed" grep -q "^eof" "$WORK/hold.one"
check "the table is gone" eval '! has_table'

# --- 2. the spawned pfhelper alone ------------------------------------
# -W 0: no new pfhelper is waited for (broker_restart.sh has that).
set_up ftp_spawned -W 0
check "a session with a PASV permit is live (again)" hold two
kill -TERM "$PFHPID"
check "pfhelper signalled alone: exits 0" \
    exited "$WORK/pfh.exit" "$PFHPID" "exit 0"
check "the table is gone with it" eval '! has_table'
wait "$HOLDPID"
check "the client is told: 421" grep -q "^got 421" "$WORK/hold.two"
reap "$PROXYPID"

# --- 3. tftp-proxy standalone, a request in progress ------------------
bg ip netns exec "$FW" env PFHELPER="$EW" EXITWATCH_PROG="$BIN/pfhelper" \
    EXITWATCH_FILE="$WORK/tpfh.exit" "$BIN/tftp-proxy" -d -v -w 5 \
    -s "$PFHDIR" 2>> "$WORK/tftp-proxy.log"
TPID=$LASTPID
set_up wait_udp "$FW" 6969
TPFH=$(helper_of "$TPID")
check "a TFTP request with its permit is live" tftp_pending tftp-proxy
kill -TERM "${TPFH:-0}" "$TPID"
reap "$TPID"
check "tftp-proxy and pfhelper signalled at once: tftp-proxy exits 0 ($RC)" \
    test "$RC" -eq 0
check "and its pfhelper exits 0" exited "$WORK/tpfh.exit" "${TPFH:-0}" \
    "exit 0"
check "the tftp-proxy table is gone" eval '! has_table tftp-proxy'

# --- 4. pfhelper -S and its front ends --------------------------------
svc_front_ends() {
	bg ip netns exec "$FW" "$BIN/ftp-proxy" -d -D 7 -S -W 0 -s "$D" \
	    2>> "$WORK/ftp-proxy.log"
	PROXYPID=$LASTPID
	bg ip netns exec "$FW" "$BIN/tftp-proxy" -d -v -w 5 -S -s "$D" \
	    2>> "$WORK/tftp-proxy.log"
	TPID=$LASTPID
	wait_port "$FW" 8021 && wait_udp "$FW" 6969
}
bg ip netns exec "$FW" "$BIN/pfhelper" -S -d -D 7 -s "$D" \
    2>> "$WORK/pfhelper.log"
SVCPID=$LASTPID
i=0
while [ $i -lt 50 ] && ! [ -S "$D/control" ]; do sleep 0.1; i=$((i + 1)); done
set_up test -S "$D/control"
set_up svc_front_ends
set_up wait_grep "$WORK/pfhelper.log" "connected (tftp role)" 1
check "service: a session with a PASV permit is live" hold three
check "service: a TFTP request with its permit is live" \
    tftp_pending tftp-proxy
check "service: pfhelper -l answers" eval \
    "in_fw '$BIN/pfhelper' -l -s '$D' | grep -q '^peer ftp pid $PROXYPID'"
kill -TERM "$PROXYPID" "$TPID"
reap "$PROXYPID"
check "service: ftp-proxy -S exits 0 ($RC)" test "$RC" -eq 0
reap "$TPID"
check "service: tftp-proxy -S exits 0 ($RC)" test "$RC" -eq 0
wait "$HOLDPID"
check "service: the session was closed" grep -q "^eof" "$WORK/hold.three"
check "service: both peers gone, their permits with them" eval \
    "wait_grep '$WORK/pfhelper.log' ' gone' 2 && wait_permits 0 &&
    wait_permits 0 tftp-proxy"
check "service: still running" alive "$SVCPID"

set_up svc_front_ends
check "service: a session with a PASV permit is live (again)" hold four
check "service: a TFTP request with its permit is live (again)" \
    tftp_pending tftp-proxy
kill -TERM "$SVCPID"
reap "$SVCPID"
check "pfhelper -S with two peers live: SIGTERM, exit 0 ($RC)" \
    test "$RC" -eq 0
check "pfhelper -S: its tables are gone" eval \
    "! has_table && ! has_table tftp-proxy"
wait "$HOLDPID"
check "pfhelper -S: the client is told: 421" grep -q "^got 421" \
    "$WORK/hold.four"
reap "$PROXYPID"
reap "$TPID"

finish
