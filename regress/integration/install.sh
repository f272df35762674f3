#!/bin/sh
# SPDX-License-Identifier: ISC
# install.sh: `make install' into a DESTDIR puts every file where it
# belongs, with the installed paths filled in; `make uninstall' then
# leaves no file behind.  A DESTDIR install creates no system user.
#
# Needs make and the build (make all); no root, no network.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
D=$(mktemp -d /tmp/install.$$.XXXXXX)
LOG=$(mktemp /tmp/install.$$.log.XXXXXX)
trap 'rm -rf "$D" "$LOG"' EXIT
trap 'exit 1' INT TERM HUP

users_before=$(getent passwd _ftp-proxy _tftp-proxy _pfhelper)
if make -C "$TOP" install DESTDIR="$D" > "$LOG" 2>&1; then
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
if [ "$(getent passwd _ftp-proxy _tftp-proxy _pfhelper)" = "$users_before" ]
then
	ok "a DESTDIR install creates no system user"
else
	fail "a DESTDIR install created system users"
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
