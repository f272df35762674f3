#!/bin/sh
# SPDX-License-Identifier: ISC
# ftp_channel.sh: the pfhelper channel never stops the service.
#   1. Forward mode: a client connecting from an IPv6 link-local address,
#      and a client that routes a connection to its own address through
#      the firewall (client = server), each get 421 and a log line while
#      a download runs; the download completes with the right checksum;
#      ftp-proxy serves on afterwards.
#   2. Reverse mode (-R): the same for a link-local client.
#   3. pfhelper stopped (SIGSTOP) while a PASV's permit request waits in
#      its queue: another session's control lines are answered during
#      the stop, and the PASV completes after SIGCONT (227, data
#      arrives).  How long they take is make bench's (stall).
#   4. SIGTERM with 10,000 idle sessions from several client addresses
#      (a stub server): ftp-proxy exits 0, every client's connection is
#      closed, the table is gone, no process of ours is left.  How long
#      the exit takes is make bench's (stall).
# Needs root, ip(8), nft(8), vsftpd, curl, python3, and bin/*.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
need "$BIN/ftp-proxy" "$BIN/pfhelper"

set_up topo_up
set_up admin_rules
set_up vsftpd_up
PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 2048
mkfile "$PUB/small" 16
CURL="timeout 40 ip netns exec $CLI curl -sS --connect-timeout 5 -m 35"

# The client's link-local address (the kernel gave eth0 one).
ll=""
i=0
while [ $i -lt 30 ] && [ -z "$ll" ]; do
	ll=$(in_cli ip -6 -o addr show dev eth0 scope link -tentative |
	    awk '{ sub("/.*", "", $4); print $4; exit }')
	[ -n "$ll" ] || sleep 0.1
	i=$((i + 1))
done
set_up test -n "$ll"

# connect_from ns src host port: the first reply line, from src.
connect_from() {
	py "$1" "$2" "$3" "$4" <<-'EOF'
	import socket, sys
	src, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
	if ":" in src:
	    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
	    s.bind((src, 0, 0, socket.if_nametoindex("eth0")))
	else:
	    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	    s.bind((src, 0))
	s.settimeout(10)
	s.connect((host, port))
	data = b""
	while b"\n" not in data:
	    d = s.recv(512)
	    if not d:
	        break
	    data += d
	print(data.decode("latin-1").strip())
	EOF
}

refused_421() { # ns src host port
	connect_from "$@" > "$WORK/conn.out" 2>&1
	cat "$WORK/conn.out"
	grep -q '^421' "$WORK/conn.out"
}

proxy_alive() { kill -0 "$PROXYPID" 2>/dev/null; }

# 1. Forward mode.
set_up proxy_up
bg sh -c "$CURL --limit-rate 400k -o $WORK/bg1 ftp://$S4/pub/big"
BG=$LASTPID
# The download is under way once its first bytes have arrived.
set_up grown "$WORK/bg1" 0 10
check "forward: link-local client gets 421" refused_421 "$CLI" "$ll" "$S6" 21
check "forward: the refusal is logged" grep -q \
    "refused: client is not a unicast host" "$WORK/ftp-proxy.log"
# The client sends its own address out through the firewall: a rule
# above the local table (moved down) for locally made packets to port
# 21.  Something listens there, so an unchecked proxy would reach it.
in_cli ip rule add pref 1000 lookup local
in_cli ip rule del pref 0
in_cli ip rule add pref 10 to "$C4" ipproto tcp dport 21 iif lo lookup 100
in_cli ip route add "$C4" via "$F4IN" dev eth0 table 100
in_fw sysctl -qw net.ipv4.conf.all.rp_filter=0
in_cli sysctl -qw net.ipv4.conf.all.rp_filter=0
in_cli sysctl -qw net.ipv4.conf.eth0.rp_filter=0
in_cli sysctl -qw net.ipv4.conf.eth0.accept_local=1
in_fw sysctl -qw net.ipv4.conf.inside.rp_filter=0
bg ip netns exec "$CLI" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$C4"'", 21)); s.listen(8)
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        c, _ = s.accept(); c.sendall(b"220 self\r\n")
    except OSError:
        pass
'
wait_port "$CLI" 21 > /dev/null
check "forward: a client dialling itself gets 421" \
    refused_421 "$CLI" "$C4" "$C4" 21
check "forward: that refusal is logged" grep -q \
    "client and server are one host" "$WORK/ftp-proxy.log"
in_cli ip rule del pref 10
check "forward: ftp-proxy still runs" proxy_alive
wait "$BG"
check "forward: the download running meanwhile is whole" \
    same "$PUB/big" "$WORK/bg1"
rm -f "$WORK/small1"
check "forward: a new download works" sh -c \
    "$CURL -o $WORK/small1 ftp://$S4/pub/small && cmp $PUB/small $WORK/small1"
check "forward: no permit left" wait_permits 0

# 1b. One client asks for permits in a loop (PORT after PORT): it gets
# 425s past its rate, logged once per burst, and another client's
# PASV + RETRs meanwhile all work (its p50 is printed, not judged: a
# figure for make bench, not for a test on a shared machine).
pasv_p50() { # label: p50 of 40 PASV + RETR of a small file, in ms
	py "$CLI" "$S4" "$1" <<-'EOF'
	import sys, time
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	import io, contextlib
	v = []
	for _ in range(40):
	    t = time.time()
	    with contextlib.redirect_stdout(io.StringIO()):
	        d = c.passive("PASV", "RETR pub/small")
	    v.append(time.time() - t)
	    assert len(d) == 16 * 1024
	v.sort()
	print("%s %.2f" % (sys.argv[2], v[len(v) // 2] * 1000))
	EOF
}
port_loop() {
	py "$CLI" "$S4" "$C4" <<-'EOF'
	import sys, time, io, contextlib
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	h = sys.argv[2].replace(".", ",")
	codes = {}
	end = time.time() + 4
	i = 0
	with contextlib.redirect_stdout(io.StringIO()):
	    while time.time() < end:
	        p = 20000 + i % 20000
	        k = c.code("PORT %s,%d,%d" % (h, p >> 8, p & 255))
	        codes[k] = codes.get(k, 0) + 1
	        i += 1
	print("PORT loop: %d commands, replies %s" % (i, codes))
	EOF
}
rate_fair() {
	pasv_p50 unloaded > "$WORK/p50.out" || return 1
	port_loop > "$WORK/loop.out" &
	_lp=$!
	# The loop is under way once the proxy refuses it.
	wait_re "$WORK/ftp-proxy.log" 'data connections per second: refused' 5
	pasv_p50 loaded >> "$WORK/p50.out" || { wait $_lp; return 1; }
	wait $_lp
	cat "$WORK/p50.out" "$WORK/loop.out"
	grep -q "425" "$WORK/loop.out" || { echo "no 425 in the loop"; return 1; }
	awk '{ v[$1] = $2 } END {
	    printf "# PASV+RETR p50: unloaded %.2f ms, loaded %.2f ms\n",
	        v["unloaded"], v["loaded"] }' "$WORK/p50.out"
	grep -q "^loaded " "$WORK/p50.out"
}
check "a PORT loop gets 425s; another client's 40 transfers all work" \
    rate_fair
grep -h "^# PASV" "$WORK/check.out" 2>/dev/null
check "the PORT loop's refusals are logged, once per burst" sh -c \
    "n=\$(grep -c 'data connections per second: refused' $WORK/ftp-proxy.log);
    echo \$n; [ \$n -ge 1 ] && [ \$n -le 5 ]"
check "after the loop: no permit left" wait_permits 0

# 3. pfhelper stopped while a permit waits for it (forward mode still).
PFH=$(pfhelper_pid "$PROXYPID")
set_up test -n "$PFH"
# pfhelper_queued: bytes wait in pfhelper's end of its channel (ss -x).
sigstop() {
	py "$CLI" "$S4" "$PFH" "$FW" <<-'EOF'
	import os, signal, socket, subprocess, time, sys
	from ftpc import Ctl
	host, pfh, fw = sys.argv[1], int(sys.argv[2]), sys.argv[3]

	def pfhelper_queued():
	    out = subprocess.run(["ip", "netns", "exec", fw, "ss", "-xpH"],
	                         capture_output=True, text=True).stdout
	    return any("pid=%d," % pfh in l and int(l.split()[2]) > 0
	               for l in out.splitlines())

	a, b = Ctl(host), Ctl(host)
	assert a.login() == 230 and b.login() == 230
	os.kill(pfh, signal.SIGSTOP)
	try:
	    b.send("PASV")
	    for _ in range(50):
	        if pfhelper_queued():
	            break
	        time.sleep(0.1)
	    else:
	        raise AssertionError("the PASV's permit never reached pfhelper")
	    # Each NOOP is answered (5 s at most) while the permit waits.
	    for _ in range(10):
	        assert a.code("NOOP") == 200, "a control line waited"
	finally:
	    os.kill(pfh, signal.SIGCONT)
	code, lines = b.reply()
	assert code == 227, lines
	h, p = b.pasv_port(lines, code)
	d = socket.create_connection((h, p), timeout=5)
	assert b.code("RETR pub/small") in (125, 150)
	data = b""
	while True:
	    x = d.recv(65536)
	    if not x:
	        break
	    data += x
	assert b.reply()[0] == 226
	assert len(data) == 16 * 1024, len(data)
	a.code("QUIT"); b.code("QUIT")
	EOF
}
check "SIGSTOP of pfhelper: other sessions flow, the permit comes after" \
    sigstop
check "SIGSTOP: ftp-proxy still runs" proxy_alive
check "SIGSTOP: no permit left" wait_permits 0
proxy_stop
check "forward: SIGTERM, exit 0" test "$PROXYRC" -eq 0

# 2. Reverse mode: the proxy on the firewall's inside address for the
# server at $S6 (the roles of the namespaces do not matter to -R).
rm -f "$WORK/ftp-proxy.log"
set_up proxy_up -R "$S6"
bg sh -c "$CURL --limit-rate 400k -o $WORK/bg2 ftp://[$F6IN]:8021/pub/big"
BG=$LASTPID
set_up grown "$WORK/bg2" 0 10
check "reverse: link-local client gets 421" \
    refused_421 "$CLI" "$ll" "$F6IN" 8021
check "reverse: the refusal is logged" grep -q \
    "refused: client is not a unicast host" "$WORK/ftp-proxy.log"
check "reverse: ftp-proxy still runs" proxy_alive
wait "$BG"
check "reverse: the download running meanwhile is whole" \
    same "$PUB/big" "$WORK/bg2"
rm -f "$WORK/small2"
check "reverse: a new download works" sh -c \
    "$CURL -o $WORK/small2 ftp://[$F6IN]:8021/pub/small &&
    cmp $PUB/small $WORK/small2"
proxy_stop
check "reverse: SIGTERM, exit 0" test "$PROXYRC" -eq 0

# 4. 10,000 idle sessions, then SIGTERM.  Each takes two descriptors
# of the proxy: where the hard limit is lower (and cannot be raised),
# as many as it allows.
kill "$VSFTPDPID" 2>/dev/null
wait "$VSFTPDPID" 2>/dev/null
HARD=$(ulimit -Hn)
N=10000
[ "$HARD" = unlimited ] || [ $(( (HARD - 32) / 2 )) -ge $N ] ||
    N=$(( (HARD - 32) / 2 ))
echo "# $N sessions (descriptor hard limit $HARD)"
bg ip netns exec "$SRV" python3 -c '
import asyncio
async def conn(r, w):
    w.write(b"220 stub\r\n")
    try:
        await r.read()
    except Exception:
        pass
    w.close()
async def main():
    srv = await asyncio.start_server(conn, "'"$S4"'", 21, backlog=4096)
    await asyncio.sleep(300)
import resource
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))
asyncio.run(main())
'
wait_port "$SRV" 21 > /dev/null
for a in 20 21 22 23; do in_cli ip addr add 192.0.2.$a/24 dev eth0; done
rm -f "$WORK/ftp-proxy.log"
PROXYWRAP="" set_up proxy_up -m $N -M $N -D 5
PFH=$(pfhelper_pid "$PROXYPID")
# The clients keep their connections until $WORK/done exists; once all
# are greeted, $WORK/closed counts those the proxy closed.
bg ip netns exec "$CLI" python3 -c '
import os, resource, selectors, socket, sys, time
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))
n, work = int(sys.argv[1]), sys.argv[2]
srcs = ["192.0.2.%d" % a for a in (20, 21, 22, 23)]
sel = selectors.DefaultSelector()
socks, greeted, waiting, i = [], 0, 0, 0
end = time.time() + 90
# At most 200 connections wait for their greeting at a time.
while greeted < n and time.time() < end:
    while i < n and waiting < 200:
        s = socket.socket()
        s.bind((srcs[i % 4], 0))
        s.setblocking(False)
        s.connect_ex(("'"$S4"'", 21))
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
        waiting += 1
        i += 1
    for k, _ in sel.select(0.5):
        try:
            if k.fileobj.recv(64).startswith(b"220"):
                greeted += 1
        except OSError:
            pass
        sel.unregister(k.fileobj)
        waiting -= 1
open(work + "/greeted", "w").write("%d\n" % greeted)
for s in socks:
    sel.register(s, selectors.EVENT_READ)
closed = 0
while not os.path.exists(work + "/done") and time.time() < end + 60:
    for k, _ in sel.select(0.2):
        try:
            if k.fileobj.recv(64):
                continue
        except OSError:
            pass
        sel.unregister(k.fileobj)
        closed += 1
        if closed == len(socks):
            open(work + "/closed", "w").write("%d\n" % closed)
' "$N" "$WORK"
CLIENTS=$LASTPID
wait_for 100 test -s "$WORK/greeted"
check "$N sessions greeted through the proxy" \
    test "$(cat "$WORK/greeted" 2>/dev/null)" = "$N"
proxy_stop TERM
check "SIGTERM with $N sessions: ftp-proxy ends, status 0" \
    test "$PROXYRC" -eq 0
check "SIGTERM with $N sessions: every client's connection closed" \
    wait_for 30 grep -qx "$N" "$WORK/closed"
check "SIGTERM with $N sessions: pfhelper gone" \
    sh -c "! kill -0 $PFH 2>/dev/null"
no_table() { ! has_table; }
check "SIGTERM with $N sessions: the table is gone" no_table
touch "$WORK/done"
wait "$CLIENTS" 2>/dev/null
check "no ftp-proxy or pfhelper left in the firewall" sh -c \
    "! ip netns pids $FW | xargs -r ps -o comm= -p | grep -qE 'ftp-proxy|pfhelper'"
finish
