#!/bin/sh
# SPDX-License-Identifier: ISC
# confinement.sh: the confinement of the running processes, read from
# /proc/PID/status, /proc/PID/root and /proc/PID/fd: ftp-proxy,
# tftp-proxy (standalone) and the pfhelper of each run as their own
# users (_ftp-proxy, _tftp-proxy, _pfhelper: three distinct uids) in
# a chroot to /var/empty with no_new_privs and a seccomp filter; the
# network processes hold no capability, pfhelper exactly CAP_NET_ADMIN.
# Then the filter must hold for all their legitimate work, error paths
# included: refused commands, servers that cannot be reached, bad
# datagrams, timeouts, the daemonised mode with syslog, and a SIGTERM
# shutdown.  A process killed by seccomp dies of SIGSYS: every exit
# status is checked, pfhelper's through regress/tools/exitwatch (it is
# ftp-proxy's child, so the test cannot wait for it).
#
# Needs root, ip(8), nft(8), vsftpd, in.tftpd, curl, python3, and the
# builds bin/* and obj/regress/tools/exitwatch.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
EW=${EXITWATCH:-$TOP/obj/regress/tools/exitwatch}
SP=$TOP/obj/regress/tools/sandboxprobe
require_root
need "$BIN/ftp-proxy" "$BIN/tftp-proxy" "$BIN/pfhelper" "$EW" "$SP"

set_up sh "$TOP/scripts/users.sh"
NOCAPS=0000000000000000
NETADMIN=0000000000001000	# 1 << CAP_NET_ADMIN (12)
CURL="timeout 30 ip netns exec $CLI curl -sS --connect-timeout 5 -m 25"

set_up topo_up
set_up admin_rules
set_up vsftpd_up
set_up tftpd_up
mkfile "$WORK/ftproot/pub/f" 256
mkfile "$WORK/tftproot/t" 256
mkfile "$WORK/up" 256
# 198.51.100.11 exists but refuses port 21 (RST); .99 does not exist;
# 203.0.113.0/24 has no route from the firewall.
in_srv ip addr add 198.51.100.11/24 dev eth0
in_srv nft -f - <<-EOF
table inet refuse {
	chain in {
		type filter hook input priority 0;
		ip daddr 198.51.100.11 tcp dport 21 reject with tcp reset
	}
}
EOF

# --- helpers ---------------------------------------------------------

field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null; }

# expect_field pid name value: /proc/pid/status says exactly that.
expect_field() {
	_v=$(field "$1" "$2" | tr -s ' \t' ' ' | sed 's/ $//')
	[ "$_v" = "$3" ] || { echo "$2: '$_v', want '$3'"; return 1; }
}

# No descriptor on a directory (an fchdir out of the chroot).  Other
# inherited descriptors (we start the front ends with fd 9 on a file)
# are only reported: closing them is the front end's choice.
fds_clean() {
	for _f in /proc/$1/fd/*; do
		_n=${_f##*/}
		if [ -d "$_f" ]; then
			echo "fd $_n is a directory: $(readlink "$_f")"
			return 1
		fi
		if [ -f "$_f" ] && [ "$_n" -gt 2 ]; then
			echo "note: $2 keeps inherited fd $_n ($(readlink "$_f"))" \
			    >> "$WORK/notes"
		fi
	done
	return 0
}

# pfhelper: stdio, its peer on fd 3, its netlink sockets (filter,
# conntrack, this host's addresses); nothing the front end had open (we
# start the front ends with fd 9 on a file).
pfh_fds() {
	for _f in /proc/$1/fd/*; do
		_n=${_f##*/}
		[ "$_n" -le 2 ] && continue
		case $(readlink "$_f") in
		socket:*) ;;
		*) echo "fd $_n: $(readlink "$_f")"; return 1 ;;
		esac
	done
	return 0
}

# confined what pid caps user [filters]: the whole confinement of one
# process; filters (default 1) counts the parent's beneath its own.
confined() {
	_w=$1 _p=$2 _c=$3 _u=$4 _nf=${5:-1}
	PUID=$(id -u "$_u")
	PGID=$(id -g "$_u")
	if ! alive "$_p"; then
		fail "$_w: no process ($_p)"
		return
	fi
	check "$_w: uid $_u $PUID (real, effective, saved, fs)" \
	    expect_field "$_p" Uid "$PUID $PUID $PUID $PUID"
	check "$_w: gid $_u (real, effective, saved, fs)" \
	    expect_field "$_p" Gid "$PGID $PGID $PGID $PGID"
	check "$_w: supplementary groups: $_u's only" \
	    expect_field "$_p" Groups "$PGID"
	check "$_w: root is /var/empty" \
	    test "$(readlink "/proc/$_p/root")" = /var/empty
	check "$_w: cwd is the chroot's /" \
	    test "$(readlink "/proc/$_p/cwd")" = /var/empty
	check "$_w: NoNewPrivs 1" expect_field "$_p" NoNewPrivs 1
	check "$_w: Seccomp 2 (filter)" expect_field "$_p" Seccomp 2
	check "$_w: $_nf seccomp filter(s)" \
	    expect_field "$_p" Seccomp_filters "$_nf"
	check "$_w: CapEff $_c" expect_field "$_p" CapEff "$_c"
	check "$_w: CapPrm $_c" expect_field "$_p" CapPrm "$_c"
	check "$_w: CapBnd $_c" expect_field "$_p" CapBnd "$_c"
	check "$_w: CapInh 0" expect_field "$_p" CapInh $NOCAPS
	check "$_w: CapAmb 0" expect_field "$_p" CapAmb $NOCAPS
	check "$_w: no descriptor on a directory" fds_clean "$_p" "$_w"
}

# exited file pid: exitwatch recorded `pid exit 0' (within 5 s).
exited0() {
	_i=0
	while [ $_i -lt 50 ]; do
		grep -q "^$2 " "$1" 2>/dev/null && break
		sleep 0.1
		_i=$((_i + 1))
	done
	grep "^$2 " "$1" 2>/dev/null || echo "no exit recorded for $2"
	grep -q "^$2 exit 0$" "$1" 2>/dev/null
}

no_sigsys() { ! grep -q SIGSYS "$@" 2>/dev/null; }

# ftp_up args...: ftp-proxy in the foreground, pfhelper under exitwatch;
# fd 9 open on a file, which pfhelper must not inherit.
ftp_up() {
	bg ip netns exec "$FW" env PFHELPER="$EW" \
	    EXITWATCH_PROG="$BIN/pfhelper" EXITWATCH_FILE="$WORK/pfh.exit" \
	    "$BIN/ftp-proxy" -d -D 7 -s "$PFHDIR" "$@" \
	    2>> "$WORK/ftp-proxy.log" \
	    9< "$WORK/vsftpd.conf"
	PROXYPID=$LASTPID
	wait_port "$FW" 8021 || return 1
	_w=$(child_of "$PROXYPID" exitwatch)
	PFHPID=$(child_of "${_w:-0}" pfhelper)
	WPID=$(child_of "$PROXYPID" ftp-proxy)	# the worker
	[ -n "$PFHPID" ] && [ -n "$WPID" ]
}

# --- 1. ftp-proxy and its pfhelper: static confinement ----------------

# -M 4: one host may take every slot, so that -m is what refuses.
ftp_up -t 3 -m 4 -M 4 || { fail "ftp-proxy starts"; finish; exit 1; }
echo "# ftp-proxy pid $PROXYPID, worker $WPID, pfhelper $PFHPID"
confined ftp-proxy "$WPID" $NOCAPS _ftp-proxy 2
confined "ftp-proxy's pfhelper" "$PFHPID" $NETADMIN _pfhelper 2
# The parent: root, outside the chroot, in a filter of its own.
check "ftp-proxy's parent: uid 0" expect_field "$PROXYPID" Uid "0 0 0 0"
check "ftp-proxy's parent: Seccomp 2 (filter)" \
    expect_field "$PROXYPID" Seccomp 2
check "ftp-proxy's parent: one seccomp filter" \
    expect_field "$PROXYPID" Seccomp_filters 1
check "ftp-proxy's parent: no descriptor on a directory" \
    fds_clean "$PROXYPID" "ftp-proxy's parent"
check "ftp-proxy's pfhelper: only stdio, its peer, netlink, /proc/net" \
    pfh_fds "$PFHPID"
uid_of() { field "$1" Uid | awk '{ print $1 }'; }
check "ftp-proxy and its pfhelper run as different uids" \
    test "$(uid_of "$WPID")" != "$(uid_of "$PFHPID")"
check "the uids are not Debian's shared \"proxy\"" eval \
    "[ \"$(uid_of "$WPID")\" != \"$(id -u proxy 2>/dev/null)\" ] &&
    [ \"$(uid_of "$PFHPID")\" != \"$(id -u proxy 2>/dev/null)\" ]"

# --- 1b. What a compromised process could still reach -----------------
# sandboxprobe drops to the user and enters the same seccomp filter.
# Listeners on the firewall's loopback and inside addresses; while
# pfhelper's table is there, the front ends' uids cannot reach them.
bg ip netns exec "$FW" "${PYTHON:-python3}" -c '
import socket, time
ls = []
for a in ("127.0.0.1", "192.0.2.1"):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, 7070))
    s.listen(16)
    ls.append(s)
time.sleep(600)
'
LISTENPID=$LASTPID
wait_port "$FW" 7070
probe() { # expected user kind op...
	_e=$1 _u=$2 _k=$3
	shift 3
	_r=$(in_fw "$SP" -u "$_u" -k "$_k" "$@" 2>&1)
	echo "$_u ($_k) $*: $_r"
	case $_r in "$_e"*) return 0 ;; esac
	return 1
}
for u in _ftp-proxy _tftp-proxy; do
	check "$u cannot connect to 127.0.0.1 on the firewall" \
	    probe refused "$u" net tcp 127.0.0.1 7070
	check "$u cannot connect to the firewall's inside address" \
	    probe refused "$u" net tcp $F4IN 7070
	check "$u cannot create an AF_UNIX socket" probe refused "$u" net unix
done
check "other users still reach those listeners (nobody, unconfined)" eval \
    "probe allowed nobody none tcp 127.0.0.1 7070 &&
    probe allowed nobody none tcp $F4IN 7070"
check "_ftp-proxy still reaches a server (198.51.100.10:21)" \
    probe allowed _ftp-proxy net tcp $S4 21
check "pfhelper's sandbox: no NETLINK_ROUTE socket (CAP_NET_ADMIN kept)" \
    probe refused _pfhelper helper netlink-route
check "pfhelper's sandbox: no new socket at all (NETLINK_NETFILTER)" \
    probe refused _pfhelper helper netlink-netfilter
check "pfhelper -n shows the confine chain" eval \
    "$BIN/pfhelper -n | grep -q 'meta skuid $(id -u _ftp-proxy) fib daddr type local reject'"
check "the live table has it" eval \
    "in_fw nft list chain inet ftp-proxy confine | grep -q 'oif \"lo\" reject'"
kill "$LISTENPID"
wait "$LISTENPID" 2>/dev/null
PIDS=$(echo " $PIDS " | sed "s/ $LISTENPID / /")

# --- 2. The seccomp filter holds for ftp-proxy's work ------------------

check "passive download (EPSV) and active upload (EPRT)" eval "
    $CURL ftp://$S4/pub/f -o $WORK/o1 && same $WORK/o1 $WORK/ftproot/pub/f &&
    $CURL -P - -T $WORK/up ftp://$S4/pub/up1 && same $WORK/up $WORK/ftproot/pub/up1"
check "IPv6 passive and active downloads" eval "
    $CURL -g ftp://[$S6]/pub/f -o $WORK/o2 && same $WORK/o2 $WORK/ftproot/pub/f &&
    $CURL -g -P - ftp://[$S6]/pub/f -o $WORK/o3 && same $WORK/o3 $WORK/ftproot/pub/f"
check "refused PORT (bounce, port < 1024, malformed, LPRT), then a transfer" \
    py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	assert c.code("PORT 203,0,113,5,195,80") == 501
	assert c.code("PORT 192,0,2,10,0,21") == 501
	assert c.code("EPRT |1|192.0.2.10|99999|") == 501
	assert c.code("EPRT |7|192.0.2.10|50000|") == 522
	assert c.code("LPRT 4,4,192,0,2,10,2,195,80") == 502
	assert c.code("TYPE I") == 200
	assert len(c.passive("EPSV", "RETR pub/f")) == 256 * 1024
	assert c.code("QUIT") == 221
	EOF
check "not intercepted (straight to the proxy): 421" py "$CLI" "$F4IN" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], port=8021)
	assert c.greeting[0] == 421, c.greeting
	EOF
for h in 198.51.100.11 198.51.100.99 203.0.113.5; do
	check "server $h cannot be reached: 421" py "$CLI" "$h" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], timeout=15)
	assert c.greeting[0] == 421, c.greeting
	EOF
done
check "connect failures are logged" \
    grep -q "connect to the server" "$WORK/ftp-proxy.log"
check "over-long line: 500, session closed" py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	c.send("NOOP " + "x" * 5000)
	assert c.reply()[0] == 500
	assert c.eof(5)
	EOF
check "NUL byte: 500, session closed" py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	c.send(b"NO\0OP\r\n")
	assert c.reply()[0] == 500
	assert c.eof(5)
	EOF
# Not before -t 3 from the last command: a bound load cannot break.
check "idle session: 421 at -t 3" py "$CLI" "$S4" <<-'EOF'
	import sys, time
	from ftpc import Ctl
	c = Ctl(sys.argv[1], timeout=20)
	t = time.time()
	assert c.login() == 230
	assert c.reply()[0] == 421
	assert time.time() - t > 2.95, "before -t 3"
	EOF
check "beyond -m 4: 421, the others are served" py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	cs = [Ctl(sys.argv[1]) for i in range(4)]
	assert all(c.greeting[0] == 220 for c in cs)
	extra = Ctl(sys.argv[1])
	assert extra.greeting[0] == 421, extra.greeting
	assert "Too many sessions, " in extra.greeting[1][0], extra.greeting
	for c in cs:
	    assert c.code("QUIT") == 221
	EOF
check "ftp-proxy survived all of it" alive "$PROXYPID"
check "its pfhelper survived all of it" alive "$PFHPID"
check "no permit left" wait_permits 0

# --- 3. SIGTERM with a session open ------------------------------------

rm -f "$WORK/held"
PYTIMEOUT=20 py "$CLI" "$S4" > "$WORK/held" 2>&1 <<-'EOF' &
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	print("in", flush=True)
	print("eof" if c.eof(15) else "no eof", flush=True)
	EOF
HELD=$!
held_in() {
	_i=0
	while [ $_i -lt 50 ] && ! grep -q "^in" "$WORK/held"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	grep -q "^in" "$WORK/held"
}
set_up held_in
proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0 (not SIGSYS: $PROXYRC)" \
    test "$PROXYRC" -eq 0
check "SIGTERM: its pfhelper exits 0" exited0 "$WORK/pfh.exit" "$PFHPID"
check "SIGTERM: the table is gone" eval '! has_table'
wait "$HELD"
check "SIGTERM: the open session was closed" grep -q "^eof" "$WORK/held"
check "no SIGSYS recorded" no_sigsys "$WORK/pfh.exit"

# --- 4. tftp-proxy (standalone) and its pfhelper -----------------------

bg ip netns exec "$FW" env PFHELPER="$EW" EXITWATCH_PROG="$BIN/pfhelper" \
    EXITWATCH_FILE="$WORK/tpfh.exit" "$BIN/tftp-proxy" -d -v -w 2 \
    -s "$PFHDIR" \
    2>> "$WORK/tftp-proxy.log" 9< "$WORK/vsftpd.conf"
TPID=$LASTPID
wait_udp "$FW" 6969 || fail "tftp-proxy starts (pid $TPID)"
_w=$(child_of "$TPID" exitwatch)
TPFH=$(child_of "${_w:-0}" pfhelper)
TW=$(child_of "$TPID" tftp-proxy)	# the worker; $TPID is its parent
confined tftp-proxy "${TW:-0}" $NOCAPS _tftp-proxy 2
confined "tftp-proxy's pfhelper" "${TPFH:-0}" $NETADMIN _pfhelper 2
check "tftp-proxy's parent: Seccomp 2 (filter)" \
    expect_field "$TPID" Seccomp 2
check "tftp-proxy's pfhelper: only stdio, its peer and netlink" \
    pfh_fds "${TPFH:-0}"

TLOG=$WORK/tftp-proxy.log
check "RRQ (curl, options) IPv4" eval \
    "curl_get $S4 t $WORK/t1 && same $WORK/t1 $WORK/tftproot/t"
check "WRQ (tftp-hpa) IPv6" eval \
    "hpa_put $S6 $WORK/up up6 && same $WORK/up $WORK/tftproot/up6"
n0=$(grep -c "dropped request" "$TLOG")
udpsend "$CLI" $S4 69 "$(hexof '\000\001abc')"
udpsend "$CLI" $S4 69 "$(hexof '\000\005\000\001oops\000')"
udpsend "$CLI" $F4IN 6969 "$(hexof '\000\001t\000octet\000')"
udpsend "$CLI" 198.51.100.255 69 "$(hexof '\000\001t\000octet\000')"
udpsend "$CLI" 203.0.113.5 69 "$(hexof '\000\001t\000octet\000')"
check "bad, direct, broadcast, unroutable requests: 5 drop lines" \
    wait_grep "$TLOG" "dropped request" $((n0 + 5))
check "tftp-proxy survived them" alive "$TPID"
check "its pfhelper survived them" alive "${TPFH:-0}"
check "and still serves (RRQ IPv6)" eval \
    "curl_get $S6 t $WORK/t2 && same $WORK/t2 $WORK/tftproot/t"
kill -TERM "$TPID"
if wait_gone "$TPID" 100; then
	wait "$TPID"
	TRC=$?
else
	kill -9 "$TPID"
	wait "$TPID"
	TRC=255
fi
PIDS=$(echo " $PIDS " | sed "s/ $TPID / /")
check "SIGTERM: tftp-proxy exits 0 (not SIGSYS: $TRC)" test "$TRC" -eq 0
check "SIGTERM: its pfhelper exits 0" exited0 "$WORK/tpfh.exit" "${TPFH:-0}"
check "SIGTERM: the tftp-proxy table is gone" eval '! has_table tftp-proxy'

# --- 5. Daemonised ftp-proxy logging to syslog -------------------------
# A /dev of our own (ip netns exec runs in a mount namespace of its own,
# a slave of the host's: nothing propagates back) with the usual device
# nodes and a /dev/log of ours; exitwatch, as subreaper, sees how the
# daemon and its pfhelper end.

mkdir -p "$WORK/wrap"
# Named ftp-proxy, so that the program's argv[0] (its log name) is.
ln -s "$EW" "$WORK/wrap/ftp-proxy"
bg timeout 120 "${PYTHON:-python3}" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(4096) + b"\n")
' "$WORK/devlog" "$WORK/syslog"
i=0
while [ ! -S "$WORK/devlog" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
bg ip netns exec "$FW" sh -c '
	mount -t tmpfs -o mode=0755 regress-dev /dev || exit 1
	mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
	    mknod -m 666 /dev/random c 1 8 &&
	    mknod -m 666 /dev/urandom c 1 9 && : > /dev/log || exit 1
	mount --bind "$1" /dev/log || exit 1
	shift
	exec "$@"' sh "$WORK/devlog" env PFHELPER="$EW" \
    EXITWATCH_PROG="$BIN/ftp-proxy" EXITWATCH_FILE="$WORK/daemon.exit" \
    EXITWATCH_NEXT_PROG="$BIN/pfhelper" EXITWATCH_NEXT_FILE="$WORK/dpfh.exit" \
    "$WORK/wrap/ftp-proxy" -D 7 -t 3 -s "$PFHDIR"
EWPID=$LASTPID
set_up wait_port "$FW" 8021
DPID=""
for p in $(ip netns pids "$FW"); do
	[ "$p" != "$EWPID" ] &&
	    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = ftp-proxy ] &&
	    [ -n "$(child_of "$p" ftp-proxy)" ] && DPID=$p	# the parent
done
DW=$(child_of "${DPID:-0}" ftp-proxy)
_w=$(child_of "${DPID:-0}" exitwatch)
DPFH=$(child_of "${_w:-0}" pfhelper)
check "the daemon's parent exited 0" \
    grep -q ' exit 0$' "$WORK/daemon.exit"
confined "daemonised ftp-proxy" "${DW:-0}" $NOCAPS _ftp-proxy 2
confined "daemonised ftp-proxy's pfhelper" "${DPFH:-0}" $NETADMIN _pfhelper 2
check "daemon: passive and active downloads" eval "
    $CURL ftp://$S4/pub/f -o $WORK/o4 && same $WORK/o4 $WORK/ftproot/pub/f &&
    $CURL -P - ftp://$S4/pub/f -o $WORK/o5 && same $WORK/o5 $WORK/ftproot/pub/f"
check "daemon: refused PORT and an unreachable server" \
    py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	assert c.code("PORT 203,0,113,5,195,80") == 501
	assert c.code("QUIT") == 221
	c = Ctl("198.51.100.11")
	assert c.greeting[0] == 421, c.greeting
	EOF
check "daemon: idle timeout" py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.reply()[0] == 421
	EOF
check "syslog has ftp-proxy's session lines" \
    wait_grep "$WORK/syslog" "FTP session 192.0.2.10" 2
check "syslog has its warnings (connect failure)" \
    wait_grep "$WORK/syslog" "connect to the server" 1
check "syslog has pfhelper's lines" wait_grep "$WORK/syslog" "pfhelper[" 1
check "daemon and its pfhelper survived" \
    eval 'alive "${DW:-0}" && alive "${DPFH:-0}"'
kill -TERM "${DPID:-0}"
check "SIGTERM: the daemon exits 0" exited0 "$WORK/daemon.exit" "${DPID:-0}"
check "SIGTERM: its pfhelper exits 0" exited0 "$WORK/dpfh.exit" "${DPFH:-0}"
check "no SIGSYS recorded" no_sigsys "$WORK/daemon.exit" "$WORK/dpfh.exit" \
    "$WORK/tpfh.exit" "$WORK/pfh.exit"
wait_gone "$EWPID" 50
check "no process of ours left in the firewall" \
    eval '[ -z "$(ip netns pids "$FW")" ]'
check "no table left" eval '! has_table && ! has_table tftp-proxy'

[ -f "$WORK/notes" ] && sort -u "$WORK/notes"
finish
