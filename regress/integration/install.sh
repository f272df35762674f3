#!/bin/sh
# SPDX-License-Identifier: ISC
# install.sh: `make install' into a DESTDIR puts every file where it
# belongs, with the installed paths filled in; `make uninstall' then
# leaves no file behind.  A DESTDIR install creates no system user: it
# runs in a mount namespace whose /etc/passwd and /etc/group are scratch
# copies without our three users, and useradd, groupadd and adduser
# first in PATH only record that they were called.  The host's files
# are never written.
#
# Needs make, the build (make all) and unshare(1) (root, or unprivileged
# user namespaces); no network.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
D=$(mktemp -d /tmp/install.$$.XXXXXX)
LOG=$(mktemp /tmp/install.$$.log.XXXXXX)
S=$(mktemp -d /tmp/install.$$.etc.XXXXXX)
trap 'rm -rf "$D" "$LOG" "$S"' EXIT
trap 'exit 1' INT TERM HUP

# The scratch /etc/passwd and /etc/group, and the recording useradd.
USERS_RE='^(_ftp-proxy|_tftp-proxy|_pfhelper):'
grep -Ev "$USERS_RE" /etc/passwd > "$S/passwd"
grep -Ev "$USERS_RE" /etc/group > "$S/group"
cp "$S/passwd" "$S/passwd.before"
cp "$S/group" "$S/group.before"
mkdir "$S/bin"
for t in useradd groupadd adduser; do
	printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\nexit 1\n' "$t" "$S" \
	    > "$S/bin/$t"
	chmod 755 "$S/bin/$t"
done
: > "$S/calls"
# install_scratch: make install DESTDIR=$D with the users absent;
# status 99 if they could not be hidden (a set-up failure).
install_scratch() {
	if [ "$(id -u)" -eq 0 ]; then _u="unshare -m"; else _u="unshare -rm"; fi
	$_u sh -c '
	    mount --bind "$1/passwd" /etc/passwd &&
	        mount --bind "$1/group" /etc/group || exit 99
	    ! getent passwd _ftp-proxy || exit 99
	    ! getent passwd _tftp-proxy || exit 99
	    ! getent passwd _pfhelper || exit 99
	    PATH="$1/bin:$PATH" exec make -C "$2" install DESTDIR="$3"' \
	    sh "$S" "$TOP" "$D"
}
install_scratch > "$LOG" 2>&1
rc=$?
if [ "$rc" -eq 99 ]; then
	fail "set-up: cannot hide the system users (unshare, mount --bind)"
	tail -n 5 "$LOG" | sed 's/^/#   /'
	echo "$npass passed, $nfail failed"
	exit 1
fi
if [ "$rc" -eq 0 ]; then
	ok "make install DESTDIR=..."
else
	fail "make install DESTDIR=..."
	tail -n 5 "$LOG" | sed 's/^/#   /'
fi
# The tree's own sbindir (PREFIX/sbin, /usr/local/sbin by default).
sbindir=$(cat "$TOP/obj/paths" 2>/dev/null || echo /usr/local/sbin)
prefix=${sbindir%/sbin}
units=$D$prefix/lib/systemd/system
ex=$D$prefix/share/doc/ftp-proxy/examples

missing=""
for f in $D$sbindir/ftp-proxy $D$sbindir/tftp-proxy $D$sbindir/pfhelper; do
	[ -x "$f" ] || missing="$missing $f"
done
for f in $D$prefix/share/man/man8/ftp-proxy.8 \
    $D$prefix/share/man/man8/tftp-proxy.8 \
    $D$prefix/share/man/man8/pfhelper.8 \
    $units/ftp-proxy.service $units/tftp-proxy.service \
    $units/tftp-proxy.socket \
    $ex/nftables-ftp-client.conf $ex/nftables-ftp-reverse.conf \
    $ex/nftables-ftp-server.conf $ex/tftp-proxy.nft \
    $ex/inetd.conf.tftp-proxy $ex/ftp-proxy.default \
    $ex/tftp-proxy.default $ex/keepalived.conf $ex/conntrackd.conf \
    $ex/conntrackd-notify.sh; do
	[ -f "$f" ] || missing="$missing ${f#"$D"}"
done
if [ -z "$missing" ]; then
	ok "programs, man pages, units and examples installed"
else
	fail "installed files missing:$missing"
fi

if grep -q "^ExecStart=$sbindir/ftp-proxy -d " "$units/ftp-proxy.service" &&
    grep -q "^ExecStart=$sbindir/tftp-proxy -d " \
    "$units/tftp-proxy.service" &&
    grep -q "[[:space:]]$sbindir/tftp-proxy[[:space:]]" \
    "$ex/inetd.conf.tftp-proxy" &&
    grep -q "^\.Pa $sbindir/pfhelper" "$D$prefix/share/man/man8/ftp-proxy.8"
then
	ok "units, inetd line and man pages name $sbindir"
else
	fail "units, inetd line and man pages name $sbindir"
fi
left=$(grep -rl '@[a-z]*dir@' "$D" 2>/dev/null)
if [ -z "$left" ]; then
	ok "no @...dir@ left in the installed files"
else
	fail "@...dir@ left in: $left"
fi
if [ ! -s "$S/calls" ] && cmp -s "$S/passwd" "$S/passwd.before" &&
    cmp -s "$S/group" "$S/group.before"; then
	ok "a DESTDIR install creates no system user (none existed)"
else
	fail "a DESTDIR install tried to create system users:" \
	    "$(cat "$S/calls")"
fi

if make -C "$TOP" uninstall DESTDIR="$D" > "$LOG" 2>&1; then
	ok "make uninstall DESTDIR=..."
else
	fail "make uninstall DESTDIR=..."
	tail -n 5 "$LOG" | sed 's/^/#   /'
fi
left=$(find "$D" ! -type d)
if [ -z "$left" ]; then
	ok "nothing left after uninstall"
else
	fail "left after uninstall:" $left
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
