#!/bin/sh
# SPDX-License-Identifier: ISC
# make demo: a throwaway client / firewall / server topology in network
# namespaces, ftp-proxy + pfhelper on the firewall, vsftpd behind it,
# real transfers with curl, the permits shown as they come and go.
# Documentation addresses only; everything is removed at the end.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
P="demo$$-"
. "$TOP/regress/integration/lib.sh"
require_root

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Topology: client 192.0.2.10 -- firewall -- server 198.51.100.10"
topo_up || exit 1
echo "The server has no route back to 192.0.2.0/24: only the firewall's NAT"
echo "can make the data connections work."

say "The admin's ruleset on the firewall (forward policy drop + one line)"
admin_rules || exit 1
in_fw nft list table inet admin

say "vsftpd on the server, ftp-proxy + pfhelper on the firewall"
vsftpd_up || exit 1
proxy_up || exit 1
echo "ftp-proxy pid $PROXYPID; pfhelper owns this table:"
in_fw nft list table inet ftp-proxy | sed -n '1,3p;/chain pass/,/}/p'

# Show every permit as it appears and goes.
bg sh -c "ip netns exec '$FW' nft monitor 2>/dev/null |
    grep --line-buffered -E 'element inet t?ftp-proxy' |
    sed -u 's/^/    [nft] /'"
sleep 0.5

mkfile "$WORK/ftproot/pub/demo.bin" 4096
want=$(sum "$WORK/ftproot/pub/demo.bin")
echo "server file pub/demo.bin: 4 MiB, sha256 $want"

transfer() { # label, curl options...
	label=$1
	shift
	say "$label"
	rm -f "$WORK/got"
	if timeout 30 ip netns exec "$CLI" curl -sS "$@" \
	    "ftp://$S4/pub/demo.bin" -o "$WORK/got"; then
		got=$(sum "$WORK/got")
		[ "$got" = "$want" ] && r=OK || r=MISMATCH
		echo "    client got sha256 $got: $r"
	else
		echo "    transfer FAILED"
		FAILED=1
	fi
	sleep 0.3
}

FAILED=0
transfer "Passive (EPSV) download, IPv4" 
transfer "Passive (PASV) download, IPv4" --disable-epsv
transfer "Active (EPRT) download, IPv4" -P -
transfer "Active (PORT) download, IPv4" -P - --disable-eprt

say "Upload (EPSV), IPv6"
mkfile "$WORK/up.bin" 1024
if timeout 30 ip netns exec "$CLI" curl -sS -g -T "$WORK/up.bin" \
    "ftp://[$S6]/pub/up.bin"; then
	echo "    sent $(sum "$WORK/up.bin")"
	echo "    server has $(sum "$WORK/ftproot/pub/up.bin")"
else
	echo "    upload FAILED"
	FAILED=1
fi
sleep 0.3

say "Without the proxy's permit nothing passes: a direct data port"
if timeout 5 ip netns exec "$CLI" curl -sS --connect-timeout 3 \
    "http://$S4:40000/" >/dev/null 2>&1; then
	echo "    unexpected: it connected"
else
	echo "    connection to $S4:40000 blocked, as it should be"
fi

say "Permits left in the table after the transfers (session ends remove them)"
echo "    $(permits) elements"

say "TFTP through tftp-proxy (a read request redirected from udp/69)"
if tftpd_up && tftp_proxy_up; then
	mkfile "$WORK/tftproot/demo.bin" 1024
	rm -f "$WORK/got"
	if curl_get "$S4" demo.bin "$WORK/got" &&
	    same "$WORK/tftproot/demo.bin" "$WORK/got"; then
		echo "    TFTP RRQ of 1 MiB: sha256 $(sum "$WORK/got"): OK"
	else
		echo "    TFTP RRQ: FAILED"
		FAILED=1
	fi
	sleep 3
	echo "    after transwait: $(permits tftp-proxy) elements in inet tftp-proxy"
else
	echo "    could not start tftpd or tftp-proxy"
	FAILED=1
fi

say "SIGTERM to ftp-proxy: sessions end, pfhelper exits, its table vanishes"
kill "$PROXYPID"
i=0
while kill -0 "$PROXYPID" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
if in_fw nft list table inet ftp-proxy >/dev/null 2>&1; then
	echo "    table still there"
	FAILED=1
else
	echo "    table inet ftp-proxy is gone"
fi
say "Done; removing the namespaces"
[ "$FAILED" -eq 0 ]
