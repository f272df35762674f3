#!/bin/bash
# SPDX-License-Identifier: ISC
# localaddr.sh: "is this one of this host's addresses" on a firewall
# set up as one node of an HA pair: net.ipv4.ip_nonlocal_bind=1 and
# net.ipv6.ip_nonlocal_bind=1, under which bind() takes any address.
# ftp-proxy and tftp-proxy in forward mode still serve (a bind() probe
# called every destination "the proxy itself"), still refuse a
# connection to the firewall's own addresses, and follow an address
# that comes and goes at run time at once (and one that flaps).  Then,
# without nonlocal bind, the backup's start: ftp-proxy -b and
# tftp-proxy (standalone and socket-activated) on a virtual address the
# firewall does not hold yet, serving once it arrives.  Run as root:
#   TOP=/path/to/tree bash regress/integration/localaddr.sh
. "$(dirname "$0")/lib.sh"

require_root
need "$BIN/ftp-proxy" "$BIN/tftp-proxy" "$BIN/pfhelper"
set_up topo_up
set_up admin_rules
set_up vsftpd_up
set_up tftpd_up
set_up in_fw sysctl -qw net.ipv4.ip_nonlocal_bind=1
set_up in_fw sysctl -qw net.ipv6.ip_nonlocal_bind=1

# A second address of the server, the firewall's VIP-to-be: reached
# through the firewall until the firewall takes it for itself.
V4=203.0.113.1 V6=2001:db8:4::1
vip_route() {
	in_srv ip addr add $V4/32 dev eth0 &&
	    in_srv ip addr add $V6/128 dev eth0 nodad &&
	    in_fw ip route add $V4/32 via $S4 &&
	    in_fw ip -6 route add $V6/128 via $S6
}
set_up vip_route

mkfile "$WORK/ftproot/pub/f" 256
mkfile "$WORK/tftproot/t" 64
set_up proxy_up
set_up tftp_proxy_up
CURL="timeout 30 ip netns exec $CLI curl -sS --connect-timeout 5 -m 25"

# Through the proxy: a download whose checksum is the server's.
get() { # host mode
	rm -f "$WORK/out"
	# shellcheck disable=SC2046
	$CURL -g $(mode_opts "$2") "ftp://$(urlhost "$1")/pub/f" \
	    -o "$WORK/out" && same "$WORK/out" "$WORK/ftproot/pub/f"
}

# The greeting the proxy gives a session to host (port 21).
greeting_is() { # code host
	py "$CLI" "$1" "$2" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[2])
	assert c.greeting[0] == int(sys.argv[1]), c.greeting
	EOF
}
refused_as_self() { # host
	_n=$(grep -c "original destination is the proxy itself" \
	    "$WORK/ftp-proxy.log")
	greeting_is 421 "$1" &&
	    [ "$(grep -c "original destination is the proxy itself" \
	    "$WORK/ftp-proxy.log")" -gt "$_n" ]
}

# --- 1. nonlocal bind: sessions are served -------------------------
check "ip_nonlocal_bind=1: IPv4 PASV download" get $S4 PASV
check "ip_nonlocal_bind=1: IPv4 PORT download" get $S4 PORT
check "ip_nonlocal_bind=1: IPv6 EPSV download" get $S6 EPSV
check "ip_nonlocal_bind=1: IPv6 EPRT download" get $S6 EPRT
check "ip_nonlocal_bind=1: TFTP read (IPv4)" eval \
    "curl_get $S4 t $WORK/t.out && same $WORK/t.out $WORK/tftproot/t"
check "ip_nonlocal_bind=1: TFTP read (IPv6)" eval \
    "curl_get $S6 t $WORK/t6.out && same $WORK/t6.out $WORK/tftproot/t"

# --- 2. the firewall's own addresses are still refused -------------
for h in $F4IN $F4OUT $F6IN $F6OUT; do
	check "to the firewall's own $h: refused" refused_as_self $h
done
check "TFTP to the firewall's own address: refused" eval \
    "! curl_get $F4OUT t $WORK/t.self -m 5 &&
    wait_re $WORK/tftp-proxy.log 'destination is this host' 5"

# --- 3. an address that arrives, then leaves -----------------------
check "before: $V4 is the server's, served" greeting_is 220 $V4
check "before: $V6 is the server's, served" greeting_is 220 $V6
# No wait between the change and the session: the proxy must know.
check "$V4 added to the firewall: refused at once" eval \
    "in_fw ip addr add $V4/32 dev outside && refused_as_self $V4"
check "$V6 added to the firewall: refused at once" eval \
    "in_fw ip addr add $V6/128 dev outside nodad && refused_as_self $V6"
check "the change is logged" \
    grep -q "$V4 is now one of this host's addresses" "$WORK/ftp-proxy.log"
check "$V4 removed: served again at once" eval \
    "in_fw ip addr del $V4/32 dev outside && greeting_is 220 $V4"
check "$V6 removed: served again at once" eval \
    "in_fw ip addr del $V6/128 dev outside && greeting_is 220 $V6"
# A VIP that flaps: every change is logged once, nothing leaks, the
# proxy goes on serving.
nfd() { ls "/proc/$WORKERPID/fd" | wc -l; }	# the worker's
FDS=$(nfd)
flap() {
	_k=0
	while [ $_k -lt 20 ]; do
		in_fw ip addr add 203.0.113.3/32 dev outside &&
		    in_fw ip addr del 203.0.113.3/32 dev outside || return 1
		_k=$((_k + 1))
	done
}
set_up flap
check "a VIP that flaps 20 times: 40 changes, each logged once" eval \
    "wait_grep $WORK/ftp-proxy.log '203.0.113.3 is no longer' 20 &&
    [ \$(grep -c '203.0.113.3 is now' $WORK/ftp-proxy.log) -eq 20 ] &&
    [ \$(grep -c '203.0.113.3 is no longer' $WORK/ftp-proxy.log) -eq 20 ]"
check "after the flapping: served, no descriptor more" \
    eval "greeting_is 220 $V4 && [ \$(nfd) -eq $FDS ]"
check "ftp-proxy still runs" alive "$PROXYPID"
# pfhelper keeps CAP_NET_ADMIN: its address socket must not be one
# that changes addresses (hostaddr.c opens it without the capability).
check "the address socket cannot add an address, even as root" eval \
    "in_fw $TOP/obj/regress/tools/hostaddr_cost -w 203.0.113.9 &&
    ! in_fw ip addr show | grep -q 203.0.113.9"

# --- 4. a backup node: listening on a VIP it does not hold yet -----
# Reverse mode (the client dials the VIP), without nonlocal bind, and
# without CAP_NET_ADMIN and CAP_NET_RAW (so without IP_TRANSPARENT,
# which would bind any address too): only IP_FREEBIND lets the sockets
# be bound.  The front ends reach a pfhelper service (-S) of this run.
LAUNCH=$TOP/obj/regress/tools/launch_fds
NOCAP="setpriv --bounding-set -net_admin,-net_raw"
VIP=203.0.113.2
proxy_stop
kill "$TFTPPROXYPID"
set_up wait_gone "$TFTPPROXYPID"
tables_gone() {
	_i=0
	while [ $_i -lt 50 ] && { has_table ftp-proxy || has_table tftp-proxy; }; do
		sleep 0.1; _i=$((_i + 1))
	done
	! has_table ftp-proxy && ! has_table tftp-proxy
}
set_up tables_gone
set_up in_fw sysctl -qw net.ipv4.ip_nonlocal_bind=0
set_up in_fw sysctl -qw net.ipv6.ip_nonlocal_bind=0
D=$PFHDIR
bg ip netns exec "$FW" "$BIN/pfhelper" -S -s "$D" -d -D 7 \
    2>> "$WORK/pfhelper.log"
svc_up() {
	_i=0
	while [ $_i -lt 50 ] && [ ! -S "$D/tftp" ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	[ -S "$D/tftp" ]
}
set_up svc_up
PROXYPORT=8022 PROXYWRAP=$NOCAP proxy_up -S -R $S4 -b $VIP -p 8022
check "ftp-proxy -b $VIP starts without the address" alive "$PROXYPID"
bg ip netns exec "$FW" $NOCAP "$BIN/tftp-proxy" -S -s "$D" \
    -d -v -R $S4 -l $VIP -p 6970 2>> "$WORK/tftp-proxy.log"
TFTPPROXYPID=$LASTPID
bg ip netns exec "$FW" $NOCAP "$LAUNCH" -f $VIP -p 6971 \
    "$BIN/tftp-proxy" -S -s "$D" -d -v -R $S4 2>> "$WORK/tftp-act.log"
ACTPID=$LASTPID
check "tftp-proxy -l $VIP starts without the address" eval \
    "wait_udp $FW 6970 && alive $TFTPPROXYPID"
check "tftp-proxy on a FreeBind= socket starts without it" eval \
    "wait_re $WORK/tftp-act.log 'socket activation' 5 && alive $ACTPID"
set_up in_fw ip addr add $VIP/32 dev inside
check "$VIP arrives: a PASV download through it at once" eval \
    "$CURL --disable-epsv ftp://$VIP:8022/pub/f -o $WORK/vip.out &&
    same $WORK/vip.out $WORK/ftproot/pub/f"
check "$VIP arrives: a PORT download through it" eval \
    "$CURL -P - --disable-eprt ftp://$VIP:8022/pub/f -o $WORK/vip2.out &&
    same $WORK/vip2.out $WORK/ftproot/pub/f"
check "$VIP: TFTP read through tftp-proxy -l" eval \
    "$CURL tftp://$VIP:6970/t -o $WORK/vt.out &&
    same $WORK/vt.out $WORK/tftproot/t"
check "$VIP: TFTP read through the FreeBind= socket" eval \
    "$CURL tftp://$VIP:6971/t -o $WORK/va.out &&
    same $WORK/va.out $WORK/tftproot/t"

finish
