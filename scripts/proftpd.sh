# SPDX-License-Identifier: ISC
# proftpd.sh: sourced (needs $TOP).  ProFTPD for the benchmark's copying
# baseline (scripts/bench.sh) and for the integration tests that must
# see what ProFTPD makes of a command (regress/integration/ftp_smuggle.sh).
# proftpd-core conflicts with vsftpd (both provide ftp-server), so it is
# not installed: its .debs (and proftpd-mod-proxy's) are fetched with
# apt-get download and unpacked under obj/bench/proftpd (once); only
# the libraries they need are installed as packages (missing ones only,
# never a server, nothing started).  Sets PFTPD_DIR and PROFTPD.

PROFTPD_LIBS="libhiredis0.14 libmemcached11 libmemcachedutil2
libpcre2-posix3 libsodium23 libsqlite3-0 libidn2-0 libcap2 libacl1 libssl3"
PFTPD_DIR=$TOP/obj/bench/proftpd
PROFTPD=$PFTPD_DIR/usr/sbin/proftpd

# proftpd_deps [tag]: 0 once $PROFTPD and mod_proxy are there.
proftpd_deps() {
	_tag=${1:-proftpd.sh}
	missing=""
	for p in $PROFTPD_LIBS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "$_tag: installing$missing"
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install \
		    -y -qq --no-install-recommends $missing >/dev/null ||
		    { DEBIAN_FRONTEND=noninteractive timeout 300 \
		    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    timeout 300 apt-get install -y -qq \
		    --no-install-recommends $missing >/dev/null; } || return 1
	fi
	[ -x "$PROFTPD" ] && [ -f "$PFTPD_DIR/usr/lib/proftpd/mod_proxy.so" ] &&
	    return 0
	echo "$_tag: unpacking proftpd-core and proftpd-mod-proxy" \
	    "under obj/bench/"
	rm -rf "$PFTPD_DIR.dl"
	mkdir -p "$PFTPD_DIR.dl" "$PFTPD_DIR" || return 1
	(cd "$PFTPD_DIR.dl" && timeout 300 apt-get download -qq \
	    proftpd-core proftpd-mod-proxy >/dev/null 2>&1 ||
	    { timeout 300 apt-get update -qq && timeout 300 \
	    apt-get download -qq proftpd-core proftpd-mod-proxy; }) ||
	    return 1
	for d in "$PFTPD_DIR.dl"/*.deb; do
		dpkg-deb -x "$d" "$PFTPD_DIR" || return 1
	done
	rm -rf "$PFTPD_DIR.dl"
	[ -x "$PROFTPD" ]
}
