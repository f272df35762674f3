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
# The Makefile's lists and packages (make -s print-VAR).
mk() { make -s --no-print-directory -C "$top" "print-$1"; }
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
    -Icommon -Ipfhelper -Iftp-proxy -Itftp-proxy -Iregress/pfhelper
    -DPFHELPER_PATH=\"/nonexistent/pfhelper\" $(mk PKG_CFLAGS)"
libs=$(mk PKG_LIBS)

# Each list the way the Makefile builds it, an archive of objects built
# for fuzzing (once; again when a source, a header or the flags change);
# a target takes from them what it needs, as the unit tests do.
echo "$CC $flags" | cmp -s - "$out/flags" 2>/dev/null ||
    { rm -rf "$out/o"; echo "$CC $flags" > "$out/flags"; }
newest_h=$(ls -t common/*.h pfhelper/*.h ftp-proxy/*.h tftp-proxy/*.h \
    regress/pfhelper/*.h 2>/dev/null | head -n 1)
archive() { # name sources...
	_a=$out/lib$1.a
	shift
	_objs=""
	for _s; do
		_o=$out/o/${_s%.c}.o
		mkdir -p "$(dirname "$_o")"
		if [ ! "$_o" -nt "$_s" ] || [ ! "$_o" -nt "$newest_h" ]; then
			# shellcheck disable=SC2086
			$CC $flags -I"$(dirname "$_s")" -c -o "$_o" "$_s"
		fi
		_objs="$_objs $_o"
	done
	rm -f "$_a"
	# shellcheck disable=SC2086
	ar rcs "$_a" $_objs
	echo "$_a"
}
fake=$(mk FAKE_OBJS | tr ' ' '\n' | sed -n 's|^obj/\(.*\)\.o$|\1.c|p')
# One assignment each, so that set -e sees a failed compile.
# shellcheck disable=SC2086
a1=$(archive fake $fake)
a2=$(archive pfh $(mk PFH_LIBSRCS))
a3=$(archive ftp $(mk FTP_LIBSRCS))
a4=$(archive tftp $(mk TFTP_LIBSRCS))
a5=$(archive common $(mk COMMON_SRCS))
archives="$a1 $a2 $a3 $a4 $a5"

# fuzz_pfh_serve's seeds, written afresh from the protocol's structs: a
# HELLO of the current version, then sessions, permits, deletes and ends
# (regress/fuzz/pfh_seeds.c), so that the fuzzer starts inside serve.c.
$CC -g -Icommon -o "$out/pfh_seeds" regress/fuzz/pfh_seeds.c
mkdir -p regress/fuzz/corpus/fuzz_pfh_serve
"$out/pfh_seeds" regress/fuzz/corpus/fuzz_pfh_serve

total=0
bad=0
for f in regress/fuzz/fuzz_*.c; do
	t=$(basename "$f" .c)
	# shellcheck disable=SC2046
	$CC $flags -o "$out/$t" "$f" -Wl,--start-group $archives \
	    -Wl,--end-group $libs
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
