#!/bin/sh
# SPDX-License-Identifier: ISC
# ftp_smuggle.sh: commands spelled so that a server reads what the
# proxy did not check, and the Synch of an interrupted transfer, against
# two real servers behind the firewall: vsftpd (port 21) and ProFTPD
# 1.3.8 (port 2121, unpacked under obj/ by scripts/servers.sh), both
# intercepted by ftp-proxy -A in forward mode.
#   smuggle  PORT, EPRT (aimed at the firewall's outside address, which
#            ProFTPD would accept) and USER of a real ProFTPD account,
#            each behind Telnet commands (IAC IP IAC DM, IAC IP, IAC
#            WILL x, IAC NOP inside the verb) or with VT, FF, TAB, two
#            spaces, a leading space, or a bare CR between two commands:
#            each gets the proxy's own 500/501/530, never the server's
#            reply; the session goes on (NOOP 200); no element is ever
#            created in the proxy's table (nft monitor); the account
#            never logs in; afterwards a normal download works.
#   abort    lftp's interrupt (^C to an interactive lftp on a pty),
#            tnftp's (the same) and ftplib's abort(), each during a
#            100 MiB download: the client sees the server's 225/226/426,
#            never a 500, and a second download on the same session
#            has the right checksum.  vsftpd runs with
#            async_abor_enable=YES and must stop the transfer short of
#            its 100 MiB (it saw the urgent byte).
#   hosts    ftp-proxy -M 4: one host (an IPv4 address, an IPv6 /64)
#            holding 4 idle sessions gets 421 for a 5th, logged; other
#            hosts log in and download meanwhile; a freed slot is free.
# Prints how many classes were tried and passed.
#
# Needs root, ip(8), nft(8), vsftpd, python3, lftp, tnftp, openssl,
# script(1), curl, apt-get (for ProFTPD, once) and bin/*.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
for b in "$BIN/ftp-proxy" "$BIN/pfhelper"; do
	[ -x "$b" ] || { echo "no $b (make all)"; echo "0 passed, 1 failed"
	    exit 1; }
done
proftpd_deps ftp_smuggle.sh > /dev/null 2>&1 ||
    { echo "no ProFTPD (scripts/servers.sh)"; echo "0 passed, 1 failed"
    exit 1; }

nclass=0
ntried=0
klass() { # name command...; no element created unless $PERMITS_OK
	_name=$1
	shift
	ntried=$((ntried + 1))
	_m0=$(created)
	if "$@" > "$WORK/class.out" 2>&1 && { [ -n "${PERMITS_OK:-}" ] ||
	    [ "$(created)" -eq "$_m0" ]; }; then
		nclass=$((nclass + 1))
		ok "$_name"
	else
		fail "$_name ($(($(created) - _m0)) elements created)"
		tail -n 8 "$WORK/class.out" | sed 's/^/#   /'
		# What the proxy said last, to tell a refusal's reason.
		tail -n 4 "${LOG:-/dev/null}" 2>/dev/null | sed 's/^/#   proxy: /'
	fi
	cat "$WORK/class.out" >> "$WORK/check.log"
}

set_up topo_up
set_up admin_rules
in_fw nft add rule inet admin nat_pre iifname inside tcp dport 2121 \
    redirect to :8021
chmod 711 "$WORK"
VSFTPD_EXTRA="async_abor_enable=YES
log_ftp_protocol=YES
xferlog_enable=YES"
set_up vsftpd_up
PUB=$WORK/ftproot/pub
mkfile "$PUB/f" 256
head -c $((100 * 1048576)) /dev/urandom > "$PUB/big"
chmod 644 "$PUB/f" "$PUB/big"

# ProFTPD: anonymous in the same tree, and a real account joe/secret
# (the -A target).
mkdir -p "$WORK/joe"
chmod 755 "$WORK/joe"
printf 'joe:%s:2000:2000::%s:/bin/false\n' "$(openssl passwd -1 secret)" \
    "$WORK/joe" > "$WORK/ftpd.passwd"
printf 'joe:x:2000:\n' > "$WORK/ftpd.group"
chmod 600 "$WORK/ftpd.passwd" "$WORK/ftpd.group"
cat > "$WORK/proftpd.conf" <<EOF2
ServerName		"smuggle"
ServerType		standalone
DefaultServer		on
UseIPv6			off
Port			2121
User			nobody
Group			nogroup
PidFile			$WORK/proftpd.pid
ScoreboardFile		$WORK/proftpd.scoreboard
SystemLog		$WORK/proftpd.log
TransferLog		none
WtmpLog			off
UseReverseDNS		off
DelayEngine		off
RequireValidShell	off
AuthUserFile		$WORK/ftpd.passwd
AuthGroupFile		$WORK/ftpd.group
AuthOrder		mod_auth_file.c mod_auth_unix.c
PassivePorts		41000 41999
DefaultRoot		~
<IfModule mod_ident.c>
  IdentLookups		off
</IfModule>
<Anonymous $WORK/ftproot>
  User			ftp
  Group			nogroup
  UserAlias		anonymous ftp
  RequireValidShell	off
</Anonymous>
EOF2
bg ip netns exec "$SRV" "$PROFTPD" -n -q -c "$WORK/proftpd.conf"
wait_port "$SRV" 2121 || { cat "$WORK/proftpd.log"; echo "0 passed, 1 failed"
    exit 1; }
set_up proxy_up -A
LOG=$WORK/ftp-proxy.log

set_up monitor_up

check "ProFTPD behind the proxy: anonymous download" sh -c \
    "timeout 30 ip netns exec $CLI curl -sS -m 25 ftp://$S4:2121/pub/f \
    -o $WORK/p0 && cmp -s $WORK/p0 $PUB/f"
check "ProFTPD serves joe/secret (the account -A must keep out)" sh -c \
    "timeout 30 ip netns exec $SRV curl -sS -m 25 -u joe:secret \
    ftp://$S4:2121/ -o /dev/null"

# --- smuggled commands ----------------------------------------------

# smuggle port verb spelling: one smuggled PORT or EPRT aimed at the
# firewall's outside address; the proxy's own refusal, then NOOP 200.
smuggle() {
	py "$CLI" "$S4" "$1" "$F4OUT" "$2" "$3" <<-'EOF2'
	import sys
	from ftpc import Ctl
	host, port, fw, verb, how = sys.argv[1:6]
	port = int(port)
	arg = {"PORT": ",".join(fw.split(".")) + ",4,1",
	       "EPRT": "|1|%s|1025|" % fw,
	       "USER": "joe"}[verb].encode()
	v = verb.encode()
	line = {
	    "iac-ip-dm": b"\xff\xf4\xff\xf2" + v + b" " + arg,
	    "iac-ip": b"\xff\xf4" + v + b" " + arg,
	    "iac-will": b"\xff\xfb\x01" + v + b" " + arg,
	    "iac-nop-in-verb": v[:2] + b"\xff\xf1" + v[2:] + b" " + arg,
	    "vt": v + b"\x0b" + arg,
	    "ff": v + b"\x0c" + arg,
	    "tab": v + b"\t" + arg,
	    "two-spaces": v + b"  " + arg,
	    "leading-space": b" " + v + b" " + arg,
	    "cr-split": b"NOOP\r" + v + b" " + arg,
	}[how]
	c = Ctl(host, port)
	if verb != "USER":
	    assert c.login() == 230, "anonymous login"
	code, lines = c.cmd(line + b"\r\n")
	text = " ".join(lines)
	ours = ("in the command line", "Telnet command", "Space before",
	        "More than one space", "Command name", "address must be your own",
	        "Only anonymous logins")
	assert code in (500, 501, 530) and any(o in text for o in ours), \
	    "not the proxy's refusal: %s" % text
	if verb == "USER":
	    code = c.code("PASS secret")
	    assert code != 230, "joe logged in"
	assert c.code("NOOP") in ((200, 530) if verb == "USER" else (200,)), \
	    "the session goes on"
	EOF2
}
for srv in 21:vsftpd 2121:ProFTPD; do
	for verb in PORT EPRT USER; do
		for how in iac-ip-dm iac-ip iac-will iac-nop-in-verb vt ff tab \
		    two-spaces leading-space cr-split; do
			klass "$verb smuggled ($how) to ${srv#*:}: refused" \
			    smuggle "${srv%%:*}" "$verb" "$how"
		done
	done
done
check "smuggled commands: no element in inet ftp-proxy" \
    eval "! ptable | grep -q expires"
check "smuggled commands: refusals logged" \
    grep -q "command refused" "$LOG"
check "after the smuggling: a download from vsftpd works" sh -c \
    "timeout 30 ip netns exec $CLI curl -sS -m 25 ftp://$S4/pub/f \
    -o $WORK/n1 && cmp -s $WORK/n1 $PUB/f"
check "after the smuggling: a download from ProFTPD works" sh -c \
    "timeout 30 ip netns exec $CLI curl -sS -m 25 ftp://$S4:2121/pub/f \
    -o $WORK/n2 && cmp -s $WORK/n2 $PUB/f"
check "ftp-proxy still runs" kill -0 "$PROXYPID"

# --- interrupted downloads: the Synch and ABOR ------------------------

# interrupt.py kind host port out: an interactive lftp or tnftp on a pty,
# rate-limited; a 100 MiB get, ^C after 2 s, its prompt again (ABWAIT
# s at most), then a second get to out, its prompt again.
cat > "$WORK/interrupt.py" <<'EOF2'
import os, pty, select, signal, sys, time
kind, host, port, out = sys.argv[1:5]
wait = float(os.environ.get("ABWAIT", "30"))
if kind == "lftp":
    argv = ["lftp", "-p", port, "-u", "anonymous,x", host]
    pre = ["set net:limit-rate 3000000", "set net:max-retries 1",
           "set xfer:clobber yes", "debug 9"]
    gets = ["get pub/big -o /dev/null", "get pub/f -o " + out]
else:
    argv = ["tnftp", "-n", host, port]
    pre = ["user anonymous x", "binary", "verbose on",
           "rate get 3000000"]
    gets = ["get pub/big /dev/null", "get pub/f " + out]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
buf = b""
def rd(t):
    global buf
    end = time.time() + t
    while time.time() < end:
        r = select.select([fd], [], [], max(0, end - time.time()))[0]
        if not r:
            continue
        try:
            d = os.read(fd, 65536)
        except OSError:
            return
        if not d:
            return
        buf += d
def cmd(c, t):
    os.write(fd, c.encode() + b"\r")
    rd(t)
def prompt(t):
    """Read until the client shows its prompt again, t s at most."""
    start = len(buf)
    end = time.time() + t
    while time.time() < end:
        rd(0.3)
        if buf[start:].rstrip().endswith(b">"):
            return
rd(1)
for c in pre:
    cmd(c, 0.5)
cmd(gets[0], 2)
buf += b"\n@@INTERRUPT@@\n"
os.write(fd, b"\x03")	# the pty's ^C: SIGINT to the client
prompt(wait)
cmd(gets[1], 0)
prompt(30)
cmd("quit", 1)
try:
    os.kill(pid, signal.SIGKILL)
except OSError:
    pass
os.waitpid(pid, 0)
sys.stdout.write(buf.decode("latin-1").replace("\r", ""))
EOF2

# abort_ftplib.py host port sum [open]: abort() of a 100 MiB RETR after 4 MiB,
# the data connection closed first, or still open and unread (only a
# server that watches for urgent data can answer that: vsftpd), then
# NOOP and a second download.
cat > "$WORK/abort_ftplib.py" <<'EOF2'
import ftplib, hashlib, sys
host, port, want = sys.argv[1], int(sys.argv[2]), sys.argv[3]
f = ftplib.FTP()
f.connect(host, port, timeout=20)
f.login()
f.voidcmd("TYPE I")
conn = f.transfercmd("RETR pub/big")
got = 0
while got < 4 * 1048576:
    got += len(conn.recv(65536))
if len(sys.argv) < 5:
    conn.close()
resp = f.abort()
print("abort():", resp)
conn.close()
assert resp[:3] in ("225", "226", "426")
# The other reply (426 for RETR, 226 or 225 for ABOR), then NOOP's.
f.putcmd("NOOP")
for i in range(3):
    l = f.getline()
    print("then:", l)
    assert not l.startswith("5"), "an error reply"
    if l.startswith("200"):
        break
assert l.startswith("200")
h = hashlib.sha256()
f.retrbinary("RETR pub/f", h.update)
assert h.hexdigest() == want, "second download"
f.quit()
EOF2

# interrupt kind port: the client's interrupt reaches the server: its
# 225/226/426 after the ABOR, no 500, and the second get is whole.
interrupt() {
	rm -f "$WORK/second"
	if [ "$1" = ftplib ]; then
		timeout 60 ip netns exec "$CLI" "${PYTHON:-python3}" \
		    "$WORK/abort_ftplib.py" "$S4" "$2" "$(sum "$PUB/f")" ${3:+"$3"}
		return
	fi
	timeout 90 ip netns exec "$CLI" env ABWAIT="${ABWAIT:-30}" \
	    "${PYTHON:-python3}" "$WORK/interrupt.py" "$1" "$S4" "$2" "$WORK/second" \
	    > "$WORK/pty.out" 2>&1
	sed -n '/@@INTERRUPT@@/,$p' "$WORK/pty.out" | grep -a \
	    -e '^<--- [0-9]' -e '^---> ' -e '^[0-9][0-9][0-9] ' | tee "$WORK/after"
	if grep -q '500' "$WORK/after"; then
		echo "a 500 after the interrupt"
		return 1
	fi
	if [ "$1" = lftp ] && ! grep -q '^---> ABOR' "$WORK/after"; then
		echo "lftp sent no ABOR"
		return 1
	fi
	grep -Eq '(^|<--- )(225|226|426) ' "$WORK/after" ||
	    { echo "no 225/226/426"; return 1; }
	same "$WORK/second" "$PUB/f" || { echo "second download"; return 1; }
}
# vsftpd_interrupted n: vsftpd's log has more than n failed downloads,
# the last one short of its 100 MiB (it saw the urgent byte: SIGURG).
fails() { grep -c 'FAIL DOWNLOAD' "$WORK/vsftpd.log"; }
vsftpd_interrupted() {
	_b=$(sed -n 's/.*FAIL DOWNLOAD.*"\/pub\/big", \([0-9]*\) bytes.*/\1/p' \
	    "$WORK/vsftpd.log" | tail -n 1)
	echo "vsftpd sent ${_b:-no} bytes of 104857600"
	[ "$(fails)" -gt "$1" ] && [ -n "$_b" ] && [ "$_b" -lt 104857600 ]
}
PERMITS_OK=1	# the downloads need them
F0=$(fails)
klass "lftp interrupt (Synch, ABOR) to vsftpd: understood" \
    interrupt lftp 21
check "lftp interrupt: vsftpd stopped the transfer" vsftpd_interrupted "$F0"
check "lftp interrupt: the proxy sent the Synch as urgent data" \
    grep -q "Synch to the server$" "$LOG"
klass "tnftp interrupt (Synch, ABOR) to vsftpd: understood" \
    interrupt tnftp 21
klass "ftplib abort() to vsftpd: understood" interrupt ftplib 21
F0=$(fails)
klass "ftplib abort(), data connection open, to vsftpd: understood" \
    interrupt ftplib 21 open
check "ftplib abort(): vsftpd stopped the transfer" vsftpd_interrupted "$F0"
klass "lftp interrupt (Synch, ABOR) to ProFTPD: understood" \
    interrupt lftp 2121
# ProFTPD takes ~12 s to answer tnftp's abort, directly as well: the
# client's prompt comes back then (interrupt.py waits for it, 30 s).
klass "tnftp interrupt (Synch, ABOR) to ProFTPD: understood" \
    interrupt tnftp 2121
klass "ftplib abort() to ProFTPD: understood" interrupt ftplib 2121
check "ftp-proxy still runs after the interrupts" kill -0 "$PROXYPID"

# --- one host holds its share of the slots ----------------------------

# hostlimit addr...: -M 4; the first address holds 4 idle logged-in
# sessions; a 5th from it (or from its IPv6 /64) gets 421; every other
# address logs in and downloads meanwhile; once one session is gone the
# first address gets a slot again.
hostlimit() {
	py "$CLI" "$(sum "$PUB/f")" "$@" <<-'EOF2'
	import hashlib, socket, sys
	from ftpc import Ctl
	want, hog, others = sys.argv[1], sys.argv[2], sys.argv[3:]
	def conn(src):
	    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
	    dst = "2001:db8:2::10" if ":" in src else "198.51.100.10"
	    c = Ctl.__new__(Ctl)
	    c.host, c.buf = dst, b""
	    c.s = socket.socket(fam, socket.SOCK_STREAM)
	    c.s.settimeout(5)
	    c.s.bind((src, 0))
	    c.s.connect((dst, 21))
	    c.greeting = c.reply()
	    return c
	held = []
	for i in range(4):
	    c = conn(hog)
	    assert c.greeting[0] == 220 and c.login() == 230, "hog %d" % i
	    held.append(c)
	for src in [hog] + [o for o in others if o.startswith("!")]:
	    c = conn(src.lstrip("!"))
	    assert c.greeting[0] == 421, "no 421 for %s: %s" % (src, c.greeting)
	    assert "from your address" in c.greeting[1][0]
	    assert c.eof(5)
	for o in others:
	    if o.startswith("!"):
	        continue
	    c = conn(o)
	    assert c.greeting[0] == 220 and c.login() == 230, "other " + o
	    code, lines = c.cmd("EPSV")
	    assert code == 229, lines
	    d = socket.create_connection((c.host, c.pasv_port(lines, code)[1]),
	                                 timeout=5, source_address=(o, 0))
	    assert c.code("RETR pub/f") in (125, 150)
	    got = b""
	    while True:
	        b = d.recv(65536)
	        if not b:
	            break
	        got += b
	    d.close()
	    assert c.reply()[0] == 226
	    assert hashlib.sha256(got).hexdigest() == want, "download " + o
	    c.code("QUIT")
	held.pop().code("QUIT")
	# The slot comes back once the proxy sees that session end: wait
	# for it (5 s at most), a slow (sanitizer) build takes longer.
	import time
	end = time.time() + 5
	while True:
	    time.sleep(0.2)
	    c = conn(hog)
	    if c.greeting[0] == 220 or time.time() > end:
	        break
	    c.s.close()
	assert c.greeting[0] == 220 and c.login() == 230, "slot not freed"
	EOF2
}
proxy_stop
proxy_up -A -M 4 || { fail "ftp-proxy -M 4 starts"; finish; exit 1; }
in_cli ip addr add 192.0.2.11/24 dev eth0
in_cli ip addr add 192.0.2.12/24 dev eth0
in_cli ip addr add 2001:db8:1::11/64 dev eth0 nodad
in_cli ip addr add 2001:db8:1::12/64 dev eth0 nodad
PERMITS_OK=1
klass "one IPv4 host holds -M 4 idle sessions: 421 for its 5th, others served" \
    hostlimit $C4 192.0.2.11 192.0.2.12
klass "one IPv6 /64 holds -M 4: 421 for another address in it" \
    hostlimit $C6 '!2001:db8:1::11' 192.0.2.11
check "per-host refusals are logged" \
    grep -q "refused: 192.0.2.10 has 4 sessions (-M 4)" "$LOG"
unset PERMITS_OK

echo "classes: $nclass of $ntried passed"
finish
