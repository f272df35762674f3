#!/bin/sh
# SPDX-License-Identifier: ISC
# Install every Debian package the build, the demo, the tests and the
# benchmarks need; only what is missing; non-interactive; idempotent.
set -eu

# The programs' system users (scripts/users.sh), whatever is installed.
sh "$(dirname "$0")/users.sh"

PKGS="build-essential pkg-config clang libclang-rt-14-dev libevent-dev libbsd-dev libmnl-dev
libnftnl-dev libseccomp-dev libsystemd-dev libcap-dev mandoc nftables iproute2 conntrack
vsftpd lftp curl tftpd-hpa tftp-hpa openbsd-inetd procps psmisc
valgrind python3 python3-pyftpdlib tnftp"
# `deps.sh PKG...' installs those instead (the targets that need more:
# make deb, make check-systemd).
[ $# -gt 0 ] && PKGS="$*"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Installing servers must not start them on the host: our tests run
# their own copies inside network namespaces.
rcd=/usr/sbin/policy-rc.d
made_rcd=0
if [ ! -e "$rcd" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$rcd"
	chmod 755 "$rcd"
	made_rcd=1
fi
trap '[ "$made_rcd" = 1 ] && rm -f "$rcd"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
