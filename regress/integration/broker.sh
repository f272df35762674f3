#!/bin/sh
# SPDX-License-Identifier: ISC
# broker.sh: one standing pfhelper (pfhelper -S) for every front end at
# once, in the firewall namespace: a dual-stack forward ftp-proxy, a
# reverse ftp-proxy (-R) for an FTP server inside, and tftp-proxy
# spawned by openbsd-inetd with the PF FAQ's line (udp: IPv4 and IPv6).
#
# The service, the proxies and inetd share a private mount namespace
# whose /run is a tmpfs of this run: the service's directory is that
# run's /run/pfhelper (never the host's), so the inetd line is the
# FAQ's, unchanged.  inetd passes PFHELPER=/nonexistent to tftp-proxy:
# a spawn that started a helper of its own would fail.
#
# Needs root, ip(8), nft(8), unshare(1), nsenter(1), setpriv(1),
# inetd (openbsd-inetd), vsftpd, in.tftpd, curl, tftp, python3.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
[ -n "${KEEP:-}" ] && echo "work directory: $WORK"
D=/run/pfhelper		# in the private mount namespace only

die() { echo "$*"; echo "$npass passed, $((nfail + 1)) failed"; exit 1; }

# Run in the firewall's network and the run's mount namespace; for bg,
# $MNT (nsenter execs: the pid is the program's).
in_mnt() { nsenter -t "$HOLDER" -m -n -- "$@"; }

# Until child $1 has exited (a zombie, 5 s at most); then `wait' it.
exited() {
	i=0
	while [ $i -lt 50 ] && kill -0 "$1" 2>/dev/null &&
	    [ "$(cut -d' ' -f3 /proc/"$1"/stat 2>/dev/null)" != Z ]; do
		sleep 0.1; i=$((i + 1))
	done
}

# The tables in the firewall namespace, one per line, sorted.
tables() { in_fw nft list tables | sort | tr '\n' ' '; }

# pfhelper -l, into $WORK/status.
status() { in_mnt "$BIN/pfhelper" -l > "$WORK/status" 2> "$WORK/status.err"; }

# Wait (bounded, 5 s) for a fixed string in a file.
wait_line() { wait_grep "$1" "$2" "${3:-1}"; }

# The tftp-proxy processes in the firewall namespace.
nproxies() {
	ip netns pids "$FW" 2>/dev/null | sed 's|.*|/proc/&/comm|' |
	    xargs -r cat 2>/dev/null | grep -cx tftp-proxy
}

# Elements whose key starts with client address $1 in table $2.
elems_of() {
	ptable "${2:-ftp-proxy}" | tr ',{' '\n\n' |
	    grep -c "^[[:space:]]*$1 \. .*expires"
}

# The permits pfhelper -l lists (rdr elements, as nft prints them) are
# all in the live table, and as many as the table's rdr maps hold.
status_matches_table() {
	status || { cat "$WORK/status.err"; return 1; }
	in_fw nft list table inet ftp-proxy | tr ',' '\n' > "$WORK/table" ||
	    return 1
	sed -n 's/^  permit [^:]* in ftp-proxy: \(.*\), [0-9]* s left$/\1/p' \
	    "$WORK/status" > "$WORK/listed"
	n=$(wc -l < "$WORK/listed")
	[ "$n" -ge 1 ] || { echo "no permit listed"; cat "$WORK/status"; return 1; }
	while read -r e; do	# key : value, with nft's timeout between
		grep -F "${e%% : *} " "$WORK/table" | grep -qF ": ${e#* : }" ||
		    { echo "not in table: $e"; return 1; }
	done < "$WORK/listed"
	inrdr=$(sed -n '/map rdr[46]/,/}/p' "$WORK/table" | grep -c expires)
	[ "$inrdr" -eq "$n" ] || { echo "listed $n, rdr maps $inrdr"; return 1; }
}

# Hold an FTP session on ftp-proxy at $2 from namespace $1 (logged in,
# one PASV permit), printing every reply, until $WORK/release exists
# (30 s at most) or the proxy closes; the output in $WORK/hold.$3.
hold() {
	PYTIMEOUT=40 py "$1" "$2" "$WORK/release" > "$WORK/hold.$3" 2>&1 <<-'EOF'
	import os, sys, time
	from ftpc import Ctl
	host, flag = sys.argv[1:3]
	c = Ctl(host, timeout=35)
	assert c.login() == 230
	print("pasv", c.code("EPSV" if ":" in host else "PASV"))
	sys.stdout.flush()
	end = time.time() + 30
	c.s.settimeout(0.2)
	while time.time() < end and not os.path.exists(flag):
	    try:
	        d = c.s.recv(4096)
	    except OSError:
	        continue
	    if not d:
	        print("eof")
	        break
	    print("got", d.decode("latin-1").strip())
	    sys.stdout.flush()
	EOF
}

[ -x "$INETD" ] || die "no $INETD (openbsd-inetd)"
topo_up || die "topology"
admin_rules || die "admin rules"
bg ip netns exec "$FW" unshare -m --propagation private sh -c \
    'mount -t tmpfs tmpfs /run && touch /run/broker-test && exec sleep 600'
HOLDER=$LASTPID
MNT="nsenter -t $HOLDER -m -n --"
i=0
while [ $i -lt 50 ] && ! in_mnt test -e /run/broker-test 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
in_mnt test -e /run/broker-test || die "no private /run"

# Files for both FTP servers (one root), and for tftpd.
VSFTPD_EXTRA=""
vsftpd_up || die "vsftpd outside"
vsftpd_up "$CLI" || die "vsftpd inside"
PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 2048
tftpd_up || die "tftpd"
R=$WORK/tftproot
mkfile "$R/t1" 512

# --- the service ------------------------------------------------------
# -m 8 -c 50: a front end may hold 4 sessions of the 8.
bg $MNT "$BIN/pfhelper" -S -d -D 7 -m 8 -c 50 2>> "$WORK/pfhelper.log"
SVCPID=$LASTPID
i=0
while [ $i -lt 50 ] && ! in_mnt test -S $D/control; do
	sleep 0.1; i=$((i + 1))
done
check "service: sockets ftp, tftp, control in a 0700 directory" in_mnt sh -c \
    "[ -S $D/ftp ] && [ -S $D/tftp ] && [ -S $D/control ] &&
    [ \"\$(stat -c %a:%u $D)\" = 700:0 ]"
check "service: tables inet ftp-proxy and inet tftp-proxy (and the admin's)" \
    [ "$(tables)" = "table inet admin table inet ftp-proxy table inet tftp-proxy " ]

# --- the front ends ---------------------------------------------------
bg $MNT "$BIN/ftp-proxy" -d -D 7 -S -W 0 2>> "$WORK/fwd.log"
FWDPID=$LASTPID
wait_port "$FW" 8021 || die "forward ftp-proxy"
bg $MNT "$BIN/ftp-proxy" -d -D 7 -S -W 0 -R $C4 -b $F4OUT -p 21 \
    2>> "$WORK/rev.log"
REVPID=$LASTPID
wait_port "$FW" 21 || die "reverse ftp-proxy"
printf '6969\tdgram\tudp\twait\troot\t%s\ttftp-proxy\n' "$BIN/tftp-proxy" \
    > "$WORK/inetd.conf"
bg $MNT env PFHELPER=/nonexistent/pfhelper "$INETD" -d -i \
    "$WORK/inetd.conf" 2>> "$WORK/inetd.log"
INETDPID=$LASTPID
wait_udp "$FW" 6969 || die "inetd"
check "the service logs both ftp-proxies as peers in the ftp role" sh -c \
    "grep -q 'peer pid $FWDPID connected (ftp role)' '$WORK/pfhelper.log' &&
    grep -q 'peer pid $REVPID connected (ftp role)' '$WORK/pfhelper.log'"
check "no ftp-proxy started a pfhelper of its own" \
    [ -z "$(pgrep -P "$FWDPID" -x pfhelper)$(pgrep -P "$REVPID" -x pfhelper)" ]

# --- transfers through every front end at once ------------------------
CURL="timeout 30 ip netns exec $CLI curl -sS --connect-timeout 5 -m 25"
url() { if [ "$1" = 6 ]; then echo "ftp://[$S6]/$2"; else echo "ftp://$S4/$2"; fi; }
for m in PASV PORT; do check "forward IPv4 $m: sha256" get_big 4 $m; done
for m in EPSV EPRT; do check "forward IPv6 $m: sha256" get_big 6 $m; done
rget() { # passive|active: from outside, through the reverse proxy
	rm -f "$WORK/rout"
	# shellcheck disable=SC2046
	timeout 30 ip netns exec "$SRV" curl -sS --connect-timeout 5 -m 25 \
	    --disable-epsv $([ "$1" = active ] && echo "-P - --disable-eprt") \
	    "ftp://$F4OUT/pub/big" -o "$WORK/rout" && same "$PUB/big" "$WORK/rout"
}
check "reverse, passive: sha256" rget passive
check "reverse, active: sha256" rget active
for h in $S4 $S6; do
	rm -f "$WORK/t.out"
	check "tftp via inetd, RRQ $h: sha256" sh -c \
	    "$(command -v timeout) 60 ip netns exec $CLI curl -sS -g \
	    tftp://$(urlhost $h)/t1 -o $WORK/t.out && cmp -s $R/t1 $WORK/t.out"
done
check "inetd started tftp-proxy (udp4 and udp6) and it used the service" \
    wait_line "$WORK/pfhelper.log" "connected (tftp role)" 2
check "tables: still exactly ftp-proxy and tftp-proxy (no tftp-proxy-<pid>)" \
    [ "$(tables)" = "table inet admin table inet ftp-proxy table inet tftp-proxy " ]

# --- the status view against the live table ---------------------------
rm -f "$WORK/release"
hold "$CLI" $S4 a &
HOLDPY=$!
check "a held forward session has its PASV permit" \
    wait_line "$WORK/hold.a" "pasv 227"
check "pfhelper -l: every permit listed is in the table, and all of them" \
    status_matches_table
check "pfhelper -l: the held session, client $C4, on the forward peer" sh -c \
    "grep -q '^peer ftp pid $FWDPID: 1 sessions' '$WORK/status' &&
    grep -q ' session [0-9]* tcp: $C4:[0-9]* -> $S4:21, ' '$WORK/status'"
check "pfhelper -l: a permit has seconds left" \
    grep -qE '^  permit .* [0-9]+ s left$' "$WORK/status"

# --- kill -9 of one ftp-proxy: exactly its permits go -----------------
rm -f "$WORK/rout"
timeout 60 ip netns exec "$SRV" curl -sS --limit-rate 400k --disable-epsv \
    "ftp://$F4OUT/pub/big" -o "$WORK/rout" 2> "$WORK/slow.err" &
SLOW=$!
# The reverse transfer under way (its data arriving) before the kill.
grown "$WORK/rout" 0 10 || echo "the reverse transfer does not start"
check "the forward session's permits are in the table" \
    [ "$(elems_of $C4)" -ge 1 ]
kill -9 "$FWDPID"
wait "$FWDPID" 2>/dev/null
no_elems_of() { [ "$(elems_of "$1")" -eq 0 ]; }
check "kill -9 of the forward ftp-proxy: its permits go (5 s at most)" \
    wait_for 5 no_elems_of $C4
wait "$SLOW"
check "the reverse proxy's slow transfer completes: sha256" \
    same "$PUB/big" "$WORK/rout"
status
check "pfhelper -l: the forward peer is gone, the reverse one stays" sh -c \
    "! grep -q 'pid $FWDPID' '$WORK/status' &&
    grep -q '^peer ftp pid $REVPID' '$WORK/status'"
touch "$WORK/release"
wait "$HOLDPY" 2>/dev/null

# --- refusals: the per-peer share of the sessions ---------------------
bg $MNT "$BIN/ftp-proxy" -d -D 7 -S -W 0 2>> "$WORK/fwd2.log"
FWDPID=$LASTPID
wait_port "$FW" 8021 || die "forward ftp-proxy again"
rm -f "$WORK/release"
for n in 1 2 3 4 5; do hold "$CLI" $S4 "s$n" & eval "H$n=\$!"; done
# Which of the five comes last is the scheduler's choice: count them.
held() { cat "$WORK"/hold.s[1-5] 2>/dev/null | grep -c "$1"; }
settled() { [ $(($(held "pasv 227") + $(held "421"))) -ge 5 ]; }
i=0
while [ $i -lt 100 ] && ! settled; do sleep 0.1; i=$((i + 1)); done
check "a fifth session on one front end is refused (its share is 4 of 8)" \
    sh -c "[ $(held "pasv 227") -eq 4 ] && [ $(held 421) -eq 1 ]"
touch "$WORK/release"
for n in 1 2 3 4 5; do eval "wait \$H$n" 2>/dev/null; done
status
check "pfhelper -l counters: that one refusal, by its reason" \
    grep -qx "refused 1: too many sessions for this front end" "$WORK/status"
check "pfhelper -l counters: sessions and permits since start" sh -c \
    "grep -qE '^counters: peers [0-9]+, peers dropped 0, sessions ([1-9][0-9]+), permits [1-9][0-9]*, refused 1$' '$WORK/status'"

# --- who may connect --------------------------------------------------
noroot() { # socket: a uid other than 0 cannot connect
	in_mnt setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("refused:", e); sys.exit(0)
sys.exit(0 if s.recv(100) == b"" else 1)   # connected: the service closes
' "$1"
}
for s in ftp tftp control; do
	check "uid 65534 cannot connect to $s (directory 0700)" noroot $D/$s
done
in_mnt chmod 755 $D
in_mnt chmod 666 $D/ftp
check "uid 65534 connected to a world-writable ftp socket: closed at once" \
    noroot $D/ftp
check "and the service says why (SO_PEERCRED)" \
    wait_line "$WORK/pfhelper.log" "uid 65534 is not root"
in_mnt chmod 600 $D/ftp
in_mnt chmod 700 $D

# --- flags ------------------------------------------------------------
check "ftp-proxy -S with no service there: exits 1" sh -c \
    "! nsenter -t $HOLDER -m -n -- $BIN/ftp-proxy -d -S -s $WORK/none -p 8023 \
    2> '$WORK/none.err' && grep -q 'no pfhelper service' '$WORK/none.err'"
check "ftp-proxy -S -v (a table option the service lacks): exits 1" sh -c \
    "! nsenter -t $HOLDER -m -n -- timeout 10 $BIN/ftp-proxy -d -S -v -p 8023 \
    2> '$WORK/v.err' && grep -q 'other options' '$WORK/v.err'"

# --- kill -9 of pfhelper: every front end notices --------------------
rm -f "$WORK/release"
hold "$CLI" $S4 f &
HF=$!
hold "$SRV" $F4OUT r &
HR=$!
wait_line "$WORK/hold.f" "pasv 227"
wait_line "$WORK/hold.r" "pasv 227"
timeout 60 ip netns exec "$CLI" curl -sS -g "tftp://$S4/t1" -o /dev/null
check "a tftp-proxy is running when pfhelper dies" [ "$(nproxies)" -ge 1 ]
kill -9 "$SVCPID"
wait "$SVCPID" 2>/dev/null
check "forward client gets 421" wait_line "$WORK/hold.f" "got 421"
check "reverse client gets 421" wait_line "$WORK/hold.r" "got 421"
exited "$FWDPID"
wait "$FWDPID"
check "forward ftp-proxy exits with status 1" [ $? -eq 1 ]
exited "$REVPID"
wait "$REVPID"
check "reverse ftp-proxy exits with status 1" [ $? -eq 1 ]
check "tftp-proxy exits non-zero (inetd reaped a status other than 0)" \
    wait_re "$WORK/inetd.log" 'reaped, status [1-9a-f]' 5
check "the tables are gone" [ "$(tables)" = "table inet admin " ]
touch "$WORK/release"
wait "$HF" "$HR" 2>/dev/null

finish
