#!/bin/sh
# SPDX-License-Identifier: ISC
# hostile.sh: classes of bad input that ftp_hostile.sh and tftp_proxy.sh
# do not try, in three groups:
#   FTP   control traffic to ftp-proxy from hostile clients (bare CR,
#         slow drip, idle, floods, resets) and from a fake python3
#         server (endless and over-long replies, garbage, bad 227/229)
#   TFTP  datagrams to the standalone tftp-proxy
#   IMSG  a compromised front end talking to pfhelper: raw messages and
#         bytes (regress/tools/pfhraw), foreign sessions and conntrack
#         (regress/tools/pfhctl)
# For each class: the expected refusal (reply code, log line, or the
# peer dropped), no element inserted in any table (`nft monitor' in the
# firewall sees no `create element'), no crash (the daemons still run;
# a dropped pfhelper exits 0 and takes its table along), and at the
# end of each group a normal transfer, or another peer's session, is
# unaffected.  Prints how many classes were tried and passed.
#
# Needs root, ip(8), nft(8), vsftpd, in.tftpd, curl, python3, and
# bin/* plus obj/regress/tools/pfhctl and pfhraw.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
PY=${PYTHON:-python3}
PFHCTL=${PFHCTL:-$TOP/obj/regress/tools/pfhctl}
PFHRAW=${PFHRAW:-$TOP/obj/regress/tools/pfhraw}
require_root
need "$BIN/ftp-proxy" "$BIN/tftp-proxy" "$BIN/pfhelper" "$PFHCTL" \
    "$PFHRAW"

ntried=0
nclass=0
GROUP=""

set_up topo_up
set_up admin_rules
# The fake server listens on port 2121, intercepted as port 21 is.
in_fw nft add rule inet admin nat_pre iifname inside tcp dport 2121 \
    redirect to :8021
set_up vsftpd_up
set_up tftpd_up
PUB=$WORK/ftproot/pub
mkfile "$PUB/f" 512
mkfile "$WORK/tftproot/t" 256
LOG=$WORK/ftp-proxy.log
TLOG=$WORK/tftp-proxy.log

set_up monitor_up

# klass name command...: one class of bad input.  The command checks the
# refusal; then no element may have been created (unless $PERMITS_OK),
# none may be left in $TABLE, and group_alive must hold.
klass() {
	_name=$1
	shift
	ntried=$((ntried + 1))
	_m0=$(created)
	_why=""
	"$@" > "$WORK/class.out" 2>&1 || _why="refusal not as expected"
	monitor_sync >> "$WORK/class.out" || _why="$_why; nft monitor lags"
	if [ -z "${PERMITS_OK:-}" ] && [ "$(created)" -ne "$_m0" ]; then
		_why="$_why; $(($(created) - _m0)) elements created"
	fi
	wait_permits 0 "$TABLE" > /dev/null || _why="$_why; permits left"
	group_alive || _why="$_why; a daemon died"
	if [ -z "$_why" ]; then
		nclass=$((nclass + 1))
		ok "[$GROUP] $_name"
	else
		fail "[$GROUP] $_name: ${_why#; }"
		tail -n 8 "$WORK/class.out" | sed 's/^/#   /'
	fi
	cat "$WORK/class.out" >> "$WORK/check.log"
}

# Wait (bounded, $3 s) until file $1 has a line matching the ERE $2.

# Count of lines in $1 with the fixed string $2.
count() { grep -cF -- "$2" "$1" 2>/dev/null; }

# =====================================================================
# FTP
# =====================================================================

GROUP=FTP
TABLE=ftp-proxy
proxy_up -t 3 -m 8 || { fail "ftp-proxy starts"; finish; exit 1; }
# pfhelper is the front end's child beside its worker (whatever its
# name: under valgrind it is not "pfhelper").
only_child() { pgrep -P "$1" | grep -vx "$WORKERPID" | head -n 1; }
PFH=$(only_child "$PROXYPID")
group_alive() { alive "$PROXYPID" && alive "$WORKERPID" && alive "$PFH"; }
# One session first: the proxy keeps a spare descriptor from then on.
timeout 30 ip netns exec "$CLI" curl -sS -m 25 "ftp://$S4/pub/f" \
    -o "$WORK/n0" || echo "first download failed"
# Its descriptors counted once it is gone (its connections closed).
set_up wait_re "$LOG" "ending session" 5
no_conns() { [ "$(tcp_conns "$FW" "$WORKERPID")" -eq 0 ]; }
set_up wait_for 5 no_conns
FDS0=$(ls "/proc/$WORKERPID/fd" | wc -l)

# The fake server: fake mode; what it got goes to $WORK/fake.log.
cat > "$WORK/fake.py" <<-'EOF'
	import re, socket, sys, time
	mode, host, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
	    sys.argv[4]
	replies = sys.argv[5:]
	lf = open(log, "a", buffering=1)
	l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	l.bind((host, port))
	l.listen(4)
	l.settimeout(20)
	c, peer = l.accept()
	c.settimeout(20)
	end = time.time() + 20
	if mode == "endless":
	    n = 0
	    try:
	        c.sendall(b"220-endless greeting\r\n")
	        while time.time() < end:
	            c.sendall(b"220-" + b"x" * 250 + b"\r\n")
	            n += 1
	        lf.write("still open after %d lines\n" % n)
	    except OSError as e:
	        lf.write("closed after %d lines: %s\n" % (n, e))
	    sys.exit(0)
	greet = {"longline": b"220 " + b"x" * 5000 + b"\r\n",
	         "garbage": b"HELLO THERE\r\n",
	         "nul": b"220 hi\0there\r\n"}.get(mode, b"220 fake\r\n")
	c.sendall(greet)
	split = re.compile(b"\r\n|\r|\n" if mode == "crsplit" else b"\r?\n")
	buf = b""
	while time.time() < end:
	    try:
	        d = c.recv(4096)
	    except OSError:
	        break
	    if not d:
	        lf.write("eof\n")
	        break
	    buf += d
	    lines = split.split(buf)
	    buf = lines.pop()
	    for line in lines:
	        cmd = line.decode("latin-1")
	        lf.write("cmd %s\n" % cmd)
	        verb = cmd.split(" ")[0].upper()
	        out = b"200 ok\r\n"
	        if verb == "USER":
	            out = b"331 pass\r\n"
	        elif verb == "PASS":
	            out = b"230 in\r\n"
	        elif verb in ("PASV", "EPSV") and replies:
	            out = replies.pop(0).encode("latin-1") + b"\r\n"
	        elif verb == "QUIT":
	            out = b"221 bye\r\n"
	        elif mode == "halfline" and verb == "NOOP":
	            c.sendall(b"200 half a li")
	            c.close()
	            sys.exit(0)
	        elif mode == "unsolicited":
	            out += (b"227 Entering Passive Mode (203,0,113,5,195,80)\r\n"
	                    b"229 Entering Extended Passive Mode (|||50000|)\r\n")
	        try:
	            c.sendall(out)
	        except OSError:
	            break
	        if verb == "QUIT":
	            sys.exit(0)
	EOF

FAKEPID=""
# fake mode [replies...]: a fake server for one connection on S4:2121.
fake() {
	fake_stop
	: > "$WORK/fake.log"
	_mode=$1
	shift
	bg timeout 30 ip netns exec "$SRV" "$PY" "$WORK/fake.py" "$_mode" "$S4" \
	    2121 "$WORK/fake.log" "$@"
	FAKEPID=$LASTPID
	wait_port "$SRV" 2121
}
fake_stop() {
	[ -n "$FAKEPID" ] || return 0
	kill "$FAKEPID" 2>/dev/null
	wait "$FAKEPID" 2>/dev/null
	PIDS=$(echo " $PIDS " | sed "s/ $FAKEPID / /")
	FAKEPID=""
}

f_bare_cr() {
	py "$CLI" "$S4" <<-'EOF'
	import socket, sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	c.send(b"NOOP\r")
	c.s.settimeout(1)
	try:
	    got = c.s.recv(100)
	except socket.timeout:
	    got = None
	assert got is None, "a bare CR ended a line: %r" % got
	c.send(b"NOOP\r" * 4000)
	assert c.reply()[0] == 500, "no 500 for 20000 bytes without LF"
	c.send(b"\r\n")             # the end of the discarded line
	assert c.code("NOOP") == 200, "the session did not go on"
	EOF
}
klass "bare CR never ends a line: 500 Line too long at 16 KiB, then on" \
    f_bare_cr
check "bare CR: the proxy logs the over-long line" \
    grep -q "client line too long" "$LOG"

# RFC 959 lines end in CR LF; a server that also splits on a bare CR
# must not see a command the proxy did not check.
f_cr_smuggle() {
	fake crsplit || return 1
	py "$CLI" "$S4" <<-'EOF' || return 1
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], 2121)
	assert c.code("USER anonymous") == 331 and c.code("PASS x") == 230
	c.send(b"NOOP\rPORT 203,0,113,5,0,21\r\n")
	c.s.settimeout(2)
	for i in range(2):
	    try:
	        print(c.reply())
	    except OSError:
	        break
	EOF
	fake_stop
	cat "$WORK/fake.log"
	! grep -q '^cmd PORT' "$WORK/fake.log"
}
klass "bare CR smuggling a bounce PORT past the proxy" f_cr_smuggle

f_endless_noread() {
	fake endless || return 1
	py "$CLI" "$S4" "$PROXYPID" "$WORK/fake.log" <<-'EOF' || return 1
	import socket, sys, time
	def rss(pid):
	    for l in open("/proc/%s/status" % pid):
	        if l.startswith("VmRSS:"):
	            return int(l.split()[1])
	r0 = rss(sys.argv[2])
	s = socket.create_connection((sys.argv[1], 2121), timeout=5)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	time.sleep(2)		# the attack: 2 s of flood, nothing read
	r1 = rss(sys.argv[2])
	print("ftp-proxy VmRSS %d kB -> %d kB while the server floods" % (r0, r1))
	assert r1 - r0 < 8192, "memory grows with the flood"
	# Still not reading, until -t 3 ends the server side (10 s at most).
	for i in range(100):
	    if "closed after" in open(sys.argv[3]).read():
	        break
	    time.sleep(0.1)
	s.close()
	EOF
	wait_re "$WORK/fake.log" "closed after" 1
	cat "$WORK/fake.log"
	fake_stop
	grep -q "idle timeout" "$LOG"
}
klass "endless multi-line reply, client not reading: bounded, -t ends it" \
    f_endless_noread

f_endless_read() {
	fake endless || return 1
	py "$CLI" "$S4" <<-'EOF' || return 1
	import socket, sys, time
	s = socket.create_connection((sys.argv[1], 2121), timeout=5)
	n, end = 0, time.time() + 2
	while time.time() < end:
	    n += len(s.recv(65536))
	print("read %d bytes of one endless reply" % n)
	assert n > 100000
	s.close()
	EOF
	wait_re "$WORK/fake.log" "closed after" 10
	cat "$WORK/fake.log"
	fake_stop
}
klass "endless multi-line reply, client reads then leaves: server closed" \
    f_endless_read

f_server_line() { # mode code
	fake "$1" || return 1
	py "$CLI" "$S4" "$2" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], 2121)
	assert c.greeting[0] == int(sys.argv[2]), c.greeting
	assert c.eof(5)
	EOF
	_rc=$?
	fake_stop
	return $_rc
}
f_server_longline() {
	fake longline || return 1
	py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], 2121)
	assert c.greeting == (220, ["220 " + "x" * 5000]), c.greeting
	assert c.code("NOOP") == 200
	EOF
	_rc=$?
	fake_stop
	return $_rc
}
klass "server line over 4 KiB: relayed whole, the session goes on" \
    f_server_longline
klass "server greeting that is no reply: 421, session ends" \
    f_server_line garbage 421
klass "NUL byte in a server reply: 500, session ends" f_server_line nul 500

f_server_halfline() {
	fake halfline || return 1
	py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], 2121)
	assert c.code("USER anonymous") == 331
	c.send("NOOP")
	assert c.eof(5), "the session did not end"
	EOF
	_rc=$?
	fake_stop
	return $_rc
}
klass "server closes in the middle of a reply line: session ends" \
    f_server_halfline

f_unsolicited() {
	fake unsolicited || return 1
	py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], 2121)
	assert c.code("USER anonymous") == 331
	c.send("NOOP")
	r = [c.reply() for i in range(3)]
	assert [x[0] for x in r] == [200, 227, 229], r
	assert "(203,0,113,5,195,80)" in r[1][1][0], "227 not relayed as it came"
	assert "(|||50000|)" in r[2][1][0], "229 not relayed as it came"
	assert c.code("QUIT") == 221
	EOF
	_rc=$?
	fake_stop
	return $_rc
}
klass "unsolicited 227/229 replies: relayed as they are, no permit" \
    f_unsolicited

f_bad_passive() { # verb replies...
	_verb=$1
	shift
	fake pasv "$@" || return 1
	py "$CLI" "$S4" "$_verb" "$#" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], 2121)
	assert c.code("USER anonymous") == 331 and c.code("PASS x") == 230
	for i in range(int(sys.argv[3])):
	    code, lines = c.cmd(sys.argv[2])
	    assert code == 425, lines
	assert c.code("NOOP") == 200, "the session goes on"
	assert c.code("QUIT") == 221
	EOF
	_rc=$?
	fake_stop
	grep -q "malformed passive reply\|server data port" "$LOG" || _rc=1
	return $_rc
}
klass "229 with port 0, 65536, 11 digits, a sign, no digits: 425" \
    f_bad_passive EPSV \
    "229 Entering Extended Passive Mode (|||0|)" \
    "229 Entering Extended Passive Mode (|||65536|)" \
    "229 Entering Extended Passive Mode (|||99999999999|)" \
    "229 Entering Extended Passive Mode (|||+5000|)" \
    "229 Entering Extended Passive Mode (|||x|)" \
    "229 Entering Extended Passive Mode (||5000|)"
klass "227 with port 0, 7 numbers, 4-digit, signed, over 255: 425" \
    f_bad_passive PASV \
    "227 Entering Passive Mode (198,51,100,10,0,0)" \
    "227 Entering Passive Mode (198,51,100,10,195,80,7)" \
    "227 Entering Passive Mode (198,51,100,10,0195,80)" \
    "227 Entering Passive Mode (198,51,100,10,-1,80)" \
    "227 Entering Passive Mode (198,51,100,10,256,80)" \
    "227 Entering Passive Mode (198,51,100,10,195)"

# A long 227 or 229 line: rewritten from its head, the rest dropped, so
# the reply stays one short line; malformed, one 425.  Framing holds.
f_long_passive() {
	_pad=$(printf 'x%.0s' $(seq 6000))
	fake pasv "227 Entering Passive Mode (198,51,100,10,195,80) $_pad" \
	    "229 Entering Extended Passive Mode (|||50000|) $_pad" \
	    "227 $_pad" || return 1
	py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], 2121)
	assert c.code("USER anonymous") == 331 and c.code("PASS x") == 230
	for verb, want in (("PASV", "227 "), ("EPSV", "229 "), ("PASV", "425 ")):
	    code, lines = c.cmd(verb)
	    assert len(lines) == 1 and lines[0].startswith(want), lines
	    assert len(lines[0]) < 100, lines	# the padding is gone
	    assert c.code("NOOP") == 200, "framing lost after " + verb
	assert c.code("QUIT") == 221
	EOF
	_rc=$?
	fake_stop
	return $_rc
}
PERMITS_OK=1 klass "227/229 lines over 4 KiB: rewritten from their head, or \
425; framing holds" f_long_passive

f_slow_ok() {
	py "$CLI" "$S4" <<-'EOF'
	import sys, time
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	def drip(line):
	    for b in line + b"\r\n":
	        c.s.sendall(bytes([b]))
	        time.sleep(0.1)
	drip(b"USER anonymous")
	assert c.reply()[0] == 230
	drip(b"NOOP")
	assert c.reply()[0] == 200
	EOF
}
klass "slow drip (a byte per 100 ms) of whole commands is served" f_slow_ok

# The idle timeouts logged.
idles() { count "$LOG" "ending session: idle timeout"; }
idled() { [ "$(idles)" -eq $(($1 + 1)) ]; }

f_slow_endless() {
	_t0=$(idles)
	py "$CLI" "$S4" <<-'EOF' || return 1
	import socket, sys, time
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	c.s.setblocking(False)
	t0, got = time.time(), b""
	for i in range(100):          # 10 s at most
	    try:
	        c.s.sendall(b"A")
	    except OSError:
	        break
	    time.sleep(0.1)
	    try:
	        d = c.s.recv(4096)
	    except BlockingIOError:
	        continue
	    except OSError:
	        break
	    got += d
	    if not d or b"\n" in got:
	        break
	dt = time.time() - t0
	print("after %.1f s: %r" % (dt, got))
	assert got.startswith(b"421"), "no idle timeout"
	EOF
	wait_for 5 idled "$_t0" || { echo "no idle timeout logged"; false; }
}
klass "slow drip of a line that never ends: 421 at -t 3" f_slow_endless

f_idle() {
	_t0=$(idles)
	py "$CLI" "$S4" <<-'EOF' || return 1
	import sys, time
	from ftpc import Ctl
	c = Ctl(sys.argv[1], timeout=10)
	t0 = time.time()
	assert c.login() == 230
	assert c.reply()[0] == 421
	print("421 after %.1f s" % (time.time() - t0))
	assert time.time() - t0 > 2.95, "before -t 3"
	assert c.eof(5)
	EOF
	wait_for 5 idled "$_t0" || { echo "no idle timeout logged"; false; }
}
klass "idle client: 421 at -t 3, session closed" f_idle

# Nothing else open on the proxy: the limit counts only the flood.
no_sessions() {
	_i=0
	while [ $_i -lt 100 ]; do
		[ "$(ls "/proc/$WORKERPID/fd" | wc -l)" -le "$FDS0" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "ftp-proxy holds $(ls "/proc/$WORKERPID/fd" | wc -l) fds, had $FDS0"
	return 1
}

# One host alone gets 6 of -m 8: the last quarter stays for others.
f_flood() {
	no_sessions || return 1
	_n0=$(($(count "$LOG" "session limit reached") +
	    $(count "$LOG" "ending session: per-host session limit")))
	py "$CLI" "$S4" "$S6" <<-'EOF' || return 1
	import socket, sys, time
	from ftpc import Ctl
	ss = [socket.create_connection((sys.argv[1], 21), timeout=10)
	      for i in range(40)]
	codes = []
	for s in ss:
	    d = b""
	    while b"\n" not in d:
	        b = s.recv(100)
	        if not b:
	            break
	        d += b
	    codes.append(int(d[:3]))
	print(codes)
	assert codes.count(220) == 6 and codes.count(421) == 34, codes
	for s, c in zip(ss, codes):
	    if c == 421:
	        s.close()
	for i in range(50):	# until the refused ones are gone
	    other = Ctl(sys.argv[2])
	    if other.greeting[0] == 220:
	        break
	    time.sleep(0.1)
	assert other.login() == 230, "another host while the flood holds 6"
	for s in ss:
	    s.close()
	EOF
	[ "$(($(count "$LOG" "session limit reached") +
	    $(count "$LOG" "ending session: per-host session limit")))" \
	    -ge $((_n0 + 34)) ] || { echo "not 34 refusals logged"; return 1; }
	no_sessions || return 1
	py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	assert Ctl(sys.argv[1]).login() == 230
	EOF
}
klass "flood of 40 connections beyond -m 8 from one host: 6 served, 34 get 421, another host served" f_flood

f_reset() {
	py "$CLI" "$S4" <<-'EOF' || return 1
	import socket, struct, sys
	for i in range(30):
	    s = socket.create_connection((sys.argv[1], 21), timeout=5)
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
	                 struct.pack("ii", 1, 0))
	    if i % 2:
	        s.send(b"USER anonymous\r\nNOOP\r\n")
	    s.close()
	EOF
	no_sessions
}
klass "30 clients reset right after connecting: no session left" f_reset

f_pasv_storm() {
	_l0=$(wc -l < "$WORK/monitor")
	py "$CLI" "$S4" <<-'EOF' || return 1
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	for i in range(90):
	    assert c.code("PASV" if i % 2 else "EPSV") in (227, 229)
	assert c.code("QUIT") == 221
	EOF
	# Every delete reported: the table is empty and the monitor caught up.
	wait_permits 0 && monitor_sync || return 1
	tail -n +$((_l0 + 1)) "$WORK/monitor" | awk '
	    /^(add|create) element inet ftp-proxy /{n++; c++; if (n > m) m = n}
	    /^delete element inet ftp-proxy /{n--}
	    END {print c, "elements created, at most", m, "live at once";
	        exit !(c >= 270 && m <= 3)}'
}
PERMITS_OK=1
klass "90 PASV/EPSV in a row: one live permit at a time, none after" \
    f_pasv_storm
unset PERMITS_OK

f_iac() {
	py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	c.send(b"\xff\xf4\xff\xf2ABOR\r\n")
	print(c.reply())
	c.send(b"NOOP \xe9\xff\x80\r\n")
	print(c.reply())
	assert c.code("NOOP") == 200, "the session goes on"
	EOF
}
klass "Telnet IAC and 8-bit bytes in commands: relayed, no permit" f_iac

f_ftp_normal() {
	timeout 30 ip netns exec "$CLI" curl -sS -m 25 "ftp://$S4/pub/f" \
	    -o "$WORK/n1" && same "$WORK/n1" "$PUB/f" &&
	timeout 30 ip netns exec "$CLI" curl -sS -m 25 -g -P - \
	    "ftp://[$S6]/pub/f" -o "$WORK/n2" && same "$WORK/n2" "$PUB/f"
}
check "FTP: after the group, passive IPv4 and active IPv6 downloads work" \
    f_ftp_normal
check "FTP: no permit left" wait_permits 0
check "FTP: ftp-proxy holds as many descriptors as at the start" no_sessions

# =====================================================================
# TFTP
# =====================================================================

GROUP=TFTP
TABLE=tftp-proxy
tftp_proxy_up -w 2 || { fail "tftp-proxy starts"; finish; exit 1; }
WORKERPID=$(worker_of "$TFTPPROXYPID")
TPFH=$(only_child "$TFTPPROXYPID")
group_alive() {
	alive "$TFTPPROXYPID" && alive "$WORKERPID" && alive "$TPFH"
}

# Datagrams from the client, python3: send.py host port hexfile|- [bcast]
cat > "$WORK/send.py" <<-'EOF'
	import os, random, socket, sys, time
	host, port, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	fam = socket.AF_INET6 if ":" in host else socket.AF_INET
	dst = (host, port)
	if fam == socket.AF_INET6 and host.startswith("ff"):
	    dst = (host, port, 0, socket.if_nametoindex("eth0"))
	def sock():
	    s = socket.socket(fam, socket.SOCK_DGRAM)
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
	    return s
	if what == "garbage":          # 500 datagrams, 50 source ports
	    rnd = random.Random(6)
	    ss = [sock() for i in range(50)]
	    for i in range(500):
	        n = rnd.randrange(0, 1400)
	        d = bytes(rnd.randrange(256) for j in range(n))
	        if i % 2 and n >= 2:   # a request opcode, garbage after it
	            d = bytes([0, 1 + i % 4 // 2]) + d[2:]
	        ss[i % 50].sendto(d, dst)
	        if i % 25 == 24:
	            time.sleep(0.01)
	elif what == "valid":          # 200 RRQs from 200 ports
	    ss = [sock() for i in range(200)]
	    for i, s in enumerate(ss):
	        s.sendto(b"\0\1nosuch%d\0octet\0" % i, dst)
	        if i % 20 == 19:
	            time.sleep(0.02)
	    time.sleep(1)	# the clients stay a second for their answers
	else:
	    for h in what.split(","):
	        sock().sendto(bytes.fromhex(h), dst)
	EOF
tsend() { timeout 30 ip netns exec "$CLI" "$PY" "$WORK/send.py" "$@"; }

drops() { count "$TLOG" "dropped request"; }
# t_drop name-of-reason host hex[,hex...]: each datagram gets a drop line
# naming the reason.
t_drop() {
	_reason=$1 _host=$2 _hex=$3
	_n=$(echo "$_hex" | tr ',' '\n' | wc -l)
	_d0=$(drops)
	_r0=$(count "$TLOG" "$_reason")
	tsend "$_host" 69 "$_hex" || return 1
	wait_grep "$TLOG" "dropped request" $((_d0 + _n)) ||
	    { echo "not $_n drop lines"; return 1; }
	[ "$(count "$TLOG" "$_reason")" -ge $((_r0 + _n)) ] ||
	    { echo "reason '$_reason' not logged $_n times"; return 1; }
}

name256=$(head -c 256 /dev/zero | tr '\0' 'n')
name400=$(head -c 400 /dev/zero | tr '\0' 'u')
opts33=$(i=0; while [ $i -lt 33 ]; do printf 'o%d\\000v\\000' $i;
    i=$((i + 1)); done)
klass "truncated inside an option name" t_drop "unterminated option" $S4 \
    "$(hexof '\000\001f\000octet\000blks')"
klass "unterminated 400-byte file name" t_drop "unterminated file name" \
    $S4 "$(hexof "\000\001$name400")"
klass "file name of 256 bytes" t_drop "file name too long" $S4 \
    "$(hexof "\000\001$name256\000octet\000")"
klass "opcodes 0, 6 (OACK) and 65535" t_drop "not a read or write request" \
    $S4 "$(hexof '\000\000f\000octet\000'),$(hexof '\000\006blksize\000512\000'),$(hexof '\377\377f\000octet\000')"
klass "33 options" t_drop "too many options" $S4 \
    "$(hexof "\000\001f\000octet\000$opts33")"
klass "empty option name" t_drop "empty option name" $S6 \
    "$(hexof '\000\001f\000octet\000\000v\000')"
klass "control character in an option" t_drop "control character in option" \
    $S6 "$(hexof '\000\001f\000octet\000blk\001size\000512\000')"
RRQ=$(hexof '\000\001t\000octet\000')
klass "multicast destination 224.0.0.1" \
    t_drop "not a unicast host" 224.0.0.1 "$RRQ"
klass "multicast destination 239.1.2.3" \
    t_drop "not a unicast host" 239.1.2.3 "$RRQ"
klass "broadcast destination 255.255.255.255" \
    t_drop "destination is not a unicast host" 255.255.255.255 "$RRQ"
klass "broadcast destination 192.0.2.255 (the inside's)" \
    t_drop "broadcast address" 192.0.2.255 "$RRQ"
# Sent from a link-local address to all nodes: any reason will do.
klass "IPv6 multicast destination ff02::1" t_drop "dropped request" \
    ff02::1 "$RRQ"

t_big() {
	_d0=$(drops)
	_r0=$(count "$TLOG" "request too long")
	tsend $S4 69 "0001$(head -c 60000 /dev/zero | od -An -v -tx1 |
	    tr -d ' \n')" || return 1
	wait_grep "$TLOG" "request too long" $((_r0 + 1))
}
klass "a 60000-byte datagram (fragmented, truncated on receipt)" t_big

udp_rcvbuf_errors() {
	in_fw awk '/^Udp:/ { if (h) print $6; h = 1 }' /proc/net/snmp
}
t_garbage() {
	_d0=$(drops)
	_e0=$(udp_rcvbuf_errors)
	tsend $S4 69 garbage || return 1
	_i=0
	while [ $_i -lt 100 ]; do
		[ $(($(drops) - _d0 + $(udp_rcvbuf_errors) - _e0)) -ge 500 ] &&
		    break
		sleep 0.1
		_i=$((_i + 1))
	done
	_k=$(($(udp_rcvbuf_errors) - _e0))
	echo "$(($(drops) - _d0)) drop lines, $_k lost in the kernel"
	[ $(($(drops) - _d0 + _k)) -eq 500 ] && [ "$_k" -lt 100 ]
}
klass "flood of 500 garbage datagrams from 50 ports: all dropped" t_garbage

# Forwarded requests, drop lines and datagrams the kernel lost since.
t_seen() {
	echo $(($(count "$TLOG" 'RRQ "nosuch') - _q0 + $(drops) - _d0 +
	    $(udp_rcvbuf_errors) - _e0))
}
t_valid_flood() {
	_q0=$(count "$TLOG" 'RRQ "nosuch')
	_d0=$(drops)
	_e0=$(udp_rcvbuf_errors)
	tsend $S4 69 valid || return 1
	_i=0
	while [ "$(t_seen)" -lt 200 ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_f=$(($(count "$TLOG" 'RRQ "nosuch') - _q0))
	echo "$_f forwarded, $(($(drops) - _d0)) dropped," \
	    "$(($(udp_rcvbuf_errors) - _e0)) lost in the kernel"
	[ "$(t_seen)" -eq 200 ] && [ "$_f" -ge 180 ] || return 1
	# transwait 2: every permit goes (10 s at most).
	wait_for 10 no_permits tftp-proxy ||
	    { echo "$(permits tftp-proxy) permits left"; return 1; }
}
PERMITS_OK=1
klass "flood of 200 valid requests: each permit gone after transwait" \
    t_valid_flood
unset PERMITS_OK

t_normal() {
	curl_get $S4 t "$WORK/tt1" && same "$WORK/tt1" "$WORK/tftproot/t" &&
	    hpa_get $S6 t "$WORK/tt2" && same "$WORK/tt2" "$WORK/tftproot/t"
}
check "TFTP: after the group, RRQs over IPv4 and IPv6 work" t_normal
check "TFTP: no permit left (transwait 2, 10 s at most)" \
    wait_for 10 no_permits tftp-proxy

# =====================================================================
# IMSG: a compromised front end
# =====================================================================

GROUP=IMSG
TABLE=hostile-b
BTABLE=hostile-b

# Peer A: a well-behaved front end with a session and a permit, fed
# through a fifo; it must not notice the bad peers.  (Not through bg:
# an asynchronous list's own stdin redirection must be on the list.)
mkfifo "$WORK/a.in"
: > "$WORK/a.out"
exec 7<> "$WORK/a.in"
ip netns exec "$FW" timeout 600 "$PFHCTL" -p "$BIN/pfhelper" -- -d -C \
    -t hostile-a < "$WORK/a.in" > "$WORK/a.out" 2> "$WORK/a.err" 7>&- &
PIDS="$PIDS $!"
a_n=0
actl() {
	a_n=$((a_n + 1))
	printf '%s\n' "$*" >&7
	_i=0
	while [ "$(wc -l < "$WORK/a.out")" -lt $a_n ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	areply=$(sed -n "${a_n}p" "$WORK/a.out")
}
# aok command...: actl, and the reply is ok.
aok() { actl "$@"; [ "$areply" = ok ]; }
actl pid
APFH=${areply#ok }
A_OK=1
aok session 1 tcp 192.0.2.10 40000 198.51.100.10 21 198.51.100.1 \
    50000 198.51.100.10 21 || A_OK=0
aok passive 1 1 51001 51002 3600 || A_OK=0
check "peer A: a session and a permit (pfhelper $APFH)" test "$A_OK" -eq 1
a_elems() { permits hostile-a; }
A_ELEMS=$(a_elems)
group_alive() {
	alive "$APFH" && [ "$(a_elems)" -eq "$A_ELEMS" ]
}

# A valid session and permit key, in pfh_session and pfh_permit bytes
# (host order, little-endian here): hex of a uint32 and a uint16.
u32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) \
    $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
u16() { printf '%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)); }
a4() { # IPv4 pfh_addr: af 2, pad, 4 bytes, 12 zero bytes
	printf '02000000'
	echo "$1" | tr '.' ' ' | xargs printf '%02x%02x%02x%02x'
	printf '%024d' 0
}
# sess sid pad pad2: a pfh_session, client 192.0.2.10:40000 ->
# 198.51.100.10:21, delivered there (local: as TPROXY delivers it)
sess() {
	printf '%s06%s' "$(u32 "$1")" "${2:-000000}"
	printf '%s%s%s%s' "$(u16 40000)" "$(u16 21)" "$(u16 50000)" "$(u16 21)"
	a4 192.0.2.10; a4 198.51.100.10; a4 198.51.100.1; a4 198.51.100.10
	a4 198.51.100.10; printf '%s%s' "$(u16 21)" "${3:-0000}"
}
# perm sid pid kind flags pport tport timeout [thigh]
perm() {
	printf '%s%s%02x%02x%s%s%s%s%s' "$(u32 "$1")" "$(u32 "$2")" "$3" "$4" \
	    "$(u16 "$5")" "$(u16 "$6")" "$(u16 "$7")" "$(u16 "${8:-0}")" \
	    "$(u16 0)"
}

# raw_drop "expected log text" pfhraw-commands...: a new pfhelper, a
# HELLO unless the first command is `nohello', then the commands; the
# last one must make pfhelper drop us (it closes its end), after which
# it exits 0 and its table is gone.
raw_drop() {
	_want=$1
	shift
	{
		if [ "$1" = nohello ]; then
			shift
		else
			printf 'hello\nreply\n'
		fi
		for _c in "$@"; do printf '%s\n' "$_c"; done
		printf 'eof 5000\n'
	} > "$WORK/raw.in"
	ip netns exec "$FW" timeout 30 "$PFHRAW" -p "$BIN/pfhelper" -- -d -C \
	    -t "$BTABLE" < "$WORK/raw.in" > "$WORK/raw.out" 2> "$WORK/raw.err"
	cat "$WORK/raw.out" "$WORK/raw.err"
	[ "$(tail -n 2 "$WORK/raw.out" | head -n 1)" = eof ] ||
	    { echo "pfhelper did not drop the peer"; return 1; }
	[ "$(tail -n 1 "$WORK/raw.out")" = "exit 0" ] ||
	    { echo "pfhelper did not exit 0"; return 1; }
	grep -q -- "$_want" "$WORK/raw.err" ||
	    { echo "no log line '$_want'"; return 1; }
	! has_table "$BTABLE" || { echo "table $BTABLE left"; return 1; }
}

klass "unknown message type 99" raw_drop "unexpected message type" \
    "msg 99 z8"
klass "a reply type (PFH_OK) sent to pfhelper" \
    raw_drop "unexpected message type" "msg PFH_OK z156"
klass "a second HELLO" raw_drop "unexpected message type" hello
klass "request before HELLO" raw_drop "no HELLO first" nohello \
    "msg PFH_SESSION_END $(u32 1)"
PV=$(sed -n 's/^#define PFH_PROTO_VERSION[[:space:]]*//p' "$TOP/common/proto.h")
klass "HELLO of protocol version $((PV + 1))" raw_drop "version mismatch" \
    nohello "hello $((PV + 1)) 1"
klass "HELLO with role 7" raw_drop "unknown role" nohello "hello $PV 7"
klass "SESSION_START one byte short" raw_drop "SESSION_START: bad size" \
    "msg PFH_SESSION_START z119"
klass "SESSION_START one byte long" raw_drop "SESSION_START: bad size" \
    "msg PFH_SESSION_START z121"
klass "SESSION_START without payload" raw_drop "SESSION_START: bad size" \
    "msg PFH_SESSION_START -"
klass "PERMIT_ADD of 21 bytes" raw_drop "PERMIT_ADD: bad size" \
    "msg PFH_SESSION_START $(sess 5)" reply "msg PFH_PERMIT_ADD z21"
klass "PERMIT_DEL of 7 bytes" raw_drop "PERMIT_DEL: bad size" \
    "msg PFH_PERMIT_DEL z7"
klass "SESSION_END of 5 bytes" raw_drop "SESSION_END: bad size" \
    "msg PFH_SESSION_END z5"
klass "CT_LOOKUP of 47 bytes" raw_drop "CT_LOOKUP: bad size" \
    "msg PFH_CT_LOOKUP z47"
klass "all-zero SESSION_START (session id 0)" raw_drop "session id 0" \
    "msg PFH_SESSION_START z120"
klass "SESSION_START with nonzero padding" raw_drop "nonzero padding" \
    "msg PFH_SESSION_START $(sess 5 010000)"
klass "SESSION_START with nonzero padding after the local port" \
    raw_drop "nonzero padding" "msg PFH_SESSION_START $(sess 5 000000 0100)"
klass "PERMIT_ADD with unknown flag bits" raw_drop "unknown flags" \
    "msg PFH_SESSION_START $(sess 5)" reply \
    "msg PFH_PERMIT_ADD $(perm 5 1 1 128 51001 51002 30)"
klass "PERMIT_ADD with timeout 0" raw_drop "bad timeout" \
    "msg PFH_SESSION_START $(sess 5)" reply \
    "msg PFH_PERMIT_ADD $(perm 5 1 1 0 51001 51002 0)"
klass "message of 20000 bytes (over MAX_IMSGSIZE)" raw_drop "read from peer" \
    "msg PFH_SESSION_START z20000"
klass "header with a length below its own size" raw_drop "read from peer" \
    "bytes $(u32 4)$(u32 4)$(u32 1)$(u32 0)"
klass "header marked as carrying a descriptor, none sent" \
    raw_drop "read from peer" \
    "bytes $(u32 5)$(u32 $((0x80000014)))$(u32 1)$(u32 0)$(u32 1)"
klass "a descriptor passed with SESSION_END" raw_drop "read from peer" \
    "fd PFH_SESSION_END $(u32 1)"
klass "4 KiB of random bytes" raw_drop "read from peer" \
    "bytes $(head -c 4096 /dev/urandom | od -An -v -tx1 | tr -d ' \n')"

# Another peer's session: B names A's session id 1.
klass "PERMIT_ADD for another peer's session" \
    raw_drop "not this peer's session" \
    "msg PFH_PERMIT_ADD $(perm 1 2 1 0 51003 51004 30)"
klass "PERMIT_DEL of another peer's permit" raw_drop "not this peer's session" \
    "msg PFH_PERMIT_DEL $(u32 1)$(u32 1)"
klass "SESSION_END of another peer's session" \
    raw_drop "not this peer's session" "msg PFH_SESSION_END $(u32 1)"

# With conntrack verification (no -C): sessions must be real control
# connections, in the right direction.  A real one: a client holding a
# control session through ftp-proxy from 192.0.2.10:40555 (NOOP keeps
# it from the idle timeout).
rm -f "$WORK/held"
PYTIMEOUT=20 py "$CLI" "$S4" "$WORK/held.done" > "$WORK/held" 2>&1 7>&- \
    <<-'EOF' &
	import os, socket, sys, time
	s = socket.socket()
	s.bind(("192.0.2.10", 40555))
	s.connect((sys.argv[1], 21))
	s.settimeout(5)
	print("in", s.recv(100), flush=True)
	for i in range(75):	# until told, a NOOP a second (-t 3)
	    if os.path.exists(sys.argv[2]):
	        break
	    time.sleep(0.2)
	    if i % 5 == 4:
	        s.sendall(b"NOOP\r\n")
	        s.recv(100)
	EOF
HELD=$!
wait_grep "$WORK/held" "in b'220" 1 || echo "no held control connection"

ct_session() { # expected-reply session-args... [-C]
	_want=$1
	shift
	_c=""
	case " $* " in *" -C "*) _c=-C ;; esac
	printf '%s\n' "session $*" | sed 's/ -C$//' |
	    ip netns exec "$FW" timeout 30 "$PFHCTL" -p "$BIN/pfhelper" -- -d \
	    $_c -t "$BTABLE" > "$WORK/ct.out" 2> "$WORK/ct.err"
	cat "$WORK/ct.out" "$WORK/ct.err"
	head -n 1 "$WORK/ct.out" | grep -Eq "^$_want" ||
	    { echo "want $_want"; return 1; }
	! has_table "$BTABLE"
}
klass "without -C: a session for no connection is EPERM" \
    ct_session "err EPERM" 7 tcp 192.0.2.10 40556 198.51.100.10 21 \
    198.51.100.1 50000 198.51.100.10 21
klass "without -C: a session naming a connection's reply tuple is EPERM" \
    ct_session "err EPERM" 7 tcp 192.0.2.1 8021 192.0.2.10 40555 \
    198.51.100.1 50000 192.0.2.10 40555
klass "without -C: the real connection, claimed delivered elsewhere: EPERM" \
    ct_session "err EPERM" 7 tcp 192.0.2.10 40555 198.51.100.10 21 \
    198.51.100.1 50000 198.51.100.10 21 at 192.0.2.1 8022
klass "without -C: the real connection, another destination port: EPERM" \
    ct_session "err EPERM" 7 tcp 192.0.2.10 40555 198.51.100.10 2121 \
    198.51.100.1 50000 198.51.100.10 2121 at 192.0.2.1 8021
check "without -C: the real connection itself is accepted (control)" \
    ct_session "ok" 7 tcp 192.0.2.10 40555 198.51.100.10 21 \
    198.51.100.1 50000 198.51.100.10 21 at 192.0.2.1 8021
: > "$WORK/held.done"
wait "$HELD"

# What pfhelper checks against the host itself (claims.c): the proxy
# address must be one of the firewall's, and the connection must have
# been delivered to the proxy (redirected to a local address, or not
# translated at all, as TPROXY leaves it).  A connection the admin
# DNATs to port 21 of the server is real, but not the proxy's.
in_fw nft add rule inet admin nat_pre iifname inside tcp dport 2222 \
    dnat ip to 198.51.100.10:21
in_fw nft insert rule inet admin filter_fwd tcp dport 21 \
    ip daddr 198.51.100.10 accept
PYTIMEOUT=20 py "$CLI" "$WORK/held.done" > "$WORK/dnat" 2>&1 7>&- <<-'EOF' &
	import os, socket, sys, time
	s = socket.socket()
	s.bind(("192.0.2.10", 40666))
	s.setblocking(False)
	s.connect_ex(("198.51.100.10", 2222))
	print("connecting", flush=True)
	for i in range(75):
	    if not os.path.exists(sys.argv[1]):
	        break
	    time.sleep(0.2)
	EOF
DNAT=$!
dnat_seen() {
	in_fw conntrack -L -p tcp --sport 40666 2>/dev/null | grep -q 2222
}
wait_for 5 dnat_seen || echo "no conntrack entry for the DNATed connection"
klass "-C: a proxy address that is not the firewall's is EPERM" \
    ct_session "err EPERM proxy address is not one of this host's" \
    8 tcp 192.0.2.10 40000 198.51.100.10 21 203.0.113.5 50000 \
    198.51.100.10 21 -C
klass "a connection DNATed elsewhere, not to the proxy, is EPERM" \
    ct_session "err EPERM connection not delivered to the proxy" \
    9 tcp 192.0.2.10 40666 198.51.100.10 2222 198.51.100.1 50000 \
    198.51.100.10 2222 at 198.51.100.10 21
rm -f "$WORK/held.done"
wait "$DNAT"

t_limit() {
	printf 'session %s tcp 192.0.2.10 %s 198.51.100.10 21 198.51.100.1 50000 198.51.100.10 21\n' \
	    1 40001 2 40002 3 40003 4 40004 > "$WORK/lim.in"
	echo "passive 3 1 51001 51002 30" >> "$WORK/lim.in"
	ip netns exec "$FW" timeout 30 "$PFHCTL" -p "$BIN/pfhelper" -- -d -C \
	    -m 3 -t "$BTABLE" < "$WORK/lim.in" > "$WORK/lim.out" 2>&1
	cat "$WORK/lim.out"
	[ "$(grep -c '^ok$' "$WORK/lim.out")" -eq 4 ] &&
	    grep -q '^err ENOSPC too many sessions' "$WORK/lim.out"
}
PERMITS_OK=1
klass "sessions beyond pfhelper -m 3: ENOSPC, the peer kept" t_limit
unset PERMITS_OK

a_normal() {
	aok passive 1 2 51003 51004 30 &&
	    [ "$(a_elems)" -eq $((A_ELEMS + 3)) ] &&
	    aok del 1 2 && aok end 1 && [ "$(a_elems)" -eq 0 ]
}
check "IMSG: after the group, peer A adds, deletes and ends as before" \
    a_normal
exec 7>&-
check "IMSG: peer A's pfhelper exits at EOF, its table gone" \
    eval 'wait_gone "$APFH" && ! has_table hostile-a'
check "IMSG: ftp-proxy (another pfhelper) still serves" f_ftp_normal

echo "classes: $ntried tried, $nclass passed"
finish
