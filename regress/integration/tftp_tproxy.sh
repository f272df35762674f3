#!/bin/sh
# SPDX-License-Identifier: ISC
# tftp_tproxy.sh: tftp-proxy behind TPROXY instead of `redirect': the
# admin diverts udp/69 with `tproxy to :6969' (the divert-to of pf),
# plus the usual policy routing of marked packets to the local table,
# all inside our firewall namespace.  The proxy reads the original
# destination from IP_ORIGDSTADDR / IPV6_ORIGDSTADDR, with no
# conntrack lookup.  Forward policy drop plus the one ct mark line.
# Last, with the pfhelper service gone past -W, a waiting client's TFTP
# ERROR comes from the address it sent to (IPv4 and IPv6).
#
# Needs root, ip(8), nft(8), in.tftpd, tftp, curl, python3, and the
# builds bin/tftp-proxy and bin/pfhelper.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
LOG=$WORK/tftp-proxy.log
[ -n "${KEEP:-}" ] && echo "work directory: $WORK"

# The admin's ruleset with TPROXY: no NAT of port 69 at all.
tproxy_rules() {
	line=$("$BIN/pfhelper" -n | sed -n 's/^#[[:space:]]*//; /ct mark and/p' | head -n 1)
	[ -n "$line" ] || { echo "no admin line from pfhelper -n"; return 1; }
	in_fw nft -f - <<-EOF2 || return 1
	table inet admin {
		chain filter_fwd {
			type filter hook forward priority 0; policy drop;
			ct state established,related accept
			$line
		}
		chain divert {
			type filter hook prerouting priority mangle;
			iifname "inside" meta l4proto udp udp dport 69 tproxy to :6969 meta mark set 0x1 accept
		}
	}
	EOF2
	in_fw ip rule add fwmark 0x1 lookup 100 &&
	in_fw ip route add local 0.0.0.0/0 dev lo table 100 &&
	in_fw ip -6 rule add fwmark 0x1 lookup 100 &&
	in_fw ip -6 route add local ::/0 dev lo table 100
}

topo_up || exit 1
tproxy_rules || { fail "TPROXY rules"; finish; exit 1; }
check "no redirect anywhere in the firewall's ruleset" \
    sh -c "! ip netns exec '$FW' nft list ruleset | grep -q redirect"
tftpd_up || exit 1
tftp_proxy_up -v || exit 1
R=$WORK/tftproot
for f in f1 f2 f3; do mkfile "$R/$f" 1024; done

for h in $S4 $S6; do
	n=$(echo "$h" | tr -d ':.')
	rm -f "$WORK/o1" "$WORK/o2"
	check "TPROXY: RRQ tftp-hpa $h" hpa_get $h f1 "$WORK/o1"
	check "TPROXY: RRQ tftp-hpa $h: sha256" same "$R/f1" "$WORK/o1"
	check "TPROXY: RRQ curl $h --tftp-blksize 1428" \
	    curl_get $h f2 "$WORK/o2" --tftp-blksize 1428
	check "TPROXY: RRQ curl $h: sha256" same "$R/f2" "$WORK/o2"
	check "TPROXY: WRQ curl $h" curl_put $h "$R/f3" "up-$n"
	check "TPROXY: WRQ curl $h: sha256" same "$R/f3" "$R/up-$n"
done
check "the original destination came from TPROXY (IPv4)" \
    grep -q "original destination 198.51.100.10:69 (TPROXY)" "$LOG"
check "the original destination came from TPROXY (IPv6)" \
    grep -q "original destination \[2001:db8:2::10\]:69 (TPROXY)" "$LOG"
check "never from conntrack" sh -c "! grep -q '(conntrack)' '$LOG'"

udpsend "$CLI" $F4IN 6969 "$(hexof '\000\001f1\000octet\000')"
check "a request sent straight to the proxy is still refused" \
    wait_grep "$LOG" "not intercepted" 1
udpsend "$CLI" $S4 69 "$(hexof '\000\002f1\000octet\000tsize\000')"
check "a diverted bad request is dropped" \
    wait_grep "$LOG" "option without value" 1
check "and names the original destination" \
    grep -q "dropped request from 192.0.2.10:[0-9]* to 198.51.100.10:69: option without value" "$LOG"
check "no permit left after transwait" wait_for 3 no_permits tftp-proxy

# Past -W with no pfhelper: the ERROR comes from the original
# destination itself (the transparent socket, IP_PKTINFO).
kill -TERM "$TFTPPROXYPID"
set_up wait_gone "$TFTPPROXYPID" 100
mkdir -p "$PFHDIR"
chmod 700 "$PFHDIR"
bg ip netns exec "$FW" "$BIN/pfhelper" -S -d -s "$PFHDIR" \
    2>> "$WORK/pfhelper.log"
SVCPID=$LASTPID
set_up wait_for 5 test -S "$PFHDIR/tftp"
: > "$LOG"
set_up tftp_proxy_up -S -W 1
set_up wait_re "$LOG" "serving [0-9]+ socket" 5
kill -9 "$SVCPID"
set_up wait_re "$LOG" "lost pfhelper" 5
# rrq host: one RRQ to host:69; the first answer's source and bytes.
cat > "$WORK/rrq.py" <<'EOF2'
import socket, sys
h = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.settimeout(20)
s.sendto(b"\0\1f1\0octet\0", (h, 69))
data, peer = s.recvfrom(600)
print(peer[0], data[4:-1].decode())
EOF2
CLIENTS=""
for h in $S4 $S6; do
	bg sh -c "timeout 30 ip netns exec $CLI ${PYTHON:-python3} \
	    $WORK/rrq.py $h > $WORK/bound.$h 2>&1"
	CLIENTS="$CLIENTS $LASTPID"
done
for c in $CLIENTS; do wait "$c"; done
for h in $S4 $S6; do
	check "TPROXY, no pfhelper past -W: an ERROR from $h itself" \
	    grep -qx "$h proxy lost its packet filter helper" "$WORK/bound.$h"
done

finish
