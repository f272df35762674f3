# SPDX-License-Identifier: ISC
# ha_lib.sh: sourced after lib.sh by ha.sh and scripts/bench-ha.sh.
# The HA pair: topology, rulesets, the proxies, keepalived and
# conntrackd from etc/'s templates, and the helpers that drive and
# observe a failover (see ha.sh for the picture).
#   ha_up	everything up: fw1 master, fw2 backup (set_up steps)
. "$TOP/scripts/hadeps.sh"

require_root
need "$BIN/ftp-proxy" "$BIN/tftp-proxy" "$BIN/pfhelper"
ha_deps ha.sh > "$WORK/deps.log" 2>&1 ||
    { cat "$WORK/deps.log"; fail "keepalived, conntrackd (scripts/hadeps.sh)"
    finish; exit 1; }

N1=${P}fw1 N2=${P}fw2
NSLIST="$CLI $SRV $N1 $N2"
VIN=192.0.2.1 VOUT=198.51.100.1
SIZE=${HA_SIZE:-4096}		# KiB per download
RATE=${HA_RATE:-524288}		# bytes/s (vsftpd's): a download lasts 8 s
CURL="ip netns exec $CLI curl -sS --connect-timeout 3"

in_n() { _n=$1; shift; ip netns exec "$_n" "$@"; }

# --- topology ------------------------------------------------------
# node NS NUM: a firewall, its inside and outside ports on the
# client's and the server's bridges.
node() {
	ip netns add "$1" || return 1
	ip link add "${P}i$2" netns "$1" type veth peer name "c$2" netns "$CLI"
	ip link add "${P}o$2" netns "$1" type veth peer name "s$2" netns "$SRV"
	in_n "$1" ip link set "${P}i$2" name inside
	in_n "$1" ip link set "${P}o$2" name outside
	in_cli ip link set "c$2" master br0 up
	in_srv ip link set "s$2" master br0 up
	in_n "$1" ip link set lo up
	in_n "$1" ip addr add 192.0.2.$(($2 + 1))/24 dev inside
	in_n "$1" ip addr add 198.51.100.$(($2 + 1))/24 dev outside
	for _i in inside outside; do
		in_n "$1" sysctl -qw net.ipv6.conf.$_i.accept_dad=0
	done
	in_n "$1" ip addr add 2001:db8:1::$(($2 + 1))/64 dev inside nodad
	in_n "$1" ip addr add 2001:db8:2::$(($2 + 1))/64 dev outside nodad
	in_n "$1" sysctl -qw net.ipv6.conf.all.forwarding=1
	in_n "$1" ip link set inside up
	in_n "$1" ip link set outside up
	in_n "$1" sysctl -qw net.ipv4.ip_forward=1
	in_n "$1" sysctl -qw net.ipv4.ip_nonlocal_bind=1
	in_n "$1" sysctl -qw net.ipv6.ip_nonlocal_bind=1
	in_n "$1" sysctl -qw net.netfilter.nf_conntrack_helper=0 2>/dev/null
	# A packet of a connection whose entry is not committed yet is
	# invalid, not a new connection: dropped (below), not reset.
	in_n "$1" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
	return 0
}

ha_topo() {
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP
	ip netns add "$CLI" && ip netns add "$SRV" || return 1
	for ns in "$CLI" "$SRV"; do
		in_n "$ns" ip link set lo up
		in_n "$ns" ip link add br0 type bridge
		in_n "$ns" ip link set br0 up
	done
	node "$N1" 1 && node "$N2" 2 || return 1
	ip link add "${P}y1" netns "$N1" type veth peer name "${P}y2" netns "$N2"
	in_n "$N1" ip link set "${P}y1" name sync
	in_n "$N2" ip link set "${P}y2" name sync
	in_n "$N1" ip addr add 203.0.113.1/24 dev sync
	in_n "$N2" ip addr add 203.0.113.2/24 dev sync
	in_n "$N1" ip link set sync up
	in_n "$N2" ip link set sync up
	in_cli ip addr add $C4/24 dev br0
	in_cli ip route add default via $VIN
	in_srv ip addr add $S4/24 dev br0
	in_cli ip addr add $C6/64 dev br0 nodad
	in_cli ip -6 route add default via $F6IN
	in_srv ip addr add $S6/64 dev br0 nodad
}

# The admin's ruleset on node $1: forward policy drop with pfhelper's
# line; FTP and TFTP from the inside go to the proxies on the VIP; an
# invalid packet is dropped on input too (reverse mode's data
# connections go to the VIP: before conntrackd's commit their packets
# would be answered with a reset).
ha_rules() {
	line=$("$BIN/pfhelper" -n | sed -n 's/^#[[:space:]]*//; /ct mark and/p' | head -n 1)
	in_n "$1" nft -f - <<-EOF2
	table inet admin {
		chain filter_in {
			type filter hook input priority 0;
			ct state invalid drop
		}
		chain filter_fwd {
			type filter hook forward priority 0; policy drop;
			ct state established,related accept
			$line
		}
		chain nat_pre {
			type nat hook prerouting priority dstnat;
			iifname "inside" tcp dport 21 dnat ip to $VIN:8021
			iifname "inside" udp dport 69 dnat ip to $VIN:6969
			iifname "inside" tcp dport 21 dnat ip6 to [$F6IN]:8021
		}
	}
	EOF2
}

# The broker and both proxies on node $1 (number $2), service
# directory $WORK/pfh$2.
ha_proxies() {
	_d=$WORK/pfh$2
	bg ip netns exec "$1" "$BIN/pfhelper" -S -s "$_d" -d -D 7 \
	    2>> "$WORK/pfhelper$2.log"
	eval "PFH$2=\$LASTPID"
	wait_sock "$_d/tftp" || return 1
	bg ip netns exec "$1" "$BIN/ftp-proxy" -d -D 7 -S -s "$_d" \
	    -a $VOUT -t 20 2>> "$WORK/ftp-proxy$2.log"
	eval "FTP$2=\$LASTPID"
	bg ip netns exec "$1" "$BIN/tftp-proxy" -d -v -S -s "$_d" -a $VOUT \
	    2>> "$WORK/tftp-proxy$2.log"
	eval "TFTP$2=\$LASTPID"
	bg ip netns exec "$1" "$BIN/ftp-proxy" -d -D 7 -S -s "$_d" -R $C4 \
	    -b $VOUT -p 2121 -a $VIN -t 20 2>> "$WORK/ftp-rev$2.log"
	eval "REV$2=\$LASTPID"
	wait_port "$1" 8021 && wait_udp "$1" 6969 && wait_port "$1" 2121
}

# Fill etc/'s templates for node $2 (priority $3) into $WORK.
ha_conf() {
	_me=203.0.113.$2 _peer=203.0.113.$((3 - $2))
	mkdir -p "$WORK/run$2"
	sed -e "s|@SYNC_IF@|sync|; s|@SYNC_LOCAL@|$_me|g" \
	    -e "s|@SYNC_PEER@|$_peer|g; s|@RUN@|$WORK/run$2|g" \
	    -e "s|@LOG@|$WORK/conntrackd$2.log|" \
	    "$TOP/etc/conntrackd.conf" > "$WORK/conntrackd$2.conf"
	sed -e "s|@NODE@|fw$2|; s|@PRIORITY@|$3|" \
	    -e "s|@NOTIFY@|$TOP/etc/conntrackd-notify.sh $WORK/conntrackd$2.conf $CONNTRACKD|" \
	    "$TOP/etc/keepalived.conf" > "$WORK/keepalived$2.conf"
}

ctd_up() { # ns num
	bg ip netns exec "$1" "$CONNTRACKD" -C "$WORK/conntrackd$2.conf" \
	    >> "$WORK/conntrackd$2.out" 2>&1
	eval "CTD$2=\$LASTPID"
	wait_sock "$WORK/run$2/conntrackd.ctl"
}

ka_up() { # ns num
	bg ip netns exec "$1" "$KEEPALIVED" -n -l -D -P -G \
	    -f "$WORK/keepalived$2.conf" -p "$WORK/run$2/keepalived.pid" \
	    -r "$WORK/run$2/vrrp.pid" -c "$WORK/run$2/checkers.pid" \
	    -b "$WORK/run$2/bfd.pid" >> "$WORK/keepalived$2.log" 2>&1
	eval "KA$2=\$LASTPID"
}

# within TENTHS command...: until the command succeeds, polled every
# tenth of a second, TENTHS times at most.
within() {
	_wn=$1 _wi=0
	shift
	while [ $_wi -lt "$_wn" ]; do
		"$@" && return 0
		sleep 0.1; _wi=$((_wi + 1))
	done
	"$@"
}

wait_sock() { within 50 test -S "$1"; }

# Whether node $1 holds the VIPs; wait (bounded, $2 tenths) for it.
has_vip() { in_n "$1" ip -4 addr show dev inside | grep -q " $VIN/24"; }
no_vip() { ! has_vip "$1"; }
wait_vip() { within "${2:-100}" has_vip "$1" || { echo "no VIP on $1"; false; }; }
wait_novip() { within 100 no_vip "$1"; }

# Elements in node $1's proxy tables (both); tables of node $1.
elems() {
	for _t in ftp-proxy tftp-proxy; do
		ptable $_t "$1"
	done | grep -o expires | wc -l
}
ptables() { in_n "$1" nft list tables 2>/dev/null | grep -c -- '-proxy'; }
no_elems() { [ "$(elems "$1")" -eq 0 ]; }
wait_noelems() {
	within 50 no_elems "$1" || { echo "$(elems "$1") elements on $1"; false; }
}

# A download through whichever node is master, in the background:
# dl NAME MODE.  $WORK/NAME.rc gets curl's status.
# dl NAME MODE reverse: from the server's side, through ftp-proxy -R
# on the VIP 198.51.100.1, from the FTP server inside.
dl() {
	rm -f "$WORK/$1.out" "$WORK/$1.rc"
	if [ -n "${3:-}" ]; then
		_ns=$SRV _url=ftp://$VOUT:2121 _src=$WORK/ftproot1/pub/big
	else
		_ns=$CLI _url=ftp://$S4 _src=$WORK/ftproot/pub/big
	fi
	echo "$_src" > "$WORK/$1.src"
	# shellcheck disable=SC2046
	bg sh -c "timeout 90 ip netns exec $_ns curl -sS --connect-timeout 3 \
	    $(mode_opts "$2") $_url/pub/big \
	    -o $WORK/$1.out 2> $WORK/$1.err; echo \$? > $WORK/$1.rc"
}
# Until download $1 has $2 KiB (bounded, 10 s).
has_kib() {
	[ "$(stat -c %s "$WORK/$1.out" 2>/dev/null || echo 0)" -ge $(($2 * 1024)) ]
}
dl_going() {
	within 100 has_kib "$1" "$2" || { echo "download $1 is not going"; false; }
}
# Download $1 is still running, with more than $2 KiB to go.
dl_mid() {
	[ ! -s "$WORK/$1.rc" ] && ! has_kib "$1" $((SIZE - $2)) ||
	    { echo "download $1 is over already ($(stat -c %s \
	    "$WORK/$1.out") bytes)"; false; }
}
# Until download $1 has all its bytes (bounded, 85 s), which are the
# server's file.  (curl itself waits on for the 226 of a control
# connection that lived on the failed node.)
dl_done() {
	# Bounded by curl's own 90 s: a segment lost in the handover comes
	# again only after TCP's backed-off retransmission timer.
	within 850 has_kib "$1" "$SIZE" ||
	    { echo "download $1: $(stat -c %s "$WORK/$1.out") bytes"; false; }
	same "$WORK/$1.out" "$(cat "$WORK/$1.src")" ||
	    { echo "download $1: not the server's file"; cat "$WORK/$1.err"
	    false; }
}

# An idle control session (logged in), in the background, that sends
# NOOP once $WORK/NAME.go exists and writes what came back to NAME.res.
idle() {
	rm -f "$WORK/$1.go" "$WORK/$1.res"
	bg ip netns exec "$CLI" timeout 120 python3 -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 21), timeout=10)
f = s.makefile("rb")
def reply():
    l = f.readline()
    while l[3:4] == b"-":
        l = f.readline()
    return l[:3]
assert reply() == b"220"
s.sendall(b"USER anonymous\r\n"); reply()
s.sendall(b"PASS x@\r\n")
open(sys.argv[2] + ".in", "w").write(reply().decode())
while not os.path.exists(sys.argv[2] + ".go"):
    time.sleep(0.05)
try:
    s.sendall(b"NOOP\r\n")
    r = "eof " + reply().decode()
except ConnectionResetError:
    r = "reset"
except OSError as e:
    r = "error " + str(e)
open(sys.argv[2] + ".res", "w").write(r)
' "$S4" "$WORK/$1"
}
idle_in() { wait_grep "$WORK/$1.in" 230 1; }
idle_reset() {
	touch "$WORK/$1.go"
	within 300 test -s "$WORK/$1.res"
	[ "$(cat "$WORK/$1.res" 2>/dev/null)" = reset ] ||
	    { echo "got: $(cat "$WORK/$1.res" 2>/dev/null)"; false; }
}

# Until fw2's conntrackd has $1 of the client's connections from fw1
# (its external cache; bounded, 5 s).
in_cache() {
	[ "$("$CONNTRACKD" -C "$WORK/conntrackd2.conf" -e 2>/dev/null |
	    grep -c "src=$C4 ")" -ge "$1" ]
}
synced() {
	within 50 in_cache "$1" ||
	    { "$CONNTRACKD" -C "$WORK/conntrackd2.conf" -e; false; }
}

# A new FTP session (a small download) and a TFTP read succeed (polled,
# bounded: 30 s after $T0); how long after $T0 is a figure, printed, not
# asserted (scripts/bench-ha.sh measures it).
since() { echo "$(date +%s%N) $T0" | awk '{ printf "%.1f", ($1 - $2) / 1e9 }'; }
# by what command...: the command succeeds, tried every 0.2 s until 30 s
# after $T0; says when.
by() {
	_w=$1
	shift
	while :; do
		"$@" && { echo "$_w after $(since) s"; return 0; }
		[ "$(date +%s%N)" -lt $((T0 + 30000000000)) ] || return 1
		sleep 0.2
	done
}
get_small() { # ns url file: a download of url is file
	rm -f "$WORK/small.out"
	ip netns exec "$1" curl -sS --connect-timeout 3 -m 2 "$2" \
	    -o "$WORK/small.out" 2>/dev/null && same "$WORK/small.out" "$3"
}
new_ftp() {
	by FTP get_small "$CLI" "ftp://$S4/pub/small" "$WORK/ftproot/pub/small"
}
new_rev() {
	by "reverse FTP" get_small "$SRV" "ftp://$VOUT:2121/pub/small" \
	    "$WORK/ftproot1/pub/small"
}
new_ftp6() {
	by "FTP over IPv6" get_small "$CLI" "ftp://[$S6]/pub/small" \
	    "$WORK/ftproot/pub/small"
}
new_tftp() { by TFTP get_small "$CLI" "tftp://$S4/t" "$WORK/tftproot/t"; }

# gap_watch NAME: in the background, the seconds from $T0 until
# download NAME grows again, into $WORK/NAME.gap (a figure, not a test).
gap_watch() {
	bg sh -c 's0=$(stat -c %s "$1"); i=0
	    while [ $i -lt 400 ] && [ "$(stat -c %s "$1")" -eq "$s0" ]; do
		sleep 0.05; i=$((i + 1))
	    done
	    echo "$(date +%s%N) $2" |
		awk "{ printf \"%.2f\\n\", (\$1 - \$2) / 1e9 }" > "$3"' \
	    sh "$WORK/$1.out" "$T0" "$WORK/$1.gap"
}

# fw1 fails: its links go down, its keepalived gets SIGKILL; T0 is then.
fw1_fails() {
	T0=$(date +%s%N)
	for _l in inside outside sync; do in_n "$N1" ip link set $_l down; done
	kill -9 "$(cat "$WORK/run1/vrrp.pid")" "$KA1" 2>/dev/null
}
fw1_links_up() {
	for _l in inside outside sync; do in_n "$N1" ip link set $_l up; done
}

# --- set-up --------------------------------------------------------
ha_up() {
	ls -d /run/keepalived* /run/conntrackd* /var/lock/conntrack* \
	    > "$WORK/run.before" 2>/dev/null
	set_up ha_topo
	set_up ha_rules "$N1"
	set_up ha_rules "$N2"
	VSFTPD_EXTRA="anon_max_rate=$RATE"
	set_up vsftpd_up
	set_up vsftpd_up "$CLI" 1
	set_up tftpd_up
	mkfile "$WORK/ftproot/pub/big" "$SIZE"
	mkfile "$WORK/ftproot/pub/small" 64
	cp "$WORK/ftproot/pub/big" "$WORK/ftproot/pub/small" "$WORK/ftproot1/pub/"
	mkfile "$WORK/tftproot/t" 64
	set_up ha_proxies "$N1" 1
	set_up ha_proxies "$N2" 2
	set_up ha_conf "$N1" 1 150
	set_up ha_conf "$N2" 2 100
	set_up ctd_up "$N1" 1
	set_up ctd_up "$N2" 2
	ka_up "$N1" 1
	check "fw1 (priority 150) becomes master, holds the VIPs" wait_vip "$N1"
	ka_up "$N2" 2
	check "fw2 (priority 100) becomes backup, without the VIPs" eval \
	    "wait_re $WORK/keepalived2.log 'Entering BACKUP STATE' 10 &&
	    ! grep -q 'Entering MASTER' $WORK/keepalived2.log && ! has_vip $N2"
}

# --- faults ----------------------------------------------------------
# The descriptors open in fw1's daemons (ftp-proxy, tftp-proxy,
# ftp-proxy -R, pfhelper), one count each.
fds1() {
	for _p in "$FTP1" "$TFTP1" "$REV1" "$PFH1"; do
		printf '%s ' "$(ls "/proc/$_p/fd" 2>/dev/null | wc -l)"
	done
}
# Until none of fw1's daemons holds more descriptors, nor its tables
# more elements, than at $1 (fds1) and $2 (elems; bounded, 5 s).  Fewer
# is fine: sessions of the failover end by their idle timeout.
not_more() {
	within 50 not_more_now "$1" "$2" ||
	    { echo "descriptors before: $1, now: $(fds1)"
	    echo "elements before: $2, now: $(elems "$N1")"; false; }
}
not_more_now() {
	[ "$(elems "$N1")" -le "$2" ] && echo "$1|$(fds1)" | awk -F'|' '{
	    n = split($1, a, " "); split($2, b, " ")
	    for (i = 1; i <= n; i++) if (b[i] + 0 > a[i] + 0) exit 1 }'
}

# vip_flap N: fw1's inside VIP goes away and comes back, every second,
# N times (as one would see it: keepalived, seeing a VIP go, takes both
# away and puts them back).
vip_flap() {
	_f=0
	while [ $_f -lt "$1" ]; do
		in_n "$N1" ip addr del $VIN/24 dev inside 2>/dev/null
		sleep 0.5
		in_n "$N1" ip addr add $VIN/24 dev inside 2>/dev/null
		sleep 0.5
		_f=$((_f + 1))
	done
}
# mon_up: fw1's address changes, as the kernel reports them, into
# $WORK/addr.mon (MONPID); log_mark: where each front end's log ends now.
mon_up() {
	: > "$WORK/addr.mon"
	bg ip netns exec "$N1" ip -o monitor address > "$WORK/addr.mon"
	MONPID=$LASTPID
	# Listening once it reports a change of our own (made again until
	# it does: it may not listen yet when the first one happens).
	within 50 mon_hears
}
mon_hears() {
	in_n "$N1" ip addr add 203.0.113.99/32 dev lo
	in_n "$N1" ip addr del 203.0.113.99/32 dev lo
	grep -q ' 203.0.113.99/' "$WORK/addr.mon"
}
log_mark() {
	for _l in ftp-proxy1 tftp-proxy1 ftp-rev1; do
		echo "$_l $(wc -l < "$WORK/$_l.log")"
	done > "$WORK/log.mark"
}
# changes_logged: each front end of fw1 logged each change of each VIP
# since log_mark once, as many as the kernel reported (bounded, 5 s).
changes_logged() { within 50 changes_same; }
changes_same() {
	_rc=0
	for _a in $VIN $VOUT; do
		_k=$(grep -c " inet $_a/" "$WORK/addr.mon")
		while read -r _l _m; do
			_n=$(sed -n "$((_m + 1)),\$p" "$WORK/$_l.log" |
			    grep -c "$_a is \(now\|no longer\) one of this host")
			[ "$_n" -eq "$_k" ] ||
			    { echo "$_l: $_n lines for $_k changes of $_a"; _rc=1; }
		done < "$WORK/log.mark"
		[ "$_k" -gt 0 ] || { echo "no change of $_a"; _rc=1; }
	done
	return $_rc
}
