#!/bin/sh
# SPDX-License-Identifier: ISC
# filter_nft.sh: pfhelper's nftables backend (filter_nft.c) against the
# real kernel, through obj/regress/tools/filtertool, in three network
# namespaces of its own:
#
#   client 192.0.2.10, 2001:db8:1::10
#     -- fw 192.0.2.1, 2001:db8:1::1 | 198.51.100.1, 2001:db8:2::1 --
#   server 198.51.100.10, 2001:db8:2::10 (no route back to the client)
#
# The fw has the admin's table (forward policy drop, ct mark accept) and
# the tool's table; permits are shaped as ftp-proxy would make them.
# Needs root, nft, python3.  Prints ok/FAIL lines and `N passed, M failed'.
set -u

P=nftb$$-
C=${P}c
F=${P}fw
S=${P}s
X=${P}x
NSLIST="$C $F $S $X"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/regress/integration/lib.sh"
tool=$TOP/obj/regress/tools/filtertool
T=ftptest
MARK=0x20000000
c6=2001:db8:1::10
s6=2001:db8:2::10
tmp=$WORK
seqn=0
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null ||
    ! command -v python3 >/dev/null || [ ! -x "$tool" ]; then
	nok "needs root, nft, python3 and $tool"
	finish
	exit 1
fi

# wait_line FILE REGEX: up to 5 s for a line to appear.
wait_line() {
	i=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 50 ] && return 1
		sleep 0.1
	done
	return 0
}

# --- helpers run inside the namespaces -------------------------------
cat > "$tmp/h.py" <<'EOF'
import socket, sys
def fam(a): return socket.AF_INET6 if ':' in a else socket.AF_INET
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == 'tcpserve':          # tcpserve ADDR PORT COUNT TIMEOUT
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(8); s.settimeout(float(sys.argv[5]))
    print('listening', flush=True)
    for _ in range(int(sys.argv[4])):
        try: c, peer = s.accept()
        except socket.timeout: break
        print('peer', peer[0], flush=True)
        c.sendall(b'hello\n'); c.close()
elif mode == 'tcpconnect':      # tcpconnect ADDR PORT TIMEOUT
    try:
        c = socket.create_connection((addr, port), float(sys.argv[4]))
        c.settimeout(float(sys.argv[4]))
        print('connected', c.recv(64).decode().strip())
    except OSError as e:
        print('failed', e); sys.exit(1)
elif mode == 'udprecv':         # udprecv ADDR PORT COUNT TIMEOUT
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.bind((addr, port)); s.settimeout(float(sys.argv[5]))
    print('listening', flush=True)
    for _ in range(int(sys.argv[4])):
        try: d, peer = s.recvfrom(512)
        except socket.timeout: break
        print('peer', peer[0], peer[1], d.decode(), flush=True)
elif mode == 'udpsend':         # udpsend ADDR PORT SPORT TEXT
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.bind(('::' if ':' in addr else '0.0.0.0', int(sys.argv[4])))
    s.sendto(sys.argv[5].encode(), (addr, port))
EOF

py() { ns=$1; shift; timeout 10 ip netns exec "$ns" python3 "$tmp/h.py" "$@"; }
# pybg OUT NS ARGS...: py in the background, output to OUT, pid noted.
pybg() {
	out=$1 ns=$2
	shift 2
	bg timeout 10 ip netns exec "$ns" python3 "$tmp/h.py" "$@" > "$out"
}

# --- topology ----------------------------------------------------------
setup() {
	for n in $C $F $S $X; do
		ip netns add "$n" || return 1
		ip -n "$n" link set lo up
	done
	ip -n $C link add eth0 type veth peer name inside netns $F &&
	ip -n $S link add eth0 type veth peer name outside netns $F ||
	    return 1
	ip -n $C addr add 192.0.2.10/24 dev eth0
	ip -n $C addr add 2001:db8:1::10/64 dev eth0 nodad
	ip -n $F addr add 192.0.2.1/24 dev inside
	ip -n $F addr add 2001:db8:1::1/64 dev inside nodad
	ip -n $F addr add 198.51.100.1/24 dev outside
	ip -n $F addr add 2001:db8:2::1/64 dev outside nodad
	ip -n $S addr add 198.51.100.10/24 dev eth0
	ip -n $S addr add 2001:db8:2::10/64 dev eth0 nodad
	ip -n $C link set eth0 up
	ip -n $S link set eth0 up
	ip -n $F link set inside up
	ip -n $F link set outside up
	ip -n $C route add default via 192.0.2.1
	ip -n $C -6 route add default via 2001:db8:1::1
	ip netns exec $F sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 || return 1
	ip netns exec $F nft -f - <<EOF
table inet admin {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		ct mark and $MARK == $MARK accept
	}
}
EOF
}

# start_tool NAME [ENV=VALUE [ARGS]]: filtertool in fw on fd 3 (out:
# $tmp/out)
start_tool() {
	rm -f "$tmp/in" "$tmp/out"
	mkfifo "$tmp/in" || return 1
	# Not through bg: the fifo is opened in the background, not here.
	env ${2:-FILTERTOOL=1} ip netns exec $F "$tool" -v ${3:-} "$1" \
	    < "$tmp/in" > "$tmp/out" 2> "$tmp/err.$1" &
	tpid=$!
	PIDS="$PIDS $tpid"
	exec 3> "$tmp/in"
	wait_line "$tmp/out" '^ready$'
}

# ft CMD...: send commands and a marker; their output goes to $tmp/last.
ft() {
	seqn=$((seqn + 1))
	n0=$(wc -l < "$tmp/out")
	for _c in "$@"; do
		echo "$_c" >&3
	done
	echo "echo __m$seqn" >&3
	wait_line "$tmp/out" "^__m$seqn\$" || return 1
	tail -n +$((n0 + 1)) "$tmp/out" | grep -v "^__m$seqn\$" > "$tmp/last"
}

# commit_is RESULT CMD...: the commands then `commit', which prints RESULT.
commit_is() {
	want=$1
	shift
	ft "$@" commit && [ "$(tail -n 1 "$tmp/last")" = "$want" ]
}

# inset SET PATTERN, notinset SET PATTERN: look for an element.
lset() {
	case $1 in
	pass*|tpass*|retry*)	ip netns exec $F nft list set inet $T "$1" ;;
	*)	ip netns exec $F nft list map inet $T "$1" ;;
	esac
}
inset() { lset "$1" 2>/dev/null | grep -q -- "$2"; }
notinset() { lset "$1" >/dev/null && ! inset "$1" "$2"; }

# gone_within SET PATTERN [SECS]: the element disappears (5 s at most).
gone_within() {
	i=0
	while inset "$1" "$2"; do
		i=$((i + 1))
		[ $i -gt $((${3:-5} * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# --- tests ---------------------------------------------------------------
t_table() {
	l=$tmp/list
	ip netns exec $F nft list table inet $T > "$l" 2>/dev/null
	check "table inet $T exists" test -s "$l"
	check "table has flags owner" grep -q "flags owner" "$l"
	for m in rdr4 rdr6 snat4 snat6 snatp4 snatp6; do
		check "map $m" grep -q "map $m {" "$l"
	done
	check "set pass4, pass6" sh -c "grep -q 'set pass4 {' $l &&
	    grep -q 'set pass6 {' $l"
	check "chain rdr: nat prerouting dstnat - 10" grep -q \
	    "type nat hook prerouting priority dstnat - 10;" "$l"
	check "chain nat: nat postrouting srcnat - 10" grep -q \
	    "type nat hook postrouting priority srcnat - 10;" "$l"
	check "chain pass: filter forward filter - 10" grep -q \
	    "type filter hook forward priority filter - 10;" "$l"
	check "pass rule deletes and marks" grep -q "ct state new ip saddr \
. ip daddr . meta l4proto . th dport @pass4 delete @pass4 { ip saddr . ip \
daddr . meta l4proto . th dport } ct mark set ct mark | $MARK" "$l"
	# describe prints what init creates (bar comments, kernel defaults)
	"$tool" -n $T > "$tmp/desc"
	grep -v '^[[:space:]]*#' "$tmp/desc" | grep -v '^$' > "$tmp/d1"
	sed -e 's/ # progname.*//' -e '/flags owner/d' -e '/size 65535/d' \
	    -e '/^$/d' "$l" > "$tmp/d2"
	check "describe matches the table" cmp -s "$tmp/d1" "$tmp/d2"
	check "describe loads with nft -f" ip netns exec $X nft -f "$tmp/desc"
	check "describe names the admin line" grep -q \
	    "ct mark and $MARK == $MARK accept" "$tmp/desc"
}

t_noperm() {
	pybg "$tmp/srv0" $S tcpserve 198.51.100.10 40001 1 4
	wait_line "$tmp/srv0" listening
	check "no permit: connection fails" \
	    sh -c "! timeout 10 ip netns exec $C python3 $tmp/h.py \
	    tcpconnect 198.51.100.10 40001 2 >/dev/null"
}

# t_tcp 4|6 CLIENT SERVER FWOUT Q P: passive-shaped permit, forward mode
t_tcp() {
	v=$1 c=$2 s=$3 fw=$4 q=$5 p=$6
	check "IPv$v tcp: add rdr and snat" commit_is ok \
	    "add rdr $v tcp $c $s $q $s $p 30000" \
	    "add rdr $v tcp $c $s $((q + 1)) $s $p 30000" \
	    "add snat $v tcp $c $s $p $fw 30000"
	check "IPv$v tcp: elements listed" inset rdr$v \
	    "$c . $s . tcp . $q timeout 30s .*: $s . $p"
	pybg "$tmp/srv$v" $S tcpserve "$s" "$p" 2 10
	wait_line "$tmp/srv$v" listening
	check "IPv$v tcp: rdr and snat without pass: blocked" \
	    sh -c "! timeout 10 ip netns exec $C python3 $tmp/h.py \
	    tcpconnect $s $((q + 1)) 2 >/dev/null"
	check "IPv$v tcp: add pass" commit_is ok \
	    "add pass $v tcp $c $s $p 30000"
	check "IPv$v tcp: pass element listed" inset pass$v "tcp . $p "
	py $C tcpconnect "$s" "$q" 3 > "$tmp/cli$v"
	check "IPv$v tcp: connection through the permit" \
	    grep -q "connected hello" "$tmp/cli$v"
	check "IPv$v tcp: server sees $fw" wait_line "$tmp/srv$v" "peer $fw\$"
	check "IPv$v tcp: pass element used up" notinset pass$v "tcp . $p "
	check "IPv$v tcp: second connection blocked" \
	    sh -c "! timeout 10 ip netns exec $C python3 $tmp/h.py \
	    tcpconnect $s $q 2 >/dev/null"
	check "IPv$v tcp: rdr element still there" inset rdr$v "tcp . $q "
	check "IPv$v tcp: server saw one connection" \
	    test "$(grep -c peer "$tmp/srv$v")" -eq 1
}

# t_retry 4|6 CLIENT SERVER FWOUT Q P: the first SYN through a permit is
# dropped after our chain (a chain of the test's at forward priority 5,
# before the kernel confirms the connection's state), as a SYN answered
# by an old TIME_WAIT at the server and reset is: its pass element is
# used up and its state gone.  The client's kernel sends the SYN again a
# second later, from the same port: the retry set lets it in.  Another
# connection, from another port, is still blocked.
t_retry() {
	v=$1 c=$2 s=$3 fw=$4 q=$5 p=$6
	check "IPv$v tcp retry: add rdr, snat and pass" commit_is ok \
	    "add rdr $v tcp $c $s $q $s $p 30000" \
	    "add snat $v tcp $c $s $p $fw 30000" \
	    "add pass $v tcp $c $s $p 30000"
	ip netns exec $F nft -f - <<-EOF2
	table inet lossy$v {
		chain lose {
			type filter hook forward priority 5; policy accept;
			tcp dport $p tcp flags & (syn | ack) == syn numgen inc mod 1000 0 counter drop
		}
	}
	EOF2
	pybg "$tmp/rsrv$v" $S tcpserve "$s" "$p" 2 12
	wait_line "$tmp/rsrv$v" listening
	py $C tcpconnect "$s" "$q" 6 > "$tmp/rcli$v"
	check "IPv$v tcp retry: the first SYN was dropped after the pass chain" \
	    eval "ip netns exec $F nft list chain inet lossy$v lose |
	    grep -q 'counter packets 1 '"
	check "IPv$v tcp retry: the SYN sent again connects" \
	    grep -q "connected hello" "$tmp/rcli$v"
	check "IPv$v tcp retry: the retry element names the client's port" \
	    inset retry$v "$c . $s . tcp . $p . [0-9]* timeout 10s"
	check "IPv$v tcp retry: another connection is blocked" \
	    sh -c "! timeout 10 ip netns exec $C python3 $tmp/h.py \
	    tcpconnect $s $q 2 >/dev/null"
	check "IPv$v tcp retry: the server saw one connection" \
	    test "$(grep -c peer "$tmp/rsrv$v")" -eq 1
	ip netns exec $F nft delete table inet lossy$v
}

# t_udp 4|6 CLIENT SERVER FWOUT Q CPORT: active-shaped, server sends first
t_udp() {
	v=$1 c=$2 s=$3 fw=$4 q=$5 cp=$6
	check "IPv$v udp: add permit" commit_is ok \
	    "add rdr $v udp $s $fw $q $c $cp 30000" \
	    "add snatp $v udp $s $c $cp $fw 20 30000" \
	    "add pass $v udp $s $c $cp 30000"
	pybg "$tmp/udp$v" $C udprecv "$c" "$cp" 4 6
	wait_line "$tmp/udp$v" listening
	py $S udpsend "$fw" "$q" 6969 first
	check "IPv$v udp: datagram reaches the client from $fw:20" \
	    wait_line "$tmp/udp$v" "peer $fw 20 first"
	py $S udpsend "$fw" "$q" 6969 again
	check "IPv$v udp: same flow passes again (ct mark)" \
	    wait_line "$tmp/udp$v" "peer $fw 20 again"
	py $S udpsend "$fw" "$q" 6970 other
	# The passing flow's next datagram, sent after it on the same path:
	# once that is in, "other" would be too.
	py $S udpsend "$fw" "$q" 6969 later
	wait_line "$tmp/udp$v" "peer $fw 20 later"
	check "IPv$v udp: another flow is blocked (the flow's next passes)" \
	    sh -c "grep -q 'later' $tmp/udp$v && ! grep -q other $tmp/udp$v"
	check "IPv$v udp: pass element used up" notinset pass$v "udp . $cp "
}

t_timeout() {
	check "2 s element added" commit_is ok \
	    "add pass 4 tcp 192.0.2.10 198.51.100.10 41000 2000" \
	    "add snat 6 udp $c6 $s6 41000 2001:db8:2::1 2000"
	check "2 s element listed" inset pass4 "tcp . 41000 "
	check "2 s element expires (8 s at most)" gone_within pass4 \
	    "tcp . 41000 " 8
	check "2 s map element gone too" notinset snat6 "udp . 41000 "
}

# t_del LABEL: deletes of elements that are gone, atomicity, EEXIST
t_del() {
	l=$1
	check "$l: delete used, expired and unknown elements" commit_is ok \
	    "del pass 4 tcp 192.0.2.10 198.51.100.10 40000" \
	    "del pass 4 tcp 192.0.2.10 198.51.100.10 41000" \
	    "del snat 6 udp 2001:db8:1::10 2001:db8:2::10 41000" \
	    "del rdr 4 tcp 192.0.2.10 198.51.100.10 59999"
	check "$l: delete live and gone elements in one batch" commit_is ok \
	    "del rdr 4 tcp 192.0.2.10 198.51.100.10 50000" \
	    "del pass 4 tcp 192.0.2.10 198.51.100.10 40000" \
	    "del rdr 6 tcp 2001:db8:1::10 2001:db8:2::10 50000"
	check "$l: live elements deleted" notinset rdr4 "tcp . 50000 "
	check "$l: add with deletes of gone elements" commit_is ok \
	    "del pass 6 udp 2001:db8:2::10 2001:db8:1::10 42000" \
	    "add pass 6 udp 2001:db8:2::10 2001:db8:1::10 42001 30000" \
	    "del pass 6 udp 2001:db8:2::10 2001:db8:1::10 42002"
	check "$l: that add applied" inset pass6 "udp . 42001 "
	check "$l: duplicate add is EEXIST" commit_is "err File exists" \
	    "add pass 4 tcp 192.0.2.10 198.51.100.10 43000 30000" \
	    "add pass 4 tcp 192.0.2.10 198.51.100.10 43000 30000"
	check "$l: failed batch applies nothing" notinset pass4 "tcp . 43000 "
	check "$l: rollback" commit_is ok \
	    "add pass 4 tcp 192.0.2.10 198.51.100.10 43001 30000" rollback
	check "$l: rolled back element absent" notinset pass4 "tcp . 43001 "
	check "$l: batch of 1200 adds" ft_many add 1200
	check "$l: 1200 elements listed" sh -c "[ \$(ip netns exec $F nft \
	    list set inet $T pass6 | grep -o 'tcp . [0-9]*' | wc -l) -ge 1200 ]"
	check "$l: batch of 1200 deletes (some twice)" ft_many del 1200
	check "$l: 1200 elements gone" sh -c "! ip netns exec $F nft list set \
	    inet $T pass6 | grep -q 'tcp . '"
}

# ft_many add|del N: one batch over pass6 tcp ports 10000.. (del: N+100)
ft_many() {
	n=$2
	[ "$1" = del ] && n=$(($2 + 100))
	i=0
	: > "$tmp/many"
	while [ $i -lt $n ]; do
		if [ "$1" = add ]; then
			echo "add pass 6 tcp 2001:db8:1::10 2001:db8:2::10" \
			    "$((10000 + i)) 60000" >> "$tmp/many"
		else
			echo "del pass 6 tcp 2001:db8:1::10 2001:db8:2::10" \
			    "$((10000 + i))" >> "$tmp/many"
		fi
		i=$((i + 1))
	done
	cat "$tmp/many" >&3
	commit_is ok
}

t_owner() {
	kill -9 "$tpid"
	wait "$tpid" 2>/dev/null
	exec 3>&-
	i=0
	while ip netns exec $F nft list table inet $T >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 50 ] && break
		sleep 0.1
	done
	check "kill -9: owned table vanishes" \
	    sh -c "! ip netns exec $F nft list table inet $T >/dev/null 2>&1"
	check "kill -9: admin table stays" \
	    sh -c "ip netns exec $F nft list table inet admin >/dev/null"
}

set_up setup
start_tool $T
check "filtertool starts" grep -q filtertool /proc/$tpid/comm || finish
check "DESTROYSETELEM detected" grep -q "DESTROYSETELEM" "$tmp/err.$T"
t_table
# t_range: a TLS session's range permit (-E 50100-50199), forward in
# IPv4 (C . S, snat), reverse in IPv6 (C . fw's inside address -> S):
# any port of the range, any number of connections, until deleted.
t_range() {
	T=ftptls
	start_tool $T FILTERTOOL=1 "-E 50100-50199"
	l=$tmp/list.tls
	ip netns exec $F nft list table inet $T > "$l" 2>/dev/null
	check "range: rules check tcp dport 50100-50199" grep -q \
	    "ct state new tcp dport 50100-50199 ip saddr . ip daddr @tpass4 \
ct mark set ct mark | $MARK" "$l"
	"$tool" -n -E 50100-50199 $T | grep -v '^[[:space:]]*#' |
	    grep -v '^$' > "$tmp/d1"
	sed -e 's/ # progname.*//' -e '/flags owner/d' -e '/size 65535/d' \
	    -e '/^$/d' "$l" > "$tmp/d2"
	check "range: describe matches the table" diff "$tmp/d1" "$tmp/d2"
	check "range: add forward v4 and reverse v6" commit_is ok \
	    "add tsnat 4 tcp 192.0.2.10 198.51.100.10 0 198.51.100.1 0" \
	    "add tpass 4 tcp 192.0.2.10 198.51.100.10 0 0" \
	    "add trdr 6 tcp $c6 2001:db8:1::1 0 $s6 0" \
	    "add tsnat 6 tcp $c6 $s6 0 2001:db8:2::1 0" \
	    "add tpass 6 tcp $c6 $s6 0 0"
	check "range: elements listed, no timeout" sh -c "ip netns exec $F \
	    nft list set inet $T tpass4 | grep -q 'elements = { 192.0.2.10 \
. 198.51.100.10 }'"
	pybg "$tmp/rs4" $S tcpserve 198.51.100.10 50150 2 10
	pybg "$tmp/rs6" $S tcpserve $s6 50199 1 10
	pybg "$tmp/rs4b" $S tcpserve 198.51.100.10 50200 1 4
	wait_line "$tmp/rs4" listening && wait_line "$tmp/rs6" listening &&
	    wait_line "$tmp/rs4b" listening
	py $C tcpconnect 198.51.100.10 50150 3 > "$tmp/rc1"
	py $C tcpconnect 198.51.100.10 50150 3 > "$tmp/rc2"
	check "range v4: two connections to a port in the range" sh -c \
	    "grep -q 'connected hello' $tmp/rc1 &&
	    grep -q 'connected hello' $tmp/rc2"
	check "range v4: server sees the fw" wait_line "$tmp/rs4" \
	    "peer 198.51.100.1\$"
	check "range v4: port 50200, outside the range: blocked" \
	    sh -c "! timeout 10 ip netns exec $C python3 $tmp/h.py \
	    tcpconnect 198.51.100.10 50200 2 >/dev/null"
	py $C tcpconnect 2001:db8:1::1 50199 3 > "$tmp/rc6"
	check "range v6 reverse: fw address -> server, port kept" \
	    grep -q 'connected hello' "$tmp/rc6"
	check "range: delete" commit_is ok \
	    "del tsnat 4 tcp 192.0.2.10 198.51.100.10 0" \
	    "del tpass 4 tcp 192.0.2.10 198.51.100.10 0"
	check "range: element gone" notinset tpass4 "192.0.2.10"
	pybg "$tmp/rs4c" $S tcpserve 198.51.100.10 50151 1 4
	wait_line "$tmp/rs4c" listening
	check "range: deleted, blocked" \
	    sh -c "! timeout 10 ip netns exec $C python3 $tmp/h.py \
	    tcpconnect 198.51.100.10 50151 2 >/dev/null"
	t_owner
}

t_noperm
t_tcp 4 192.0.2.10 198.51.100.10 198.51.100.1 50000 40000
t_tcp 6 2001:db8:1::10 2001:db8:2::10 2001:db8:2::1 50000 40000
t_retry 4 192.0.2.10 198.51.100.10 198.51.100.1 50100 40100
t_retry 6 2001:db8:1::10 2001:db8:2::10 2001:db8:2::1 50100 40100
t_udp 4 192.0.2.10 198.51.100.10 198.51.100.1 51000 5000
t_udp 6 2001:db8:1::10 2001:db8:2::10 2001:db8:2::1 51000 5000
t_timeout
t_del "destroy"
t_owner
# The same deletes as a kernel before 6.3 would need them, through the
# test build's hook (FILTER_TEST_HOOKS), which the privileged binary
# does not have.
check "fallback hook in filtertool only, not in bin/pfhelper" sh -c \
    "grep -q PFHELPER_NO_DESTROYSETELEM '$tool' &&
    [ -x '$TOP/bin/pfhelper' ] &&
    ! grep -q PFHELPER_NO_DESTROYSETELEM '$TOP/bin/pfhelper'"
seqn=0
start_tool $T PFHELPER_NO_DESTROYSETELEM=1
check "fallback: filtertool starts" kill -0 "$tpid"
check "fallback: DELSETELEM used" grep -q "deletes with DELSETELEM" \
    "$tmp/err.$T"
check "fallback: 2 s element added" commit_is ok \
    "add pass 4 tcp 192.0.2.10 198.51.100.10 41000 2000" \
    "add snat 6 udp $c6 $s6 41000 2001:db8:2::1 2000" \
    "add rdr 4 tcp 192.0.2.10 198.51.100.10 50000 198.51.100.10 40000 30000"
check "fallback: 2 s element expires (8 s at most)" gone_within pass4 \
    "tcp . 41000 " 8
t_del "fallback"
t_owner
t_range
finish
