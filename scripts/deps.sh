#!/bin/sh
# SPDX-License-Identifier: ISC
# Install every Debian package the build, the demo, the tests and the
# benchmarks need; only what is missing; non-interactive; idempotent.
# No server is installed: a server package enables itself at boot, and
# the host must be left as it was found.  The test servers (vsftpd,
# tftpd-hpa, openbsd-inetd, ProFTPD) are unpacked under obj/servers
# instead (scripts/servers.sh), their libraries installed as packages.
# Nothing installed here has a service, so no policy-rc.d is needed.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)

# The programs' system users (scripts/users.sh), whatever is installed.
sh "$TOP/scripts/users.sh"

PKGS="build-essential pkg-config clang libclang-rt-14-dev libevent-dev libbsd-dev libmnl-dev
libnftnl-dev libseccomp-dev libsystemd-dev libcap-dev mandoc nftables iproute2 conntrack
lftp curl tftp-hpa procps psmisc
valgrind python3 python3-pyftpdlib tnftp"
servers=1
# `deps.sh PKG...' installs those instead (the targets that need more:
# make deb, make check-systemd), and unpacks no server.
[ $# -gt 0 ] && { PKGS="$*"; servers=0; }

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
[ "$servers" -eq 1 ] || exit 0
. "$TOP/scripts/servers.sh"
servers_deps deps.sh
