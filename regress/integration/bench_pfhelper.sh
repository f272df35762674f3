#!/bin/sh
# SPDX-License-Identifier: ISC
# bench_pfhelper.sh: scripts/bench-pfhelper.sh still works, run small
# (two sizes, 20 samples): it prints a row of figures for each size,
# no session of its is refused, and it leaves no namespace behind.  Its
# figures are not judged here (make bench runs it whole).
#
# Needs root, ip(8), and the builds bin/pfhelper and
# obj/regress/tools/pfhctl.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
need "$BIN/pfhelper" "$TOP/obj/regress/tools/pfhctl"

OUT=$WORK/bench.out
# pfhelper's log in $WORK, where make sanitize looks for reports.
BENCH_LOG=$WORK/pfhelper.log BENCH_SIZES="1 50" BENCH_SAMPLES=20 timeout 300 \
    sh "$TOP/scripts/bench-pfhelper.sh" > "$OUT" 2>&1 &
BPID=$!
wait "$BPID"
RC=$?
sed 's/^/# /' "$OUT"

# row n: the figures line for n sessions (4 latencies, 2 ratios, setup).
num='[0-9]+(\.[0-9]+)?'
row() {
	grep -Eq "^ *$1( +$num){7}$" "$OUT"
}
check "bench-pfhelper.sh exits 0 ($RC)" test "$RC" -eq 0
check "it prints the figures for 1 session" row 1
check "it prints the figures for 50 sessions" row 50
check "no size failed" eval "! grep -q 'failed' '$OUT'"
check "pfhelper refused nothing (no line of its)" \
    eval "! grep -q 'pfhelper said' '$OUT'"
check "its namespace is gone" \
    eval "! ip netns list | grep -q '^pfhb$BPID-'"

finish
