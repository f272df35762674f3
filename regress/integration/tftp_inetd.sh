#!/bin/sh
# SPDX-License-Identifier: ISC
# tftp_inetd.sh: tftp-proxy spawned by the real openbsd-inetd with the
# PF FAQ's line, `6969 dgram udp wait root .../tftp-proxy tftp-proxy',
# in the firewall namespace ("udp": one IPv4 and one IPv6 socket).
# One process handles every queued request, exits when idle, and inetd
# takes the socket back.  The admin's redirect and forward policy drop
# plus the one ct mark line, as in tftp_proxy.sh.
#
# inetd runs in a private mount namespace with its own /run, so that
# its pid file never touches the host's.  It passes PFHELPER on to
# tftp-proxy (inetd keeps that variable).
#
# Needs root, ip(8), nft(8), unshare(1), inetd (openbsd-inetd),
# in.tftpd, tftp, curl, python3, bin/tftp-proxy and bin/pfhelper.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
[ -n "${KEEP:-}" ] && echo "work directory: $WORK"

# The tftp-proxy processes in the firewall namespace.
nproxies() {
	n=0
	for p in $(ip netns pids "$FW" 2>/dev/null); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = tftp-proxy ] &&
		    n=$((n + 1))
	done
	echo $n
}

# Wait (bounded, $1 s) until no tftp-proxy runs.
wait_no_proxy() {
	i=0
	while [ $i -lt $(($1 * 10)) ]; do
		[ "$(nproxies)" -eq 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

spawns() { grep -c "execv $BIN/tftp-proxy" "$WORK/inetd.log"; }

# Under inetd each tftp-proxy has a table of its own, tftp-proxy-<pid>.
tables() {
	in_fw nft list tables 2>/dev/null | grep -c "inet tftp-proxy-[0-9]"
}
all_permits() {
	n=0
	for t in $(in_fw nft list tables 2>/dev/null |
	    sed -n 's/^table inet \(tftp-proxy-[0-9]*\)$/\1/p'); do
		n=$((n + $(permits "$t")))
	done
	echo $n
}
two_and_two() { [ "$(nproxies)" -eq 2 ] && [ "$(tables)" -eq 2 ]; }

if [ ! -x "$INETD" ]; then
	echo "no $INETD (openbsd-inetd)"
	echo "0 passed, 1 failed"
	exit 1
fi
topo_up || exit 1
admin_rules || exit 1
tftpd_up || exit 1
R=$WORK/tftproot
for f in f1 f2 f3 f4 f5; do mkfile "$R/$f" 1024; done

printf '6969\tdgram\tudp\twait\troot\t%s\ttftp-proxy -s %s\n' \
    "$BIN/tftp-proxy" "$PFHDIR" > "$WORK/inetd.conf"
bg ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" unshare -m sh -c \
    'mount -t tmpfs tmpfs /run && exec "$0" -d -i "$1"' \
    "$INETD" "$WORK/inetd.conf" 2>> "$WORK/inetd.log"
INETDPID=$LASTPID
wait_udp "$FW" 6969 || exit 1
is_server "$INETDPID" "$INETD" || exit 1
check "inetd listens on udp 6969, IPv4 and IPv6" \
    [ "$(in_fw ss -lunH 'sport = :6969' | wc -l)" -eq 2 ]
check "no tftp-proxy before the first request" [ "$(nproxies)" -eq 0 ]

# --- transfers -------------------------------------------------------
for h in $S4 $S6; do
	n=$(echo "$h" | tr -d ':.')
	rm -f "$WORK/o1" "$WORK/o2" "$WORK/o3"
	check "RRQ tftp-hpa $h" hpa_get $h f1 "$WORK/o1"
	check "RRQ tftp-hpa $h: sha256" same "$R/f1" "$WORK/o1"
	check "RRQ curl $h --tftp-blksize 1428" \
	    curl_get $h f2 "$WORK/o2" --tftp-blksize 1428
	check "RRQ curl $h blksize: sha256" same "$R/f2" "$WORK/o2"
	check "RRQ curl $h --tftp-no-options" \
	    curl_get $h f3 "$WORK/o3" --tftp-no-options
	check "RRQ curl $h no options: sha256" same "$R/f3" "$WORK/o3"
	check "WRQ curl $h" curl_put $h "$R/f4" "up-$n"
	check "WRQ curl $h: sha256" same "$R/f4" "$R/up-$n"
	check "WRQ tftp-hpa $h" hpa_put $h "$R/f5" "uph-$n"
	check "WRQ tftp-hpa $h: sha256" same "$R/f5" "$R/uph-$n"
done
check "tftp-proxy is running, started by inetd" [ "$(nproxies)" -ge 1 ]
check "an IPv4 and an IPv6 tftp-proxy, each with its own table" two_and_two

# --- idle exit: inetd takes the socket back --------------------------
check "tftp-proxy exits once idle (within 15 s)" wait_no_proxy 15
check "their pfhelpers' tables went with them" [ "$(tables)" -eq 0 ]
check "inetd still runs" kill -0 "$INETDPID"

# --- several clients at once: one process handles them all -----------
before=$(spawns)
jobs=""
i=0
for f in f1 f2 f3 f4 f5; do
	i=$((i + 1))
	rm -f "$WORK/c$i"
	if [ $((i % 2)) -eq 0 ]; then
		hpa_get $S4 $f "$WORK/c$i" > "$WORK/c$i.err" 2>&1 &
	else
		curl_get $S4 $f "$WORK/c$i" > "$WORK/c$i.err" 2>&1 &
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
check "one tftp-proxy served the five IPv4 clients" \
    [ "$(($(spawns) - before))" -eq 1 ]

# --- garbage: dropped, no permit, the next request still served ------
check "idle again (within 15 s)" wait_no_proxy 15
before=$(spawns)
udpsend "$CLI" $S4 69 "$(head -c 100 /dev/urandom | od -An -v -tx1 | tr -d ' \n')"
udpsend "$CLI" $S4 69 "$(hexof '\000\001unterminated')"
udpsend "$CLI" $S4 69 "$(hexof '\000\003\000\001data')"
spawned() { [ "$(spawns)" -gt "$before" ]; }
check "garbage spawned a tftp-proxy" wait_for 5 spawned
# It has read the three once the socket's queue is empty.
set_up wait_for 5 drained "$FW" 6969
check "which forwarded nothing" [ "$(all_permits)" -eq 0 ]
rm -f "$WORK/o1"
check "RRQ after the garbage" curl_get $S4 f1 "$WORK/o1"
check "RRQ after the garbage: sha256" same "$R/f1" "$WORK/o1"
no_permit() { [ "$(all_permits)" -eq 0 ]; }
check "and no permit after transwait" wait_for 3 no_permit
check "every tftp-proxy inetd started exited with status 0" \
    sh -c "! grep -E 'reaped, status [1-9a-f]' '$WORK/inetd.log'"
check "inetd started no more than 8 of them in all" [ "$(spawns)" -le 8 ]

# --- a tftp-proxy that cannot start discards what is queued ----------
# (or inetd would start it again and again for the same datagram)
printf '6970\tdgram\tudp4\twait\troot\t%s\ttftp-proxy -s %s\n' \
    "$BIN/tftp-proxy" "$PFHDIR" > "$WORK/inetd-bad.conf"
bg ip netns exec "$FW" env PFHELPER=/nonexistent/pfhelper unshare -m sh -c \
    'mount -t tmpfs tmpfs /run && exec "$0" -d -i "$1"' \
    "$INETD" "$WORK/inetd-bad.conf" 2>> "$WORK/inetd-bad.log"
wait_udp "$FW" 6970 || exit 1
udpsend "$CLI" $F4IN 6970 "$(hexof '\000\001f1\000octet\000')"
udpsend "$CLI" $F4IN 6970 "$(hexof '\000\001f2\000octet\000')"
# Settled: every tftp-proxy it started is reaped and nothing is queued
# (inetd starts one only for a datagram waiting).
settled() {
	_e=$(grep -c "execv $BIN/tftp-proxy" "$WORK/inetd-bad.log")
	[ "$_e" -ge 1 ] && drained "$FW" 6970 &&
	    [ "$(grep -c "reaped" "$WORK/inetd-bad.log")" -ge "$_e" ]
}
set_up wait_for 10 settled
check "without pfhelper: started once or twice, not again and again" \
    [ "$(grep -c "execv $BIN/tftp-proxy" "$WORK/inetd-bad.log")" -le 2 ]
check "and it failed (exit status 1)" \
    grep -q "reaped, status 100" "$WORK/inetd-bad.log"

finish
