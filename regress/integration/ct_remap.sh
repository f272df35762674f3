#!/bin/sh
# SPDX-License-Identifier: ISC
# ct_remap.sh: a session whose client port NAT rewrote is not refused.
#
# Both server addresses below are redirected to the one proxy port, so
# a client that reuses a source port for another destination while
# its earlier connection's entry lives (TIME_WAIT, or still open) makes
# a redirect whose reply tuple (proxy:8021 -> client:port) is taken:
# the kernel then rewrites the client's port as well (when that entry
# is in TIME_WAIT; while it is open, the new SYN is dropped, measured
# on 6.18: no session to check).  ftp-proxy sees
# the new port, conntrack's original tuple keeps the old one, and
# pfhelper's check used to find "no such connection" (421 Proxy
# refused the session): the intermittent refusal of issue 23, which
# any client hits that uses one port for two servers within 120 s.
# Here the client binds its port, so it happens every time:
#   1. one port, S4 then 198.51.100.11 (the first in TIME_WAIT);
#   2. regress/tools/ctloop: the check alone, remapped and not.
#   3. TFTP: one client port, a read from S4 then from 198.51.100.11.
#      The second request's source port is rewritten the same way (the
#      first one's entry is alive); tftp-proxy sees the new port, but
#      the server's data must reach the client's own port, which
#      pfhelper has from the entry's original tuple.
# pfhelper finds the entry by its reply tuple (where the client reached
# the proxy -> the client as the proxy sees it), one conntrack GET.
# Each asserts that the remap happened (pfhelper's debug line), so
# that none passes without the case it is about.
#
# Needs root, ip(8), nft(8), vsftpd, in.tftpd, python3.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
CTLOOP=${CTLOOP:-$TOP/obj/regress/tools/ctloop}
require_root
need "$BIN/ftp-proxy" "$BIN/pfhelper" "$CTLOOP"
[ -n "${KEEP:-}" ] && echo "work directory: $WORK"
S4B=198.51.100.11

set_up topo_up
set_up admin_rules
set_up in_srv ip addr add $S4B/24 dev eth0
set_up vsftpd_up
mkfile "$WORK/ftproot/pub/f" 64
set_up proxy_up
LOG=$WORK/ftp-proxy.log	# the spawned pfhelper's lines too

# sessions port host...: from client port `port', one session per
# host, each logged in and a passive RETR of pub/f; prints per host "<host> <greeting code> <login code> <sha256>".
sessions() {
	py "$CLI" "$@" <<-'EOF'
	import hashlib, socket, sys
	from ftpc import Ctl
	port, hosts = int(sys.argv[1]), sys.argv[2:]
	cs = []
	for h in hosts:
	    s = socket.socket()
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    s.bind(("", port))
	    s.settimeout(10)
	    s.connect((h, 21))
	    c = Ctl.__new__(Ctl)
	    c.host, c.s, c.buf = h, s, b""
	    c.greeting = c.reply()
	    cs.append(c)
	for c in cs:
	    g = c.greeting[0]
	    l = c.login() if g == 220 else None
	    d = c.passive("PASV", "RETR pub/f") if l == 230 else b""
	    print("%s %s %s %s" % (c.host, g, l, hashlib.sha256(d).hexdigest()))
	for c in cs:
	    if c.greeting[0] == 220:
	        c.cmd("QUIT")
	    c.s.close()
	EOF
}
served() { # host: its session was greeted, logged in, and got pub/f
	grep -qx "$1 220 230 $(sum "$WORK/ftproot/pub/f")" "$WORK/out"
}
remapped() { # port: pfhelper found a client whose port was `port'
	grep -q "client port [0-9]* was $1 before NAT" "$LOG"
}

# --- 1. one port, one server after the other ---------------------------
sessions 40021 $S4 > "$WORK/out" 2>&1
check "port 40021 to $S4: served" served $S4
sessions 40021 $S4B > "$WORK/out" 2>&1
check "port 40021 to $S4B right after: served, not refused" served $S4B
check "and its port was rewritten by NAT (pfhelper found it all the same)" \
    remapped 40021
check "no refusal for want of a connection" eval \
    "! grep -q 'no such connection' '$LOG'"

# --- 2. the check alone ----------------------------------------------
# ctloop in place of the proxy (port 8021 is free once it is gone):
# six connections from one port, to the two servers by turns.
proxy_stop TERM
bg ip netns exec "$FW" "$CTLOOP" -v -t 30 -n 6 8021 > "$WORK/ctloop" 2>&1
CTPID=$LASTPID
set_up wait_port "$FW" 8021
py "$CLI" $S4 $S4B > "$WORK/cl.out" 2>&1 <<-'EOF'
	import socket, sys
	for i in range(6):
	    s = socket.socket()
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    s.bind(("", 40023))
	    s.settimeout(10)
	    s.connect((sys.argv[1 + i % 2], 21))
	    while s.recv(100):
	        pass
	    s.close()
	EOF
wait "$CTPID" > /dev/null 2>&1
CTRC=$?
PIDS=$(echo " $PIDS " | sed "s/ $CTPID / /")
check "ctloop: 6 connections from one port, every one found (exit $CTRC)" \
    test "$CTRC" -eq 0
check "ctloop: 3 of them rewritten by NAT" \
    test "$(grep -c 'was 40023 before NAT' "$WORK/ctloop")" -eq 3
grep '^ctloop' "$WORK/ctloop" | sed 's/^/# /'

# --- 3. TFTP: the reply path reaches the client's own port ------------
# rrq port host...: from client port `port', a read of f per host, one
# after the other; prints per host "<host> <sha256 or error>".
rrq() {
	py "$CLI" "$@" <<-'EOF'
	import hashlib, socket, struct, sys
	port, hosts = int(sys.argv[1]), sys.argv[2:]
	for h in hosts:
	    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    s.bind(("", port))
	    s.settimeout(5)
	    s.sendto(b"\x00\x01f\x00octet\x00", (h, 69))
	    d, want, out = b"", 1, "timeout"
	    try:
	        while True:
	            p, a = s.recvfrom(600)
	            op, blk = struct.unpack("!HH", p[:4])
	            if op != 3:
	                out = "error %d" % op
	                break
	            if blk == want:
	                d += p[4:]
	                want += 1
	            s.sendto(struct.pack("!HH", 4, blk), a)
	            if blk == want - 1 and len(p) < 516:
	                out = hashlib.sha256(d).hexdigest()
	                break
	    except socket.timeout:
	        pass
	    print(h, out, flush=True)
	    s.close()
	EOF
}
set_up tftpd_up
mkfile "$WORK/tftproot/f" 2
set_up tftp_proxy_up
TLOG=$WORK/tftp-proxy.log
rrq 40069 $S4 $S4B > "$WORK/tout" 2>&1
tserved() { grep -qx "$1 $(sum "$WORK/tftproot/f")" "$WORK/tout"; }
check "TFTP from port 40069 to $S4: served" tserved $S4
check "TFTP from port 40069 to $S4B right after: served" tserved $S4B
check "and tftp-proxy saw its port rewritten by NAT" eval \
    "grep -q '192.0.2.10:[0-9]* -> $S4B:69' '$TLOG' &&
    ! grep -q '192.0.2.10:40069 -> $S4B:69' '$TLOG'"

finish
