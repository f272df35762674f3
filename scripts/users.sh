#!/bin/sh
# SPDX-License-Identifier: ISC
# Create the system users and groups the three programs run as, if
# missing: _ftp-proxy (ftp-proxy), _tftp-proxy (tftp-proxy) and
# _pfhelper (pfhelper, which keeps CAP_NET_ADMIN and so must not share
# a uid with the front ends).  No home directory, no login shell.
# Idempotent; needs root only when something is missing.
set -eu

USERS="_ftp-proxy _tftp-proxy _pfhelper"
NOLOGIN=/usr/sbin/nologin
[ -x "$NOLOGIN" ] || NOLOGIN=/sbin/nologin
[ -x "$NOLOGIN" ] || NOLOGIN=/bin/false

missing=""
for u in $USERS; do
	getent passwd "$u" >/dev/null || missing="$missing $u"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "users.sh: missing system users:$missing (run as root)" >&2
	exit 1
fi
for u in $missing; do
	getent group "$u" >/dev/null || groupadd -r "$u"
	useradd -r -g "$u" -M -d /nonexistent -s "$NOLOGIN" \
	    -c "$u daemon" "$u"
	echo "users.sh: created system user $u"
done
