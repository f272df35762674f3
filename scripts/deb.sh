#!/bin/sh
# SPDX-License-Identifier: ISC
# make deb: build the Debian package nft-ftp-proxy from a copy of the tree
# (so that `dh clean' cannot touch obj/ or bin/ here), check it with
# lintian, and leave in obj/deb/:
#   nft-ftp-proxy_VERSION_ARCH.deb, its source (.dsc, .tar.xz) and
#   lintian's report (lintian.txt);
#   prev/nft-ftp-proxy_VERSION~prev_ARCH.deb, the same package with a
#   lower version, for make check-systemd's upgrade test.
set -eu
cd "$(dirname "$0")/.."
out=obj/deb
# What dpkg-buildpackage and lintian need, and the Build-Depends.
sh scripts/deps.sh dpkg-dev debhelper lintian fakeroot pkg-config \
    libbsd-dev libevent-dev libmnl-dev libnftnl-dev libseccomp-dev \
    libsystemd-dev

name=$(dpkg-parsechangelog -S Source)
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
src=$out/build/$name-$version
rm -rf "$out"
mkdir -p "$src" "$out/prev"
# Every source file as it is in the work tree (not yet committed ones
# too), nothing built; outside git, everything but obj/ and bin/.
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
	    xargs -0 cp --parents -t "$src"
else
	tar -cf - --exclude=./obj --exclude=./bin . | tar -xf - -C "$src"
fi || { echo "deb.sh: cannot copy the tree" >&2; exit 1; }
# build LOG ARGS...: dpkg-buildpackage in the copy, its output in LOG.
build() {
	log=$1
	shift
	(cd "$src" && dpkg-buildpackage -us -uc "$@") > "$log" 2>&1 || {
		tail -40 "$log" >&2
		echo "deb.sh: dpkg-buildpackage failed; log in $log" >&2
		exit 1
	}
}
# The package and its (native) source.
build "$out/build.log"
deb=${name}_${version}_${arch}.deb
changes=$out/build/${name}_${version}_${arch}.changes
# The binary package and the source, every tag (-I: info, --pedantic).
lintian -I --pedantic --show-overrides "$changes" > "$out/lintian.txt" 2>&1 ||
    true
mv "$out/build/$deb" "$out/build/${name}_${version}.dsc" \
    "$out/build/${name}_${version}.tar.xz" "$out/"
# The same with a lower version: what an upgrade comes from.  Built in
# the same tree, without cleaning it (-nc): nothing is compiled again.
sed -i "1s/($version)/($version~prev)/" "$src/debian/changelog"
build "$out/prev/build.log" -b -nc
mv "$out/build/${name}_${version}~prev_${arch}.deb" "$out/prev/"
echo "deb.sh: $out/$deb (and $out/prev/${name}_${version}~prev_${arch}.deb)"
dpkg-deb -c "$out/$deb" | awk '{ print $1, $6 }'
echo "lintian:"
sed 's/^/	/' "$out/lintian.txt"
# No errors, no warnings (overrides are listed with their reason).
if grep -q '^[EW]:' "$out/lintian.txt"; then
	echo "deb.sh: lintian reports errors or warnings" >&2
	exit 1
fi
