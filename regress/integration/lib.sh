# SPDX-License-Identifier: ISC
# lib.sh: the integration tests' topology, sourced by regress/integration/*.sh.
#
#   client ns (192.0.2.10, 2001:db8:1::10)
#     -- fw ns (192.0.2.1 | 198.51.100.1, 2001:db8:1::1 | 2001:db8:2::1)
#     -- server ns (198.51.100.10, 2001:db8:2::10; no route inside)
#
# Documentation addresses only.  Names carry a per-run prefix; the trap
# removes the namespaces and ends every process started here, by pid.

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$TOP/bin
P=${P:-"r$$-"}
CLI=${P}cli
FW=${P}fw
SRV=${P}srv
# The run's scratch directory; REGRESS_TMPDIR puts it elsewhere than
# /tmp (scripts/sanitize.sh: one directory per suite, searched after).
WORK=$(mktemp -d "${REGRESS_TMPDIR:-/tmp}/regress.$$.XXXXXX")
PIDS=""
MORE_NS=""	# namespaces beyond the three (ct_up, ns_add)
npass=0
nfail=0

# The servers (vsftpd, in.tftpd, inetd, ProFTPD) are unpacked under
# obj/servers, never installed on the host (scripts/servers.sh): $VSFTPD,
# $TFTPD, $INETD, $PROFTPD.  Unpacked here if missing (make deps does it
# first); a suite that needs one fails in its set-up without it.
. "$TOP/scripts/servers.sh"
servers_deps lib.sh >&2 || echo "lib.sh: no servers under $SERVERS" >&2
# Front ends reach a pfhelper service only in this run's own directory
# (-s "$PFHDIR"), never the host's /run/pfhelper.
PFHDIR=$WORK/pfhelper
# Debian's python3 (it has pyftpdlib), not another one first in PATH.
[ -x /usr/bin/python3 ] && PYTHON=${PYTHON:-/usr/bin/python3}

C4=192.0.2.10; F4IN=192.0.2.1; F4OUT=198.51.100.1; S4=198.51.100.10
C6=2001:db8:1::10; F6IN=2001:db8:1::1; F6OUT=2001:db8:2::1; S6=2001:db8:2::10

# The namespaces the trap removes: these three unless a suite names its own.
NSLIST=${NSLIST:-"$CLI $FW $SRV"}

ok() { npass=$((npass + 1)); echo "ok $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
nok() { fail "$@"; }
check() { # check "what" command...; on failure its last output lines
	what=$1; shift
	if "$@" > "$WORK/check.out" 2>&1; then
		ok "$what"
	else
		fail "$what"
		tail -n 5 "$WORK/check.out" | sed 's/^/#   /'
	fi
	cat "$WORK/check.out" >> "$WORK/check.log"
}
in_cli() { ip netns exec "$CLI" "$@"; }
in_fw() { ip netns exec "$FW" "$@"; }
in_srv() { ip netns exec "$SRV" "$@"; }

# Run in the background, remembering the pid for the trap.  Give it a
# command, not a shell function, so that the pid is the program's.
bg() { "$@" & PIDS="$PIDS $!"; LASTPID=$!; }

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for ns in $NSLIST ${MORE_NS:-}; do
		ip netns pids "$ns" 2>/dev/null | while read -r p; do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
	PIDS=""
}

# The counts; a namespace of this run's prefix that outlives the clean-up
# is a failure (of the suite's own set-up or of the trap).
finish() {
	cleanup
	if ip netns list 2>/dev/null | grep -q "^$P"; then
		fail "namespaces with prefix $P remain"
	fi
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
}

# set_up step [args...]: a set-up step that must work, or the suite ends
# here as failed (never an ok: a set-up step is not a test).
set_up() { "$@" || { fail "set-up: $*"; finish; exit 1; }; }

# need file...: the programs a suite runs (built by make check-build).
need() {
	for _b; do
		[ -x "$_b" ] || { fail "no $_b (make check-build)"; finish; exit 1; }
	done
}

# alive pid: there and not a zombie.
alive() {
	_s=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
	    "/proc/${1:-0}/status" 2>/dev/null)
	[ -n "$_s" ] && [ "$_s" != Z ] && [ "$_s" != X ]
}

# The child of $1 named $2.
child_of() { pgrep -P "${1:-0}" -x "$2" 2>/dev/null | head -n 1; }

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "integration tests need root (network namespaces)"
		echo "0 passed, 1 failed"
		exit 1
	fi
}

topo_up() {
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP
	for ns in "$CLI" "$FW" "$SRV"; do ip netns add "$ns" || return 1; done
	ip link add "${P}c" netns "$CLI" type veth peer name "${P}fi" netns "$FW"
	ip link add "${P}s" netns "$SRV" type veth peer name "${P}fo" netns "$FW"
	in_cli ip link set "${P}c" name eth0
	in_srv ip link set "${P}s" name eth0
	in_fw ip link set "${P}fi" name inside
	in_fw ip link set "${P}fo" name outside
	for ns in "$CLI" "$FW" "$SRV"; do
		ip netns exec "$ns" ip link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
	done
	in_cli ip addr add $C4/24 dev eth0
	in_cli ip addr add $C6/64 dev eth0 nodad
	in_cli ip link set eth0 up
	in_cli ip route add default via $F4IN
	in_cli ip -6 route add default via $F6IN
	in_srv ip addr add $S4/24 dev eth0
	in_srv ip addr add $S6/64 dev eth0 nodad
	in_srv ip link set eth0 up
	in_fw ip addr add $F4IN/24 dev inside
	in_fw ip addr add $F6IN/64 dev inside nodad
	in_fw ip addr add $F4OUT/24 dev outside
	in_fw ip addr add $F6OUT/64 dev outside nodad
	in_fw ip link set inside up
	in_fw ip link set outside up
	in_fw sysctl -qw net.ipv4.ip_forward=1
	in_fw sysctl -qw net.ipv6.conf.all.forwarding=1
	# The kernel's FTP helper must not do our job.
	in_fw sysctl -qw net.netfilter.nf_conntrack_helper=0 2>/dev/null
	return 0
}

# The admin's ruleset: forward policy drop plus pfhelper's one line,
# and the interception of port 21 (and 69) on the inside interface.
admin_rules() {
	line=$("$BIN/pfhelper" -n | sed -n 's/^#[[:space:]]*//; /ct mark and/p' | head -n 1)
	[ -n "$line" ] || { echo "no admin line from pfhelper -n"; return 1; }
	in_fw nft -f - <<-EOF2
	table inet admin {
		chain filter_fwd {
			type filter hook forward priority 0; policy drop;
			ct state established,related accept
			$line
		}
		chain nat_pre {
			type nat hook prerouting priority dstnat;
			iifname "inside" tcp dport 21 redirect to :8021
			iifname "inside" udp dport 69 redirect to :6969
		}
	}
	EOF2
}

# vsftpd in the server namespace (or namespace $1), anonymous, upload
# allowed in pub/.  Unpacked, not installed: no user ftp and no
# /var/run/vsftpd/empty (the package's postinst makes them).  The
# anonymous session runs as base-passwd's "proxy" (no files of its own;
# vsftpd needs a home that exists, nobody's does not).  $VSFTPD_EXTRA:
# more vsftpd.conf lines.  With $2, one of several: $WORK/ftproot$2,
# vsftpd$2.conf and vsftpd$2.log.
vsftpd_up() {
	_r=$WORK/ftproot${2:-}
	mkdir -p "$_r/pub" "$WORK/empty"
	chown proxy "$_r/pub"
	chmod 755 "$_r"
	cat > "$WORK/vsftpd${2:-}.conf" <<-EOF2
	listen=NO
	listen_ipv6=YES
	background=NO
	anonymous_enable=YES
	local_enable=NO
	no_anon_password=YES
	anon_root=$_r
	write_enable=YES
	anon_upload_enable=YES
	anon_mkdir_write_enable=YES
	anon_other_write_enable=YES
	anon_umask=022
	dirlist_enable=YES
	pasv_enable=YES
	pasv_min_port=40000
	pasv_max_port=40999
	port_enable=YES
	connect_from_port_20=NO
	seccomp_sandbox=NO
	isolate_network=NO
	secure_chroot_dir=$WORK/empty
	ftp_username=proxy
	xferlog_enable=NO
	vsftpd_log_file=$WORK/vsftpd${2:-}.log
	${VSFTPD_EXTRA:-}
	EOF2
	# Not through in_srv: $! must be vsftpd's own pid.
	bg ip netns exec "${1:-$SRV}" "$VSFTPD" "$WORK/vsftpd${2:-}.conf"
	VSFTPDPID=$LASTPID
	wait_port "${1:-$SRV}" 21 && is_server "$VSFTPDPID" "$VSFTPD"
}

# Wait (bounded) until something listens on tcp port $2 in ns $1.
wait_port() {
	i=0
	while [ $i -lt 50 ]; do
		ip netns exec "$1" ss -ltnH "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "nothing listens on port $2 in $1"
	return 1
}

# ftp-proxy in the firewall, foreground, logs to $WORK/ftp-proxy.log.
# PROXYPID is ftp-proxy's own pid (ip netns exec and env exec it);
# $PROXYWRAP, if set, is a command that execs it (prlimit ...).
proxy_up() {
	# shellcheck disable=SC2086
	bg ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" ${PROXYWRAP:-} \
	    "$BIN/ftp-proxy" -d -D 7 -s "$PFHDIR" "$@" \
	    2>> "$WORK/ftp-proxy.log"
	PROXYPID=$LASTPID
	wait_port "$FW" "${PROXYPORT:-8021}" &&
	    WORKERPID=$(worker_of "$PROXYPID")
}

# The worker of front end $1 (its privileged parent, common/parent.c),
# waited for (bounded, 5 s) until it has dropped privileges.  The
# process that holds the sessions.
worker_of() {
	# The child running as a front end's user: not pfhelper (it has
	# its own), also under valgrind, where every process is memcheck.
	_u1=$(id -u _ftp-proxy 2>/dev/null) _u2=$(id -u _tftp-proxy 2>/dev/null)
	_i=0
	while [ $_i -lt 50 ]; do
		for _w in $(pgrep -P "$1"); do
			_e=$(awk '/^Uid:/ { print $3 }' "/proc/$_w/status" \
			    2>/dev/null)
			if [ -n "$_e" ] && { [ "$_e" = "$_u1" ] ||
			    [ "$_e" = "$_u2" ]; }; then
				echo "$_w"
				return 0
			fi
		done
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# The pfhelper that ftp-proxy $1 started.
pfhelper_pid() { pgrep -P "$1" -x pfhelper | head -n 1; }

# Whether process $1 is gone within $2 tenths of a second (default 50).
wait_gone() {
	i=0
	while [ $i -lt "${2:-50}" ]; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Signal ftp-proxy (default TERM) and wait, bounded, for its exit;
# PROXYRC is its exit status (255 if it had to be killed).
proxy_stop() {
	kill -"${1:-TERM}" "$PROXYPID" 2>/dev/null
	if wait_gone "$PROXYPID" 100; then
		wait "$PROXYPID" 2>/dev/null
		PROXYRC=$?
	else
		kill -9 "$PROXYPID" 2>/dev/null
		wait "$PROXYPID" 2>/dev/null
		PROXYRC=255
	fi
	PIDS=$(echo " $PIDS " | sed "s/ $PROXYPID / /")
}

# Whether the proxy's table (default ftp-proxy) exists.
has_table() { in_fw nft list table inet "${1:-ftp-proxy}" >/dev/null 2>&1; }

# Wait (bounded, 3 s) until the table (default ftp-proxy) holds $1
# permits (default 0).
wait_permits() {
	i=0
	while [ $i -lt 30 ]; do
		[ "$(permits "${2:-}")" -eq "${1:-0}" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "permits: $(permits "${2:-}"), expected ${1:-0}"
	return 1
}

# Elements in the proxy's maps and sets, all of them but the retry sets.
permits() {
	ptable "${1:-ftp-proxy}" | grep -o 'expires' | wc -l
}

# ptable [table] [ns]: the table as nft lists it, without its retry sets
# (filter_nft.c: the source ports of connections a permit let in, for
# 10 s, added by the packet path; not permits).
ptable() {
	ip netns exec "${2:-$FW}" nft list table inet "${1:-ftp-proxy}" \
	    2>/dev/null | sed '/^[[:space:]]*set retry[46] {/,/^[[:space:]]*}$/d'
}

# $FB: the load generator (regress/tools/ftpbench); ftpbench_built
# builds it if it is missing (the bench scripts).
FB=$TOP/obj/regress/tools/ftpbench
ftpbench_built() {
	[ -x "$FB" ] || make -s -C "$TOP" obj/regress/tools/ftpbench >/dev/null
}

# field name "line": the value after name= in a result line.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# A file of $2 KiB with random content.
mkfile() { head -c "$(($2 * 1024))" /dev/urandom > "$1"; }
sum() { sha256sum < "$1" | cut -d' ' -f1; }

# Wait (bounded) until something listens on udp port $2 in ns $1.
wait_udp() {
	i=0
	while [ $i -lt 50 ]; do
		ip netns exec "$1" ss -lunH "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "nothing listens on udp port $2 in $1"
	return 1
}

# tftpd-hpa in the server namespace, foreground, IPv4 and IPv6, serving
# $WORK/tftproot and accepting new files there (WRQ).
tftpd_up() {
	mkdir -p "$WORK/tftproot"
	chmod 1777 "$WORK/tftproot"
	bg ip netns exec "${1:-$SRV}" "$TFTPD" -L -u nobody -s --create \
	    -a ":69" "$WORK/tftproot"
	TFTPDPID=$LASTPID
	wait_udp "${1:-$SRV}" 69 && is_server "$TFTPDPID" "$TFTPD"
}

# tftp-proxy in the firewall, standalone in the foreground, logs to
# $WORK/tftp-proxy.log.  $TFTPPROXYPID is its own pid (ip netns exec
# and env exec it), so the test can signal it.
tftp_proxy_up() {
	bg ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" \
	    "$BIN/tftp-proxy" -d -v -s "$PFHDIR" "$@" \
	    2>> "$WORK/tftp-proxy.log"
	TFTPPROXYPID=$LASTPID
	wait_udp "$FW" "${TFTPPORT:-6969}"
}

# Python 3 (script on stdin, arguments after ns) in namespace $1, bounded
# by $PYTIMEOUT seconds (30), with $WORK/ftpc.py importable.
py() {
	_ns=$1; shift
	[ -f "$WORK/ftpc.py" ] || ftpc_init
	timeout "${PYTIMEOUT:-30}" ip netns exec "$_ns" \
	    env PYTHONPATH="$WORK" PYTHONDONTWRITEBYTECODE=1 python3 - "$@"
}

# ftpc.py: a raw FTP control connection for tests that must see every
# reply code (Ctl), and passive/active data helpers.  Bounded timeouts.
ftpc_init() {
	cat > "$WORK/ftpc.py" <<-'EOF2'
	import re, socket, time

	def fam(host):
	    return socket.AF_INET6 if ":" in host else socket.AF_INET

	class Ctl:
	    def __init__(self, host, port=21, timeout=5, greet=True):
	        self.host = host
	        self.s = socket.socket(fam(host), socket.SOCK_STREAM)
	        self.s.settimeout(timeout)
	        self.s.connect((host, port))
	        self.buf = b""
	        self.greeting = self.reply() if greet else None

	    def line(self):
	        """One line without CR LF; None at EOF."""
	        while b"\n" not in self.buf:
	            d = self.s.recv(65536)
	            if not d:
	                l, self.buf = self.buf, b""
	                return l.decode("latin-1") if l else None
	            self.buf += d
	        l, self.buf = self.buf.split(b"\n", 1)
	        return l.rstrip(b"\r").decode("latin-1")

	    def reply(self):
	        """A whole reply: (code, lines); (None, []) at EOF."""
	        l = self.line()
	        if l is None:
	            return (None, [])
	        lines = [l]
	        code = int(l[:3]) if l[:3].isdigit() else -1
	        if len(l) > 3 and l[3] == "-":
	            for _ in range(1000):
	                l = self.line()
	                if l is None:
	                    break
	                lines.append(l)
	                if l[:3] == str(code) and (len(l) == 3 or l[3] == " "):
	                    break
	        print("<", " | ".join(lines)[:200])
	        return (code, lines)

	    def send(self, data):
	        if isinstance(data, str):
	            data = data.encode("latin-1") + b"\r\n"
	        print(">", data[:80])
	        self.s.sendall(data)

	    def cmd(self, text):
	        self.send(text)
	        return self.reply()

	    def code(self, text):
	        return self.cmd(text)[0]

	    def login(self, user="anonymous"):
	        c = self.code("USER " + user)
	        if c == 331:
	            c = self.code("PASS test@example.org")
	        return c

	    def eof(self, t=5):
	        """Whether the peer closes within t s (what it sends is read)."""
	        self.s.settimeout(t)
	        end = time.time() + t
	        try:
	            while time.time() < end:
	                if not self.s.recv(65536):
	                    return True
	        except socket.timeout:
	            return False
	        except OSError:
	            return True
	        return False

	    def pasv_port(self, lines, c):
	        if c == 227:
	            n = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)",
	                          lines[-1]).groups()
	            return (".".join(n[:4]), int(n[4]) * 256 + int(n[5]))
	        return (self.host, int(re.search(r"\|\|\|(\d+)\|",
	                                          lines[-1]).group(1)))

	    def passive(self, verb, what, t=5):
	        """PASV or EPSV, then `what` (RETR x, LIST); the data."""
	        c, lines = self.cmd(verb)
	        if c not in (227, 229):
	            raise RuntimeError("%s: %s" % (verb, lines))
	        host, port = self.pasv_port(lines, c)
	        if c == 227:
	            host = self.host if ":" in self.host else host
	        d = socket.create_connection((host, port), timeout=t)
	        c, lines = self.cmd(what)
	        if c not in (125, 150):
	            raise RuntimeError("%s: %s" % (what, lines))
	        data = b""
	        while True:
	            b = d.recv(65536)
	            if not b:
	                break
	            data += b
	        d.close()
	        c, lines = self.reply()
	        if c != 226:
	            raise RuntimeError("after %s: %s" % (what, lines))
	        return data

	def active_retr(host, path):
	    """RETR path over an active (PORT/EPRT) data connection with
	    ftplib: (the data connection's peer, the SHA-256 of the bytes)."""
	    import ftplib, hashlib
	    f = ftplib.FTP()
	    f.connect(host, 21, timeout=10)
	    f.login()
	    f.set_pasv(False)
	    conn, size = f.ntransfercmd("RETR " + path)
	    peer = conn.getpeername()
	    h = hashlib.sha256()
	    while True:
	        b = conn.recv(65536)
	        if not b:
	            break
	        h.update(b)
	    conn.close()
	    f.voidresp()
	    f.quit()
	    return peer, h.hexdigest()
	EOF2
}

# wait_re file regex secs: until a line of file matches (bounded).
wait_re() {
	_i=0
	while [ $_i -lt $(($3 * 10)) ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "no line /$2/ in $(basename "$1")"
	return 1
}

# monitor_up: every element any table in the firewall gets, as nft
# reports it, in $WORK/monitor; created counts them.
monitor_up() {
	bg ip netns exec "$FW" timeout 900 stdbuf -oL nft monitor \
	    > "$WORK/monitor" 2>&1
	_i=0
	while [ $_i -lt 50 ] && ! grep -q probe "$WORK/monitor"; do
		in_fw nft add table inet probe
		in_fw nft delete table inet probe
		sleep 0.1
		_i=$((_i + 1))
	done
	grep -q probe "$WORK/monitor" || { echo "nft monitor sees nothing"; false; }
}
created() { grep -Ec '^(add|create) element' "$WORK/monitor"; }

# The bytes of a printf(1) format, in hex (for udpsend).
hexof() { printf "$1" | od -An -v -tx1 | tr -d ' \n'; }

# udpsend ns host port hex [sport]: one UDP datagram from ns (python3).
udpsend() {
	timeout 5 ip netns exec "$1" "${PYTHON:-python3}" -c '
import socket, sys
host, port, data = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if len(sys.argv) > 4:
    s.bind(("", int(sys.argv[4])))
s.sendto(data, (host, port))
' "$2" "$3" "$4" ${5:+"$5"}
}

# wait_grep file pattern count: until file has count lines matching
# (a fixed string), 5 s at most.
wait_grep() {
	i=0
	while [ $i -lt 50 ]; do
		[ "$(grep -cF -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# TFTP clients in the client namespace, each under timeout.
#   curl_get host file out [curl options]   curl_put host src file [opts]
#   hpa_get host file out                   hpa_put host src file
urlhost() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }
hpafam() { case $1 in *:*) echo "-6" ;; *) echo "-4" ;; esac; }
curl_get() {
	_h=$1 _f=$2 _o=$3
	shift 3
	timeout 60 ip netns exec "$CLI" curl -sS -g "$@" \
	    "tftp://$(urlhost "$_h")/$_f" -o "$_o"
}
curl_put() {
	_h=$1 _s=$2 _f=$3
	shift 3
	timeout 60 ip netns exec "$CLI" curl -sS -g "$@" -T "$_s" \
	    "tftp://$(urlhost "$_h")/$_f"
}
hpa_get() {
	timeout 60 ip netns exec "$CLI" tftp "$(hpafam "$1")" -m binary "$1" \
	    -c get "$2" "$3"
}
hpa_put() {
	timeout 60 ip netns exec "$CLI" tftp "$(hpafam "$1")" -m binary "$1" \
	    -c put "$2" "$3"
}

# same file1 file2: both exist with the same contents.
same() { [ -f "$1" ] && [ -f "$2" ] && [ "$(sum "$1")" = "$(sum "$2")" ]; }

# FTP transfers with curl, for the ftp_* suites.  The suite defines
# CURL (the curl command in the client's namespace), url FAM PATH (the
# address the client dials) and PUB (the server's pub/ directory).
# curl flags that make it use one data command:
mode_opts() {
	case $1 in
	PASV) echo "--disable-epsv" ;;
	EPSV) echo "" ;;
	PORT) echo "-P - --disable-eprt" ;;
	EPRT) echo "-P -" ;;
	esac
}

# Download pub/big; the file and the data command must match.
get_big() { # fam mode
	rm -f "$WORK/out"
	# shellcheck disable=SC2046
	$CURL -v -g $(mode_opts "$2") "$(url "$1" pub/big)" -o "$WORK/out" \
	    2> "$WORK/curl.err" || { tail -n 3 "$WORK/curl.err"; return 1; }
	grep -q "^> $2" "$WORK/curl.err" || { echo "curl sent no $2"; return 1; }
	[ "$(sum "$WORK/out")" = "$(sum "$PUB/big")" ]
}

# Upload $WORK/up as pub/NAME; the file and the data command must match.
put_up() { # fam mode name
	rm -f "$PUB/$3"
	# shellcheck disable=SC2046
	$CURL -v -g $(mode_opts "$2") -T "$WORK/up" "$(url "$1" "pub/$3")" \
	    2> "$WORK/curl.err" || { tail -n 3 "$WORK/curl.err"; return 1; }
	grep -q "^> $2" "$WORK/curl.err" || { echo "curl sent no $2"; return 1; }
	[ "$(sum "$PUB/$3")" = "$(sum "$WORK/up")" ]
}

# One more namespace $1, removed by the trap like the three.
ns_add() {
	ip netns add "$1" || return 1
	MORE_NS="$MORE_NS $1"
	ip netns exec "$1" ip link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0
}

# Containers, the way a Docker host has them: namespaces behind a
# bridge "br0" in the firewall, 203.0.113.0/25 and 2001:db8:3::/64,
# the firewall at .1 and ::1, their default route through it.
# ct_up N: namespace ${P}ctN at 203.0.113.1N and 2001:db8:3::1N.
CT4NET=203.0.113; CT6NET=2001:db8:3:
ct_up() {
	_ct=${P}ct$1
	if ! in_fw ip link show br0 >/dev/null 2>&1; then
		in_fw ip link add br0 type bridge || return 1
		in_fw ip addr add $CT4NET.1/25 dev br0
		in_fw ip addr add $CT6NET:1/64 dev br0 nodad
		in_fw ip link set br0 up
	fi
	ns_add "$_ct" || return 1
	ip link add "${P}k$1" netns "$_ct" type veth peer name "${P}b$1" \
	    netns "$FW" || return 1
	in_fw ip link set "${P}b$1" master br0 up
	ip netns exec "$_ct" ip link set "${P}k$1" name eth0
	ip netns exec "$_ct" ip addr add $CT4NET.1$1/25 dev eth0
	ip netns exec "$_ct" ip addr add $CT6NET:1$1/64 dev eth0 nodad
	ip netns exec "$_ct" ip link set eth0 up
	ip netns exec "$_ct" ip route add default via $CT4NET.1
	ip netns exec "$_ct" ip -6 route add default via $CT6NET:1
}

# wait_for secs command...: until command succeeds, polled every 0.1 s
# for secs seconds at most; its status then.
wait_for() {
	_wn=$(($1 * 10))
	shift
	while [ "$_wn" -gt 0 ]; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.1
		_wn=$((_wn - 1))
	done
	"$@"
}

# wait_bound ns t|u addr port: until a TCP listener (t) or UDP socket
# (u) is bound to addr:port in ns (5 s), not merely any on that port.
wait_bound() {
	case $3 in *:*) _wa="[$3]:$4" ;; *) _wa="$3:$4" ;; esac
	wait_for 5 bound_at "$1" "$2" "$_wa" ||
	    { echo "nothing bound to $_wa in $1"; return 1; }
}
bound_at() {
	ip netns exec "$1" ss -l"$2"nH 2>/dev/null |
	    awk -v a="$3" '$4 == a { f = 1 } END { exit !f }'
}

# drained ns port: no datagram waits in the UDP sockets on port (their
# reader has taken every one).
drained() {
	ip netns exec "$1" ss -lunH "sport = :$2" 2>/dev/null |
	    awk '{ n += $2 } END { exit n != 0 }'
}

# no_permits [table]: the proxy's table (default ftp-proxy) holds none.
no_permits() { [ "$(permits "${1:-}")" -eq 0 ]; }

# grown file size secs: until file has more than size bytes.
grown() { wait_for "$3" sh -c "[ \$(stat -c %s '$1' 2>/dev/null || echo 0) -gt $2 ]"; }

# monitor_sync: every nftables event so far is in $WORK/monitor (a
# marker table, added and deleted, is waited for there, 5 s): what a
# "nothing was created" check reads after it is complete.
MONSEQ=0
monitor_sync() {
	MONSEQ=$((MONSEQ + 1))
	in_fw nft add table inet "sync$MONSEQ" &&
	    in_fw nft delete table inet "sync$MONSEQ" &&
	    wait_re "$WORK/monitor" "^delete table inet sync$MONSEQ\$" 5
}

# tcp_conns ns pid: how many TCP connections (any state but listening)
# process pid holds in ns.
tcp_conns() {
	ip netns exec "$1" ss -tnpH state connected 2>/dev/null |
	    grep -c "pid=$2,"
}
