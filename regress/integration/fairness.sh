#!/bin/bash
# SPDX-License-Identifier: ISC
# fairness.sh: the per-host limits bite only under pressure.  Default
# options throughout (-m 100, no -M).
#
#   ftp-proxy, reverse mode (clients outside, vsftpd inside) and forward
#   mode (clients inside, vsftpd outside), the same three shapes:
#   - idle: 30 sessions from one address (30 users behind one NAT), all
#     logged in and each downloading a file;
#   - pressure: twelve other hosts hold 90 sessions (two of them 30 each,
#     taken while the proxy was idle), then the address asks for 30: it
#     gets its fair share, 100 / (13 hosts + 1) = 7, the others keep
#     theirs (every one answers NOOP) and one under its share still gets
#     sessions, while a host over its share gets 421;
#   - lock-out: one address opens 100 connections and gets 75; the last
#     quarter of the slots stays for others: another host downloads.
#   tftp-proxy: one inside host floods RRQs (from 12,000 ports, to a
#   host that does not answer) faster than the proxy can take them,
#   while another host reads a file 20 times; every read must arrive.
#   -w 30 so that, at this machine's rate, the flood's sessions outnumber
#   pfhelper's 10,000 within seconds, as they would with the default -w
#   at a faster host's rate.
#
# The "other hosts" are more addresses of the clients' namespace; vsftpd
# has no limit per address (max_per_ip=0) so that only the proxy's is
# seen.  Run as root:
#   TOP=/path/to/tree bash regress/integration/fairness.sh
. "$(dirname "$0")/lib.sh"

require_root
set_up topo_up
set_up admin_rules
LOG=$WORK/ftp-proxy.log
VSFTPD_EXTRA="max_per_ip=0
max_clients=0"
set_up vsftpd_up "$CLI" 1	# reverse mode's server, inside
set_up vsftpd_up		# forward mode's, outside
mkfile "$WORK/ftproot1/pub/small" 4
mkfile "$WORK/ftproot/pub/small" 4
OTHERS4="20 21 22 23 24 25 26 27 28 29 30 31"	# .N: twelve more hosts

# fair.py: the clients' side.  fair.py MODE host port args...
#   idle X N digest: N sessions from X, logged in, each a passive RETR.
#   pressure X others digest: others ("addr:n,...") log in first, then
#     X asks for 30; prints what each got.
#   lockout A L digest: A opens 100 connections, L logs in and downloads.
fair_init() {
	cat > "$WORK/fair.py" <<-'EOF'
	import hashlib, socket, sys, time
	from ftpc import Ctl, fam

	FROM_ADDR = "Too many sessions from your address"

	def dial(host, port, src, login=True):
	    """A session from src: (Ctl, None), or (None, the refusal)."""
	    s = socket.socket(fam(host), socket.SOCK_STREAM)
	    s.settimeout(10)
	    s.bind((src, 0))
	    s.connect((host, port))
	    c = Ctl.__new__(Ctl)
	    c.host, c.s, c.buf = host, s, b""
	    code, lines = c.reply()
	    if code != 220:
	        c.eof(5)
	        s.close()
	        return None, " ".join(lines)
	    if login and c.login() != 230:
	        raise RuntimeError("login from %s failed" % src)
	    return c, None

	def dial_busy(host, port, src):
	    """Through -m's own refusal, which lasts while refused sessions
	    wind down (bounded): (Ctl, None) or (None, why)."""
	    for _ in range(50):
	        c, why = dial(host, port, src)
	        if c or FROM_ADDR in why:
	            return c, why
	        time.sleep(0.1)
	    return c, why

	def fetch(c, digest):
	    """A passive RETR (ftpc's), its data connection from the
	    session's own address: the permit names the client."""
	    src, dial = c.s.getsockname()[0], socket.create_connection
	    socket.create_connection = lambda a, timeout=None: dial(
	        a, timeout, (src, 0))
	    try:
	        data = c.passive("EPSV" if ":" in c.host else "PASV",
	                         "RETR pub/small")
	    finally:
	        socket.create_connection = dial
	    assert hashlib.sha256(data).hexdigest() == digest, "checksum"

	def idle(host, port, x, n, digest):
	    held = [dial(host, port, x)[0] for _ in range(int(n))]
	    got = sum(1 for c in held if c)
	    print("idle: %s got %d of %s" % (x, got, n))
	    assert got == int(n), "refused while the proxy is idle"
	    for c in held:
	        fetch(c, digest)
	    for c in held:
	        assert c.code("QUIT") == 221

	def pressure(host, port, x, others, digest):
	    held, refused = {}, {}
	    for spec in others.split(","):
	        a, n = spec.split(":")
	        held[a] = [dial(host, port, a)[0] for _ in range(int(n))]
	        assert all(held[a]), "%s refused with %d of 90 in use" % (
	            a, sum(len(v) for v in held.values()))
	    mine = [dial(host, port, x) for _ in range(30)]
	    got = [c for c, _ in mine if c]
	    why = [w for c, w in mine if not c]
	    print("pressure: %s got %d of 30" % (x, len(got)))
	    assert len(got) == 7, "not its share, 100 / (13 + 1) = 7"
	    assert all(FROM_ADDR in w for w in why), why
	    fetch(got[0], digest)
	    big = others.split(",")[0].split(":")[0]
	    c, w = dial(host, port, big)
	    assert c is None and FROM_ADDR in w, "a host over its share"
	    small = others.split(",")[-1].split(":")[0]
	    for i in range(3):
	        c, w = dial_busy(host, port, small)
	        assert c, "%s under its share refused: %s" % (small, w)
	        held[small].append(c)
	    fetch(c, digest)
	    for a in held:
	        for c in held[a]:
	            assert c.code("NOOP") == 200, "%s lost a session" % a
	    print("pressure: the others kept their", sum(
	        len(v) for v in held.values()), "sessions")

	def lockout(host, port, a, legit, digest):
	    flood = [dial(host, port, a, login=False) for _ in range(100)]
	    got = sum(1 for c, _ in flood if c)
	    print("lock-out: %s got %d of 100" % (a, got))
	    assert got == 75, "a host alone stops at three quarters of -m"
	    c, w = dial_busy(host, port, legit)
	    assert c, "another host locked out: %s" % w
	    fetch(c, digest)
	    assert c.code("QUIT") == 221

	mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
	{"idle": idle, "pressure": pressure, "lockout": lockout}[mode](
	    host, port, *sys.argv[4:])
	EOF
}

fair() { # ns mode host port args...
	_ns=$1
	shift
	PYTIMEOUT=60 py "$_ns" "$@" < "$WORK/fair.py"
}

# No FTP session left at the proxy (its log, bounded 10 s).
ftp_idle() {
	_i=0
	while [ $_i -lt 100 ]; do
		_n=$(awk '/ FTP session /{sub(/.*#/, ""); o[$1] = 1}
		    / ending session/{sub(/.*#/, ""); delete o[$1]}
		    END{n = 0; for (k in o) n++; print n}' "$LOG")
		[ "$_n" -eq 0 ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "$_n sessions still open"
	return 1
}

# others NET: twelve hosts of NET, two with 30 sessions, ten with 3.
others() {
	_o=""
	for n in $OTHERS4; do
		case $n in 20|21) _k=30 ;; *) _k=3 ;; esac
		_o="$_o${_o:+,}$1.$n:$_k"
	done
	echo "$_o"
}

# shapes what ns host port X net digest: the three FTP shapes.
shapes() {
	check "$1: 30 sessions from one address, proxy idle: all served" \
	    fair "$2" idle "$3" "$4" "$5" 30 "$7"
	check "$1: the 30 sessions are gone" ftp_idle
	check "$1: 90 of -m 100 held by 12 others: the address gets its share, 7; they keep theirs; one under its share gets more" \
	    fair "$2" pressure "$3" "$4" "$5" "$(others "$6")" "$7"
	check "$1: the pressure sessions are gone" ftp_idle
	check "$1: one address opens 100: another host still downloads" \
	    fair "$2" lockout "$3" "$4" "$5" "$6.31" "$7"
	check "$1: the lock-out sessions are gone" ftp_idle
	check "$1: no permit left" wait_permits 0
}

fair_init
ftpc_init

# --- Reverse mode: the clients are anyone outside. --------------------

for n in $OTHERS4; do in_srv ip addr add 198.51.100.$n/24 dev eth0; done
PROXYPORT=21 set_up proxy_up -R "$C4" -b "$F4OUT" -p 21
shapes "reverse" "$SRV" "$F4OUT" 21 "$S4" 198.51.100 \
    "$(sum "$WORK/ftproot1/pub/small")"
check "reverse: the refusals are logged as the host's share" \
    grep -q "refused: $S4 has 7 sessions, its share of" "$LOG"
proxy_stop TERM

# --- Forward mode: the clients are inside, dialling the server. -------

for n in $OTHERS4; do in_cli ip addr add 192.0.2.$n/24 dev eth0; done
set_up proxy_up
shapes "forward" "$CLI" "$S4" 21 "$C4" 192.0.2 \
    "$(sum "$WORK/ftproot/pub/small")"
proxy_stop TERM

# --- tftp-proxy: one host's flood, another host's reads. --------------

FLOODER=192.0.2.66
DEAD=198.51.100.11	# nothing answers TFTP there
in_cli ip addr add $FLOODER/24 dev eth0
in_srv ip addr add $DEAD/24 dev eth0
set_up tftpd_up
mkfile "$WORK/tftproot/f" 4
TLOG=$WORK/tftp-proxy.log
set_up tftp_proxy_up -w 30

# flood.py src dst stopfile: RRQs from 12,000 ports, round robin, as
# fast as they go, until stopfile exists (90 s at most).
cat > "$WORK/flood.py" <<-'EOF'
	import os, resource, socket, sys, time
	src, dst, stop = sys.argv[1:4]
	soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
	resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 13000), hard))
	ss = []
	for i in range(12000):
	    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	    s.bind((src, 0))
	    s.setblocking(False)
	    ss.append(s)
	rrq = b"\x00\x01flood\x00octet\x00"
	end, n = time.time() + 90, 0
	while time.time() < end and not os.path.exists(stop):
	    for s in ss:
	        try:
	            s.sendto(rrq, (dst, 69))
	            n += 1
	        except OSError:
	            pass
	print("flood: %d requests sent" % n)
	EOF
bg ip netns exec "$CLI" python3 "$WORK/flood.py" $FLOODER $DEAD \
    "$WORK/stop"
FLOODPID=$LASTPID

reads() {
	_bad=0
	for i in $(seq 20); do
		rm -f "$WORK/r"
		curl_get "$S4" f "$WORK/r" -m 10 && same "$WORK/r" \
		    "$WORK/tftproot/f" || _bad=$((_bad + 1))
	done
	echo "$_bad of 20 reads failed"
	[ "$_bad" -eq 0 ]
}
# The flood is at the proxy's limit once its requests are dropped.
check "tftp: the flood reaches the proxy's limit" \
    wait_re "$TLOG" "dropped request from $FLOODER" 40
check "tftp: another host's 20 reads all arrive during the flood" reads
check "tftp: the flood was still on" kill -0 "$FLOODPID"
touch "$WORK/stop"
wait_gone "$FLOODPID" 100
check "tftp: the flood's excess is dropped at the proxy" \
    grep -q "its host holds its share of -m" "$TLOG"

finish
