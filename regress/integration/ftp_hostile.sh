#!/bin/bash
# SPDX-License-Identifier: ISC
# ftp_hostile.sh: bad input on ftp-proxy's control connections.  Raw
# python3 sockets in the client namespace dial the server's address (the
# admin's redirect intercepts them); each case checks the reply code, that
# no permit was asked for, and that the proxy still serves a download.
# A fake FTP server checks the server side: a 227 naming a third host,
# multi-line and split replies, odd delimiters.  Run as root:
#   TOP=/path/to/tree bash regress/integration/ftp_hostile.sh
. "$(dirname "$0")/lib.sh"

require_root
set_up topo_up
set_up admin_rules
# The admin also runs FTP on port 2121 and 2122 (the fake server, and
# nothing at all).
in_fw nft add rule inet admin nat_pre iifname inside tcp dport '{ 2121, 2122 }' \
    redirect to :8021
set_up vsftpd_up

PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 1024
mkfile "$PUB/small" 2
LOG=$WORK/ftp-proxy.log

# Permits pfhelper was asked for, and sessions it was told of, so far.
plog() { grep -c 'session [0-9]*: permit [0-9]* ' "$LOG"; }
slog() { grep -c 'session [0-9]*: start ' "$LOG"; }

get_ok() {
	rm -f "$WORK/out"
	timeout 30 ip netns exec "$CLI" curl -sS --connect-timeout 5 -m 25 \
	    "ftp://$S4/pub/big" -o "$WORK/out" &&
	    [ "$(sum "$WORK/out")" = "$(sum "$PUB/big")" ]
}

# hostile "what" [permits the script itself asks for] < python script
hostile() {
	_before=$(plog)
	check "$1" py "$CLI" "$S4" "$S6"
	check "$1: no permit inserted" eval \
	    "[ \$(plog) -eq $((_before + ${2:-0})) ] && wait_permits 0"
	check "$1: the proxy still serves a download" get_ok
}

proxy_up
check "a normal download works" get_ok
# Its descriptors counted once that session is gone.
no_conns() { [ "$(tcp_conns "$FW" "$WORKERPID")" -eq 0 ]; }
set_up wait_re "$LOG" "ending session" 5
set_up wait_for 5 no_conns
FDS0=$(ls "/proc/$WORKERPID/fd" | wc -l)

# --- Client commands. ------------------------------------------------

hostile "PORT/EPRT to a third host (bounce) get 501" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	for cmd in ("PORT 198,51,100,10,200,10", "PORT 192,0,2,99,200,10",
	            "PORT 0,0,0,0,200,10", "EPRT |1|192.0.2.99|51200|",
	            "EPRT |1|198.51.100.10|51200|"):
	    assert c.code(cmd) == 501, cmd
	assert c.code("NOOP") == 200, "the session goes on"
	EOF

hostile "PORT/EPRT to a port below 1024 get 501" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	for cmd in ("PORT 192,0,2,10,0,80", "PORT 192,0,2,10,3,255",
	            "EPRT |1|192.0.2.10|1023|", "EPRT |1|192.0.2.10|20|"):
	    assert c.code(cmd) == 501, cmd
	assert c.code("NOOP") == 200
	EOF

hostile "EPRT with an unknown protocol gets 522" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	assert c.code("EPRT |3|192.0.2.10|51200|") == 522
	assert c.code("EPRT |2|2001:db8:1::10|51200|") == 522, "v6 on v4"
	assert c.code("EPSV 3") == 522
	assert c.code("EPSV 2") == 522
	assert c.code("NOOP") == 200
	EOF

hostile "IPv6 session: PORT and PASV get 500, EPRT |1| 522" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[2])
	assert c.login() == 230
	assert c.code("PORT 192,0,2,10,200,10") == 500
	assert c.code("PASV") == 500
	assert c.code("EPRT |1|192.0.2.10|51200|") == 522
	assert c.code("EPRT |2|::ffff:192.0.2.10|51200|") == 522
	assert c.code("EPSV 1") == 522
	assert c.code("EPRT |2|2001:db8:1::99|51200|") == 501, "bounce"
	assert c.code("EPRT |2|2001:db8:1::10|1000|") == 501, "low port"
	assert c.code("NOOP") == 200
	EOF

hostile "malformed PORT and EPRT get 501" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	for cmd in ("PORT 192,0,2,10,256,1", "PORT 192,0,2,256,200,1",
	            "PORT 99999999999", "PORT 192,0,2,10,99999999999,1",
	            "PORT 192,0,2,10,200", "PORT 192,0,2,10,200,1,7",
	            "PORT", "PORT 192,0,2,10,0,0", "PORT -192,0,2,10,200,1",
	            "PORT 192.0.2.10.200.1", "PORT 192,0,2,10,200,x",
	            "EPRT |1|192.0.2.10|99999|", "EPRT |1|192.0.2.10|0|",
	            "EPRT |1|not-an-address|51200|", "EPRT |1|192.0.2.10|",
	            "EPRT", "EPRT 192.0.2.10"):
	    assert c.code(cmd) == 501, cmd
	assert c.code("NOOP") == 200
	EOF

hostile "EPSV ALL, then PORT, EPRT and PASV get 501; EPSV works" 1 <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	assert c.code("EPSV ALL") == 200
	for cmd in ("PORT 192,0,2,10,200,10", "EPRT |1|192.0.2.10|51200|",
	            "PASV"):
	    assert c.code(cmd) == 501, cmd
	assert c.code("TYPE I") == 200
	assert len(c.passive("EPSV", "RETR pub/small")) == 2048
	EOF

hostile "LPRT, LPSV and AUTH are refused with 502" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.code("AUTH TLS") == 502
	assert c.login() == 230
	assert c.code("LPRT 4,4,192,0,2,10,2,200,10") == 502
	assert c.code("LPSV") == 502
	assert c.code("NOOP") == 200
	EOF

# A 500 and the line is dropped; that session and another go on.
hostile "a line over 16 KiB gets 500, the session goes on" 1 <<-'EOF'
	import sys
	from ftpc import Ctl
	by = Ctl(sys.argv[1])
	assert by.login() == 230
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	c.send(b"NOOP " + b"x" * 20000 + b"\r\n")
	assert c.reply() == (500, ["500 Line too long"])
	assert c.code("NOOP") == 200
	c = Ctl(sys.argv[1])
	c.send(b"A" * 30000)
	assert c.reply()[0] == 500, "no line end at all"
	c.send(b"A" * 30000 + b"\r\n")
	assert c.login() == 230, "the session did not go on"
	assert by.code("NOOP") == 200
	assert by.code("TYPE I") == 200
	assert len(by.passive("EPSV", "RETR pub/small")) == 2048
	EOF

hostile "a 4000-byte line is fine" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	c.send(b"SITE " + b"x" * 3995 + b"\r\n")
	assert c.reply()[0] not in (None, 421)
	assert c.code("NOOP") == 200
	EOF

hostile "a NUL byte gets 500 and the session goes on" 1 <<-'EOF'
	import sys
	from ftpc import Ctl
	by = Ctl(sys.argv[1])
	assert by.login() == 230
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	c.send(b"NO\0OP\r\n")
	code, lines = c.reply()
	assert code == 500 and "NUL" in lines[0], lines
	assert c.code("NOOP") == 200, "the session goes on"
	assert by.code("TYPE I") == 200
	assert len(by.passive("EPSV", "RETR pub/small")) == 2048
	EOF

# Replies come in the order of the commands, ours and the server's.
hostile "pipelined commands are answered in order" 1 <<-'EOF'
	import socket, sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], greet=False)
	c.send(b"PORT 198,51,100,10,4,1\r\nUSER anonymous\r\n")
	codes = [c.reply()[0] for _ in range(3)]
	assert codes == [220, 501, 230], "before the greeting: %s" % codes
	c.send(b"NOOP\r\nPORT 198,51,100,10,4,1\r\nNOOP\r\n")
	codes = [c.reply()[0] for _ in range(3)]
	assert codes == [200, 501, 200], codes
	# More at once than the proxy tracks (it must stall, not lose any).
	c.send(b"".join(b"NOOP\r\n" if i % 2 == 0 else
	                b"PORT 192,0,2,99,4,1\r\n" for i in range(40)))
	codes = [c.reply()[0] for _ in range(40)]
	assert codes == [200, 501] * 20, codes
	# A PASV behind another command is still rewritten.
	c.send(b"TYPE I\r\nPASV\r\n")
	assert c.reply()[0] == 200
	code, lines = c.reply()
	host, port = c.pasv_port(lines, code)
	assert code == 227 and port >= 49152, "PASV reply not rewritten"
	d = socket.create_connection((sys.argv[1], port), timeout=5)
	assert c.code("RETR pub/small") == 150
	data = b""
	while True:
	    b = d.recv(65536)
	    if not b:
	        break
	    data += b
	assert len(data) == 2048 and c.reply()[0] == 226
	EOF

hostile "QUIT and a half-close: 221 arrives, then the close" <<-'EOF'
	import socket, sys
	from ftpc import Ctl
	for host in sys.argv[1:3]:
	    c = Ctl(host)
	    assert c.login() == 230
	    c.send("QUIT")
	    c.s.shutdown(socket.SHUT_WR)
	    assert c.reply()[0] == 221
	    assert c.eof(5)
	EOF

# --- Connections the proxy must not relay. ---------------------------

_s0=$(slog)
check "a connection not intercepted gets 421" py "$CLI" <<-'EOF'
	import sys
	from ftpc import Ctl
	# Straight to the proxy's port, and port 21 of the firewall itself
	# (intercepted, but the original destination is the proxy).
	for host, port in (("192.0.2.1", 8021), ("2001:db8:1::1", 8021),
	                   ("192.0.2.1", 21), ("198.51.100.1", 21),
	                   ("2001:db8:1::1", 21)):
	    c = Ctl(host, port)
	    assert c.greeting[0] == 421, (host, port)
	    assert c.eof(5), (host, port)
	EOF
check "a connection not intercepted: no session reached pfhelper" \
    test "$(slog)" -eq "$_s0"
check "a connection not intercepted: the proxy still serves a download" \
    get_ok

hostile "an unreachable server gets 421" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], 2122, timeout=10)
	assert c.greeting[0] == 421
	assert c.eof(5)
	EOF

# --- A fake server: a 227 naming a third host, odd replies. ---------

cat > "$WORK/fake.py" <<-'EOF'
	import socket, socketserver, sys, time
	HOST, PORT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]

	def log(*a):
	    with open(LOG, "a") as f:
	        print(*a, file=f)

	def listen(port):
	    l = socket.socket()
	    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    l.bind((HOST, port))
	    l.listen(1)
	    l.settimeout(5)
	    return l

	class H(socketserver.StreamRequestHandler):
	    def handle(self):
	        s, n, dl = self.request, 0, None
	        s.sendall(b"220-Welcome to the fake server\r\n"
	                  b"220-  (1,2,3,4,5,6) in a greeting\r\n220 ready\r\n")
	        while True:
	            line = self.rfile.readline(8192)
	            if not line:
	                break
	            cmd = line.strip().decode("latin-1")
	            log("CMD", cmd)
	            verb = cmd.split(" ")[0].upper()
	            if verb == "USER":
	                s.sendall(b"331 pass\r\n")
	            elif verb == "PASS":
	                s.sendall(b"230-Hello\r\n230-second line\r\n230 ok\r\n")
	            elif verb == "PASV":
	                n += 1
	                p = 40000 + n
	                if n <= 2:
	                    dl = listen(p)
	                if n == 1:  # split across segments
	                    s.sendall(b"227 Entering Passive Mode (203,0,")
	                    time.sleep(0.3)
	                    s.sendall(b"113,5,%d,%d)\r\n" % (p >> 8, p & 255))
	                elif n == 2:  # 1xx first, no parentheses, bare LF
	                    s.sendall(b"150 thinking\n227 Entering Passive Mode"
	                              b" 203,0,113,5,%d,%d\n" % (p >> 8, p & 255))
	                elif n == 3:
	                    s.sendall(b"227 Entering Passive Mode "
	                              b"(203,0,113,5,0,21)\r\n")
	                else:
	                    s.sendall(b"227 Entering Passive Mode (soon)\r\n")
	            elif verb == "EPSV":
	                dl = listen(40100)
	                s.sendall(b"229 Entering Extended Passive Mode "
	                          b"(!!!40100!)\r\n")
	            elif verb == "RETR":
	                s.sendall(b"150 here it comes\r\n")
	                try:
	                    d, peer = dl.accept()
	                except OSError:
	                    s.sendall(b"425 no data connection\r\n")
	                    continue
	                log("DATA-PEER", peer[0])
	                d.sendall(b"fake-data-" + cmd[5:].encode())
	                d.close()
	                dl.close()
	                s.sendall(b"226 done\r\n")
	            elif verb == "QUIT":
	                s.sendall(b"221 bye\r\n")
	                break
	            else:
	                s.sendall(b"200 ok\r\n")

	socketserver.ThreadingTCPServer.allow_reuse_address = True
	socketserver.ThreadingTCPServer((HOST, PORT), H).serve_forever()
	EOF
bg timeout 120 ip netns exec "$SRV" python3 "$WORK/fake.py" "$S4" 2121 \
    "$WORK/fake.log"
wait_port "$SRV" 2121

hostile "fake server: 227 to a third host, split, 1xx, odd 229" 3 <<-'EOF'
	import socket, sys
	from ftpc import Ctl
	S = sys.argv[1]

	def fetch(c, code, lines, name):
	    host, port = c.pasv_port(lines, code)
	    assert host == S and port >= 49152, "not rewritten: %s" % lines
	    d = socket.create_connection((host, port), timeout=5)
	    assert c.code("RETR " + name) == 150
	    data = d.recv(1000)
	    d.close()
	    assert c.reply()[0] == 226
	    assert data == b"fake-data-" + name.encode(), data

	c = Ctl(S, 2121)
	assert c.greeting[1] == ["220-Welcome to the fake server",
	    "220-  (1,2,3,4,5,6) in a greeting", "220 ready"], "greeting"
	assert c.code("USER anonymous") == 331
	assert c.cmd("PASS x")[1] == ["230-Hello", "230-second line",
	    "230 ok"], "multi-line reply"
	code, lines = c.cmd("PASV")
	assert code == 227 and "203,0,113" not in lines[0], lines
	fetch(c, code, lines, "one")
	assert c.code("PASV") == 150
	code, lines = c.reply()
	assert code == 227, lines
	fetch(c, code, lines, "two")
	assert c.code("PASV") == 425, "server data port below 1024"
	assert c.code("PASV") == 425, "malformed 227"
	code, lines = c.cmd("EPSV")
	assert code == 229 and "|||" in lines[0], lines
	fetch(c, code, lines, "three")
	assert c.code("QUIT") == 221
	EOF
check "fake server: the data came from the proxy's outside address" eval \
    "[ \$(grep -c '^DATA-PEER 198.51.100.1\$' $WORK/fake.log) -eq 3 ] &&
    [ \$(grep -c '^DATA-PEER' $WORK/fake.log) -eq 3 ]"

# --- No descriptor left behind. --------------------------------------

# Bounded by the close linger (FTP_CLOSE_TIMEOUT, 5 s) and some.
fds_back() {
	i=0
	while [ $i -lt 80 ]; do
		n=$(ls "/proc/$WORKERPID/fd" | wc -l)
		[ "$n" -eq "$FDS0" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "ftp-proxy has $n descriptors, had $FDS0"
	return 1
}
check "ftp-proxy has as many descriptors as before the tests" fds_back
check "no permit left" wait_permits 0
proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0

# --- The session limit. ----------------------------------------------

proxy_up -m 2
check "-m 2: the third session gets 421, then a slot frees" \
    py "$CLI" "$S4" "$S6" <<-'EOF'
	import sys, time
	from ftpc import Ctl
	a, b = Ctl(sys.argv[1]), Ctl(sys.argv[2])
	assert a.login() == 230 and b.login() == 230
	c = Ctl(sys.argv[1])
	assert c.greeting[0] == 421, "third session"
	assert c.eof(5)
	assert a.code("NOOP") == 200 and b.code("NOOP") == 200
	assert a.code("QUIT") == 221
	for i in range(30):
	    d = Ctl(sys.argv[1])
	    if d.greeting[0] == 220:
	        break
	    time.sleep(0.1)
	assert d.greeting[0] == 220 and d.login() == 230
	EOF
# The script's sessions end when it exits; a slot is free once the
# server has closed them (curl takes a 421 as failure).
sessions_gone() {
	i=0
	while [ $i -lt 50 ]; do
		n=$(awk '/ FTP session /{sub(/.*#/, ""); o[$1] = 1}
		    / ending session/{sub(/.*#/, ""); delete o[$1]}
		    END{n = 0; for (k in o) n++; print n}' "$LOG")
		[ "$n" -eq 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "$n sessions still open"
	return 1
}
check "-m 2: the sessions end when their clients go" sessions_gone
check "-m 2: the proxy still serves a download" get_ok
proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0

# --- The idle timeout. -----------------------------------------------

# An older session that keeps talking (a NOOP each 0.5 s) is not ended
# with the idle one, so the timer is the idle time, not a session's
# age; the idle one is not ended before the -t 3 since its last command
# (a bound that load can only lengthen, never break).  How long after
# -t it comes is make bench's (stall).
IDLE0=$(grep -c 'ending session: idle timeout' "$LOG")
proxy_up -t 3
check "-t 3: an idle session gets 421 and is closed, a busy one lives" \
    py "$CLI" "$S4" <<-'EOF'
	import sys, time
	from ftpc import Ctl
	busy = Ctl(sys.argv[1], timeout=10)
	assert busy.login() == 230
	c = Ctl(sys.argv[1], timeout=10)
	assert c.login() == 230
	c.s.settimeout(0.5)
	t = time.time()
	assert c.code("EPSV") == 229
	code = None
	for i in range(40):	# 20 s at most
	    try:
	        code = c.reply()[0]
	        break
	    except OSError:
	        assert busy.code("NOOP") == 200, "the busy session ended"
	idle = time.time() - t
	print("421 after %.1f s" % idle)
	assert code == 421 and idle > 2.95, (code, idle)
	c.s.settimeout(10)
	assert c.eof(5)
	assert busy.code("NOOP") == 200, "the busy session ended with it"
	assert busy.code("QUIT") == 221
	EOF
check "-t 3: one session ended by the idle timeout" \
    test "$(grep -c 'ending session: idle timeout' "$LOG")" -eq $((IDLE0 + 1))
check "-t 3: the idle session's permit is gone" wait_permits 0
proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0

# --- Few descriptors: a 421, still serving, recovery. --------------

# ftp-proxy fits -m to the limit (2 per session, 32 spare); were it
# ever to run out anyway, it refuses the connection (spare descriptor).
PROXYWRAP="prlimit --nofile=40:40 --" proxy_up -m 100
check "few descriptors: ftp-proxy says how many sessions fit" \
    grep -q "only 40 descriptors: at most 4 sessions" "$LOG"
# (Its CPU time while full is make bench's: stall.)
check "few descriptors: 421, still answering, then recovery" \
    py "$CLI" "$S4" <<-'EOF'
	import socket, sys, time
	from ftpc import Ctl

	held = []
	for i in range(20):
	    c = Ctl(sys.argv[1])
	    if c.greeting[0] != 220:
	        break
	    assert c.login() == 230
	    held.append(c)
	print(len(held), "sessions, then", c.greeting)
	assert c.greeting[0] == 421 and len(held) >= 2
	extra = Ctl(sys.argv[1])
	assert extra.greeting[0] in (421, None), extra.greeting
	for c in held:
	    assert c.code("NOOP") == 200
	extra.s.close()
	for c in held:
	    assert c.code("QUIT") == 221
	for i in range(30):
	    d = Ctl(sys.argv[1])
	    if d.greeting[0] == 220:
	        break
	    time.sleep(0.1)
	assert d.login() == 230 and d.code("TYPE I") == 200
	assert len(d.passive("EPSV", "RETR pub/small")) == 2048
	EOF
check "no permit left" wait_permits 0
proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0
check "the table is gone" eval '! has_table'

finish
