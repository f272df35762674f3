#!/bin/sh
# SPDX-License-Identifier: ISC
# valgrind.sh: valgrind's memcheck over the unit tests and over the
# three daemons while integration suites drive them.
#
#	sh scripts/valgrind.sh [suite ...]
#
# Copies the work tree to a temporary directory and builds it there
# (-O1 -g, no sanitizer), then:
#   1. runs every unit test under memcheck;
#   2. replaces bin/ftp-proxy, bin/tftp-proxy and bin/pfhelper in the
#      copy by scripts that exec the real programs under memcheck, each
#      process logging to a file of its own, and runs the integration
#      suites named (default: hostile tftp_proxy) from the copy.
# Unclean: a suite or test that fails, or a memcheck log with an error
# or a definite leak.  Ends with `N passed, M failed'.
#
# Valgrind and seccomp: valgrind (3.19) does not implement seccomp(2)
# ("unhandled amd64-linux syscall: 317"), so a daemon cannot build its
# filter under it (libseccomp fails and the daemon exits).  The daemons
# therefore run with a preloaded shim of the libseccomp calls that does
# nothing: everything else (chroot, user, capabilities) is as in
# production, the filter is not.  The
# suites that check the filter (confinement.sh) cannot run here; the
# normal `make check' and scripts/sanitize.sh cover them.  Under
# valgrind a daemon's process name is memcheck's, so only suites that
# find pfhelper by pid, not by name, can run (hostile.sh, tftp_proxy.sh,
# faults.sh do; suites that use lib.sh's pfhelper_pid do not).
#
# Environment: KEEP=1 keeps the copy; JOBS for make -j (default 2).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d /tmp/valgrind.XXXXXX) || exit 1
chmod 755 "$tree"
VG="valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full \
--show-leak-kinds=definite --errors-for-leak-kinds=definite --track-fds=no"
npass=0
nfail=0
unclean=""
t_start=$(date +%s)
# The suites run from the copy, with the servers unpacked in this tree.
SERVERS=$top/obj/servers
export SERVERS

cleanup() {
	if [ -n "${KEEP:-}" ]; then
		echo "valgrind.sh: the copy is in $tree"
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

if ! command -v valgrind > /dev/null; then
	echo "valgrind.sh: no valgrind (apt-get install valgrind)"
	echo "0 passed, 1 failed"
	exit 1
fi

echo "==> copy and build in $tree"
(cd "$top" && git ls-files --cached --others --exclude-standard -z |
    tar --null -cf - -T -) | tar -xf - -C "$tree" || exit 1
if ! make -C "$tree" -j"${JOBS:-2}" CFLAGS="-O1 -g" check-build \
    > "$tree/build.log" 2>&1; then
	tail -n 30 "$tree/build.log"
	echo "0 passed, 1 failed"
	exit 1
fi
t_build=$(date +%s)

# 1. Unit tests.
echo "==> unit tests under memcheck"
for t in "$tree"/obj/regress/*/*_test; do
	n=$(basename "$t")
	if timeout 1200 $VG --log-file="$tree/$n.vg" "$t" \
	    > "$tree/$n.log" 2>&1 && [ ! -s "$tree/$n.vg" ]; then
		result ok "unit $n ($(grep -E '[0-9]+ passed, [0-9]+ failed' \
		    "$tree/$n.log" | tail -n 1))"
	else
		result fail "unit $n" "exit $?"
		head -n 40 "$tree/$n.vg"
		grep FAIL "$tree/$n.log" | head -n 10
	fi
done
t_unit=$(date +%s)

# 2. The daemons under memcheck, without their seccomp filter.
# The libseccomp calls of common/sandbox.c, doing nothing: libseccomp
# itself probes the seccomp(2) call, which valgrind does not have.
cat > "$tree/noseccomp.c" <<-'EOF'
	/* Test only (valgrind.sh): libseccomp that loads no filter. */
	#include <seccomp.h>
	static int dummy;
	scmp_filter_ctx seccomp_init(uint32_t a) { (void)a; return (&dummy); }
	void seccomp_release(scmp_filter_ctx c) { (void)c; }
	int seccomp_attr_set(scmp_filter_ctx c, enum scmp_filter_attr a,
	    uint32_t v) { (void)c; (void)a; (void)v; return (0); }
	int seccomp_syscall_resolve_name(const char *n) { (void)n; return (0); }
	int seccomp_rule_add(scmp_filter_ctx c, uint32_t a, int s,
	    unsigned int n, ...) { (void)c; (void)a; (void)s; (void)n;
	    return (0); }
	int seccomp_load(const scmp_filter_ctx c) { (void)c; return (0); }
	EOF
if ! cc -shared -fPIC -o "$tree/noseccomp.so" "$tree/noseccomp.c"; then
	result fail "build the seccomp shim"
	echo "$npass passed, $nfail failed"
	exit 1
fi
mkdir -p "$tree/vglogs"
chmod 1777 "$tree/vglogs"
for p in ftp-proxy tftp-proxy pfhelper; do
	mv "$tree/bin/$p" "$tree/bin/$p.real"
	# The log file is opened before the chroot; %p: one per process.
	cat > "$tree/bin/$p" <<-EOF
	#!/bin/sh
	LD_PRELOAD=$tree/noseccomp.so exec $VG \\
	    --log-file=$tree/vglogs/$p.%p.log $tree/bin/$p.real "\$@"
	EOF
	chmod 755 "$tree/bin/$p"
done

if [ $# -gt 0 ]; then
	suites="$*"
else
	suites="hostile tftp_proxy"
fi
echo "==> integration suites, daemons under memcheck"
for s in $suites; do
	log=$tree/$s.log
	t0=$(date +%s)
	rm -f "$tree"/vglogs/*.log
	TOP=$tree timeout 1800 sh "$tree/regress/integration/$s.sh" \
	    > "$log" 2>&1
	rc=$?
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	nlogs=$(ls "$tree"/vglogs/*.log 2>/dev/null | wc -l)
	bad=""
	for f in "$tree"/vglogs/*.log; do
		[ -s "$f" ] && bad="$bad $f"
	done
	detail="${line:-no result line}, exit $rc, $nlogs daemon processes,"
	detail="$detail $(($(date +%s) - t0)) s"
	if [ "$rc" -eq 0 ] && [ -n "$line" ] && [ -z "$bad" ] &&
	    [ "$nlogs" -gt 0 ]; then
		result ok "memcheck $s ($detail)"
	else
		result fail "memcheck $s" "$detail"
		grep -E '^FAIL' "$log" | head -n 20
		for f in $bad; do
			echo "--- $f:"
			head -n 40 "$f"
		done
	fi
done
t_end=$(date +%s)

echo "times: build $((t_build - t_start)) s, unit $((t_unit - t_build)) s," \
    "suites $((t_end - t_unit)) s, total $((t_end - t_start)) s"
[ -n "$unclean" ] && echo "unclean:$unclean"
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
