#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-collide.sh [secs]: make bench's `collide' section, the
# reproducer of issue 27's hung session.  Passive sessions loop through
# ftp-proxy + pfhelper (scripts/bench/ftpload.py, 16 clients, and
# regress/tools/ftpbench, 16 clients, at once; connect, login, PASV,
# RETR of 1 KiB, QUIT; a step that waits 10 s is a hung session) for
# secs seconds (default $BENCH_COLLIDE_SECS, else 30), with the port
# spaces narrowed the way a busy site narrows them: vsftpd's passive
# ports to 100 (pasv_min_port/pasv_max_port, as admins set them for a
# firewall) and the client's ephemeral ports to 64 (one NAT address
# of many users).  Data connections then often reuse the addresses
# and ports of one a few seconds old, and now and then a client's SYN
# meets that older connection's TIME_WAIT at the server: the server
# answers with an ACK, the client resets it, and the connection's
# state is gone at the firewall after its first packet used the
# permit's pass element up.  Without pfhelper's retry sets, the
# client's SYN retransmissions were dropped and the session hung
# (2-3 per 30 s here); with them, the retransmission connects.  Also
# counted: the connections the firewall saw reset before their
# handshake and then established from the same source port (conntrack
# events), the case the retry sets exist for.  A benchmark: it prints,
# asserts nothing.  Its own topology (regress/integration/lib.sh):
# documentation addresses only, every loop bounded, the trap removes
# the namespaces and our processes by pid.
#	BENCH_COLLIDE_SECS=30	BENCH_COLLIDE_KEEP=file (a copy of the
#				conntrack events, to look at a case again)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
P="bc$$-"
. "$TOP/regress/integration/lib.sh"
require_root
SECS=${1:-${BENCH_COLLIDE_SECS:-30}}
ftpbench_built || exit 1
need "$BIN/ftp-proxy" "$BIN/pfhelper"

echo "== collide: ${SECS} s of passive sessions, 16 + 16 clients, vsftpd's" \
    "passive ports 50000-50099, the client's ports 40000-40063"
VSFTPD_EXTRA="pasv_min_port=50000
pasv_max_port=50099
max_per_ip=0
max_clients=0"
set_up topo_up
set_up admin_rules
set_up vsftpd_up
mkfile "$WORK/ftproot/pub/small.bin" 1
set_up proxy_up -D 4
set_up in_cli sysctl -qw net.ipv4.ip_local_port_range="40000 40063"
bg ip netns exec "$FW" timeout $((SECS + 60)) conntrack -E -p tcp \
    -o id > "$WORK/events" 2>/dev/null
sleep 1
bg ip netns exec "$CLI" timeout $((SECS + 60)) /usr/bin/python3 \
    "$TOP/scripts/bench/ftpload.py" -H "$S4" -c 16 -t "$SECS" \
    -f pub/small.bin -o "$WORK/hung.py" > "$WORK/py.out"
pypid=$LASTPID
fb=$(timeout $((SECS + 60)) ip netns exec "$CLI" "$FB" load -h "$S4" \
    -c 16 -t "$SECS" -f pub/small.bin 2> "$WORK/hung.fb")
wait "$pypid"
py=$(grep '^pyload' "$WORK/py.out")
echo "   ftpbench: $fb"
echo "   ftpload.py: $py"
cat "$WORK/hung.fb" "$WORK/hung.py" 2>/dev/null | head -n 6 | sed 's/^/   /'
# A connection reset before its handshake (CLOSE, never ASSURED), then
# a new one with the same original tuple that got established.
rs=$(awk '
	/\[UPDATE\]/ && / CLOSE / && !/ASSURED/ { t = tuple(); reset[t] = 1 }
	/\[UPDATE\]/ && / ESTABLISHED / { t = tuple(); if (t in reset) {
		n++; delete reset[t] } }
	function tuple(	i, s) {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^(src|dst|sport|dport)=/) {
				s = s " " $i
				if ($i ~ /^dport=/)
					break
			}
		return s
	}
	END { print n + 0 }' "$WORK/events")
[ -n "${BENCH_COLLIDE_KEEP:-}" ] && cp "$WORK/events" "$BENCH_COLLIDE_KEEP"
echo "   reset before the handshake, then up from the same port: $rs"
echo "collide fb_sessions=$(field sessions "$fb") fb_fail=$(field fail "$fb")" \
    "fb_hung=$(field hung "$fb") py_sessions=$(field sessions "$py")" \
    "py_fail=$(field fail "$py") py_hung=$(field hung "$py") retried=$rs"
finish >/dev/null
