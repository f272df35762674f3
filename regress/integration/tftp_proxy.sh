#!/bin/sh
# SPDX-License-Identifier: ISC
# tftp_proxy.sh: the standalone tftp-proxy on the firewall, the admin's
# `udp dport 69 redirect to :6969' and forward policy drop plus the one
# ct mark line; tftpd-hpa on the server, tftp-hpa and curl on the client.
# RRQ and WRQ of 1 MiB files with and without options, IPv4 and IPv6,
# several clients at once, -a, hostile datagrams, permit lifetime.
#
# Needs root, ip(8), nft(8), in.tftpd, tftp, curl, python3, and the
# builds bin/tftp-proxy and bin/pfhelper.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root

WAIT=3		# -w transwait for this test
LOG=$WORK/tftp-proxy.log
[ -n "${KEEP:-}" ] && echo "work directory: $WORK"

topo_up || exit 1
admin_rules || exit 1
tftpd_up || exit 1
tftp_proxy_up -w $WAIT || exit 1
R=$WORK/tftproot
for f in f1 f2 f3 f4 f5 f6; do mkfile "$R/$f" 1024; done

# --- transfers, IPv4 and IPv6 ----------------------------------------
for h in $S4 $S6; do
	rm -f "$WORK/o1" "$WORK/o2" "$WORK/o3" "$WORK/o4"
	check "RRQ tftp-hpa $h" hpa_get $h f1 "$WORK/o1"
	check "RRQ tftp-hpa $h: sha256" same "$R/f1" "$WORK/o1"
	check "RRQ curl $h (tsize, blksize 512, timeout)" \
	    curl_get $h f2 "$WORK/o2"
	check "RRQ curl $h: sha256" same "$R/f2" "$WORK/o2"
	check "RRQ curl $h --tftp-blksize 1428" \
	    curl_get $h f3 "$WORK/o3" --tftp-blksize 1428
	check "RRQ curl $h blksize 1428: sha256" same "$R/f3" "$WORK/o3"
	check "RRQ curl $h --tftp-no-options" \
	    curl_get $h f4 "$WORK/o4" --tftp-no-options
	check "RRQ curl $h no options: sha256" same "$R/f4" "$WORK/o4"

	n=$(echo "$h" | tr -d ':.')
	check "WRQ tftp-hpa $h" hpa_put $h "$R/f1" "up1-$n"
	check "WRQ tftp-hpa $h: sha256" same "$R/f1" "$R/up1-$n"
	check "WRQ curl $h" curl_put $h "$R/f2" "up2-$n"
	check "WRQ curl $h: sha256" same "$R/f2" "$R/up2-$n"
	check "WRQ curl $h --tftp-blksize 1024" \
	    curl_put $h "$R/f3" "up3-$n" --tftp-blksize 1024
	check "WRQ curl $h blksize 1024: sha256" same "$R/f3" "$R/up3-$n"
	check "WRQ curl $h --tftp-no-options" \
	    curl_put $h "$R/f4" "up4-$n" --tftp-no-options
	check "WRQ curl $h no options: sha256" same "$R/f4" "$R/up4-$n"
done
check "-v logs RRQ with client, server and file name" \
    grep -q "192.0.2.10:[0-9]* -> 198.51.100.10:69 via 198.51.100.1:[0-9]*: RRQ \"f1\"" "$LOG"
check "-v logs WRQ over IPv6" \
    grep -q "\[2001:db8:1::10\]:[0-9]* -> \[2001:db8:2::10\]:69 via .*: WRQ \"up2-2001db8210\"" "$LOG"

# --- several clients at once -----------------------------------------
i=0
jobs=""
for spec in "curl $S4 f1" "hpa $S4 f2" "curl $S6 f3" "hpa $S6 f4" \
    "curl $S4 f5" "curl $S6 f6" "hpa $S4 f3" "curl $S4 f4 --tftp-blksize 1468"; do
	i=$((i + 1))
	set -- $spec
	tool=$1 h=$2 f=$3
	shift 3
	rm -f "$WORK/c$i"
	if [ "$tool" = curl ]; then
		curl_get $h $f "$WORK/c$i" "$@" > "$WORK/c$i.err" 2>&1 &
	else
		hpa_get $h $f "$WORK/c$i" > "$WORK/c$i.err" 2>&1 &
	fi
	PIDS="$PIDS $!"
	jobs="$jobs $!:$f:$i"
done
for j in $jobs; do
	pid=${j%%:*}; rest=${j#*:}; f=${rest%%:*}; i=${rest#*:}
	wait "$pid"
	rc=$?
	if [ $rc -eq 0 ] && same "$R/$f" "$WORK/c$i"; then
		ok "concurrent client $i ($f)"
	else
		fail "concurrent client $i ($f): rc $rc $(cat "$WORK/c$i.err")"
	fi
done

# --- the permit's lifetime -------------------------------------------
# Gone within transwait and a second, before their own timeout (+2 s).
check "no permit left after transwait" \
    wait_for $((WAIT + 1)) no_permits tftp-proxy
RRQ_NOSUCH=$(hexof '\000\001nosuch\000octet\000')
udpsend "$CLI" $S4 69 "$RRQ_NOSUCH" 40001
check "valid request from a silent client is forwarded" \
    wait_grep "$LOG" 'RRQ "nosuch"' 1
udpsend "$CLI" $S4 69 "$RRQ_NOSUCH" 40001
check "a request again from that port starts a new session" \
    wait_grep "$LOG" "new request from the same port" 1
check "forwarded again" wait_grep "$LOG" 'RRQ "nosuch"' 2
udpsend "$CLI" $S4 69 "$(hexof '\000\001other\000octet\000')" 40001
check "another request from that port replaces it too" \
    wait_grep "$LOG" 'RRQ "other"' 1
n=$(permits tftp-proxy)
# One permit: rdr and snat, and the pass unless the answer used it.
check "one live session for the port (one permit: $n elements)" \
    [ "$n" -ge 2 -a "$n" -le 3 ]
check "its permit is in place during transwait" [ "$(permits tftp-proxy)" -ge 2 ]
check "and gone after transwait (before its own timeout)" \
    wait_for $((WAIT + 1)) no_permits tftp-proxy

# --- hostile or pointless datagrams: dropped, no permit --------------
drops() { grep -c "dropped request" "$LOG"; }
bad() { # name hex [host [port [sport]]]
	before=$(drops)
	udpsend "$CLI" "${3:-$S4}" "${4:-69}" "$2" ${5:+"$5"}
	if wait_grep "$LOG" "dropped request" $((before + 1)) &&
	    [ "$(permits tftp-proxy)" -eq 0 ]; then
		ok "dropped, no permit: $1"
	else
		fail "dropped, no permit: $1 (permits $(permits tftp-proxy))"
	fi
}
bad "empty datagram" ""
bad "one byte" "01"
bad "random garbage" "$(head -c 200 /dev/urandom | od -An -v -tx1 | tr -d ' \n')"
bad "opcode only" "$(hexof '\000\001')"
bad "unterminated file name" "$(hexof '\000\001abc')"
bad "empty file name" "$(hexof '\000\001\000octet\000')"
bad "missing mode" "$(hexof '\000\001f1\000')"
bad "unterminated mode" "$(hexof '\000\001f1\000oct')"
bad "bad mode" "$(hexof '\000\001f1\000binary\000')"
bad "option without value" "$(hexof '\000\001f1\000octet\000blksize\000')"
bad "unterminated option value" "$(hexof '\000\001f1\000octet\000blksize\0001428')"
bad "control character in file name" "$(hexof '\000\001f\0331\000octet\000')"
bad "DATA opcode" "$(hexof '\000\003\000\001hello')"
bad "ACK opcode" "$(hexof '\000\004\000\001')"
bad "ERROR opcode" "$(hexof '\000\005\000\001oops\000')"
bad "opcode 7" "$(hexof '\000\007f1\000octet\000')"
bad "request of 600 bytes" "0001$(head -c 590 /dev/zero | tr '\0' 'a' | od -An -v -tx1 | tr -d ' \n')006f6374657400"
bad "datagram of 2000 bytes" "0001$(head -c 1998 /dev/zero | tr '\0' 'a' | od -An -v -tx1 | tr -d ' \n')"
RRQ_F1=$(hexof '\000\001f1\000octet\000')
bad "sent to the proxy directly (not intercepted)" "$RRQ_F1" $F4IN 6969
bad "IPv6, sent to the proxy directly" "$RRQ_F1" $F6IN 6969
bad "original destination is the firewall" "$RRQ_F1" $F4OUT 69
bad "original destination is a broadcast address" "$RRQ_F1" 198.51.100.255 69
bad "client port below 1024" "$RRQ_F1" $S4 69 1000
check "drop lines name the reason" grep -q "unterminated file name" "$LOG"
check "drop lines: not intercepted" grep -q "not intercepted" "$LOG"
check "drop lines: destination is this host" \
    grep -q "destination is this host" "$LOG"
check "drop lines: destination is a broadcast address" \
    grep -q "destination is a broadcast address" "$LOG"
check "tftp-proxy still runs" kill -0 "$TFTPPROXYPID"
rm -f "$WORK/o1"
check "and still serves (RRQ)" curl_get $S4 f5 "$WORK/o1"
check "and still serves: sha256" same "$R/f5" "$WORK/o1"

# --- the admin's line is what lets replies through --------------------
h=$(in_fw nft -a list chain inet admin filter_fwd |
    sed -n 's/.*ct mark .*# handle \([0-9]*\)$/\1/p')
line=$("$BIN/pfhelper" -n | sed -n 's/^#[[:space:]]*//; /ct mark and/p' | head -n 1)
if [ -n "$h" ] && in_fw nft delete rule inet admin filter_fwd handle "$h"; then
	rm -f "$WORK/o1"
	if curl_get $S4 f1 "$WORK/o1" --max-time 8 2>/dev/null &&
	    same "$R/f1" "$WORK/o1"; then
		fail "without the admin's ct mark line the transfer fails"
	else
		ok "without the admin's ct mark line the transfer fails"
	fi
	in_fw nft add rule inet admin filter_fwd $line
	rm -f "$WORK/o1"
	check "with the line back it works again" curl_get $S4 f1 "$WORK/o1"
	check "with the line back: sha256" same "$R/f1" "$WORK/o1"
else
	fail "cannot find the admin's ct mark line"
fi

# --- -a: the source address of forwarded requests ----------------------
kill "$TFTPPROXYPID"
wait "$TFTPPROXYPID" 2>/dev/null
check "SIGTERM: the proxy exits and its table goes with pfhelper" \
    sh -c "! ip netns exec '$FW' nft list table inet tftp-proxy >/dev/null 2>&1"
# Secondary and deprecated: the kernel never picks them by itself.
in_fw ip addr add 198.51.100.2/24 dev outside
in_fw ip addr add 2001:db8:2::2/64 dev outside nodad preferred_lft 0
n4=$(grep -c "via 198.51.100.2:" "$LOG")
n6=$(grep -c "via \[2001:db8:2::2\]:" "$LOG")
tftp_proxy_up -w $WAIT -a 198.51.100.2 -a 2001:db8:2::2 || exit 1
for h in $S4 $S6; do
	rm -f "$WORK/o1"
	check "-a: RRQ $h" curl_get $h f6 "$WORK/o1"
	check "-a: RRQ $h: sha256" same "$R/f6" "$WORK/o1"
done
check "-a: IPv4 requests leave from 198.51.100.2" \
    [ "$(grep -c "via 198.51.100.2:" "$LOG")" -gt "$n4" ]
check "-a: IPv6 requests leave from 2001:db8:2::2" \
    [ "$(grep -c "via \[2001:db8:2::2\]:" "$LOG")" -gt "$n6" ]

finish
