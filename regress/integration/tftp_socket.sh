#!/bin/sh
# SPDX-License-Identifier: ISC
# tftp_socket.sh: tftp-proxy under socket activation (LISTEN_FDS and
# LISTEN_PID, as systemd passes a .socket with ListenDatagram=6969 and
# Accept=no), through regress/tools/launch_fds: one dual-stack socket,
# so IPv4 requests arrive as IPv4-mapped addresses.  The admin's
# redirect and forward policy drop plus the one ct mark line.  Then
# the same with an IPv4-only socket.  The proxy exits once idle.
#
# Needs root, ip(8), nft(8), in.tftpd, tftp, curl, python3, the builds
# bin/tftp-proxy, bin/pfhelper and obj/regress/tools/launch_fds.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
LAUNCH=${LAUNCH_FDS:-$TOP/obj/regress/tools/launch_fds}
LOG=$WORK/tftp-proxy.log
[ -n "${KEEP:-}" ] && echo "work directory: $WORK"

if [ ! -x "$LAUNCH" ]; then
	echo "no $LAUNCH (make check-build)"
	echo "0 passed, 1 failed"
	exit 1
fi

# activated [-4]: tftp-proxy on an activation socket, foreground.
activated() {
	bg ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" "$LAUNCH" "$@" \
	    -p 6969 "$BIN/tftp-proxy" -d -v -s "$PFHDIR" 2>> "$LOG"
	APID=$LASTPID
	wait_udp "$FW" 6969
}

# Wait (bounded, 15 s) for the activated proxy to exit; its status.
wait_exit() {
	i=0
	while [ $i -lt 150 ] && kill -0 "$APID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$APID" 2>/dev/null && return 1
	wait "$APID"
}

topo_up || exit 1
admin_rules || exit 1
tftpd_up || exit 1
R=$WORK/tftproot
for f in f1 f2 f3; do mkfile "$R/$f" 1024; done

activated || exit 1
check "one socket (dual-stack: ss shows *:6969)" \
    [ "$(in_fw ss -lunH 'sport = :6969' | grep -c '\*:6969')" -eq 1 ]
check "the proxy says it was socket-activated" \
    wait_grep "$LOG" "serving 1 socket (socket activation)" 1
for h in $S4 $S6; do
	n=$(echo "$h" | tr -d ':.')
	rm -f "$WORK/o1" "$WORK/o2"
	check "RRQ tftp-hpa $h" hpa_get $h f1 "$WORK/o1"
	check "RRQ tftp-hpa $h: sha256" same "$R/f1" "$WORK/o1"
	check "RRQ curl $h --tftp-blksize 1428" \
	    curl_get $h f2 "$WORK/o2" --tftp-blksize 1428
	check "RRQ curl $h: sha256" same "$R/f2" "$WORK/o2"
	check "WRQ curl $h" curl_put $h "$R/f3" "up-$n"
	check "WRQ curl $h: sha256" same "$R/f3" "$R/up-$n"
done
check "IPv4 clients logged as IPv4, not IPv4-mapped" \
    grep -q "^tftp-proxy.*: 192.0.2.10:[0-9]* -> 198.51.100.10:69 via 198.51.100.1:" "$LOG"
udpsend "$CLI" $S4 69 "$(hexof '\000\001f1\000octet')"
check "an unterminated mode is dropped" \
    wait_grep "$LOG" "unterminated mode" 1
udpsend "$CLI" $F4IN 6969 "$(hexof '\000\001f1\000octet\000')"
check "a request sent straight to the proxy is dropped" \
    wait_grep "$LOG" "not intercepted" 1
check "no permit for those, none left after transwait" \
    wait_for 3 no_permits tftp-proxy
check "exits once idle, status 0" wait_exit
check "its table went with it" \
    sh -c "! ip netns exec '$FW' nft list table inet tftp-proxy >/dev/null 2>&1"

# An IPv4 socket, as ListenDatagram=0.0.0.0:6969 gives.
activated -4 || exit 1
rm -f "$WORK/o1"
check "IPv4 socket: RRQ curl" curl_get $S4 f1 "$WORK/o1"
check "IPv4 socket: sha256" same "$R/f1" "$WORK/o1"
check "IPv4 socket: exits once idle, status 0" wait_exit

# Variables meant for another process are not ours: standalone then.
nserving=$(grep -c "serving" "$LOG" 2>/dev/null)
bg ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" LISTEN_FDS=1 \
    LISTEN_PID=1 "$BIN/tftp-proxy" -d -v -p 6970 -s "$PFHDIR" 2>> "$LOG"
APID=$LASTPID
check "LISTEN_PID of another process: standalone on -p" wait_udp "$FW" 6970
# Its signal handlers are in place once it says it is serving.
wait_grep "$LOG" "serving" $((nserving + 1))
kill "$APID"
check "which ends on SIGTERM with status 0" wait_exit

finish
