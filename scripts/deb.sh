#!/bin/sh
# SPDX-License-Identifier: ISC
# make deb: build the Debian package from a copy of the tree (so that
# `dh clean' cannot touch obj/ or bin/ here), check it with lintian, and
# leave ftp-proxy_VERSION_ARCH.deb and lintian's report in obj/deb/.
set -eu
cd "$(dirname "$0")/.."
out=obj/deb
# What dpkg-buildpackage and lintian need, and the Build-Depends.
sh scripts/deps.sh dpkg-dev debhelper lintian fakeroot pkg-config \
    libbsd-dev libevent-dev libmnl-dev libnftnl-dev libseccomp-dev \
    libsystemd-dev

version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
src=$out/build/ftp-proxy-$version
rm -rf "$out"
mkdir -p "$src"
# Every source file as it is in the work tree (not yet committed ones
# too), nothing built; outside git, everything but obj/ and bin/.
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
	    xargs -0 cp --parents -t "$src"
else
	tar -cf - --exclude=./obj --exclude=./bin . | tar -xf - -C "$src"
fi || { echo "deb.sh: cannot copy the tree" >&2; exit 1; }
(cd "$src" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	echo "deb.sh: dpkg-buildpackage failed; log in $out/build.log" >&2
	exit 1
}
deb=ftp-proxy_${version}_${arch}.deb
mv "$out/build/$deb" "$out/"
echo "deb.sh: $out/$deb"
dpkg-deb -c "$out/$deb" | awk '{ print $1, $6 }'
lintian -I --show-overrides "$out/$deb" > "$out/lintian.txt" 2>&1 || true
echo "lintian:"
sed 's/^/	/' "$out/lintian.txt"
# No errors, no warnings (overrides are listed with their reason).
if grep -q '^[EW]:' "$out/lintian.txt"; then
	echo "deb.sh: lintian reports errors or warnings" >&2
	exit 1
fi
