# SPDX-License-Identifier: ISC
# hadeps.sh: sourced (needs $TOP).  keepalived and conntrackd for the HA
# suite (regress/integration/ha.sh).  Both packages enable and start a
# daemon when installed, so they are not: like the test servers
# (scripts/servers.sh) their .debs are unpacked under $SERVERS/ha, once,
# and only the libraries they link are installed, as ordinary packages,
# the missing ones only.  Nothing is started here.
#   ha_deps [tag]	$KEEPALIVED and $CONNTRACKD are there (0) or not

. "$TOP/scripts/servers.sh"

HA_DIR=$SERVERS/ha
KEEPALIVED=$HA_DIR/usr/sbin/keepalived
CONNTRACKD=$HA_DIR/usr/sbin/conntrackd
HA_LIBS="libmnl0 libnetfilter-conntrack3 libnetfilter-cthelper0
libnetfilter-queue1 libnfnetlink0 libsystemd0 libglib2.0-0 libnftnl11
libnl-3-200 libnl-genl-3-200 libpcre2-8-0 libsnmp40 libssl3"

ha_deps() {
	_t=${1:-hadeps.sh}
	[ -x "$KEEPALIVED" ] && [ -x "$CONNTRACKD" ] && return 0
	# shellcheck disable=SC2086
	libs_install "$_t" $HA_LIBS &&
	    unpack_debs "$_t" "$HA_DIR" "$CONNTRACKD" keepalived conntrackd &&
	    [ -x "$KEEPALIVED" ]
}
