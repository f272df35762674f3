#!/bin/sh
# SPDX-License-Identifier: ISC
# sanitize.sh: the test suite built with AddressSanitizer and UBSan.
#
#	sh scripts/sanitize.sh [suite ...]
#
# Copies the work tree (tracked and new files, not ignored ones) to a
# temporary directory, builds it there with `make SANITIZE=1' (bin/ and
# obj/ of the real tree are left alone), and runs from the copy:
#   1. every unit test, LeakSanitizer on;
#   2. the integration suites (default: every regress/integration/*.sh,
#      else those named), the daemons chrooted and confined as in
#      production, ASan and UBSan aborting on the first error.
# A suite counts as unclean if it fails, or if any log it leaves (its
# output, the daemons' logs in its work directory) has a sanitizer
# report.  Ends with `N passed, M failed' (one per program and suite)
# and exits non-zero if anything was unclean.
#
# Sanitizers, chroot and seccomp (measured with gcc 12's runtimes):
#  - LeakSanitizer cannot check the daemons: its exit-time check reads
#    /proc/PID/task and /proc/self/maps (absent in the /var/empty
#    chroot: "LeakSanitizer has encountered a fatal error") and stops
#    the world with clone and ptrace (outside the seccomp list: SIGSYS).
#    So the suites run with detect_leaks=0; the daemons' leaks are
#    valgrind's (scripts/valgrind.sh), whose check needs neither.
#  - ASan calls sigaltstack(2) before every call of a noreturn function
#    (__asan_handle_no_return), so in a SANITIZE build every fatal(),
#    fatalx() or exit() of a sandboxed daemon dies of SIGSYS unless the
#    allow-list in common/sandbox.c has sigaltstack (harmless: it only
#    names a stack for the process's own signal handlers).
#  - A memory error or undefined behaviour in a sandboxed daemon ends it
#    (abort, or SIGSYS once the report's stack trace opens a file); the
#    report's first line is in the daemon's log, and the suite sees the
#    daemon gone or its exit status wrong.
#
# Environment: KEEP=1 keeps the copy; JOBS for make -j (default 2).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d /tmp/sanitize.XXXXXX) || exit 1
npass=0
nfail=0
unclean=""
t_start=$(date +%s)
# The suites run from the copy, with the servers unpacked in this tree.
SERVERS=$top/obj/servers
export SERVERS

cleanup() {
	if [ -n "${KEEP:-}" ]; then
		echo "sanitize.sh: the copy is in $tree"
	else
		rm -rf "$tree"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

result() { # ok|fail name [detail]
	if [ "$1" = ok ]; then
		npass=$((npass + 1))
		echo "ok $2"
	else
		nfail=$((nfail + 1))
		unclean="$unclean $2"
		echo "FAIL $2${3:+: $3}"
	fi
}

# Sanitizer reports in files or directories.
reports() {
	grep -rlE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)|Sanitizer has encountered' \
	    "$@" 2>/dev/null
}

echo "==> copy and build with SANITIZE=1 in $tree"
(cd "$top" && git ls-files --cached --others --exclude-standard -z |
    tar --null -cf - -T -) | tar -xf - -C "$tree" || exit 1
# No -Werror: gcc's -Wformat-overflow misfires under -fsanitize (see
# regress/common/log_test.c); the normal build keeps -Werror.
if ! make -C "$tree" -j"${JOBS:-2}" SANITIZE=1 check-build \
    > "$tree/build.log" 2>&1; then
	tail -n 30 "$tree/build.log"
	echo "0 passed, 1 failed"
	exit 1
fi
t_build=$(date +%s)

# 1. Unit tests: everything on.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS UBSAN_OPTIONS
echo "==> unit tests ($ASAN_OPTIONS)"
for t in "$tree"/obj/regress/*/*_test; do
	n=$(basename "$t")
	if timeout 600 "$t" > "$tree/$n.log" 2>&1 &&
	    [ -z "$(reports "$tree/$n.log")" ]; then
		result ok "unit $n ($(grep -E '[0-9]+ passed, [0-9]+ failed' \
		    "$tree/$n.log" | tail -n 1))"
	else
		result fail "unit $n"
		grep -E -A 12 'ERROR|runtime error|FAIL' "$tree/$n.log" | head -n 30
	fi
done
t_unit=$(date +%s)

# run_suite name label: one integration suite from the copy.  lib.sh
# keeps its work directory with KEEP=1, made in a directory of the
# suite's own (REGRESS_TMPDIR): we search the daemons' logs there for
# reports, then remove it.
run_suite() {
	s=$tree/regress/integration/$1.sh
	log=$tree/$1.$2.log
	wd=$tree/work.$1.$2
	# Traversable, as /tmp is: servers that drop privileges read in
	# there (ftp_smuggle.sh, ftps.sh make their work directory 711).
	mkdir -p "$wd" && chmod 711 "$tree" "$wd" || exit 1
	t0=$(date +%s)
	KEEP=1 REGRESS_TMPDIR=$wd TOP=$tree timeout 1200 sh "$s" > "$log" 2>&1
	rc=$?
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	found=$(reports "$log" "$wd")
	detail="${line:-no result line}, exit $rc, $(($(date +%s) - t0)) s"
	# A lib.sh suite whose work directory is not there: its daemons'
	# logs were not searched.
	unseen=""
	if grep -q 'integration/lib.sh' "$s" && [ -z "$(ls "$wd")" ]; then
		unseen=1
		detail="$detail, no work directory in $wd to search"
	fi
	if [ "$rc" -eq 0 ] && [ -n "$line" ] && [ -z "$unseen" ] &&
	    [ -z "$found" ]; then
		result ok "$2 $1 ($detail)"
		rm -rf "$wd"
	else
		result fail "$2 $1" "$detail"
		grep -E '^FAIL' "$log" | head -n 20
		for f in $found; do
			echo "--- sanitizer report in $f:"
			grep -E -A 20 'ERROR: |runtime error:' "$f" | head -n 40
		done
	fi
}

# 2. Integration suites: no leak check (see above).
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
export ASAN_OPTIONS
if [ $# -gt 0 ]; then
	suites="$*"
else
	suites=$(cd "$tree/regress/integration" && ls *.sh |
	    sed -n 's/\.sh$//p' | grep -vx 'lib\|.*_lib')
fi
echo "==> integration suites ($ASAN_OPTIONS)"
for s in $suites; do
	run_suite "$s" suite
done
t_end=$(date +%s)

echo "times: build $((t_build - t_start)) s, unit $((t_unit - t_build)) s," \
    "suites $((t_end - t_unit)) s, total $((t_end - t_start)) s"
[ -n "$unclean" ] && echo "unclean:$unclean"
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
