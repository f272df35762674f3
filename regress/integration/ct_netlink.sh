#!/bin/sh
# SPDX-License-Identifier: ISC
# ct_netlink.sh: pfhelper's conntrack lookups (pfhelper/ct_netlink.c)
# against the real kernel, through regress/tools/cttool.
#
# Two network namespaces of our own (client, firewall) joined by a veth.
# The firewall redirects udp/69 to :6969 and tcp/21 to :8021, IPv4 and
# IPv6.  The client talks to an outside address (198.51.100.10,
# 2001:db8:2::10) via the firewall; the redirect delivers locally, so no
# packet leaves the firewall.  cttool, run in the firewall, must find the
# original destination from the reply tuple, and make pfhelper's session
# check: the entry whose reply tuple is the proxy's local end -> the
# client, started by the client toward the destination it names.
#
# Needs root, ip(8), nft(8), python3 and timeout(1).  cttool is
# obj/regress/tools/cttool (make obj/regress/tools/cttool, or see the
# direct cc line in regress/tools/cttool.c); CTTOOL=path overrides.
set -u

P="ctt$$-"
NSLIST="${P}cli ${P}fw"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/regress/integration/lib.sh"
CTTOOL=${CTTOOL:-$TOP/obj/regress/tools/cttool}
PY=${PYTHON:-python3}
[ -x /usr/bin/python3 ] && PY=${PYTHON:-/usr/bin/python3}
tmp=$WORK
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# expect name want ns args...: run cttool args in namespace ns, compare
# its output with want.
expect() {
	name=$1
	want=$2
	ns=$3
	shift 3
	got=$(timeout 10 ip netns exec "$ns" "$CTTOOL" "$@" 2>&1)
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		nok "$name: want '$want', got '$got'"
	fi
}

# wait_file file: wait up to 5 s for file to be non-empty.
wait_file() {
	n=0
	while [ ! -s "$1" ] && [ "$n" -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$1" ]
}

require_root
for t in ip nft timeout; do
	if ! command -v "$t" >/dev/null 2>&1; then
		nok "missing tool $t"
		finish
		exit 1
	fi
done
if [ ! -x "$CTTOOL" ]; then
	nok "no $CTTOOL (make obj/regress/tools/cttool)"
	finish
	exit 1
fi

setup() {
	ip netns add "$CLI" && ip netns add "$FW" || return 1
	ip -n "$CLI" link add veth0 type veth peer name veth0 netns "$FW" ||
	    return 1
	ip -n "$CLI" link set lo up && ip -n "$FW" link set lo up &&
	ip -n "$CLI" addr add 192.0.2.10/24 dev veth0 &&
	ip -n "$CLI" addr add 2001:db8:1::10/64 dev veth0 nodad &&
	ip -n "$FW" addr add 192.0.2.1/24 dev veth0 &&
	ip -n "$FW" addr add 2001:db8:1::1/64 dev veth0 nodad &&
	ip -n "$CLI" link set veth0 up && ip -n "$FW" link set veth0 up &&
	ip -n "$CLI" route add default via 192.0.2.1 &&
	ip -n "$CLI" -6 route add default via 2001:db8:1::1 || return 1
	ip netns exec "$FW" nft -f - <<-EOF
	table ip nat {
		chain prerouting {
			type nat hook prerouting priority dstnat;
			udp dport 69 redirect to :6969
			tcp dport 21 redirect to :8021
		}
	}
	table ip6 nat {
		chain prerouting {
			type nat hook prerouting priority dstnat;
			udp dport 69 redirect to :6969
			tcp dport 21 redirect to :8021
		}
	}
	EOF
}

# Listener in the firewall: writes "peerhost peerport" to $2, then
# holds the connection (tcp) until the client closes or 20 s pass.
LISTEN='
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
typ = socket.SOCK_DGRAM if sys.argv[3] == "udp" else socket.SOCK_STREAM
s = socket.socket(fam, typ)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(20)
if typ == socket.SOCK_DGRAM:
    data, peer = s.recvfrom(512)
    c = None
else:
    s.listen(1)
    c, peer = s.accept()
    c.settimeout(20)
with open(sys.argv[4] + ".tmp", "w") as f:
    f.write("%s %d\n" % (peer[0], peer[1]))
import os
os.rename(sys.argv[4] + ".tmp", sys.argv[4])
if c is not None:
    try:
        c.recv(1)
    except OSError:
        pass
'

# Client: from its own address and port to the outside address; tcp
# keeps the connection open until killed or 20 s pass.
SEND='
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
typ = socket.SOCK_DGRAM if sys.argv[5] == "udp" else socket.SOCK_STREAM
s = socket.socket(fam, typ)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(10)
if typ == socket.SOCK_DGRAM:
    s.sendto(b"\x00\x01x\x00octet\x00", (sys.argv[3], int(sys.argv[4])))
else:
    s.connect((sys.argv[3], int(sys.argv[4])))
    time.sleep(20)
'

# case af proto laddr lport caddr cport odst odport
case_run() {
	af=$1 proto=$2 laddr=$3 lport=$4 caddr=$5 cport=$6 odst=$7 odport=$8
	tag="ipv$af $proto"
	out="$tmp/peer.$af.$proto"
	# ip netns exec execs timeout: $! is the pid to kill.
	bg ip netns exec "$FW" timeout 25 "$PY" -c "$LISTEN" "$laddr" "$lport" \
	    "$proto" "$out" >/dev/null 2>&1
	if [ "$proto" = udp ]; then _t=u; else _t=t; fi
	wait_bound "$FW" $_t "$laddr" "$lport" ||
	    { nok "set-up: $tag: the listener"; return; }
	bg ip netns exec "$CLI" timeout 25 "$PY" -c "$SEND" "$caddr" "$cport" \
	    "$odst" "$odport" "$proto" >/dev/null 2>&1
	# Set-up: the connection reached the listener through the redirect.
	if ! wait_file "$out" || [ "$(cat "$out")" != "$caddr $cport" ]; then
		nok "set-up: $tag: listener saw '$(cat "$out" 2>/dev/null)'"
		return
	fi
	expect "$tag: reply lookup finds the original destination" \
	    "$odst $odport" \
	    "$FW" reply "$af" "$proto" "$laddr" "$lport" "$caddr" "$cport"
	expect "$tag: reply lookup of a wrong port is ENOENT" "ENOENT" \
	    "$FW" reply "$af" "$proto" "$laddr" "$lport" "$caddr" \
	    $((cport + 1))
	expect "$tag: reply lookup of the original tuple is ENOENT" "ENOENT" \
	    "$FW" reply "$af" "$proto" "$caddr" "$cport" "$odst" \
	    "$odport"
	expect "$tag: session check of the real connection" "yes $cport" \
	    "$FW" check "$af" "$proto" "$caddr" "$cport" "$odst" "$odport" \
	    "$laddr" "$lport"
	expect "$tag: session check of a fake destination" "no" \
	    "$FW" check "$af" "$proto" "$caddr" "$cport" "$9" "$odport" \
	    "$laddr" "$lport"
	expect "$tag: session check of a fake destination port" "no" \
	    "$FW" check "$af" "$proto" "$caddr" "$cport" "$odst" \
	    $((odport + 1)) "$laddr" "$lport"
	expect "$tag: session check of a fake source port" "no" \
	    "$FW" check "$af" "$proto" "$caddr" $((cport + 1)) "$odst" \
	    "$odport" "$laddr" "$lport"
	expect "$tag: session check of a fake local port" "no" \
	    "$FW" check "$af" "$proto" "$caddr" "$cport" "$odst" "$odport" \
	    "$laddr" $((lport + 1))
	expect "$tag: session check naming the reply tuple as the client" \
	    "no" "$FW" check "$af" "$proto" "$laddr" "$lport" "$caddr" \
	    "$cport" "$odst" "$odport"
}

if ! setup; then
	nok "namespace setup"
	finish
	exit 1
fi
echo "# namespaces $CLI and $FW"

case_run 4 udp 192.0.2.1 6969 192.0.2.10 40069 198.51.100.10 69 \
    198.51.100.11
case_run 6 udp 2001:db8:1::1 6969 2001:db8:1::10 40069 2001:db8:2::10 69 \
    2001:db8:2::11
case_run 4 tcp 192.0.2.1 8021 192.0.2.10 40021 198.51.100.10 21 \
    198.51.100.11
case_run 6 tcp 2001:db8:1::1 8021 2001:db8:1::10 40021 2001:db8:2::10 21 \
    2001:db8:2::11

# Many lookups over one netlink socket (sequence numbers, reuse).
expect "1000 reply lookups on one socket" "198.51.100.10 69" \
    "$FW" -n 1000 reply 4 udp 192.0.2.1 6969 192.0.2.10 40069
expect "1000 session checks on one socket" "no" \
    "$FW" -n 1000 check 6 tcp 2001:db8:1::10 40021 2001:db8:2::11 21 \
    2001:db8:1::1 8021
# No entries exist in the client namespace (no conntrack user there).
expect "lookup in another namespace is ENOENT" "ENOENT" \
    "$CLI" reply 4 udp 192.0.2.1 6969 192.0.2.10 40069
expect "bad address family" \
    "error: ct_lookup_reply: Address family not supported by protocol" \
    "$FW" reply 5 udp x 1 y 2
expect "port 0 is invalid" "error: ct_check_reply: Invalid argument" \
    "$FW" check 4 udp 192.0.2.10 0 198.51.100.10 69 192.0.2.1 6969
expect "local port 0 is invalid" "error: ct_check_reply: Invalid argument" \
    "$FW" check 4 udp 192.0.2.10 40069 198.51.100.10 69 192.0.2.1 0

finish
