#!/bin/sh
# SPDX-License-Identifier: ISC
# Run the unit test programs given as arguments, then (unless
# --unit-only) every regress/integration/*.sh but the long ones: with
# --long, only the long ones (make check-long; CI runs both).  Long: the
# failover and load scenarios, in $LONG.  Each suite prints
# `N passed, M failed` as its last such line; this sums them and ends
# with one total line.  Exit status: non-zero if anything failed or a
# suite did not report.  The whole run must leave the host as it found
# it: regress/host_state.sh compares a snapshot taken at the start (or
# the one in $HOST_STATE, taken by make check before scripts/deps.sh)
# with the host after the last suite.
set -u

unit_only=0 long=0
LONG="ha broker_load tftp_broker"
case ${1:-} in
--unit-only)	unit_only=1; shift ;;
--long)		long=1; shift ;;
esac
is_long() { case " $LONG " in *" $1 "*) return 0 ;; esac; return 1; }

top=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp -d /tmp/regress.XXXXXX)
total_pass=0
total_fail=0
broken=""

run_suite() {
	name=$1
	shift
	out="$log/$(echo "$name" | tr '/' '_').log"
	echo "==> $name"
	t0=$(date +%s)
	"$@" > "$out" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" |
	    tail -n 1)
	if [ -z "$line" ]; then
		tail -n 30 "$out"
		echo "    $name: no result line (exit $rc, $secs s)"
		broken="$broken $name"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
		grep -E 'FAIL|fail|error' "$out" | head -n 40
		[ "$f" -eq 0 ] && f=1
		broken="$broken $name"
	fi
	echo "    $p passed, $f failed ($secs s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

if [ "$unit_only" -eq 0 ] && [ -z "${HOST_STATE:-}" ]; then
	HOST_STATE=$log/host_state.before
	sh "$top/regress/host_state.sh" snap "$HOST_STATE"
fi

for t in "$@"; do
	run_suite "$(basename "$t")" "$t"
done

if [ "$unit_only" -eq 0 ]; then
	if [ "$long" -eq 0 ]; then
		run_suite "fuzz corpora" sh "$top/scripts/fuzz.sh" --replay
		if ls "$top"/man/*.8 > /dev/null 2>&1; then
			run_suite "man page lint" sh "$top/scripts/manlint.sh"
		fi
	fi
	for t in "$top"/regress/integration/*.sh; do
		[ -e "$t" ] || continue
		case $(basename "$t") in lib.sh | *_lib.sh) continue ;; esac
		n=$(basename "$t" .sh)
		if is_long "$n"; then
			[ "$long" -eq 1 ] || continue
		else
			[ "$long" -eq 0 ] || continue
		fi
		run_suite "integration/$n" sh "$t"
	done
	run_suite "host state" sh "$top/regress/host_state.sh" check \
	    "$HOST_STATE"
fi

if [ -n "$broken" ]; then
	echo "failed suites:$broken (logs in $log)"
else
	rm -rf "$log"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
