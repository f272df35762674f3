#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-pfhelper.sh: how long pfhelper takes to add and to remove one
# data permit (PERMIT_ADD / PERMIT_DEL: front end -> pfhelper -> one
# netlink batch -> kernel -> reply), with N live sessions of one permit
# each in its table.  A benchmark, not a test: it prints figures and
# asserts nothing about them.
#
# For each N a fresh pfhelper (-C -r 0 -m 200000 -p 4) runs in a scratch
# network namespace under regress/tools/pfhctl, whose `bench N S'
# command sets the sessions up (pipelined), times S add/delete pairs
# one request at a time, and ends the sessions.  Prints median and p99
# in microseconds per N, and the medians' ratio to N=1.  The namespace
# has the proxy address the sessions name (198.51.100.1, pfhctl's
# bench_session()): pfhelper refuses a proxy address not of its host's.
# Exits 1 if any N failed (regress/integration/bench_pfhelper.sh runs
# it small in make check).
# (60000: pfhelper currently caps live permits at 65535, see
# PFH_PERMITS_MAX; 100000 then reports ENOSPC.)
#
#	BENCH_SIZES="1 1000 10000 60000 100000"  BENCH_SAMPLES=2000
#	PFHELPER=bin/pfhelper  PFHCTL=obj/regress/tools/pfhctl
#	BENCH_LOG=file: pfhelper's log lines are appended there too (kept)
#
# Needs root, ip(8), timeout(1).  Each N is bounded to 240 s.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
PFHELPER=${PFHELPER:-$top/bin/pfhelper}
PFHCTL=${PFHCTL:-$top/obj/regress/tools/pfhctl}
SIZES=${BENCH_SIZES:-"1 1000 10000 60000 100000"}
SAMPLES=${BENCH_SAMPLES:-2000}
NS="pfhb$$-fw"
pid=""
log=""

cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=""
	fi
	ip netns del "$NS" 2>/dev/null
	[ -n "$log" ] && rm -f "$log"
	log=""
}
trap 'cleanup' EXIT
trap 'cleanup; exit 1' HUP INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-pfhelper.sh: must run as root (network namespace, nftables)" >&2
	exit 1
fi
for b in "$PFHELPER" "$PFHCTL"; do
	if [ ! -x "$b" ]; then
		echo "bench-pfhelper.sh: no $b" \
		    "(make bin/pfhelper obj/regress/tools/pfhctl)" >&2
		exit 1
	fi
done
if [ ! -d /var/empty ]; then
	mkdir -m 0755 /var/empty || exit 1
fi
log=$(mktemp /tmp/bench-pfhelper.XXXXXX) || exit 1
ip netns add "$NS" && ip -n "$NS" link set lo up &&
    ip -n "$NS" addr add 198.51.100.1/32 dev lo || exit 1

# run n: one pfhelper, one `bench n SAMPLES'; the result line in $res.
run() {
	echo "bench $1 $SAMPLES" | ip netns exec "$NS" timeout 240 \
	    "$PFHCTL" -p "$PFHELPER" -- -d -C -r 0 -m 200000 -p 4 \
	    > "$log.out" 2>> "$log" &
	pid=$!
	wait "$pid"
	pid=""
	res=$(tail -n 1 "$log.out")
	rm -f "$log.out"
}
trap 'keep_log; cleanup' EXIT
keep_log() { [ -n "${BENCH_LOG:-}" ] && [ -n "$log" ] && cat "$log" >> "$BENCH_LOG"; }

# field name line: the value after `name' in a result line.
field() {
	echo "$2" | awk -v k="$1" '{ for (i = 1; i < NF; i++)
	    if ($i == k) { print $(i + 1); exit } }'
}

echo "pfhelper permit latency: Linux $(uname -r), $(nproc) CPUs," \
    "$SAMPLES samples per N"
echo "(round trip front end -> pfhelper -> kernel; microseconds)"
printf '%8s %9s %9s %9s %9s %8s %8s %8s\n' sessions "add p50" \
    "add p99" "del p50" "del p99" "add/N=1" "del/N=1" "setup s"
base_add=""
base_del=""
failed=0
for n in $SIZES; do
	run "$n"
	case $res in
	"ok n "*) ;;
	*)
		printf '%8s  failed: %s\n' "$n" "${res:-no result (timeout?)}"
		failed=1
		continue
		;;
	esac
	am=$(field add_med_us "$res")
	ap=$(field add_p99_us "$res")
	dm=$(field del_med_us "$res")
	dp=$(field del_p99_us "$res")
	su=$(field setup_s "$res")
	[ -z "$base_add" ] && base_add=$am && base_del=$dm
	printf '%8s %9s %9s %9s %9s %8s %8s %8s\n' "$n" "$am" "$ap" "$dm" \
	    "$dp" "$(echo "$am $base_add" | awk '{ printf "%.2f", $1 / $2 }')" \
	    "$(echo "$dm $base_del" | awk '{ printf "%.2f", $1 / $2 }')" "$su"
done
if grep -q . "$log"; then
	echo "pfhelper said:"
	sort "$log" | uniq -c | sort -rn | head -n 5
fi
exit $failed
