#!/bin/sh
# SPDX-License-Identifier: ISC
# check.sh (make check-systemd): the Debian package under a real systemd.
#
# Boots Debian 12 with systemd-nspawn (--private-network: every packet
# stays inside the container), installs Debian's other ftp-proxy
# (proxy-suite) and then obj/deb/prev/nft-ftp-proxy_*.deb beside it (a
# Conflicts: dpkg refuses, apt removes theirs and says so), upgrades to
# obj/deb/nft-ftp-proxy_*.deb (the admin's /etc/default kept), runs the
# package's autopkgtest, and tests the units: readiness, privileges, an
# FTP transfer and a TFTP read through the proxies, both served by the
# pfhelper service (pulled in by theirs), stop, restart, the service's
# death and the restart of both in order, `systemctl restart pfhelper'
# under 64 clients looping sessions (none fails), a 100 MiB download
# and an idle session across `systemctl reload ftp-proxy' and across an
# upgrade (dpkg -i of the newer build: postinst reloads), socket
# activation and idle exit, the journal, failures to start, removal,
# and a purge that leaves nothing.
#
# Inside the container, its own network namespace is the firewall:
#   cli netns (192.0.2.10, 2001:db8:1::10)
#     -- container (192.0.2.1 "inside" | 198.51.100.1 "outside")
#     -- srv netns (198.51.100.10: vsftpd, in.tftpd; no route back)
# with the admin's ruleset (forward policy drop, the one line of
# `pfhelper -n', redirects of tcp/21 and udp/69 on "inside").
#
# The root file system (debootstrap minbase) is kept in obj/systemd/
# and reused; each run boots an overlay of it and throws the overlay
# away.  Needs root, debootstrap, systemd-nspawn, nsenter; the first run
# needs Debian's archive.  Prints `N passed, M failed'.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP" || exit 1
t0=$(date +%s)
npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
note() { echo "# $*"; }
finish() {
	echo "# $(($(date +%s) - t0)) s"
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
}
abort() { fail "$*"; finish; exit 1; }

[ "$(id -u)" -eq 0 ] || abort "needs root (debootstrap, systemd-nspawn)"
sh scripts/deps.sh debootstrap systemd-container util-linux ||
    abort "cannot install debootstrap and systemd-container"
# The cached root file system: rebuilt when the package list changes.
SUITE=bookworm
MIRROR=${MIRROR:-http://deb.debian.org/debian}
INCLUDE=systemd,systemd-sysv,dbus,iproute2,nftables,procps,man-db,adduser
INCLUDE=$INCLUDE,curl,vsftpd,tftpd-hpa,tftp-hpa
INCLUDE=$INCLUDE,libbsd0,libevent-2.1-7,libmnl0,libnftnl11,libseccomp2
# proxy-suite's ftp-proxy needs these (its .deb is fetched below, and
# installed by the test); autopkgtest runs debian/tests.
INCLUDE=$INCLUDE,libldap-2.5-0,libwrap0,autopkgtest
BASE=$TOP/obj/systemd/rootfs
if [ "$(cat "$BASE.include" 2>/dev/null)" != "$SUITE $INCLUDE" ]; then
	note "building $BASE (debootstrap $SUITE)"
	rm -rf "$BASE" "$BASE.tmp" "$BASE.include"
	mkdir -p "$TOP/obj/systemd"
	if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" \
	    "$BASE.tmp" "$MIRROR" > "$TOP/obj/systemd/debootstrap.log" 2>&1; then
		tail -n 20 "$TOP/obj/systemd/debootstrap.log"
		rm -rf "$BASE.tmp"
		abort "debootstrap (log: obj/systemd/debootstrap.log)"
	fi
	# The servers are the test's, started in their namespace.
	chroot "$BASE.tmp" systemctl -q disable vsftpd.service \
	    tftpd-hpa.service 2>/dev/null
	# Debian's other ftp-proxy (source proxy-suite), not installed:
	# the test installs it and ours beside it.
	mkdir -p "$BASE.tmp/root/proxy-suite"
	if ! chroot "$BASE.tmp" sh -c 'cd /root/proxy-suite &&
	    apt-get -q download ftp-proxy' \
	    > "$TOP/obj/systemd/download.log" 2>&1; then
		cat "$TOP/obj/systemd/download.log"
		rm -rf "$BASE.tmp"
		abort "cannot download Debian's ftp-proxy (proxy-suite)"
	fi
	chroot "$BASE.tmp" apt-get clean
	mv "$BASE.tmp" "$BASE"
	echo "$SUITE $INCLUDE" > "$BASE.include"
fi

DEB=$(ls obj/deb/nft-ftp-proxy_*_*.deb 2>/dev/null | head -n 1)
PREV=$(ls obj/deb/prev/nft-ftp-proxy_*_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] && [ -n "$PREV" ] ||
    abort "no obj/deb/nft-ftp-proxy_*.deb and prev/ (make deb)"

# An overlay of it for this run, and the container.
MACHINE=ftpchk$$
RUN=$TOP/obj/systemd/run.$$
ROOT=$RUN/root
NSPAWN=""
LEADER=""
cleanup() {
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		# SIGTERM: nspawn asks the container's systemd to power off.
		kill -TERM "$NSPAWN"
		i=0
		while [ $i -lt 100 ] && kill -0 "$NSPAWN" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$NSPAWN" 2>/dev/null
		wait "$NSPAWN" 2>/dev/null
	fi
	if mountpoint -q "$ROOT" 2>/dev/null; then
		umount "$ROOT" 2>/dev/null || umount -l "$ROOT"
	fi
	rm -rf "$RUN" "/run/systemd/nspawn/propagate/$MACHINE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$RUN/upper" "$RUN/work" "$ROOT"
mount -t overlay overlay -o \
    "lowerdir=$BASE,upperdir=$RUN/upper,workdir=$RUN/work" "$ROOT" ||
    abort "overlay mount"
cp "$DEB" "$PREV" "$ROOT/root/"
# The source's debian/ (control, tests/) for autopkgtest, as a built
# tree (debian/files): the package is given, nothing to unpack or build.
mkdir -p "$ROOT/root/src"
cp -r debian "$ROOT/root/src/"
: > "$ROOT/root/src/debian/files"

systemd-nspawn --register=no --keep-unit --quiet -M "$MACHINE" -D "$ROOT" \
    --private-network -b --console=passive > "$RUN/nspawn.log" 2>&1 < /dev/null &
NSPAWN=$!
i=0
while [ $i -lt 100 ] && [ -z "$LEADER" ]; do
	LEADER=$(pgrep -P "$NSPAWN" | head -n 1)
	sleep 0.1
	i=$((i + 1))
done
[ -n "$LEADER" ] || { sed "s/^/#   /" "$RUN/nspawn.log"
	abort "systemd-nspawn started no container"; }

# Run a command in the container (all its namespaces), bounded.
ct() {
	timeout "${CTTIMEOUT:-60}" nsenter -t "$LEADER" -m -u -i -n -p -- \
	    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"
}
cts() { ct sh -c "$1"; }
# check "what" command...: ok if it succeeds, else FAIL and its output.
check() {
	what=$1
	shift
	if "$@" > "$RUN/check.out" 2>&1; then
		ok "$what"
	else
		fail "$what"
		tail -n 8 "$RUN/check.out" | sed 's/^/#   /'
	fi
}
# wait_for tenths command...: until it succeeds, bounded.
wait_for() {
	_n=$1
	shift
	_i=0
	while [ $_i -lt "$_n" ]; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	"$@"
}

# The first child may not be the container's systemd yet, nor its bus
# up: wait (bounded) for systemctl's socket before asking.
wait_for 300 cts 'test -S /run/systemd/private'
state=$(ct systemctl is-system-running --wait 2>&1)
case $state in
running|degraded) ok "Debian 12 boots under systemd-nspawn ($state)" ;;
*)	tail -n 20 "$RUN/nspawn.log" | sed "s/^/#   /"
	abort "container did not boot: $state" ;;
esac
[ "$state" = degraded ] && ct systemctl --failed --no-legend | sed 's/^/#   /'

# --- the package ------------------------------------------------------
# Debian's binary package ftp-proxy (source proxy-suite) first: the
# same command, man page, service name and /etc/default file.
THEIRS=$(cd "$ROOT" && ls root/proxy-suite/ftp-proxy_*.deb | head -n 1)
check "Debian's ftp-proxy (proxy-suite) installs" ct dpkg -i "/$THEIRS"
# dpkg: theirs is installed, ours conflicts: refused, nothing unpacked.
check "dpkg -i nft-ftp-proxy refuses: conflicts with ftp-proxy" cts "
	out=\$(dpkg -i /root/$(basename "$PREV") 2>&1); rc=\$?; echo \"\$out\"
	[ \$rc -ne 0 ] &&
	echo \"\$out\" | grep -q 'nft-ftp-proxy conflicts with ftp-proxy' &&
	echo \"\$out\" | grep -q 'conflicting packages - not installing'"
check "... theirs untouched: files theirs (dpkg -S), unchanged (--verify)" cts '
	for f in /usr/sbin/ftp-proxy /usr/share/man/man8/ftp-proxy.8.gz \
	    /etc/default/ftp-proxy; do
		[ "$(dpkg -S $f)" = "ftp-proxy: $f" ] ||
		    { dpkg -S $f; exit 1; }
	done && v=$(dpkg --verify ftp-proxy) && echo "$v" && [ -z "$v" ] &&
	st=$(dpkg-query -W -f="\${db:Status-Status}" nft-ftp-proxy 2>/dev/null)
	[ "${st:-not-installed}" = not-installed ] &&
	[ ! -e /usr/sbin/pfhelper ]'
# apt: ours wins, after saying that theirs goes; their changed
# /etc/default/ftp-proxy is kept aside, not taken over.
cts 'echo "# the admin of proxy-suite" >> /etc/default/ftp-proxy'
check "apt-get install nft-ftp-proxy: says ftp-proxy will be REMOVED" cts "
	out=\$(DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    /root/$(basename "$PREV") 2>&1 < /dev/null); rc=\$?; echo \"\$out\"
	[ \$rc -eq 0 ] && echo \"\$out\" | grep -A1 \
	    'packages will be REMOVED' | grep -qw ftp-proxy &&
	echo \"\$out\" | grep -q 'kept as /etc/default/ftp-proxy.dpkg-old'"
check "... theirs removed, every shared path ours (dpkg -S)" cts '
	[ "$(dpkg-query -W -f="\${db:Status-Status}" ftp-proxy)" = \
	    config-files ] &&
	for f in /usr/sbin/ftp-proxy /usr/share/man/man8/ftp-proxy.8.gz \
	    /etc/default/ftp-proxy /lib/systemd/system/ftp-proxy.service; do
		[ "$(dpkg -S $f)" = "nft-ftp-proxy: $f" ] ||
		    { dpkg -S $f; exit 1; }
	done && v=$(dpkg --verify nft-ftp-proxy) && echo "$v" && [ -z "$v" ]'
check "... their admin's /etc/default/ftp-proxy kept as .dpkg-old" cts '
	grep -q "RUN_DAEMON" /etc/default/ftp-proxy.dpkg-old &&
	grep -q "the admin of proxy-suite" /etc/default/ftp-proxy.dpkg-old &&
	! grep -q RUN_DAEMON /etc/default/ftp-proxy'
check "dpkg --purge ftp-proxy (theirs) leaves our conffile" cts '
	dpkg --purge ftp-proxy && [ -e /etc/default/ftp-proxy ] &&
	[ "$(dpkg -S /etc/default/ftp-proxy)" = \
	    "nft-ftp-proxy: /etc/default/ftp-proxy" ] &&
	[ -z "$(dpkg --verify nft-ftp-proxy)" ] &&
	[ ! -e /etc/init.d/ftp-proxy ]'
# The upgrade: the admin's changes to /etc/default stay.
cts 'printf "# the admin\nFTP_PROXY_OPTS=\"-D 5\"\n" >> /etc/default/ftp-proxy
	echo "# the admin" >> /etc/default/pfhelper'
check "upgrade $(basename "$PREV") -> $(basename "$DEB")" \
    ct dpkg -i "/root/$(basename "$DEB")"
check "... to version $(dpkg-deb -f "$DEB" Version), installed" test \
    "$(ct dpkg-query -W -f='${Version} ${db:Status-Abbrev}' nft-ftp-proxy)" \
    = "$(dpkg-deb -f "$DEB" Version) ii "
check "... keeps the admin's /etc/default changes, no .dpkg-* beside" cts '
	tail -n 2 /etc/default/ftp-proxy | tr "\n" " " |
	    grep -qx "# the admin FTP_PROXY_OPTS=\"-D 5\" " &&
	tail -n 1 /etc/default/pfhelper | grep -qx "# the admin" &&
	c="??5?????? c /etc/default"
	[ "$(dpkg --verify nft-ftp-proxy | sort | tr -s " " | tr "\n" " ")" = \
	    "$c/ftp-proxy $c/pfhelper " ] &&
	! ls /etc/default/*.dpkg-new /etc/default/*.dpkg-dist 2>/dev/null'
# Debian's own check of the installed package: debian/tests, run by
# autopkgtest on this container (null: it is the testbed).  The test
# wants a machine (network namespaces, nftables); this booted container
# with its own network is one.
CTTIMEOUT=300
check "autopkgtest (debian/tests/ftp-transfer) passes" cts "
	autopkgtest --ignore-restrictions=isolation-machine \
	    /root/$(basename "$DEB") /root/src/ -- null"
CTTIMEOUT=60
grep -a 'checksum ok$' "$RUN/check.out" | sed 's/^/# /'
for u in _ftp-proxy _tftp-proxy _pfhelper; do
	check "system user $u exists, no login shell" \
	    cts "getent passwd $u | grep -q ':/nonexistent:/usr/sbin/nologin$'"
done
check "nothing enabled or running after installation" cts '
	[ "$(systemctl is-enabled ftp-proxy.service)" = disabled ] &&
	[ "$(systemctl is-enabled tftp-proxy.socket)" = disabled ] &&
	! systemctl -q is-active ftp-proxy.service tftp-proxy.socket \
	    tftp-proxy.service pfhelper.service &&
	! pgrep -x ftp-proxy && ! pgrep -x pfhelper'
check "/etc/default files are conffiles" cts '
	c=$(dpkg-query -W -f="\${Conffiles}" nft-ftp-proxy)
	echo "$c" | grep -q "/etc/default/ftp-proxy " &&
	echo "$c" | grep -q "/etc/default/tftp-proxy " &&
	echo "$c" | grep -q "/etc/default/pfhelper "'
check "units name /usr/sbin" cts '
	grep -q "^ExecStart=/usr/sbin/ftp-proxy " \
	    /lib/systemd/system/ftp-proxy.service &&
	grep -q "^ExecStart=/usr/sbin/tftp-proxy " \
	    /lib/systemd/system/tftp-proxy.service &&
	grep -q "^ExecStart=/usr/sbin/pfhelper -S " \
	    /lib/systemd/system/pfhelper.service'
check "systemd-analyze verify: every unit clean (man pages included)" cts '
	out=$(systemd-analyze verify /lib/systemd/system/ftp-proxy.service \
	    /lib/systemd/system/tftp-proxy.service \
	    /lib/systemd/system/tftp-proxy.socket \
	    /lib/systemd/system/pfhelper.service 2>&1); rc=$?
	echo "$out"; [ $rc -eq 0 ] && [ -z "$out" ]'

# --- the network inside the container ---------------------------------
cat > "$ROOT/root/topo.sh" <<'EOF'
set -e
ip link set lo up
for ns in cli srv; do
	ip netns add $ns
	ip netns exec $ns ip link set lo up
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0
done
ip link add inside type veth peer name eth0 netns cli
ip link add outside type veth peer name eth0 netns srv
ip addr add 192.0.2.1/24 dev inside
ip addr add 198.51.100.1/24 dev outside
ip link set inside up
ip link set outside up
ip netns exec cli ip addr add 192.0.2.10/24 dev eth0
ip netns exec cli ip link set eth0 up
ip netns exec cli ip route add default via 192.0.2.1
ip netns exec srv ip addr add 198.51.100.10/24 dev eth0
ip netns exec srv ip link set eth0 up
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.netfilter.nf_conntrack_helper=0 2>/dev/null || true

# The servers, in their namespace, as systemd services of the test.
mkdir -p /srv/ftp /srv/tftp /var/run/vsftpd/empty
head -c 3000000 /dev/urandom > /srv/ftp/f.bin
head -c 300000 /dev/urandom > /srv/tftp/t.bin
# The transfer that spans a reload and an upgrade, and the load's file.
head -c 104857600 /dev/urandom > /srv/ftp/big.bin
head -c 1024 /dev/urandom > /srv/ftp/small.bin
chmod 644 /srv/ftp/*.bin /srv/tftp/t.bin
# More client addresses: ftpbench spreads its sessions over them.
for i in 11 12 13 14 15 16 17 18; do
	ip netns exec cli ip addr add 192.0.2.$i/24 dev eth0
done
# No limit of connections: every session comes from the proxy's one
# address, and 64 clients loop sessions through it below.
cat > /root/vsftpd.conf <<EOF2
listen=YES
background=NO
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=/srv/ftp
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=40999
seccomp_sandbox=NO
isolate_network=NO
secure_chroot_dir=/var/run/vsftpd/empty
max_per_ip=0
max_clients=0
EOF2
systemd-run -q --unit=test-vsftpd ip netns exec srv vsftpd /root/vsftpd.conf
systemd-run -q --unit=test-tftpd ip netns exec srv \
    in.tftpd -L -u tftp -s -a 198.51.100.10:69 /srv/tftp
EOF
# The admin's ruleset; $1 = "noline" leaves out pfhelper's line.
cat > "$ROOT/root/rules.sh" <<'EOF'
line=$(pfhelper -n | sed -n 's/^#[[:space:]]*//; /ct mark and/p')
[ "${1:-}" = noline ] && line=""
nft delete table inet admin 2>/dev/null || true
nft -f - <<EOF2
table inet admin {
	chain filter_fwd {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		$line
	}
	chain nat_pre {
		type nat hook prerouting priority dstnat;
		iifname "inside" tcp dport 21 redirect to :8021
		iifname "inside" udp dport 69 redirect to :6969
	}
}
EOF2
EOF
check "namespaces, servers and the admin's ruleset up" \
    cts 'sh -e /root/topo.sh && sh /root/rules.sh'
check "vsftpd and in.tftpd listen in the server namespace" cts '
	i=0; while [ $i -lt 50 ]; do
		ip netns exec srv ss -ltnH "sport = :21" | grep -q . &&
		ip netns exec srv ss -lunH "sport = :69" | grep -q . && exit 0
		sleep 0.1; i=$((i + 1)); done; exit 1'

# An FTP download through the proxy ($1: curl options), checked.
ftp_get() {
	cts "rm -f /root/f.out; ip netns exec cli curl -sS --max-time 10 $* \
	    ftp://198.51.100.10/f.bin -o /root/f.out &&
	    [ \"\$(sha256sum < /root/f.out)\" = \"\$(sha256sum < /srv/ftp/f.bin)\" ]"
}
has_table() { ct nft list table inet "$1" > /dev/null 2>&1; }
no_table() { ! has_table "$1"; }
# status PID FIELD: a field of /proc/PID/status in the container.
status() { ct sh -c "sed -n 's/^$2:[[:space:]]*//p' /proc/$1/status"; }
# privileges NAME ROLE: the process NAME (pgrep -x) and what it holds.
front_end() {
	# The worker: the child of the privileged parent (parent.c).
	p=$(ct sh -c "for q in \$(pgrep -x $1); do pgrep -P \$q -x $1; done" |
	    head -n 1)
	[ -n "$p" ] || { fail "$1 is running"; return; }
	uid=$(status "$p" Uid | awk '{ print $1 }')
	note "$1 runs as user $(ct ps -o user= -p "$p") (uid $uid)," \
	    "root $(ct readlink "/proc/$p/root")"
	if [ "$uid" != 0 ] && [ "$(status "$p" CapEff)" = 0000000000000000 ] &&
	    [ "$(status "$p" CapPrm)" = 0000000000000000 ] &&
	    [ "$(status "$p" NoNewPrivs)" = 1 ] &&
	    [ "$(status "$p" Seccomp)" = 2 ]; then
		ok "$1 unprivileged: uid $uid, no capabilities, no_new_privs, seccomp"
	else
		fail "$1 unprivileged (uid $uid, CapEff $(status "$p" CapEff))"
	fi
}
# helper PID: the pfhelper service's process and what it holds.
helper() {
	p=$1
	[ -n "$p" ] && [ "$p" != 0 ] || { fail "pfhelper is running"; return; }
	uid=$(status "$p" Uid | awk '{ print $1 }')
	note "pfhelper runs as user $(ct ps -o user= -p "$p") (uid $uid)"
	# CAP_NET_ADMIN is bit 12: 0x1000.
	if [ "$uid" != 0 ] && [ "$(status "$p" CapEff)" = 0000000000001000 ] &&
	    [ "$(status "$p" CapPrm)" = 0000000000001000 ] &&
	    [ "$(status "$p" CapBnd)" = 0000000000001000 ]; then
		ok "pfhelper keeps CAP_NET_ADMIN only (uid $uid)"
	else
		fail "pfhelper keeps CAP_NET_ADMIN only (uid $uid," \
		    "CapEff $(status "$p" CapEff), CapBnd $(status "$p" CapBnd))"
	fi
}
mainpid() { ct systemctl show -p MainPID --value "$1"; }

# --- ftp-proxy.service ------------------------------------------------
cts 'echo "FTP_PROXY_OPTS=\"-D 6\"" > /etc/default/ftp-proxy'
# Type=notify: once start returns, the table is there, no waiting.
check "systemctl start ftp-proxy returns with the table in place" cts '
	systemctl start ftp-proxy && systemctl -q is-active ftp-proxy &&
	nft list table inet ftp-proxy > /dev/null'
check "the unit is Type=notify and ready" cts '
	[ "$(systemctl show -p Type --value ftp-proxy)" = notify ] &&
	[ "$(systemctl show -p StatusText --value ftp-proxy)" = listening ]'
check "Wants= and After=: the pfhelper service runs, Type=notify, ready" cts '
	systemctl -q is-active pfhelper &&
	[ "$(systemctl show -p Type --value pfhelper)" = notify ] &&
	[ "$(systemctl show -p StatusText --value pfhelper)" = serving ] &&
	nft list table inet tftp-proxy > /dev/null &&
	[ "$(stat -c %a:%u /run/pfhelper)" = 700:0 ]'
PID1=$(mainpid ftp-proxy)
front_end ftp-proxy
helper "$(mainpid pfhelper)"
check "ftp-proxy started no pfhelper of its own" \
    cts "! pgrep -x pfhelper -P $PID1"
check "pfhelper -l lists ftp-proxy ($PID1) as a peer" \
    cts "pfhelper -l | grep -q '^peer ftp pid $PID1:'"
check "FTP download through the proxy (passive), checksum" ftp_get
check "FTP download through the proxy (active, PORT), checksum" \
    ftp_get --ftp-port 192.0.2.10 --disable-eprt
check "journalctl -u ftp-proxy shows the session lines (-D 6)" \
    wait_for 30 cts 'journalctl -q -u ftp-proxy -o cat |
	grep -E "#[0-9]+ FTP session 192\.0\.2\.10:[0-9]+ -> 198\.51\.100\.10:21"'
check "... each line named once (by the journal), not twice" cts '
	journalctl -q -u ftp-proxy -o cat | grep -Eq "^#[0-9]+ FTP session" &&
	! journalctl -q -u ftp-proxy -o cat | grep -q "^ftp-proxy\["'
check "... the session line at priority info, no line with a <N> or name[pid] of ours" cts '
	journalctl -q -u ftp-proxy -p info..info -o cat |
	    grep -Eq "^#[0-9]+ FTP session" &&
	! journalctl -q -u ftp-proxy -p debug..debug -o cat |
	    grep -Eq "^#[0-9]+ FTP session" &&
	! journalctl -q -u ftp-proxy -u pfhelper -o cat |
	    grep -Eq "^(<[0-9]>|ftp-proxy\[|pfhelper\[)"'

check "systemctl restart ftp-proxy: active, the table in place" \
    cts 'systemctl restart ftp-proxy && systemctl -q is-active ftp-proxy &&
	nft list table inet ftp-proxy > /dev/null'
PID2=$(mainpid ftp-proxy)
check "restart replaced the process ($PID1 -> $PID2)" \
    test "$PID2" != "$PID1" -a "$PID2" != 0
check "FTP download after the restart, checksum" ftp_get

check "systemctl stop ftp-proxy: ftp-proxy exits 0" cts 'systemctl stop ftp-proxy &&
	[ "$(systemctl show -p Result --value ftp-proxy)" = success ] &&
	[ "$(systemctl show -p ExecMainStatus --value ftp-proxy)" = 0 ]'
check "after stop: no ftp-proxy left, the service keeps its tables" \
    cts '! pgrep -x ftp-proxy && systemctl -q is-active pfhelper &&
	nft list table inet ftp-proxy > /dev/null &&
	! pfhelper -l | grep -q "^peer ftp"'
check "systemctl stop pfhelper: both tables gone, no pfhelper left" \
    cts 'systemctl stop pfhelper && ! nft list table inet ftp-proxy &&
	! nft list table inet tftp-proxy && ! pgrep -x pfhelper &&
	[ ! -e /run/pfhelper ]'

# The service dies: ftp-proxy keeps its sessions and waits (-W), the
# service comes back (Restart=on-failure) and ftp-proxy's parent
# reconnects: the same ftp-proxy is a peer of the new service.
ct systemctl start ftp-proxy
SVC1=$(mainpid pfhelper)
PID1=$(mainpid ftp-proxy)
ct kill -9 "$SVC1"
check "kill -9 pfhelper: the same ftp-proxy becomes a peer of the new one" \
    wait_for 150 cts "systemctl -q is-active pfhelper ftp-proxy &&
	[ \"\$(systemctl show -p MainPID --value pfhelper)\" != $SVC1 ] &&
	[ \"\$(systemctl show -p MainPID --value ftp-proxy)\" = $PID1 ] &&
	pfhelper -l | grep -q \"^peer ftp pid $PID1:\""
check "FTP download after the service's restart, checksum" ftp_get
ct systemctl restart pfhelper
check "systemctl restart pfhelper: ftp-proxy stays, a peer again (no PartOf=)" \
    wait_for 100 cts "systemctl -q is-active ftp-proxy &&
	[ \"\$(systemctl show -p MainPID --value ftp-proxy)\" = $PID1 ] &&
	pfhelper -l | grep -q \"^peer ftp pid $PID1:\""
check "FTP download after systemctl restart pfhelper, checksum" ftp_get
# systemctl reload mid-transfer: the download goes on, the pid stays.
cts 'rm -f /root/r.out
	ip netns exec cli curl -sS --max-time 30 --limit-rate 600k \
	    ftp://198.51.100.10/f.bin -o /root/r.out > /root/r.log 2>&1 &
	echo $! > /root/r.pid'
wait_for 50 cts 'test -s /root/r.out'
check "systemctl reload ftp-proxy mid-transfer: same MainPID" cts "
	systemctl reload ftp-proxy && systemctl -q is-active ftp-proxy &&
	[ \"\$(systemctl show -p MainPID --value ftp-proxy)\" = $PID1 ]"
check "... the transfer completes, checksum" wait_for 300 cts '
	! kill -0 "$(cat /root/r.pid)" 2>/dev/null &&
	[ "$(sha256sum < /root/r.out)" = "$(sha256sum < /srv/ftp/f.bin)" ]'
check "... and a new session works" ftp_get

# systemctl restart pfhelper under 64 clients looping sessions
# (copied in: regress/tools/ftpbench, 56 clients, and
# scripts/bench/ftpload.py, 8, which says why a session failed): none
# fails, ftp-proxy stays.
cp "$TOP/obj/regress/tools/ftpbench" "$TOP/scripts/bench/ftpload.py" \
    "$ROOT/root/"
LOAD="ip netns exec cli timeout 90 /root/ftpbench load -h 198.51.100.10 \
    -c 56 -t 15 -f small.bin -b $(seq -s, -f 192.0.2.%g 11 18)"
# The table without its retry sets (the source ports of connections a
# permit let in, 10 s; pfhelper's filter_nft.c): what is left of permits.
NORETRY="sed '/^[[:space:]]*set retry[46] {/,/^[[:space:]]*}\$/d'"
PYLOAD="ip netns exec cli timeout 90 python3 /root/ftpload.py \
    -H 198.51.100.10 -c 8 -t 15 -f small.bin -o /root/py.fail"
cts "rm -f /root/load.out /root/py.*; $PYLOAD > /root/py.out &
	$LOAD > /root/load.out 2> /root/load.err &
	echo \$! > /root/load.pid"
wait_for 100 cts 'nft list table inet ftp-proxy | grep -q expires'
SINCE=$(ct date +%s)
SVC1=$(mainpid pfhelper)
check "systemctl restart pfhelper under 64 looping clients, mid-load" cts '
	systemctl restart pfhelper && kill -0 "$(cat /root/load.pid)"'
check "... the same ftp-proxy is a peer of the new pfhelper" \
    wait_for 100 cts "[ \"\$(systemctl show -p MainPID --value pfhelper)\" \
	!= $SVC1 ] &&
	[ \"\$(systemctl show -p MainPID --value ftp-proxy)\" = $PID1 ] &&
	pfhelper -l | grep -q \"^peer ftp pid $PID1:\""
check "... its worker made the live sessions again (journal)" \
    wait_for 50 cts "journalctl -q -u ftp-proxy -o cat --since @$SINCE |
	grep -E 'a new pfhelper: [0-9]+ sessions made again'"
check "... the load: 0 sessions failed, hung or refused" wait_for 600 cts '
	! kill -0 "$(cat /root/load.pid)" 2>/dev/null && cat /root/load.out &&
	grep -Eq "^load sessions=[1-9][0-9]* fail=0 hung=0 refused=0 " \
	    /root/load.out'
cts 'cat /root/load.out' | sed 's/^/# /'
check "... ftpload.py: 0 sessions failed or hung" wait_for 300 cts '
	grep "^pyload" /root/py.out &&
	grep -Eq "^pyload sessions=[1-9][0-9]* fail=0 hung=0 " /root/py.out'
cts 'cat /root/py.out /root/py.fail' | head -n 6 | sed 's/^/#   /'
# What ftp-proxy and pfhelper warned of meanwhile, counted.
cts "journalctl -q -u ftp-proxy -u pfhelper -p notice -o cat --since @$SINCE" |
    sed 's/#[0-9]*/#N/g; s/[0-9][0-9.:]*/N/g' | sort | uniq -c | sort -rn |
    head -n 8 | sed 's/^/#   /'
check "... no element left once the load stops" \
    wait_for 150 cts "! nft list table inet ftp-proxy | $NORETRY | grep -q expires"

# A 100 MiB download read at a limited rate and an idle logged-in
# session (/root/hold.py RATE), across $2: the download completes, a
# second file follows on its control connection, the idle session
# downloads too, all by checksum; the MainPID stays; a new session is
# served by the new worker; the old worker exits with its sessions.
across() { # what command rate
	cts "rm -f /root/span.*; ip netns exec cli python3 /root/hold.py $3 \
	    > /root/span.out 2>&1 & echo \$! > /root/span.pid"
	_p=$(mainpid ftp-proxy)
	wait_for 100 cts 'test -e /root/span.started'
	_w=$(ct pgrep -P "$_p" -x ftp-proxy)
	check "$1 mid-transfer (100 MiB), an idle session beside" cts "$2 &&
	    systemctl -q is-active ftp-proxy &&
	    [ \"\$(systemctl show -p MainPID --value ftp-proxy)\" = $_p ]"
	check "... the download was still running when it returned" \
	    cts '! grep -q "^A " /root/span.out && kill -0 $(cat /root/span.pid)'
	wait_for 50 cts "pgrep -P $_p -x ftp-proxy | grep -vx '$_w'"
	_n=$(ct pgrep -P "$_p" -x ftp-proxy | grep -vx "$_w" | head -n 1)
	check "... a new worker ($_w -> ${_n:-none}); the old one has its sessions" \
	    cts "[ -n '$_n' ] && kill -0 $_w"
	check "... a new session is served by the new worker (journal)" \
	    eval 'ftp_get && wait_for 30 cts "journalctl -q -u ftp-proxy \
	    -o cat _PID=$_n | grep -q \"FTP session 192.0.2.10\""'
	check "... the 100 MiB download completes, checksum" wait_for 600 cts '
	    grep -q "^done" /root/span.out &&
	    grep -qx "A $(sha256sum < /srv/ftp/big.bin | cut -d" " -f1)" \
	    /root/span.out'
	check "... a second file on the same control connection, checksum" \
	    cts 'grep -qx "A2 $(sha256sum < /srv/ftp/f.bin | cut -d" " -f1)" \
	    /root/span.out'
	check "... the idle session downloads after it, checksum" \
	    cts 'grep -qx "B $(sha256sum < /srv/ftp/f.bin | cut -d" " -f1)" \
	    /root/span.out'
	check "... the old worker exits once its sessions end" \
	    wait_for 100 cts "! kill -0 $_w"
	cts 'cat /root/span.out' | grep -v '^[AB]' | sed 's/^/#   /'
}
cat > "$ROOT/root/hold.py" <<'PYEOF'
# hold.py RATE: session A downloads big.bin read at RATE bytes/s
# (/root/span.started once it has 1 MiB), session B stays logged in and
# idle meanwhile; then A downloads f.bin on the same control connection,
# and B downloads f.bin.  Prints "A sum", "A2 sum", "B sum", "done".
import hashlib, re, socket, sys, time
H, RATE = "198.51.100.10", int(sys.argv[1])
class Ctl:
    def __init__(self):
        self.s = socket.create_connection((H, 21), timeout=60)
        self.f = self.s.makefile("rb")
        self.want("220")
        if self.cmd("USER anonymous", ("230", "331")).startswith("331"):
            self.cmd("PASS test@example.org", "230")
    def want(self, code):
        l = self.f.readline().decode("latin-1")
        if l[3:4] == "-":
            while l and not l.startswith(l[:3] + " "):
                l = self.f.readline().decode("latin-1")
        if not l.startswith(code):
            sys.exit("wanted %s, got %r" % (code, l))
        return l
    def cmd(self, c, code):
        self.s.sendall(c.encode() + b"\r\n")
        return self.want(code)
    def get(self, path, rate=0, mark=None):
        n = [int(x) for x in re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)",
             self.cmd("PASV", "227")).groups()]
        d = socket.create_connection(("%d.%d.%d.%d" % tuple(n[:4]),
                                      n[4] * 256 + n[5]), timeout=60)
        self.cmd("RETR " + path, "150")
        h, got, t0 = hashlib.sha256(), 0, time.time()
        while True:
            b = d.recv(65536)
            if not b:
                break
            h.update(b)
            got += len(b)
            if mark and got >= 1 << 20:
                open(mark, "w").close()
                mark = None
            if rate and got / rate > time.time() - t0:
                time.sleep(got / rate - (time.time() - t0))
        d.close()
        self.want("226")
        return h.hexdigest()
a, b = Ctl(), Ctl()
print("A", a.get("big.bin", RATE, "/root/span.started"), flush=True)
print("A2", a.get("f.bin"), flush=True)
print("B", b.get("f.bin"), flush=True)
a.cmd("QUIT", "221")
b.cmd("QUIT", "221")
print("done", flush=True)
PYEOF
# 10 MiB/s: the reload's download lasts 10 s.
across "systemctl reload ftp-proxy" "systemctl reload ftp-proxy" 10485760
# The upgrade: back to the older build with ftp-proxy stopped, then the
# newer one under a transfer; postinst reloads ftp-proxy (the parent
# re-executes the new file: its exe is not a deleted one) and restarts
# pfhelper.  5 MiB/s: dpkg -i takes longer than a reload.
check "dpkg -i $(basename "$PREV") (downgrade, ftp-proxy stopped)" cts "
	systemctl stop ftp-proxy && dpkg -i /root/$(basename "$PREV") &&
	systemctl start ftp-proxy"
SVC1=$(mainpid pfhelper)
across "upgrade: dpkg -i $(basename "$DEB")" \
    "dpkg -i /root/$(basename "$DEB") > /root/dpkg.log 2>&1" 5242880
check "... installed $(dpkg-deb -f "$DEB" Version); pfhelper restarted" cts "
	[ \"\$(dpkg-query -W -f='\${Version}' nft-ftp-proxy)\" = \
	    '$(dpkg-deb -f "$DEB" Version)' ] &&
	[ \"\$(systemctl show -p MainPID --value pfhelper)\" != $SVC1 ]"
check "... the parent and its worker run the new file, not a deleted one" \
    cts 'p=$(systemctl show -p MainPID --value ftp-proxy)
	for q in $p $(pgrep -P $p -x ftp-proxy); do
		readlink /proc/$q/exe; [ "$(readlink /proc/$q/exe)" = \
		    /usr/sbin/ftp-proxy ] || exit 1; done'
ct systemctl stop ftp-proxy

# Without the admin's line the control connection works and the data
# connection is dropped by the admin's own chain (README.Debian).
cts 'sh /root/rules.sh noline'
ct systemctl start ftp-proxy
check "ruleset without the admin's line: the download fails" \
    cts '! ip netns exec cli curl -sS --max-time 4 \
	ftp://198.51.100.10/f.bin -o /root/f.out'
check "... after the control connection was relayed (journal)" \
    wait_for 30 cts 'journalctl -q -u ftp-proxy -o cat \
	_PID="$(pgrep -P "$(systemctl show -p MainPID --value ftp-proxy)" \
	-x ftp-proxy)" | grep -q "FTP session 192.0.2.10"'
cts 'sh /root/rules.sh'
check "... and works once the line is back" ftp_get
ct systemctl stop ftp-proxy

# -v: pfhelper logs each use of a permit (the man page's prefix); the
# service's table must have it too.
cts 'echo "FTP_PROXY_OPTS=\"-D 6 -v\"" > /etc/default/ftp-proxy'
check "-v without the service's -v: systemctl start ftp-proxy fails" \
    cts '! systemctl start ftp-proxy'
cts 'systemctl reset-failed ftp-proxy 2>/dev/null
	echo "PFHELPER_OPTS=\"-v\"" > /etc/default/pfhelper
	systemctl restart pfhelper'
# Two pass rules (IPv4, IPv6) and the two retry rules after them.
check "-v: the pass and retry rules log with prefix \"ftp-proxy permit\"" cts '
	systemctl start ftp-proxy &&
	nft list chain inet ftp-proxy pass > /tmp/pass.chain &&
	grep "@pass[46] delete" /tmp/pass.chain |
	    grep -c "log prefix \"ftp-proxy permit \"" | grep -qx 2 &&
	grep "th sport @retry[46] " /tmp/pass.chain |
	    grep -c "log prefix \"ftp-proxy permit \"" | grep -qx 2'
check "-v: the download still works" ftp_get
if [ "$(cat /proc/sys/net/netfilter/nf_log_all_netns 2>/dev/null)" = 1 ]; then
	check "-v: the kernel log has the permit" \
	    sh -c 'dmesg | grep -q "ftp-proxy permit "'
else
	note "kernel log not checked: the host logs no packets of other" \
	    "network namespaces (net.netfilter.nf_log_all_netns=0)"
fi
ct systemctl stop ftp-proxy
cts 'echo "FTP_PROXY_OPTS=\"-D 6\"" > /etc/default/ftp-proxy
	echo "PFHELPER_OPTS=\"\"" > /etc/default/pfhelper
	systemctl restart pfhelper'

# Failing to start fails `systemctl start'.
ct systemd-run -q --unit=test-blocker systemd-socket-activate -l 8021 \
    sleep 600 > /dev/null 2>&1
wait_for 30 cts 'ss -ltnH "sport = :8021" | grep -q .'
check "port 8021 taken: systemctl start ftp-proxy fails" \
    cts '! systemctl start ftp-proxy'
check "... the journal has the reason, at priority crit" cts '
	journalctl -q -u ftp-proxy -p crit -o cat |
	grep -q "cannot listen on port 8021"'
check "... and leaves no ftp-proxy" cts '! pgrep -x ftp-proxy'
cts 'systemctl stop ftp-proxy test-blocker; systemctl reset-failed ftp-proxy 2>/dev/null'
cts 'systemctl stop pfhelper && systemctl mask --runtime pfhelper'
check "no pfhelper service: systemctl start ftp-proxy fails (-S)" \
    cts '! systemctl start ftp-proxy'
check "... and no process and no table are left" cts 'systemctl stop ftp-proxy;
	! pgrep -x ftp-proxy && ! pgrep -x pfhelper && ! nft list table inet ftp-proxy'
cts 'systemctl unmask --runtime pfhelper; systemctl reset-failed ftp-proxy 2>/dev/null'

# --- tftp-proxy.socket ------------------------------------------------
tftp_get() {
	cts 'rm -f /root/t.out; timeout 20 ip netns exec cli \
	    tftp -4 -m binary 198.51.100.10 -c get t.bin /root/t.out &&
	    [ "$(sha256sum < /root/t.out)" = "$(sha256sum < /srv/tftp/t.bin)" ]'
}
check "systemctl enable --now tftp-proxy.socket; the service waits" cts '
	systemctl enable --now tftp-proxy.socket &&
	systemctl -q is-active tftp-proxy.socket &&
	! systemctl -q is-active tftp-proxy.service'
check "a TFTP read through the socket-started proxy, checksum" tftp_get
check "the read started tftp-proxy.service (journal)" \
    wait_for 30 cts 'journalctl -q -u tftp-proxy.service -o cat |
	grep -q "serving 1 socket (socket activation)"'
if ct pgrep -x tftp-proxy > /dev/null; then
	front_end tftp-proxy
	check "tftp-proxy started no pfhelper of its own, built no table" cts "
	    ! pgrep -x pfhelper -P $(ct pgrep -x tftp-proxy | head -n 1) &&
	    [ \"\$(nft list tables | grep -c tftp-proxy)\" = 1 ]"
else
	fail "tftp-proxy still running right after the read"
fi
check "tftp-proxy.service idles out; no permit left, the socket stays" \
    wait_for 300 cts '! systemctl -q is-active tftp-proxy.service &&
	[ "$(systemctl show -p Result --value tftp-proxy.service)" = success ] &&
	! nft list table inet tftp-proxy | '"$NORETRY"' | grep -q expires &&
	[ "$(pgrep -cx pfhelper)" = 1 ] &&
	systemctl -q is-active tftp-proxy.socket'
check "a second TFTP read starts it again, checksum" tftp_get

# --- removal ----------------------------------------------------------
# What the package owns, for the purge's check.
cts 'dpkg-query -L nft-ftp-proxy > /root/owned.txt'
ct systemctl start ftp-proxy
check "dpkg -r stops the running services" cts 'dpkg -r nft-ftp-proxy &&
	! pgrep -x ftp-proxy && ! pgrep -x tftp-proxy && ! pgrep -x pfhelper &&
	! nft list table inet ftp-proxy && ! nft list table inet tftp-proxy &&
	[ ! -e /usr/sbin/ftp-proxy ] &&
	[ ! -e /lib/systemd/system/ftp-proxy.service ]'
check "dpkg --purge removes the conffiles" cts 'dpkg --purge nft-ftp-proxy &&
	[ ! -e /etc/default/ftp-proxy ] && [ ! -e /etc/default/tftp-proxy ] &&
	[ ! -e /etc/default/pfhelper ]'
check "purge: of every path the package had, only directories of others" cts '
	n=0; while read -r f; do
		[ -e "$f" ] && [ "$f" != /. ] || continue
		[ -d "$f" ] && dpkg -S "$f" > /dev/null 2>&1 ||
		    { echo "$f"; n=1; }
	done < /root/owned.txt; [ $n = 0 ] && [ -s /root/owned.txt ]'
check "purge: no dpkg record (status, info, conffiles), no unit state" cts '
	! grep -q "^Package: nft-ftp-proxy$" /var/lib/dpkg/status &&
	! ls /var/lib/dpkg/info/nft-ftp-proxy.* 2>/dev/null &&
	! find /etc/systemd /var/lib/systemd \( -name "*ftp-proxy*" -o \
	    -name "*pfhelper*" \) | grep . &&
	[ -z "$(systemctl list-unit-files --no-legend "*ftp-proxy*" \
	    "pfhelper*")" ]'
check "purge: /var/empty and /var/lib/nft-ftp-proxy gone (postinst made them)" \
    cts '[ ! -e /var/empty ] && [ ! -e /var/lib/nft-ftp-proxy ]'
check "purge: no file of the users _ftp-proxy, _tftp-proxy, _pfhelper" cts '
	! find / /run /tmp /var/tmp -xdev \( -user _ftp-proxy -o \
	    -user _tftp-proxy -o -user _pfhelper \) | grep .'

finish
