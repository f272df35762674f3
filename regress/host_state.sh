#!/bin/sh
# SPDX-License-Identifier: ISC
# host_state.sh: the host is left as it was found.  `make check' takes a
# snapshot before it installs anything (scripts/deps.sh) and compares
# after the last suite (regress/run.sh):
#   host_state.sh [-r root] snap FILE	write the snapshot
#   host_state.sh [-r root] check FILE	compare, `N passed, M failed'
# What is compared, read from the files (this host need not run systemd
# as pid 1, so no systemctl):
#   - what starts at boot: the links in /etc/systemd/system/*.wants and
#     *.requires and /etc/rc?.d/S*; a test server's (vsftpd, tftpd-hpa,
#     openbsd-inetd, ProFTPD, and ha.sh's keepalived and conntrackd)
#     named on its own line, then any other;
#   - the test servers' packages: none installed that was not before;
#   - paths a test must never create or change: /usr/sbin/policy-rc.d
#     (it stops every service start), /run/pfhelper (the host's broker),
#     /run/vsftpd, /run/inetd.pid and keepalived's and conntrackd's pid,
#     socket and lock files (a server's built-in paths).
# -r root: another root file system (to check the checker).
set -u

ROOT=
if [ "${1:-}" = -r ]; then
	ROOT=$2
	shift 2
fi
[ $# -eq 2 ] || { echo "usage: host_state.sh [-r root] snap|check file" >&2
	exit 2; }

# Test servers: package, then its boot names (units, init scripts).
SERVERS="vsftpd:vsftpd tftpd-hpa:tftpd-hpa openbsd-inetd:inetd,openbsd-inetd
proftpd-core:proftpd keepalived:keepalived conntrackd:conntrackd"
PATHS="/usr/sbin/policy-rc.d /run/pfhelper /run/vsftpd /run/inetd.pid
/run/keepalived /run/keepalived.pid /run/conntrackd.ctl /var/lock/conntrack.lock"

# Every boot link, one per line: "where name".
boot_links() {
	for d in "$ROOT"/etc/systemd/system/*.wants \
	    "$ROOT"/etc/systemd/system/*.requires "$ROOT"/etc/rc?.d; do
		[ -d "$d" ] || continue
		for l in "$d"/*; do
			[ -e "$l" ] || [ -L "$l" ] || continue
			case $l in
			*/rc?.d/*) case ${l##*/} in S*) ;; *) continue ;;
			    esac ;;
			esac
			echo "${d##*/} ${l##*/}"
		done
	done | sort
}

# A path's state: absent, or each entry's type, inode, mode, owner,
# mtime and, for a file, its checksum.
path_state() {
	p=$ROOT$1
	if [ ! -e "$p" ] && [ ! -L "$p" ]; then
		echo "$1 absent"
		return
	fi
	find "$p" -maxdepth 1 -printf "$1/%P %y %i %m %U %T@\n" | sort
	[ -f "$p" ] && echo "$1 sha256 $(sha256sum < "$p" | cut -d' ' -f1)"
}

snapshot() {
	boot_links | sed 's/^/boot /'
	for s in $SERVERS; do
		st=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W \
		    -f='${Status}' "${s%%:*}" 2>/dev/null)
		case $st in *" installed") echo "package ${s%%:*}" ;; esac
	done
	for p in $PATHS; do
		path_state "$p" | sed 's/^/path /'
	done
}

case $1 in
snap)
	snapshot > "$2"
	exit
	;;
check)
	[ -f "$2" ] || { echo "no snapshot $2"; echo "0 passed, 1 failed"
		exit 1; }
	;;
*)
	echo "usage: host_state.sh [-r root] snap|check file" >&2
	exit 2
	;;
esac

npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
after=$(mktemp) || exit 1
trap 'rm -f "$after"' EXIT
snapshot > "$after"
# Lines of the snapshot after the run that were not there before.
new() { grep "^$1 " "$after" | grep -vxF -f "$2" | sed "s/^$1 //"; }

for s in $SERVERS; do
	pkg=${s%%:*} name=${s#*:}
	links=$(new boot "$2" | awk -v n=",$name," '{ u = $2;
	    sub(/^S[0-9][0-9]/, "", u); sub(/\.service$/, "", u) }
	    index(n, "," u ",") { print }' | tr '\n' ' ')
	if [ -z "$links" ]; then
		ok "$pkg: not enabled at boot by the run"
	else
		fail "$pkg: enabled at boot by the run: $links"
	fi
done
others=$(new boot "$2" | tr '\n' ' ')
if [ -z "$others" ]; then
	ok "no boot link appeared at all"
else
	fail "boot links appeared: $others"
fi
pkgs=$(new package "$2" | tr '\n' ' ')
if [ -z "$pkgs" ]; then
	ok "no test server installed as a package"
else
	fail "test servers installed as packages: $pkgs"
fi
for p in $PATHS; do
	b=$(grep "^path $p[/ ]" "$2")
	a=$(grep "^path $p[/ ]" "$after")
	if [ "$a" = "$b" ]; then
		case $b in
		*" absent") ok "$p: absent, as before" ;;
		*) ok "$p: unchanged" ;;
		esac
	else
		fail "$p changed"
		echo "$b" | sed 's/^/#   before: /'
		echo "$a" | sed 's/^/#   after:  /'
	fi
done
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
