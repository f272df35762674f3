#!/bin/sh
# SPDX-License-Identifier: ISC
# tftp_reverse.sh: tftp-proxy in reverse mode (-R): TFTP clients outside
# (198.51.100.10, 2001:db8:2::10) reach a tftpd-hpa in a "container"
# (a namespace behind the bridge br0 of the firewall: 203.0.113.11,
# 2001:db8:3::11) through the firewall's outside address, port 69.  The
# server's reply, from a new port, reaches the client through pfhelper's
# permit, from the address the client sent to.  The admin's forward
# policy is drop, plus the one ct mark line.  RRQ and WRQ with and
# without options, tftp-hpa and curl, IPv4 and IPv6; a PXE client behind
# another router; the proxy on port 69 itself or behind a redirect.
#
# Needs root, ip(8), nft(8), in.tftpd, tftp, curl, python3, and the
# builds bin/tftp-proxy and bin/pfhelper.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
require_root

WAIT=3
LOG=$WORK/tftp-proxy.log
[ -n "${KEEP:-}" ] && echo "work directory: $WORK"

topo_up || { echo "0 passed, 1 failed"; exit 1; }
admin_rules || { echo "0 passed, 1 failed"; exit 1; }
ct_up 1 || { echo "0 passed, 1 failed"; exit 1; }
CT=${P}ct1
T4=$CT4NET.11; T6=$CT6NET:11
# The clients are outside: lib.sh's TFTP clients run in $CLI.
MORE_NS="$MORE_NS $CLI"
CLI=$SRV
# A route to the containers through the firewall: its forward policy
# (drop) is what keeps them out of reach without the proxy.
in_srv ip route add $CT4NET.0/24 via $F4OUT

R=$WORK/tftproot
mkdir -p "$R"
chmod 1777 "$R"
bg ip netns exec "$CT" "$TFTPD" -L -u nobody -s --create -a ":69" "$R"
wait_udp "$CT" 69 && is_server "$LASTPID" "$TFTPD" ||
    { echo "0 passed, 1 failed"; exit 1; }
for f in f1 f2 f3 f4 f5; do mkfile "$R/$f" 1024; done

wait_table_gone() {
	i=0
	while [ $i -lt 50 ]; do
		has_table tftp-proxy || return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Where the reply comes from, as the client sees it: "addr port".  The
# RRQ is sent again after 3 s without an answer, as a TFTP client does
# (RFC 1350), at most twice; a retransmission is said.
reply_from() { # host
	timeout 15 ip netns exec "$CLI" "${PYTHON:-python3}" -c '
import socket, sys
h = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.settimeout(3)
for i in range(3):
    s.sendto(b"\0\1f5\0octet\0", (h, 69))
    try:
        d, a = s.recvfrom(1024)
        break
    except socket.timeout:
        print("# no answer in 3 s: RRQ sent again", file=sys.stderr)
else:
    sys.exit("no answer to 3 RRQs")
assert d[:4] == b"\0\3\0\1", d[:4]
print(a[0], a[1])
' "$1"
}
sees_firewall() { # host
	r=$(reply_from "$1") || return 1
	echo "reply from $r"
	set -- "$1" $r
	[ "$2" = "$1" ] && [ "$3" != 69 ]
}

transfers() { # host label
	h=$1
	n=$(echo "$h" | tr -d ':.')
	rm -f "$WORK/o1" "$WORK/o2" "$WORK/o3" "$WORK/o4"
	check "$2 RRQ tftp-hpa $h: sha256" \
	    eval "hpa_get $h f1 $WORK/o1 && same $R/f1 $WORK/o1"
	check "$2 RRQ curl $h (tsize, blksize 512): sha256" \
	    eval "curl_get $h f2 $WORK/o2 && same $R/f2 $WORK/o2"
	check "$2 RRQ curl $h --tftp-blksize 1428: sha256" \
	    eval "curl_get $h f3 $WORK/o3 --tftp-blksize 1428 &&
	    same $R/f3 $WORK/o3"
	check "$2 RRQ curl $h --tftp-no-options: sha256" \
	    eval "curl_get $h f4 $WORK/o4 --tftp-no-options &&
	    same $R/f4 $WORK/o4"
	check "$2 WRQ tftp-hpa $h: sha256" \
	    eval "hpa_put $h $R/f1 up1-$n && same $R/f1 $R/up1-$n"
	check "$2 WRQ curl $h: sha256" \
	    eval "curl_put $h $R/f2 up2-$n && same $R/f2 $R/up2-$n"
	check "$2 WRQ curl $h --tftp-blksize 1024: sha256" \
	    eval "curl_put $h $R/f3 up3-$n --tftp-blksize 1024 &&
	    same $R/f3 $R/up3-$n"
	check "$2 WRQ curl $h --tftp-no-options: sha256" \
	    eval "curl_put $h $R/f4 up4-$n --tftp-no-options &&
	    same $R/f4 $R/up4-$n"
	check "$2 $h: the reply comes from the address dialled" \
	    sees_firewall "$h"
	rm -f "$R"/up?-"$n"
}

# --- without the proxy nothing gets through --------------------------
rm -f "$WORK/o1"
check "no proxy: the outside client gets nothing" \
    eval "! curl_get $F4OUT f1 $WORK/o1 --max-time 4"
check "no proxy: nor the container from outside, directly" \
    eval "! curl_get $T4 f1 $WORK/o1 --max-time 4"

# --- behind the admin's redirect of udp/69 on the outside -------------
in_fw nft add rule inet admin nat_pre iifname outside udp dport 69 \
    redirect to :6969
tftp_proxy_up -w $WAIT -R $T4 -R $T6 || { echo "0 passed, 1 failed"; exit 1; }
transfers $F4OUT "redirect:"
transfers $F6OUT "redirect:"
check "-v logs the request to the container, via the bridge" \
    grep -q "198.51.100.10:[0-9]* -> $T4:69 via $CT4NET.1:[0-9]*: RRQ \"f1\"" "$LOG"
check "-v logs IPv6 to the container" \
    grep -q "\[2001:db8:2::10\]:[0-9]* -> \[$T6\]:69 via \[$CT6NET:1\]" "$LOG"
check "no permit left after transwait" \
    wait_for $((WAIT + 1)) no_permits tftp-proxy

# A PXE client behind another router (the outside host routes for it):
# 203.0.113.130, blksize 1456 and tsize as PXE ROMs ask.
ns_add "${P}pxe" || exit 1
PXE=${P}pxe
ip link add "${P}x" netns "$PXE" type veth peer name "${P}xr" netns "$SRV"
ip netns exec "$PXE" ip addr add $CT4NET.130/25 dev "${P}x"
ip netns exec "$PXE" ip link set "${P}x" up
ip netns exec "$PXE" ip route add default via $CT4NET.129
in_srv ip addr add $CT4NET.129/25 dev "${P}xr"
in_srv ip link set "${P}xr" up
in_srv sysctl -qw net.ipv4.ip_forward=1
in_fw ip route add $CT4NET.128/25 via $S4
rm -f "$WORK/o5"
check "PXE client behind a router: RRQ blksize 1456, tsize: sha256" \
    eval "timeout 60 ip netns exec $PXE curl -sS --tftp-blksize 1456 \
    tftp://$F4OUT/f5 -o $WORK/o5 && same $R/f5 $WORK/o5"
check "PXE client: logged from its own address" \
    grep -q "$CT4NET.130:[0-9]* -> $T4:69" "$LOG"

# --- the admin's line is what lets the replies through ---------------
h=$(in_fw nft -a list chain inet admin filter_fwd |
    sed -n 's/.*ct mark .*# handle \([0-9]*\)$/\1/p')
line=$("$BIN/pfhelper" -n | sed -n 's/^#[[:space:]]*//; /ct mark and/p' | head -n 1)
if [ -n "$h" ] && in_fw nft delete rule inet admin filter_fwd handle "$h"; then
	rm -f "$WORK/o1"
	check "without the admin's ct mark line the transfer fails" \
	    eval "! curl_get $F4OUT f1 $WORK/o1 --max-time 6"
	in_fw nft add rule inet admin filter_fwd $line
	rm -f "$WORK/o1"
	check "with the line back it works again" \
	    eval "curl_get $F4OUT f1 $WORK/o1 && same $R/f1 $WORK/o1"
else
	fail "cannot find the admin's ct mark line"
fi

# --- requests that are not for the server: dropped, no permit ---------
drops() { grep -c "dropped request" "$LOG"; }
before=$(drops)
udpsend "$CLI" $F4OUT 69 "$(hexof '\000\003\000\001data')"
check "a DATA packet to port 69 is dropped" \
    wait_grep "$LOG" "dropped request" $((before + 1))
udpsend "$CLI" $F4OUT 69 "$(hexof '\000\001f1\000octet\000')" 1000
check "a client port below 1024 is dropped" \
    wait_grep "$LOG" "dropped request" $((before + 2))
check "no permit for them" wait_permits 0 tftp-proxy

kill "$TFTPPROXYPID"
wait "$TFTPPROXYPID" 2>/dev/null
check "SIGTERM: the table goes with pfhelper" wait_table_gone
in_fw nft flush chain inet admin nat_pre

# --- on port 69 of the outside address itself, no redirect ------------
TFTPPORT=69 tftp_proxy_up -w $WAIT -4 -l $F4OUT -p 69 -R $T4 ||
    { echo "0 passed, 1 failed"; exit 1; }
transfers $F4OUT "port 69:"
check "port 69: an IPv6 request is not served (-4)" \
    eval "! curl_get $F6OUT f1 $WORK/o1 --max-time 4"
check "port 69: no permit left" \
    wait_for $((WAIT + 1)) no_permits tftp-proxy
kill "$TFTPPROXYPID"
wait "$TFTPPROXYPID" 2>/dev/null

# --- a -R server of one family only -----------------------------------
in_fw nft add rule inet admin nat_pre iifname outside udp dport 69 \
    redirect to :6969
tftp_proxy_up -w $WAIT -R $T4 || { echo "0 passed, 1 failed"; exit 1; }
before=$(drops)
udpsend "$CLI" $F6OUT 69 "$(hexof '\000\001f1\000octet\000')"
check "IPv6 request, IPv4 server only: dropped with the reason" \
    wait_grep "$LOG" "no -R server of the client's address family" 1
check "and no permit" wait_permits 0 tftp-proxy

finish
