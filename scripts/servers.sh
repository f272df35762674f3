# SPDX-License-Identifier: ISC
# servers.sh: sourced (needs $TOP).  The servers that the suites, the
# demo and the benchmarks run inside their own network namespaces:
# vsftpd, tftpd-hpa's in.tftpd, openbsd-inetd's inetd, and ProFTPD with
# mod_proxy (the benchmark's copying baseline, ftp_smuggle.sh's second
# server).  None of them is installed on the host: a server package
# enables itself at boot (after a reboot the host would run FTP on 21,
# TFTP on 69, inetd).  Their .debs are fetched with apt-get download and
# unpacked under $SERVERS, once; only the libraries they link are
# installed, as ordinary packages, and only the missing ones.  Nothing
# is started here.
#
#   servers_deps [tag]	$VSFTPD, $TFTPD and $INETD are there (0) or not
#   proftpd_deps [tag]	$PROFTPD and its mod_proxy are there (0) or not
#   pureftpd_deps [tag]	$PUREFTPD and $PUREPW (ftps.sh) are there (0) or not
#
# SERVERS defaults to $TOP/obj/servers; a script that runs the suites
# from a copy of the tree (sanitize.sh, valgrind.sh) passes its own.
# The servers' built-in paths are configured around by their callers:
# vsftpd's secure_chroot_dir and ftp_username (the package's postinst
# makes /var/run/vsftpd/empty and the user ftp, which never happens
# here), inetd's -i (no pid file in /run).

SERVERS=${SERVERS:-$TOP/obj/servers}
VSFTPD=$SERVERS/vsftpd/usr/sbin/vsftpd
TFTPD=$SERVERS/tftpd-hpa/usr/sbin/in.tftpd
INETD=$SERVERS/openbsd-inetd/usr/sbin/inetd
PFTPD_DIR=$SERVERS/proftpd
PROFTPD=$PFTPD_DIR/usr/sbin/proftpd
PUREFTPD=$SERVERS/pure-ftpd/usr/sbin/pure-ftpd
PUREPW=$SERVERS/pure-ftpd/usr/bin/pure-pw

# What the binaries link (Depends: of the three, less the maintainer
# scripts' own: adduser, debconf, update-inetd, tcpd ...).
SERVERS_LIBS="libcap2 libpam0g libssl3 libwrap0 libbsd0 libevent-2.1-7
libsystemd0 libtirpc3"
PROFTPD_LIBS="libhiredis0.14 libmemcached11 libmemcachedutil2
libpcre2-posix3 libsodium23 libsqlite3-0 libidn2-0 libcap2 libacl1 libssl3"

# apt_retry cmd...: apt-get as given; once more after apt-get update
# (an old or missing package list).  Bounded; waits for another apt.
apt_retry() {
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get \
	    -o DPkg::Lock::Timeout=120 -qq "$@" > /dev/null 2>&1 ||
	    { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get \
	    -o DPkg::Lock::Timeout=120 -qq update &&
	    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get \
	    -o DPkg::Lock::Timeout=120 -qq "$@" > /dev/null; }
}

# libs_install tag pkg...: install those of pkg... that are missing.
libs_install() {
	_tag=$1
	shift
	_missing=""
	for _p; do
		dpkg-query -W -f='${Status}' "$_p" 2>/dev/null |
		    grep -q "ok installed" || _missing="$_missing $_p"
	done
	[ -z "$_missing" ] && return 0
	echo "$_tag: installing$_missing"
	# shellcheck disable=SC2086
	apt_retry install -y --no-install-recommends $_missing
}

# unpack_debs tag dir file pkg...: unless file is there, fetch the .debs
# of pkg... and unpack them all into dir (never installed).
unpack_debs() {
	_tag=$1 _dir=$2 _file=$3
	shift 3
	[ -e "$_file" ] && return 0
	echo "$_tag: unpacking $* under $_dir"
	rm -rf "$_dir.dl.$$"
	mkdir -p "$_dir.dl.$$" "$_dir" || return 1
	(cd "$_dir.dl.$$" && apt_retry download "$@") &&
	    for _d in "$_dir.dl.$$"/*.deb; do
		dpkg-deb -x "$_d" "$_dir" || break
	    done
	rm -rf "$_dir.dl.$$"
	[ -e "$_file" ]
}

servers_deps() {
	_t=${1:-servers.sh}
	[ -x "$VSFTPD" ] && [ -x "$TFTPD" ] && [ -x "$INETD" ] && return 0
	# shellcheck disable=SC2086
	libs_install "$_t" $SERVERS_LIBS &&
	    unpack_debs "$_t" "$SERVERS/vsftpd" "$VSFTPD" vsftpd &&
	    unpack_debs "$_t" "$SERVERS/tftpd-hpa" "$TFTPD" tftpd-hpa &&
	    unpack_debs "$_t" "$SERVERS/openbsd-inetd" "$INETD" openbsd-inetd
}

proftpd_deps() {
	_t=${1:-servers.sh}
	# shellcheck disable=SC2086
	libs_install "$_t" $PROFTPD_LIBS &&
	    unpack_debs "$_t" "$PFTPD_DIR" \
	    "$PFTPD_DIR/usr/lib/proftpd/mod_proxy.so" \
	    proftpd-core proftpd-mod-proxy && [ -x "$PROFTPD" ]
}

# pure-ftpd with TLS; its virtual users (pure-pw) are from
# pure-ftpd-common.  It links what vsftpd does (libcap2, libpam0g,
# libssl3).
pureftpd_deps() {
	_t=${1:-servers.sh}
	# shellcheck disable=SC2086
	libs_install "$_t" $SERVERS_LIBS &&
	    unpack_debs "$_t" "$SERVERS/pure-ftpd" "$PUREPW" \
	    pure-ftpd pure-ftpd-common && [ -x "$PUREFTPD" ]
}

# is_server pid path: process pid runs the binary path (not the host's
# own copy of a server, should the host have one).
is_server() {
	[ "$(readlink -f "/proc/${1:-0}/exe" 2>/dev/null)" = \
	    "$(readlink -f "$2")" ] ||
	    { echo "pid ${1:-0} is not $2"; return 1; }
}
