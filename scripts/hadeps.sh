# SPDX-License-Identifier: ISC
# hadeps.sh: sourced (needs $TOP).  keepalived and conntrackd for the HA
# suite (regress/integration/ha.sh).  Both packages enable and start a
# daemon when installed, so they are not: their .debs are fetched with
# apt-get download and unpacked under obj/ha (once); only the libraries
# they need are installed as packages (missing ones only, never a
# server, nothing started).  Sets HA_DIR, KEEPALIVED and CONNTRACKD.

HA_LIBS="libmnl0 libnetfilter-conntrack3 libnetfilter-cthelper0
libnetfilter-queue1 libnfnetlink0 libglib2.0-0 libnftnl11 libnl-3-200
libnl-genl-3-200 libpcre2-8-0 libsnmp40 libssl3"
HA_DIR=$TOP/obj/ha
KEEPALIVED=$HA_DIR/usr/sbin/keepalived
CONNTRACKD=$HA_DIR/usr/sbin/conntrackd

ha_apt() { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get "$@"; }

# ha_deps [tag]: 0 once $KEEPALIVED and $CONNTRACKD are there.
ha_deps() {
	_tag=${1:-hadeps.sh}
	missing=""
	for p in $HA_LIBS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "$_tag: installing$missing"
		# shellcheck disable=SC2086
		ha_apt install -y -qq --no-install-recommends $missing \
		    >/dev/null || { ha_apt update -qq && ha_apt install -y \
		    -qq --no-install-recommends $missing >/dev/null; } ||
		    return 1
	fi
	[ -x "$KEEPALIVED" ] && [ -x "$CONNTRACKD" ] && return 0
	echo "$_tag: unpacking keepalived and conntrackd under obj/ha/"
	rm -rf "$HA_DIR.dl"
	mkdir -p "$HA_DIR.dl" "$HA_DIR" || return 1
	(cd "$HA_DIR.dl" && ha_apt download -qq keepalived conntrackd \
	    >/dev/null 2>&1 || { ha_apt update -qq &&
	    ha_apt download -qq keepalived conntrackd; }) || return 1
	for d in "$HA_DIR.dl"/*.deb; do
		dpkg-deb -x "$d" "$HA_DIR" || return 1
	done
	rm -rf "$HA_DIR.dl"
	[ -x "$KEEPALIVED" ] && [ -x "$CONNTRACKD" ]
}
