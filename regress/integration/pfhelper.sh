#!/bin/sh
# SPDX-License-Identifier: ISC
# pfhelper.sh: pfhelper against the real kernel, driven by
# regress/tools/pfhctl (a front-end emulator), with real TCP and UDP
# traffic through its permits.
#
# lib.sh's three network namespaces (and a scratch one for nft -c),
# documentation addresses only:
#   client  192.0.2.10/24, 2001:db8:1::10/64, default routes via the fw
#   fw      192.0.2.1, 2001:db8:1::1 (inside) | 198.51.100.1,
#           2001:db8:2::1 (outside),
#           forwarding on; the admin's `table inet admin' drops what is
#           forwarded unless established or marked by pfhelper's table
#   server  198.51.100.10/24, 2001:db8:2::10/64, no route to the inside,
#           so only pfhelper's SNAT brings replies back
# pfhctl runs in the fw and reads its commands from a fifo, so the test
# can interleave commands and checks.
#
# Needs root, ip(8), nft(8), python3, timeout(1), and the builds
# bin/pfhelper and obj/regress/tools/pfhctl (PFHELPER=, PFHCTL= override).
# Creates /var/empty (0755 root), pfhelper's chroot, if it is missing.
set -u

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
top=$TOP
P="pfh$$-"
. "$TOP/regress/integration/lib.sh"
PFHELPER=${PFHELPER:-$top/bin/pfhelper}
PFHCTL=${PFHCTL:-$top/obj/regress/tools/pfhctl}
PY=${PYTHON:-python3}
[ -x /usr/bin/python3 ] && PY=${PYTHON:-/usr/bin/python3}

pfx=$P
SCR="${pfx}scr"
tmp=$WORK
hpids=""	# pfhelpers, started by our pfhctls
ctl_pid=""	# the current pfhctl's timeout(1) wrapper
ctl_out=""	# its stdout
ctl_err=""	# its stderr (and pfhelper's, with -d)
ctl_n=0		# result lines expected so far
ctl_seq=0
hpid=""		# the current pfhelper
reply=""

gone() {
	! alive "$1"
}

# Is pid a pfhelper (and not a reused pid)?
is_pfhelper() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "pfhelper" ]
}

# stop pid...: TERM, up to 3 s, then KILL.
stop() {
	for _sp in "$@"; do
		kill "$_sp" 2>/dev/null
	done
	for _sp in "$@"; do
		_si=0
		while alive "$_sp" && [ "$_si" -lt 30 ]; do
			sleep 0.1
			_si=$((_si + 1))
		done
		alive "$_sp" && kill -9 "$_sp" 2>/dev/null
		wait "$_sp" 2>/dev/null
	done
}

# pfh_finish: lib.sh's finish, and a failure for any process of ours
# (or pfhelper of our pfhctls) that outlives the clean-up.
pfh_finish() {
	exec 7>&- 2>/dev/null
	_left=$PIDS
	cleanup
	for _fp in $_left; do
		alive "$_fp" && nok "process $_fp is still alive"
	done
	for _fp in $hpids; do
		is_pfhelper "$_fp" && alive "$_fp" &&
		    nok "pfhelper $_fp is still alive"
	done
	finish
	exit $?
}

# bg_ns ns seconds command...: run command in ns in the background,
# bounded by timeout(1), with the pfhctl fifo closed; its pid is in
# $bgpid.
bg_ns() {
	_ns=$1
	_t=$2
	shift 2
	bg ip netns exec "$_ns" timeout "$_t" "$@" 7>&-
	bgpid=$LASTPID
}

in_ns() {
	_ns=$1
	shift
	ip netns exec "$_ns" "$@"
}

# --- pfhctl, fed through a fifo on fd 7 ---------------------------------

has_lines() {
	[ "$(wc -l < "$1")" -ge "$2" ]
}

# ctl command...: send one command to pfhctl, wait up to 10 s for its
# result line, leave it in $reply.
ctl() {
	ctl_n=$((ctl_n + 1))
	printf '%s\n' "$*" >&7
	_i=0
	while ! has_lines "$ctl_out" "$ctl_n" && [ "$_i" -lt 500 ]; do
		sleep 0.02
		_i=$((_i + 1))
	done
	if has_lines "$ctl_out" "$ctl_n"; then
		reply=$(sed -n "${ctl_n}p" "$ctl_out")
	else
		reply="(no reply)"
	fi
	echo "	$* -> $reply" >> "$tmp/commands"
}

# expect name regex command...: the reply to command matches ^regex$.
expect() {
	_name=$1
	_re=$2
	shift 2
	ctl "$@"
	if printf '%s\n' "$reply" | grep -Eq "^($_re)\$"; then
		ok "$_name"
	else
		nok "$_name: '$*' got '$reply'"
	fi
}

ctl_stop() {
	[ -n "$ctl_pid" ] || return 0
	exec 7>&-
	wait_for 5 gone "$ctl_pid"
	stop "$ctl_pid"
	ctl_pid=""
}

# ctl_start [-T] pfhelper-args...: a new pfhctl (and pfhelper) in the
# firewall; $hpid is the new pfhelper.
ctl_start() {
	ctl_stop
	ctl_seq=$((ctl_seq + 1))
	_fifo="$tmp/ctl$ctl_seq.in"
	ctl_out="$tmp/ctl$ctl_seq.out"
	ctl_err="$tmp/ctl$ctl_seq.err"
	ctl_n=0
	hpid=""
	_role=""
	if [ "${1:-}" = "-T" ]; then
		_role=-T
		shift
	fi
	mkfifo "$_fifo" || return 1
	: > "$ctl_out"
	ip netns exec "$FW" timeout 300 "$PFHCTL" $_role -p "$PFHELPER" \
	    -- "$@" < "$_fifo" > "$ctl_out" 2> "$ctl_err" &
	ctl_pid=$!
	PIDS="$PIDS $ctl_pid"
	exec 7<>"$_fifo"
	ctl pid
	case $reply in
	"ok "[0-9]*)
		hpid=${reply#ok }
		hpids="$hpids $hpid"
		;;
	*)
		return 1
		;;
	esac
	is_pfhelper "$hpid"
}

# --- nftables in the firewall -------------------------------------------

TABLE=ftp-proxy

fwnft() {
	in_ns "$FW" nft "$@"
}

table_exists() {
	fwnft list table inet "$TABLE" > /dev/null 2>&1
}

table_gone() {
	! table_exists
}

# The table exists and no map or set in it has an element (the retry
# sets aside: the packet path fills them, for 10 s).
table_empty() {
	table_exists && ! ptable "$TABLE" | grep -q 'elements = '
}

# has_elem map key: the map or set holds an element with this key.
has_elem() {
	case $1 in
	pass*)	_kind=set ;;
	*)	_kind=map ;;
	esac
	fwnft list "$_kind" inet "$TABLE" "$1" 2>/dev/null | grep -qF "$2 "
}

no_elem() {
	! has_elem "$@"
}

# --- traffic -----------------------------------------------------------

write_helpers() {
	cat > "$tmp/listen.py" <<-'PY'
	# listen.py seconds addr port tcp|udp out: accept one connection or
	# one datagram, write "peeraddr peerport" to out, answer "hi" (tcp)
	# or "ack" (udp); tcp holds until the peer closes.  out.ready marks
	# the socket bound.  Exit 1 if nothing came within seconds.
	import os, socket, sys
	tmo, addr, port, proto, out = float(sys.argv[1]), sys.argv[2], \
	    int(sys.argv[3]), sys.argv[4], sys.argv[5]
	fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
	udp = proto == "udp"
	s = socket.socket(fam, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind((addr, port))
	if not udp:
	    s.listen(8)
	s.settimeout(tmo)
	open(out + ".ready", "w").close()
	try:
	    if udp:
	        data, peer = s.recvfrom(512)
	    else:
	        c, peer = s.accept()
	except OSError:
	    sys.exit(1)
	with open(out + ".tmp", "w") as f:
	    f.write("%s %d\n" % (peer[0], peer[1]))
	os.rename(out + ".tmp", out)
	try:
	    if udp:
	        s.sendto(b"ack", peer)
	    else:
	        c.settimeout(tmo)
	        c.sendall(b"hi")
	        c.recv(16)
	except OSError:
	    pass
	PY
	cat > "$tmp/connect.py" <<-'PY'
	# connect.py seconds addr port tcp|udp [src sport [hold]]: tcp:
	# connect and expect "hi", then hold the connection hold seconds;
	# udp: send a datagram and wait for the answer.  Prints the peer
	# of the answer; exit 1 on failure or timeout.
	import socket, sys, time
	tmo, addr, port, proto = float(sys.argv[1]), sys.argv[2], \
	    int(sys.argv[3]), sys.argv[4]
	fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
	udp = proto == "udp"
	s = socket.socket(fam, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	if len(sys.argv) > 6:
	    s.bind((sys.argv[5], int(sys.argv[6])))
	s.settimeout(tmo)
	try:
	    if udp:
	        s.sendto(b"data", (addr, port))
	        data, peer = s.recvfrom(512)
	    else:
	        s.connect((addr, port))
	        peer = s.getpeername()
	        data = s.recv(2)
	except OSError:
	    sys.exit(1)
	if data not in (b"hi", b"ack"):
	    sys.exit(1)
	print("%s %d" % (peer[0], peer[1]), flush=True)
	if len(sys.argv) > 7:
	    time.sleep(float(sys.argv[7]))
	PY
}

# listen ns seconds addr port tcp|udp out: a one-shot listener in the
# background ($lpid), bound when this returns 0.
listen() {
	rm -f "$6" "$6.ready"
	bg_ns "$1" $(($2 + 2)) "$PY" "$tmp/listen.py" "$2" "$3" "$4" "$5" "$6"
	lpid=$bgpid
	wait_for 5 test -e "$6.ready"
}

# connect ns seconds addr port tcp|udp [src sport]: in the foreground.
connect() {
	_ns=$1
	_t=$2
	shift 2
	ip netns exec "$_ns" timeout $((_t + 2)) "$PY" "$tmp/connect.py" \
	    "$_t" "$@" 7>&-
}

# heard out want: the listener wrote "want" (an address, or "addr port").
heard() {
	wait_for 3 test -s "$1" || return 1
	case $2 in
	*" "*)	[ "$(cat "$1")" = "$2" ] ;;
	*)	[ "$(cut -d ' ' -f 1 < "$1")" = "$2" ] ;;
	esac
}

# silent out: the listener (already stopped) heard nothing.
silent() {
	[ ! -s "$1" ]
}

# --- topology ----------------------------------------------------------

setup_net() {
	topo_up && ns_add "$SCR"
}

# The admin's ruleset (`chain fwd' would not parse: fwd is an nft keyword):
# forwarding needs established or pfhelper's mark;
# tcp/21 to the outside is redirected to a local :8021 (as ftp-proxy's
# admin would), for the conntrack check of a real control connection.
setup_admin() {
	fwnft -f - <<-EOF2
	table inet admin {
		chain fwd_filter {
			type filter hook forward priority 0; policy drop;
			ct state established,related accept
			$admin_line
		}
		chain pre {
			type nat hook prerouting priority dstnat; policy accept;
			iifname "inside" tcp dport 21 redirect to :8021
		}
	}
	EOF2
}

# --- tests -------------------------------------------------------------

t_describe() {
	if "$PFHELPER" -n > "$tmp/describe.nft" 2> "$tmp/describe.err"; then
		ok "pfhelper -n exits 0"
	else
		nok "pfhelper -n: $(cat "$tmp/describe.err")"
	fi
	# The admin's line is the last commented rule that accepts.
	admin_line=$(sed -n 's/^#[[:space:]]\{1,\}\(.* accept\)[[:space:]]*$/\1/p' \
	    "$tmp/describe.nft" | tail -n 1)
	check "pfhelper -n prints the admin's line ($admin_line)" \
	    [ -n "$admin_line" ]
	if in_ns "$SCR" nft -c -f "$tmp/describe.nft" \
	    > "$tmp/describe.chk" 2>&1; then
		ok "nft -c accepts the table pfhelper -n prints"
	else
		nok "nft -c -f: $(head -n 5 "$tmp/describe.chk")"
	fi
	check "pfhelper -n has table inet ftp-proxy" \
	    grep -q '^table inet ftp-proxy {' "$tmp/describe.nft"
}

t_privs() {
	_st=/proc/$hpid/status
	_uid=$(id -u _pfhelper)
	check "pfhelper CapEff is CAP_NET_ADMIN only" \
	    grep -q '^CapEff:[[:space:]]*0000000000001000$' "$_st"
	check "pfhelper CapPrm is CAP_NET_ADMIN only" \
	    grep -q '^CapPrm:[[:space:]]*0000000000001000$' "$_st"
	check "pfhelper runs as user _pfhelper (uid $_uid)" grep -Eq \
	    "^Uid:[[:space:]]+$_uid[[:space:]]+$_uid[[:space:]]+$_uid[[:space:]]+$_uid\$" \
	    "$_st"
	check "pfhelper has NoNewPrivs" grep -q '^NoNewPrivs:[[:space:]]*1$' "$_st"
	check "pfhelper's root is /var/empty" \
	    [ "$(readlink "/proc/$hpid/root")" = /var/empty ]
	check "pfhelper created table inet $TABLE" table_exists
	check "no conntrack helper in the firewall's ruleset" \
	    eval "! fwnft list ruleset | grep -q 'ct helper'"
}

# t_passive v client server proxy sid base: the client connects to
# server:base+1 and reaches server:base+2, sourced from the proxy.
t_passive() {
	v=$1 cl=$2 sv=$3 px=$4 sid=$5 pp=$(($6 + 1)) tp=$(($6 + 2))
	tag="IPv$v passive"
	o="$tmp/passive$v.out"
	listen "$SRV" 3 "$sv" "$tp" tcp "$o"
	check "$tag: no connection before the permit" \
	    eval '! connect "$CLI" 2 "$sv" "$pp" tcp > /dev/null'
	stop "$lpid"
	check "$tag: nothing reached the server before the permit" silent "$o"
	expect "$tag: session" ok \
	    session "$sid" tcp "$cl" 40000 "$sv" 21 "$px" 50000 "$sv" 21
	expect "$tag: permit" ok passive "$sid" 1 "$pp" "$tp" 30
	check "$tag: rdr$v element" has_elem "rdr$v" "$cl . $sv . tcp . $pp"
	check "$tag: snat$v element" has_elem "snat$v" "$cl . $sv . tcp . $tp"
	check "$tag: pass$v element" has_elem "pass$v" "$cl . $sv . tcp . $tp"
	listen "$SRV" 5 "$sv" "$tp" tcp "$o"
	check "$tag: the client reaches the server through the permit" \
	    eval 'connect "$CLI" 5 "$sv" "$pp" tcp > /dev/null'
	check "$tag: the server sees the proxy's address $px" heard "$o" "$px"
	stop "$lpid"
	check "$tag: the pass element is used up" \
	    no_elem "pass$v" "$cl . $sv . tcp . $tp"
	listen "$SRV" 3 "$sv" "$tp" tcp "$o"
	check "$tag: a second connection on the permit is refused" \
	    eval '! connect "$CLI" 2 "$sv" "$pp" tcp > /dev/null'
	stop "$lpid"
	check "$tag: nothing reached the server the second time" silent "$o"
}

# t_active v client server proxy sid base: the server connects to
# proxy:base+1 and reaches client:base+2, sourced from the server's
# address (port 20 for base+3 -> base+4).
t_active() {
	v=$1 cl=$2 sv=$3 px=$4 sid=$5 pp=$(($6 + 1)) tp=$(($6 + 2))
	tag="IPv$v active"
	o="$tmp/active$v.out"
	expect "$tag: session" ok \
	    session "$sid" tcp "$cl" 40001 "$sv" 21 "$px" 50000 "$sv" 21
	expect "$tag: permit" ok active "$sid" 1 "$pp" "$tp" 30
	check "$tag: rdr$v element" has_elem "rdr$v" "$sv . $px . tcp . $pp"
	check "$tag: snat$v element" has_elem "snat$v" "$sv . $cl . tcp . $tp"
	listen "$CLI" 5 "$cl" "$tp" tcp "$o"
	check "$tag: the server reaches the client through the permit" \
	    eval 'connect "$SRV" 5 "$px" "$pp" tcp > /dev/null'
	check "$tag: the client sees the server's address $sv" heard "$o" "$sv"
	stop "$lpid"
	pp=$(($6 + 3)) tp=$(($6 + 4))
	expect "$tag: permit with port20" ok \
	    active "$sid" 2 "$pp" "$tp" 30 port20
	check "$tag: snatp$v element" has_elem "snatp$v" "$sv . $cl . tcp . $tp"
	listen "$CLI" 5 "$cl" "$tp" tcp "$o"
	check "$tag port20: the server reaches the client" \
	    eval 'connect "$SRV" 5 "$px" "$pp" tcp > /dev/null'
	check "$tag port20: the client sees $sv port 20" heard "$o" "$sv 20"
	stop "$lpid"
}

# t_udp v client server proxy sid base: TFTP-shaped.  The session's
# proxy port is base+2, the client's port base+1; the server answers
# from a new port to proxy:base+2 and reaches client:base+1, and the
# client's reply goes back through the same conntrack entry.  The
# session's one permit comes with it (one request, one round trip).
t_udp() {
	v=$1 cl=$2 sv=$3 px=$4 sid=$5 cp=$(($6 + 1)) pp=$(($6 + 2))
	tag="IPv$v udp"
	o="$tmp/udp$v.out"
	listen "$CLI" 3 "$cl" "$cp" udp "$o"
	# From another port than below: this flow's conntrack entry stays.
	check "$tag: no datagram passes before the session" \
	    eval '! connect "$SRV" 2 "$px" "$pp" udp "$sv" 6968 > /dev/null'
	stop "$lpid"
	check "$tag: nothing reached the client before the session" silent "$o"
	expect "$tag: session with its permit" ok \
	    session "$sid" udp "$cl" "$cp" "$sv" 69 "$px" "$pp" "$sv" 69 30
	check "$tag: rdr$v element" has_elem "rdr$v" "$sv . $px . udp . $pp"
	listen "$CLI" 5 "$cl" "$cp" udp "$o"
	r=$(connect "$SRV" 5 "$px" "$pp" udp "$sv" 6969)
	check "$tag: the server's datagram reaches the client from $sv" \
	    heard "$o" "$sv 6969"
	check "$tag: the client's answer reaches the server from $px $pp" \
	    [ "$r" = "$px $pp" ]
	stop "$lpid"
	listen "$CLI" 3 "$cl" "$cp" udp "$o"
	check "$tag: a second flow on the permit is refused" \
	    eval '! connect "$SRV" 2 "$px" "$pp" udp "$sv" 6970 > /dev/null'
	stop "$lpid"
	check "$tag: nothing reached the client the second time" silent "$o"
}

# In the IPv4 session 1 of t_passive.
t_timeout() {
	pp=$(($1 + 1))
	k="192.0.2.10 . 198.51.100.10 . tcp . $pp"
	expect "permit with timeout 2" ok passive 1 2 "$pp" $(($1 + 2)) 2
	check "the rdr4 element is there" has_elem rdr4 "$k"
	check "an unused permit with timeout 2 leaves rdr4 (8 s at most)" \
	    wait_for 8 no_elem rdr4 "$k"
	expect "del of a timed-out permit is fine" ok del 1 2
}

# In the IPv4 session 1 of t_passive: del, then end.
t_delend() {
	k3r="192.0.2.10 . 198.51.100.10 . tcp . $(($1 + 1))"
	k3p="192.0.2.10 . 198.51.100.10 . tcp . $(($1 + 2))"
	k4="198.51.100.10 . 198.51.100.1 . tcp . $(($1 + 3))"
	expect "passive permit 3" ok passive 1 3 $(($1 + 1)) $(($1 + 2)) 30
	expect "active permit 4" ok active 1 4 $(($1 + 3)) $(($1 + 4)) 30
	check "permits 3 and 4 are in rdr4" \
	    eval 'has_elem rdr4 "$k3r" && has_elem rdr4 "$k4"'
	expect "del" ok del 1 3
	check "del removes the permit's rdr, snat and pass elements" \
	    eval 'no_elem rdr4 "$k3r" && no_elem snat4 "$k3p" &&
	    no_elem pass4 "$k3p"'
	check "del leaves the session's other permit" has_elem rdr4 "$k4"
	expect "del of a permit that is gone is ENOENT" "err ENOENT .*" del 1 3
	expect "end" ok end 1
	check "end removes the session's elements: the table is empty" \
	    table_empty
}

t_kill() {
	expect "kill: session" ok session 9 tcp 192.0.2.10 40009 \
	    198.51.100.10 21 198.51.100.1 50000 198.51.100.10 21
	expect "kill: permit" ok passive 9 1 $(($1 + 1)) $(($1 + 2)) 30
	kill -9 "$hpid"
	check "kill -9 of pfhelper makes its table vanish" \
	    wait_for 3 table_gone
	expect "pfhctl sees pfhelper gone" "err (EPIPE|ECONNRESET) .*" \
	    passive 9 2 $(($1 + 3)) $(($1 + 4)) 30
	ctl_stop
}

# TFTP role, own table; at the end EOF on pfhctl.
t_tftp() {
	TABLE=tftp-proxy
	if ! ctl_start -T -d -C -t "$TABLE"; then
		nok "start pfhctl -T (pfhelper -t $TABLE): $(cat "$ctl_err")"
		TABLE=ftp-proxy
		return
	fi
	check "pfhelper created table inet $TABLE" table_exists
	t_udp 4 192.0.2.10 198.51.100.10 198.51.100.1 1 $1
	t_udp 6 2001:db8:1::10 2001:db8:2::10 2001:db8:2::1 2 $(($1 + 10))
	expect "EOF: a session with a live permit" ok session 3 udp \
	    192.0.2.10 $(($1 + 21)) 198.51.100.10 69 198.51.100.1 \
	    $(($1 + 22)) 198.51.100.10 69
	h=$hpid
	exec 7>&-
	check "EOF: pfhctl exits" wait_for 5 gone "$ctl_pid"
	check "EOF: pfhelper exits" wait_for 3 gone "$h"
	check "EOF: the table vanishes" wait_for 3 table_gone
	ctl_stop
	TABLE=ftp-proxy
}

# mon_count file: the element inserts monitor file has seen, once every
# event before now is in it (a marker table, waited for, 5 s).
mon_count() {
	fwnft add table inet "${pfx}mark"
	wait_for 5 grep -q "${pfx}mark" "$1" || echo "# no marker in $1" >&2
	fwnft delete table inet "${pfx}mark"
	grep -c 'netlink event: NFT_MSG_NEWSETELEM' "$1"
}

# t_bad name command...: a fresh pfhelper with a valid session and
# permit, then the commands; every one but the last must succeed, the
# last must make pfhelper drop the peer before anything reaches the
# kernel.  `nft --debug=netlink monitor' counts the element inserts the
# kernel announces: exactly the valid permit's three.
t_bad() {
	bname="bad request ($1)"
	shift
	mon="$tmp/monitor.$ctl_seq"
	bg_ns "$FW" 60 nft --debug=netlink monitor > "$mon" 2>&1
	mpid=$bgpid
	fwnft add table inet "${pfx}probe"
	wait_for 5 grep -q "${pfx}probe" "$mon"
	fwnft delete table inet "${pfx}probe"
	if ! ctl_start -d -C; then
		nok "$bname: start pfhctl: $(cat "$ctl_err")"
		stop "$mpid"
		return
	fi
	expect "$bname: session" ok session 1 tcp 192.0.2.10 40000 \
	    198.51.100.10 21 198.51.100.1 50000 198.51.100.10 21
	expect "$bname: permit" ok passive 1 1 51001 51002 30
	while [ $# -gt 1 ]; do
		expect "$bname: $1" ok "$1"
		shift
	done
	expect "$bname: pfhelper drops the peer" \
	    "err (EPIPE|ECONNRESET) .*" "$1"
	check "$bname: pfhelper exits" wait_for 3 gone "$hpid"
	check "$bname: its table vanishes" wait_for 3 table_gone
	check "$bname: pfhelper logs the drop" \
	    grep -q 'dropping peer' "$ctl_err"
	n=$(mon_count "$mon")
	stop "$mpid"
	check "$bname: nothing inserted but the valid permit's 3 (saw $n)" \
	    [ "$n" -eq 3 ]
	ctl_stop
}

# t_refused name command: a fresh pfhelper with a valid session and
# permit, then a well-formed request that asks for what is not allowed:
# an EPERM reply, and the peer is served on (another permit comes);
# nothing reaches the kernel for the refused one.
t_refused() {
	bname="refused ($1)"
	mon="$tmp/monitor.$ctl_seq"
	bg_ns "$FW" 60 nft --debug=netlink monitor > "$mon" 2>&1
	mpid=$bgpid
	fwnft add table inet "${pfx}probe"
	wait_for 5 grep -q "${pfx}probe" "$mon"
	fwnft delete table inet "${pfx}probe"
	if ! ctl_start -d -C; then
		nok "$bname: start pfhctl: $(cat "$ctl_err")"
		stop "$mpid"
		return
	fi
	expect "$bname: session" ok session 1 tcp 192.0.2.10 40000 \
	    198.51.100.10 21 198.51.100.1 50000 198.51.100.10 21
	expect "$bname: permit" ok passive 1 1 51001 51002 30
	expect "$bname: EPERM with a reason" "err EPERM .+" "$2"
	expect "$bname: the peer is served on" ok passive 1 3 51005 51006 30
	check "$bname: pfhelper logs the refusal" \
	    grep -q 'refused: ' "$ctl_err"
	n=$(mon_count "$mon")
	stop "$mpid"
	check "$bname: nothing inserted but the valid permits' 6 (saw $n)" \
	    [ "$n" -eq 6 ]
	ctl_stop
}

# Without -C: sessions must be real connections.  The client's control
# connection to 198.51.100.10:21 is redirected to the firewall's :8021
# by the admin's rule, as ftp-proxy's would be.
t_ctverify() {
	if ! ctl_start -d; then
		nok "start pfhctl without -C: $(cat "$ctl_err")"
		return
	fi
	expect "without -C: a session for no connection is EPERM" \
	    "err EPERM .*" session 20 tcp 192.0.2.10 40100 \
	    198.51.100.10 21 198.51.100.1 50000 198.51.100.10 21
	o="$tmp/ctl.out"
	listen "$FW" 15 192.0.2.1 8021 tcp "$o"
	fpid=$lpid
	bg_ns "$CLI" 15 "$PY" "$tmp/connect.py" 5 198.51.100.10 21 tcp \
	    192.0.2.10 40100 12 > /dev/null
	cpid=$bgpid
	check "control connection redirected to the firewall" \
	    heard "$o" "192.0.2.10 40100"
	expect "without -C: a session claiming another local port is EPERM" \
	    "err EPERM .*" session 20 tcp 192.0.2.10 40100 198.51.100.10 21 \
	    198.51.100.1 50000 198.51.100.10 21 at 192.0.2.1 8022
	expect "without -C: a session for a real connection is accepted" ok \
	    session 20 tcp 192.0.2.10 40100 198.51.100.10 21 \
	    198.51.100.1 50000 198.51.100.10 21 at 192.0.2.1 8021
	expect "without -C: passive permit" ok passive 20 1 52001 52002 30
	listen "$SRV" 5 198.51.100.10 52002 tcp "$o.data"
	check "without -C: the data connection goes through" \
	    eval 'connect "$CLI" 5 198.51.100.10 52001 tcp > /dev/null'
	check "without -C: the server sees the proxy" \
	    heard "$o.data" 198.51.100.1
	ctl_stop
	# CT_LOOKUP is tftp-proxy's: an FTP front end is dropped for it.
	if ctl_start -d; then
		expect "CT_LOOKUP from an FTP front end drops the peer" \
		    "err (EPIPE|ECONNRESET) .*" \
		    ctlookup tcp 192.0.2.10 40100 192.0.2.1 8021
		ctl_stop
	fi
	if ctl_start -T -d -t tftp-proxy; then
		expect "CT_LOOKUP finds its original destination" \
		    "ok 198.51.100.10 21" \
		    ctlookup tcp 192.0.2.10 40100 192.0.2.1 8021
		ctl_stop
	else
		nok "start pfhctl -T: $(cat "$ctl_err")"
	fi
	stop "$lpid" "$cpid" "$fpid"
}

# --- main --------------------------------------------------------------

require_root
for t in ip nft timeout mkfifo "$PY"; do
	if ! command -v "$t" > /dev/null 2>&1; then
		nok "missing tool $t"
		pfh_finish
	fi
done
for b in "$PFHELPER" "$PFHCTL"; do
	if [ ! -x "$b" ]; then
		nok "no $b (make bin/pfhelper obj/regress/tools/pfhctl)"
		pfh_finish
	fi
done
if ! sh "$top/scripts/users.sh" || ! getent passwd _pfhelper > /dev/null; then
	nok "no user _pfhelper"
	pfh_finish
fi
if [ ! -d /var/empty ]; then
	mkdir -m 0755 /var/empty && chown root:root /var/empty ||
	    { nok "cannot create /var/empty"; pfh_finish; }
fi
: > "$tmp/commands"
write_helpers

if ! setup_net; then
	nok "network namespaces"
	pfh_finish
fi
t_describe
if [ -z "$admin_line" ] || ! setup_admin; then
	nok "the admin's table with pfhelper's line"
	pfh_finish
fi

if ! ctl_start -d -C; then
	nok "start pfhctl -- -d -C: $(cat "$ctl_err")"
	pfh_finish
fi
t_privs
t_passive 4 192.0.2.10 198.51.100.10 198.51.100.1 1 50000
t_timeout 50010
t_delend 50020
t_active 4 192.0.2.10 198.51.100.10 198.51.100.1 2 50030
t_passive 6 2001:db8:1::10 2001:db8:2::10 2001:db8:2::1 3 50040
t_active 6 2001:db8:1::10 2001:db8:2::10 2001:db8:2::1 4 50050
for s in 2 3 4; do
	expect "end session $s" ok end "$s"
done
check "after ending every session the table is empty" table_empty
t_kill 50060

t_tftp 50100

t_refused "passive with tport 80" "passive 1 2 51003 80 30"
t_refused "multicast client" "session 2 tcp 224.0.0.9 40000 \
198.51.100.10 21 198.51.100.1 50000 198.51.100.10 21"
t_refused "mixed address families" "session 2 tcp 192.0.2.10 40000 \
2001:db8:2::10 21 198.51.100.1 50000 198.51.100.10 21"
t_bad "permit in a session never started" "passive 99 1 51003 51004 30"
t_bad "timeout above the maximum" "passive 1 2 51003 51004 3601"
t_refused "UDP session from the FTP front end" \
    "session 2 udp 192.0.2.10 40069 198.51.100.10 69 198.51.100.1 51069 \
198.51.100.10 69"
t_refused "server other than the destination" \
    "session 2 tcp 192.0.2.10 40001 198.51.100.10 21 198.51.100.1 50000 \
198.51.100.99 21"
t_bad "PERMIT_ADD of the wrong size" "raw PFH_PERMIT_ADD 13"

# Two sessions of one client to one server, the server handing out the
# same data port to both: the snat and pass elements are the same, and
# shared; the first session's end leaves the second one's in place.
t_shared() {
	if ! ctl_start -d -C; then
		nok "shared: start pfhctl: $(cat "$ctl_err")"
		return
	fi
	for sid in 31 32; do
		expect "shared: session $sid" ok session $sid tcp 192.0.2.10 \
		    $((40300 + sid)) 198.51.100.10 21 198.51.100.1 50000 \
		    198.51.100.10 21
	done
	expect "shared: first permit" ok passive 31 1 53001 53100 30
	expect "shared: second permit, same server port" ok \
	    passive 32 1 53002 53100 30
	expect "shared: the first session ends" ok end 31
	o="$tmp/shared.out"
	listen "$SRV" 5 198.51.100.10 53100 tcp "$o"
	check "shared: the second permit still works" \
	    eval 'connect "$CLI" 5 198.51.100.10 53002 tcp > /dev/null'
	check "shared: the server sees the proxy" heard "$o" 198.51.100.1
	stop "$lpid"
	ctl_stop
}
t_shared

t_ctverify

pfh_finish
