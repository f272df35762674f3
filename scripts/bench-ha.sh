#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-ha.sh: make bench's HA section (scripts/bench.sh: BENCH_ONLY=ha),
# on the keepalived + conntrackd pair of regress/integration/ha.sh
# (its set-up: regress/integration/ha_lib.sh).  Figures, no assertion
# about them:
#   - failover gap: from the master's failure (links down, keepalived
#     SIGKILL) to the first data byte of a running PASV download through
#     the backup; p50 over BENCH_HA_N failovers (each followed by a
#     fail-back);
#   - time until a new FTP session succeeds after the failure (p50);
#   - sessions/s through the master (regress/tools/ftpbench load) with
#     conntrackd syncing, as a ratio to the same node with conntrackd
#     stopped (with, without, with again: the mean of the two "with");
#   - a VIP that flaps every second for BENCH_HA_FLAP s under a loop of
#     small downloads: how many succeeded, whether each change was
#     logged once, descriptors and elements after it.
# Documentation addresses only; every loop bounded; the trap removes the
# namespaces and our processes by pid.
#	BENCH_HA_N=5  BENCH_HA_SECS=5  BENCH_HA_FLAP=30
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
P="bh$$-"
. "$TOP/regress/integration/lib.sh"
. "$TOP/regress/integration/ha_lib.sh"
require_root
need "$BIN/ftp-proxy" "$BIN/tftp-proxy" "$BIN/pfhelper"
NFO=${BENCH_HA_N:-5}
SECS=${BENCH_HA_SECS:-5}
FLAP=${BENCH_HA_FLAP:-30}
ftpbench_built || exit 1
ha_deps bench-ha.sh > "$WORK/deps.log" 2>&1 ||
    { cat "$WORK/deps.log"; echo "bench-ha.sh: no keepalived/conntrackd"
    exit 1; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

echo "== HA pair: keepalived + conntrackd (regress/integration/ha_lib.sh)"
ha_up > "$WORK/up.log" 2>&1
grep -q '^FAIL' "$WORK/up.log" && { cat "$WORK/up.log"; exit 1; }
head -c 1024 /dev/urandom > "$WORK/ftproot/pub/small.bin"
chmod 644 "$WORK/ftproot/pub/small.bin"

# until_ok LIMIT_S: until a new FTP session succeeds (tried every
# 0.1 s, LIMIT_S at most), the seconds since $T0; "-" if never.
until_ok() {
	while :; do
		if get_small "$CLI" "ftp://$S4/pub/small" \
		    "$WORK/ftproot/pub/small"; then
			since
			return 0
		fi
		[ "$(date +%s%N)" -lt $((T0 + $1 * 1000000000)) ] ||
		    { echo -; return 1; }
		sleep 0.1
	done
}

# --- failovers -------------------------------------------------------
: > "$WORK/gaps"
: > "$WORK/news"
fo=0
while [ $fo -lt "$NFO" ]; do
	fo=$((fo + 1))
	dl fo$fo PASV
	if ! dl_going fo$fo 1024 > /dev/null; then
		echo "   failover $fo: the download did not start"
		continue
	fi
	fw1_fails
	gap_watch fo$fo
	n=$(until_ok 15)
	dl_done fo$fo > /dev/null || echo "   failover $fo: download lost"
	within 50 test -s "$WORK/fo$fo.gap"
	g=$(cat "$WORK/fo$fo.gap" 2>/dev/null)
	echo "   failover $fo: gap ${g:--} s, new session after $n s"
	[ -n "$g" ] && echo "$g" >> "$WORK/gaps"
	[ "$n" != - ] && echo "$n" >> "$WORK/news"
	fw1_links_up
	wait_gone "$KA1"
	ka_up "$N1" 1
	{ wait_vip "$N1" && wait_novip "$N2"; } > /dev/null ||
	    { echo "   fw1 did not take the VIPs back"; exit 1; }
	T0=$(date +%s%N)
	until_ok 15 > /dev/null
done
GAP=$(median < "$WORK/gaps")
NEW=$(median < "$WORK/news")

# --- sessions/s with and without conntrackd ----------------------------
sess_rate() {
	out=$(timeout $((SECS + 30)) ip netns exec "$CLI" "$FB" load \
	    -h "$S4" -c 16 -t "$SECS" -f pub/small.bin)
	echo "   conntrackd $1: $out" >&2
	field rate "$out"
}
ctd_stop() {
	for _n in 1 2; do
		eval "kill \$CTD$_n; wait_gone \$CTD$_n"
	done
}
W1=$(sess_rate syncing)
ctd_stop
WO=$(sess_rate stopped)
ctd_up "$N1" 1 && ctd_up "$N2" 2 || exit 1
W2=$(sess_rate syncing)
RATIO=$(echo "$W1 $W2 $WO" | awk '$3 > 0 { printf "%.2f", ($1 + $2) / 2 / $3 }')

# --- the VIP flaps every second -----------------------------------------
wait_noelems "$N1" > /dev/null
FDS=$(fds1) ELEMS=$(elems "$N1")
log_mark
mon_up || { echo "bench-ha.sh: ip monitor"; exit 1; }
bg sh -c 'ok=0 ko=0 j=0
    while [ $j -lt $(($2 * 20)) ] && [ ! -e "$1/flap.end" ]; do
	if ip netns exec "$3" curl -sS --connect-timeout 1 -m 2 \
	    "ftp://$4/pub/small" -o /dev/null 2>/dev/null
	then ok=$((ok + 1)); else ko=$((ko + 1)); fi
	j=$((j + 1)); sleep 0.1
    done
    echo "$ok $ko" > "$1/flap.res"' sh "$WORK" "$FLAP" "$CLI" "$S4"
vip_flap "$FLAP"
touch "$WORK/flap.end"
wait_vip "$N1" 50 > /dev/null
kill "$MONPID"
within 100 test -s "$WORK/flap.res"
changes_logged > "$WORK/flap.log" 2>&1 && LOGGED=yes ||
    LOGGED="no: $(head -n 2 "$WORK/flap.log" | tr '\n' ' ')"
T0=$(date +%s%N)
AFTER=$(until_ok 10)
not_more "$FDS" "$ELEMS" > "$WORK/leak.log" 2>&1 && LEAK=none ||
    LEAK=$(tr '\n' ' ' < "$WORK/leak.log")
NCH=$(grep -c " inet $VIN/" "$WORK/addr.mon")

echo
echo "HA pair (forward mode, IPv4; load average at start: $LOAD0)"
printf '%-58s %s\n' \
    "failover gap, running download, p50 of $(wc -l < "$WORK/gaps") (s)" \
    "${GAP:--}" \
    "new FTP session after the failure, p50 of $(wc -l < "$WORK/news") (s)" \
    "${NEW:--}" \
    "sessions/s through fw1, conntrackd syncing (2 runs)" "$W1 $W2" \
    "sessions/s through fw1, conntrackd stopped" "$WO" \
    "ratio syncing / stopped" "${RATIO:--}" \
    "VIP flap ${FLAP} s: downloads ok / failed" "$(cat "$WORK/flap.res" 2>/dev/null)" \
    "VIP flap: changes of $VIN (kernel); each logged once" "$NCH; $LOGGED" \
    "VIP flap: new session after it (s); leak" "${AFTER:--}; $LEAK"
cleanup
