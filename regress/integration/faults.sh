#!/bin/sh
# SPDX-License-Identifier: ISC
# faults.sh: processes killed at the worst moment.
#   1. kill -9 of ftp-proxy in the middle of a transfer: its pfhelper
#      sees the peer gone and exits 0, the table (every permit) goes
#      with it, no process, socket or descriptor of ours is left; a new
#      ftp-proxy then serves.
#   2. kill -9 of ftp-proxy's pfhelper, with -W 0 (no wait for another
#      one; broker_restart.sh has the wait): the table vanishes at once;
#      the proxy sees its pfhelper socket close, tells every client 421
#      and exits 1 with a log line.  tftp-proxy with -W 0 exits 1 at
#      once too (tftp_broker.sh has its wait).
#   3. kill -9 of vsftpd in the middle of a transfer: the session ends,
#      its permits go, the proxy holds no more descriptors than before;
#      vsftpd restarted, the next session works.
# The daemons run under regress/tools/exitwatch, a subreaper, so that the
# test sees how a pfhelper orphaned by its killed parent ends.
#
# Needs root, ip(8), nft(8), vsftpd, in.tftpd, curl, python3, and the
# builds bin/* and obj/regress/tools/exitwatch.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
EW=${EXITWATCH:-$TOP/obj/regress/tools/exitwatch}
require_root
need "$BIN/ftp-proxy" "$BIN/tftp-proxy" "$BIN/pfhelper" "$EW"

set_up topo_up
set_up admin_rules
set_up vsftpd_up
set_up tftpd_up
PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 8192
mkfile "$PUB/small" 64
mkfile "$WORK/tftproot/t" 64
LOG=$WORK/ftp-proxy.log
mkdir -p "$WORK/wrap"
ln -s "$EW" "$WORK/wrap/ftp-proxy"
ln -s "$EW" "$WORK/wrap/tftp-proxy"

# up [ftp-proxy args]: exitwatch (named ftp-proxy, $EWPID) runs
# ftp-proxy ($PROXYPID), which runs pfhelper ($PFH).
up() {
	: > "$WORK/exit"
	bg ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" \
	    EXITWATCH_PROG="$BIN/ftp-proxy" EXITWATCH_FILE="$WORK/exit" \
	    "$WORK/wrap/ftp-proxy" -d -D 7 -s "$PFHDIR" "$@" 2>> "$LOG"
	EWPID=$LASTPID
	wait_port "$FW" 8021 || return 1
	PROXYPID=$(child_of "$EWPID" ftp-proxy)
	PFH=$(child_of "$PROXYPID" pfhelper)
	WORKERPID=$(worker_of "$PROXYPID")
	[ -n "$PROXYPID" ] && [ -n "$PFH" ] && [ -n "$WORKERPID" ]
}

# ended file pid want: exitwatch recorded that pid ended as want
# ("exit 0", "signal 9 SIGKILL"), within 5 s.
ended() {
	wait_re "$1" "^$2 " 5 || return 1
	grep "^$2 " "$1"
	grep -q "^$2 $3\$" "$1"
}

# Nothing of ours in the firewall: no process, no socket that a process
# holds (the kernel may still be closing orphaned connections whose
# peers have not closed yet: FIN-WAIT-2, TIME-WAIT).
fw_empty() {
	_i=0
	while [ $_i -lt 50 ]; do
		[ -z "$(ip netns pids "$FW")" ] &&
		    [ -z "$(in_fw ss -tuanpH | grep -e LISTEN -e UNCONN \
		    -e 'users:')" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "processes: $(ip netns pids "$FW" | tr '\n' ' ')"
	in_fw ss -tuanp
	return 1
}

down() { # wait for exitwatch itself, remove it from the trap's list
	wait_gone "$EWPID" 50 || { echo "exitwatch $EWPID still runs"
	    kill -TERM "$EWPID"; }
	wait "$EWPID" 2>/dev/null
	PIDS=$(echo " $PIDS " | sed "s/ $EWPID / /")
}

# A slow passive download of pub/big in the background: a small receive
# window, read at about 300 KiB/s (30 s for the 8 MiB), until some data
# has arrived.  $WORK/slow.out gets the byte count as it goes, then
# "complete" or "incomplete" and why.
slow_get() {
	rm -f "$WORK/slow.out"
	PYTIMEOUT=60 py "$CLI" "$1" > "$WORK/slow.out" 2>&1 <<-'EOF' &
	import socket, sys, time
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230 and c.code("TYPE I") == 200
	code, lines = c.cmd("EPSV")
	host, port = c.pasv_port(lines, code)
	d = socket.socket()
	d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
	d.settimeout(10)
	d.connect((host, port))
	assert c.code("RETR pub/big") == 150
	n, end = 0, time.time() + 50
	try:
	    while time.time() < end:
	        b = d.recv(16384)
	        if not b:
	            break
	        n += len(b)
	        print("got", n, flush=True)
	        time.sleep(0.05)
	    c.s.settimeout(5)
	    r = c.reply()[0]
	except OSError as e:
	    r = e
	print("complete" if n == 8 * 1024 * 1024 and r == 226 else
	      "incomplete %d bytes, then %s" % (n, r), flush=True)
	EOF
	SLOWPID=$!
	PIDS="$PIDS $SLOWPID"
	_i=0
	while [ $_i -lt 100 ]; do
		grep -q "^got [0-9]\{6\}" "$WORK/slow.out" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "the download did not start"
	cat "$WORK/slow.out"
	return 1
}

get_ok() { # host
	rm -f "$WORK/out"
	timeout 30 ip netns exec "$CLI" curl -sS -g -m 25 \
	    "ftp://$1/pub/small" -o "$WORK/out" && same "$WORK/out" "$PUB/small"
}

# --- 1. kill -9 of ftp-proxy mid-transfer -----------------------------

up || { fail "ftp-proxy starts"; finish; exit 1; }
echo "# ftp-proxy pid $PROXYPID, pfhelper $PFH"
check "a transfer is under way" slow_get "$S4"
check "its permit is in the table" eval \
    '[ "$(permits)" -ge 2 ] || { echo "$(permits) elements"; false; }'
kill -9 "$PROXYPID"
check "kill -9 ftp-proxy: exitwatch saw SIGKILL" \
    ended "$WORK/exit" "$PROXYPID" "signal 9 SIGKILL"
check "kill -9 ftp-proxy: its pfhelper exits 0" \
    ended "$WORK/exit" "$PFH" "exit 0"
check "kill -9 ftp-proxy: the table is gone" eval '! has_table'
down
check "kill -9 ftp-proxy: no process, socket or descriptor left" fw_empty
wait "$SLOWPID"
check "kill -9 ftp-proxy: the transfer under way cannot complete" \
    eval 'tail -n 1 "$WORK/slow.out"; grep -q "^incomplete" "$WORK/slow.out"'
up -W 0 || fail "ftp-proxy restarts"
check "restarted: IPv4 and IPv6 sessions work" \
    eval 'get_ok "$S4" && get_ok "[$S6]"'
check "restarted: no permit left" wait_permits 0

# --- 2. kill -9 of pfhelper --------------------------------------------

rm -f "$WORK/held"
rm -f "$WORK/go"
PYTIMEOUT=30 py "$CLI" "$S4" "$WORK/go" > "$WORK/held" 2>&1 <<-'EOF' &
	import os, sys, time
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	print("in", flush=True)
	# PASV once pfhelper is gone (the test makes the file then).
	for _ in range(100):
	    if os.path.exists(sys.argv[2]):
	        break
	    time.sleep(0.1)
	code, lines = c.cmd("PASV")
	print("PASV ->", code, flush=True)
	print("eof" if c.eof(10) else "no eof", flush=True)
	EOF
HELD=$!
check "a session is open" wait_re "$WORK/held" "^in" 5
kill -9 "$PFH"
check "kill -9 pfhelper: the table vanishes at once" \
    eval 'i=0; while has_table && [ $i -lt 10 ]; do sleep 0.1;
        i=$((i + 1)); done; ! has_table'
touch "$WORK/go"
wait "$HELD"
cat "$WORK/held" >> "$WORK/check.log"
check "kill -9 pfhelper: the session's next PASV gets no permit" \
    eval '! grep -q "^PASV -> 227" "$WORK/held"'
check "kill -9 pfhelper: the client is told (421)" \
    grep -q "^PASV -> 421" "$WORK/held"
check "kill -9 pfhelper: the session is closed" grep -q "^eof" "$WORK/held"
check "kill -9 pfhelper: ftp-proxy exits 1" \
    ended "$WORK/exit" "$PROXYPID" "exit 1"
check "kill -9 pfhelper: ftp-proxy says why" \
    grep -q "\]: lost pfhelper: pfhelper closed" "$LOG"
down
check "kill -9 pfhelper: no process, socket or descriptor left" fw_empty

# tftp-proxy watches pfhelper's socket: with -W 0 it goes at once.
: > "$WORK/texit"
bg ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" \
    EXITWATCH_PROG="$BIN/tftp-proxy" EXITWATCH_FILE="$WORK/texit" \
    "$WORK/wrap/tftp-proxy" -d -v -w 2 -W 0 -s "$PFHDIR" \
    2>> "$WORK/tftp-proxy.log"
EWPID=$LASTPID
wait_udp "$FW" 6969
TPID=$(child_of "$EWPID" tftp-proxy)
TPFH=$(child_of "$TPID" pfhelper)
check "tftp-proxy serves" eval \
    'curl_get $S4 t "$WORK/t1" && same "$WORK/t1" "$WORK/tftproot/t"'
kill -9 "${TPFH:-0}"
check "kill -9 of tftp-proxy's pfhelper: tftp-proxy exits 1" \
    ended "$WORK/texit" "${TPID:-0}" "exit 1"
check "kill -9 of tftp-proxy's pfhelper: it says why" \
    grep -q "pfhelper went away" "$WORK/tftp-proxy.log"
check "kill -9 of tftp-proxy's pfhelper: the table is gone" \
    eval '! has_table tftp-proxy'
down
check "kill -9 of tftp-proxy's pfhelper: nothing left" fw_empty

# --- 3. kill -9 of vsftpd mid-transfer ---------------------------------

up || fail "ftp-proxy restarts"
FDS0=$(ls "/proc/$WORKERPID/fd" | wc -l)
get_ok "$S4" > /dev/null	# the proxy keeps a spare fd from now on
FDS0=$(ls "/proc/$WORKERPID/fd" | wc -l)
n0=$(grep -c "ending session: server" "$LOG")
check "a transfer is under way" slow_get "$S4"
check "its permit is in the table" eval \
    '[ "$(permits)" -ge 2 ] || { echo "$(permits) elements"; false; }'
for p in $(ip netns pids "$SRV"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = vsftpd ] && kill -9 "$p"
done
wait "$VSFTPDPID" 2>/dev/null
PIDS=$(echo " $PIDS " | sed "s/ $VSFTPDPID / /")
check "kill -9 vsftpd: the proxy ends the session" \
    wait_grep "$LOG" "ending session: server" $((n0 + 1))
check "kill -9 vsftpd: its permits are removed" wait_permits 0
wait "$SLOWPID"
check "kill -9 vsftpd: the client's transfer fails" \
    eval 'tail -n 1 "$WORK/slow.out"; grep -q "^incomplete" "$WORK/slow.out"'
check "kill -9 vsftpd: ftp-proxy and pfhelper still run" \
    eval 'alive "$PROXYPID" && alive "$PFH"'
fds_back() {
	_i=0
	while [ $_i -lt 50 ]; do
		[ "$(ls "/proc/$WORKERPID/fd" | wc -l)" -eq "$FDS0" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "$(ls "/proc/$WORKERPID/fd" | wc -l) descriptors, had $FDS0"
	return 1
}
check "kill -9 vsftpd: ftp-proxy holds no descriptor of the session" fds_back
check "with the server gone: 421 to a new client" py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	assert Ctl(sys.argv[1]).greeting[0] == 421
	EOF
vsftpd_up || fail "vsftpd restarts"
check "vsftpd restarted: IPv4 and IPv6 sessions work" \
    eval 'get_ok "$S4" && get_ok "[$S6]"'
check "no permit left" wait_permits 0

PFHOLD=$PFH
kill -TERM "$PROXYPID"
check "SIGTERM: ftp-proxy exits 0" ended "$WORK/exit" "$PROXYPID" "exit 0"
check "SIGTERM: its pfhelper is gone" wait_gone "$PFHOLD"
down
check "SIGTERM: nothing left in the firewall" fw_empty
check "no table left" eval '! has_table && ! has_table tftp-proxy'

finish
