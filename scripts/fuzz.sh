#!/bin/sh
# SPDX-License-Identifier: ISC
# Build the libFuzzer targets in regress/fuzz/ with clang and either
# replay their corpora once (--replay: a regression test, run by
# `make check`) or fuzz each for FUZZ_SECONDS (default 60, `make fuzz`).
# New crashing inputs land in regress/fuzz/corpus/<target>/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=${1:-fuzz}
secs=${FUZZ_SECONDS:-60}
out=obj/fuzz
mkdir -p "$out"
CC=${FUZZ_CC:-clang}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
    -Icommon -Ipfhelper -Iftp-proxy -Itftp-proxy -Iregress/pfhelper
    $(pkg-config --cflags libbsd-overlay)"
libs="$(pkg-config --libs libbsd-overlay libevent)"
common="common/imsg.c common/log.c common/addr.c common/proto.c"

srcs_for() {
	case $1 in
	fuzz_ftp_relay)	echo ftp-proxy/ftp_relay.c ftp-proxy/ftp_parse.c \
			    ftp-proxy/telnet.c common/text.c $common ;;
	fuzz_ftp_*)	echo ftp-proxy/ftp_parse.c ftp-proxy/telnet.c \
			    common/text.c ;;
	fuzz_tftp_*)	echo tftp-proxy/tftp_parse.c common/text.c ;;
	fuzz_imsg)	echo $common ;;
	fuzz_pfh_*)	echo $common pfhelper/serve.c pfhelper/validate.c \
			    pfhelper/elems.c pfhelper/roles.c pfhelper/claims.c \
			    common/hostaddr.c regress/pfhelper/fake_filter.c \
			    regress/pfhelper/serve_one.c ;;
	esac
}

total=0
bad=0
for f in regress/fuzz/fuzz_*.c; do
	t=$(basename "$f" .c)
	# shellcheck disable=SC2046
	$CC $flags -o "$out/$t" "$f" $(srcs_for "$t") $libs
	corpus=regress/fuzz/corpus/$t
	mkdir -p "$corpus"
	total=$((total + 1))
	if [ "$mode" = --replay ]; then
		if "$out/$t" -runs=0 "$corpus" > "$out/$t.log" 2>&1; then
			echo "ok $t: corpus replayed ($(ls "$corpus" | wc -l) inputs)"
		else
			tail -n 20 "$out/$t.log"
			echo "FAIL $t"
			bad=$((bad + 1))
		fi
	else
		mkdir -p "$out/$t.new"
		if "$out/$t" -max_total_time="$secs" -artifact_prefix="$corpus/" \
		    "$out/$t.new" "$corpus" > "$out/$t.log" 2>&1; then
			echo "ok $t: $(grep -o 'Done [0-9]* runs' "$out/$t.log" | tail -n 1)"
		else
			tail -n 20 "$out/$t.log"
			echo "FAIL $t: crash input saved in $corpus/"
			bad=$((bad + 1))
		fi
	fi
done
echo "fuzz: $((total - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
