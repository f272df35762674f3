#!/bin/bash
# SPDX-License-Identifier: ISC
# ftp_interop.sh: what real clients and servers need beyond the basics:
# -T and -q (ct label and meta priority on the data connections), lines
# of any length from the server and long client commands, and the idle
# timeout during a slow transfer.  vsftpd and a pyftpdlib server
# (regress/servers/longftpd.py) outside; curl, lftp and python ftplib
# inside.  Run as root:
#   TOP=/path/to/tree bash regress/integration/ftp_interop.sh
# PARTS="tag long idle" (the default: all) runs some of it; LONGBANNER=50
# gives the pyftpdlib server a short greeting (the greeting tests then
# fail, the others show what they check on their own).
. "$(dirname "$0")/lib.sh"

PARTS=${PARTS:-"tag long idle"}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

require_root
set_up topo_up
set_up admin_rules
set_up vsftpd_up

PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 1024
CURL="timeout 40 ip netns exec $CLI curl -sS --connect-timeout 5 -m 35"
LFTP_SET="set net:timeout 5; set net:max-retries 1;
set net:reconnect-interval-base 1; set cmd:fail-exit yes"
url() { echo "ftp://$S4/$1"; }
LONGFTPD=$(cd "$(dirname "$0")/../servers" && pwd)/longftpd.py

# An nft counter in the firewall: counter TABLE CHAIN COMMENT prints
# "packets bytes" of the rule with that comment.
counter() {
	in_fw nft list chain inet "$1" "$2" | sed -n \
	    "s/.*counter packets \([0-9]*\) bytes \([0-9]*\).*comment \"$3\".*/\1 \2/p"
}
packets() { counter "$@" | cut -d' ' -f1; }
bytes() { counter "$@" | cut -d' ' -f2; }

# --- 1. -T and -q. ---------------------------------------------------

if part tag; then
# The admin's rules that use them: count new connections with the
# label (the data connections), and packets with the priority.
in_fw nft -f - <<-EOF
table inet watch {
	chain wfwd {
		type filter hook forward priority filter + 10;
		ct state new ct label 5 counter comment "tagnew"
		ct label 5 counter comment "tagall"
	}
	chain wpost {
		type filter hook postrouting priority filter + 10;
		meta priority 1:2 counter comment "prio"
		tcp dport 21 meta priority 1:2 counter comment "prioctl"
		tcp dport 21 counter comment "ctl"
	}
}
EOF
proxy_up -T 5 -q 1:2
# It listens before pfhelper has made the table: wait for it (5 s).
wait_table() {
	i=0
	while [ $i -lt 50 ]; do
		has_table && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
check "-T 5 -q 1:2: ftp-proxy runs, its table is there" wait_table

# pfhelper -n shows exactly what the running table has.
"$BIN/pfhelper" -n -T 5 -q 1:2 > "$WORK/desc"
grep -v '^[[:space:]]*#' "$WORK/desc" | grep -v '^$' > "$WORK/d1"
in_fw nft list table inet ftp-proxy | sed -e 's/ # progname.*//' \
    -e '/flags owner/d' -e '/^$/d' > "$WORK/d2"
check "-T/-q: pfhelper -n shows the running table" \
    eval "[ -s $WORK/d1 ] && cmp $WORK/d1 $WORK/d2"
check "-T: the pass rules set ct label 5" \
    grep -q "ct mark | 0x20000000 ct label set 5" "$WORK/d2"
check "-q: marked packets get meta priority 1:2" \
    grep -q "ct mark & 0x20000000 == 0x20000000 meta priority set 1:2" \
    "$WORK/d2"

# And a real tc class: HTB on the way to the clients, 1:2 for -q.
in_fw tc qdisc add dev inside root handle 1: htb default 10
in_fw tc class add dev inside parent 1: classid 1:10 htb rate 1gbit
in_fw tc class add dev inside parent 1: classid 1:2 htb rate 1gbit
rm -f "$WORK"/o[1-5]
check "-T/-q: five downloads (PASV twice in one session, EPSV, PORT, IPv6 \
EPRT)" eval "$CURL --disable-epsv $(url pub/big) -o $WORK/o1 \
    $(url pub/big) -o $WORK/o2 && $CURL $(url pub/big) -o $WORK/o3 &&
    $CURL -P - --disable-eprt $(url pub/big) -o $WORK/o4 &&
    $CURL -g -P - ftp://[$S6]/pub/big -o $WORK/o5 &&
    same $WORK/o1 $PUB/big && same $WORK/o2 $PUB/big &&
    same $WORK/o3 $PUB/big && same $WORK/o4 $PUB/big &&
    same $WORK/o5 $PUB/big"
n=$(packets watch wfwd tagnew)
check "-T: the admin's ct label rule counted 5 new connections (${n:-none})" \
    [ "${n:-0}" -eq 5 ]
b=$(bytes watch wfwd tagall)
check "-T: the labelled connections carried the data (${b:-0} bytes)" \
    [ "${b:-0}" -ge $((5 * 1024 * 1024)) ]
b=$(bytes watch wpost prio)
check "-q: packets with priority 1:2 carried the data (${b:-0} bytes)" \
    [ "${b:-0}" -ge $((5 * 1024 * 1024)) ]
b=$(in_fw tc -s class show dev inside classid 1:2 |
    sed -n 's/^ *Sent \([0-9]*\) bytes.*/\1/p')
c=$(in_fw tc -s class show dev inside classid 1:10 |
    sed -n 's/^ *Sent \([0-9]*\) bytes.*/\1/p')
check "-q: HTB put the data in class 1:2 (${b:-0} bytes), the control \
replies in 1:10 (${c:-0} bytes)" eval "[ ${b:-0} -ge $((5 * 1024 * 1024)) ] &&
    [ ${c:-0} -gt 0 ] && [ ${c:-0} -lt 1048576 ]"
in_fw tc qdisc del dev inside root
n=$(packets watch wpost ctl)
m=$(packets watch wpost prioctl)
check "-q: the control connections (${n:-0} packets) have no priority" \
    [ "${n:-0}" -gt 0 ] && [ "${m:-1}" -eq 0 ]
proxy_stop
check "-T/-q: ftp-proxy exits 0, table gone" \
    eval "[ $PROXYRC -eq 0 ] && ! has_table"
in_fw nft delete table inet watch
check "-T 128 and -q 1 are refused" eval "! $BIN/ftp-proxy -T 128 2>&1 &&
    ! $BIN/ftp-proxy -q 1 2>&1"
fi

# --- 2. -t during a transfer: a slow download is not idle. -----------

if part idle; then
mkfile "$PUB/small" 8
proxy_up -t 5
# A slow link to the clients: 512 kbit/s, 1 MiB in 16 s.  (curl's
# --limit-rate does not hold a download back here: 1 MiB came in 20 ms
# through the proxy.)
in_fw tc qdisc add dev inside root tbf rate 512kbit burst 16kb latency 1s ||
    fail "tc tbf on the inside interface"
sessions() { grep -c "FTP session" "$WORK/ftp-proxy.log"; }
idles() { grep -c "ending session: idle timeout" "$WORK/ftp-proxy.log"; }
# curl_slow, lftp_slow: 1 MiB, then 8 KiB, in one session; how long.
curl_slow() {
	rm -f "$WORK/s1" "$WORK/s2"
	$CURL -v "$(url pub/big)" -o "$WORK/s1" "$(url pub/small)" \
	    -o "$WORK/s2" 2> "$WORK/curl.err" || return 1
	same "$WORK/s1" "$PUB/big" && same "$WORK/s2" "$PUB/small" &&
	    [ "$(grep -c '^< 226' "$WORK/curl.err")" -eq 2 ]
}
lftp_slow() {
	rm -f "$WORK/s1" "$WORK/s2"
	timeout 40 ip netns exec "$CLI" lftp -c "$LFTP_SET; open ftp://$S4;
	    get pub/big -o $WORK/s1; get pub/small -o $WORK/s2" &&
	    same "$WORK/s1" "$PUB/big" && same "$WORK/s2" "$PUB/small"
}
for c in curl lftp; do
	n0=$(sessions)
	i0=$(idles)
	t0=$(date +%s)
	${c}_slow > "$WORK/slow.out" 2>&1
	rc=$?
	t=$(($(date +%s) - t0))
	n=$(($(sessions) - n0))
	i=$(($(idles) - i0))
	check "-t 5: $c over 512 kbit/s: 1 MiB in $t s (>= 15), then 8 KiB, \
both whole, $n session(s), $i idle timeouts" eval "[ $rc -eq 0 ] &&
	    [ $t -ge 15 ] && [ $n -eq 1 ] && [ $i -eq 0 ] || {
	    tail -n 3 $WORK/slow.out; false; }"
done

# Counted from before the last command, so not before -t 5 (a bound
# that load cannot break); how long after is make bench's (stall).
i0=$(idles)
check "-t 5: an idle session gets 421, also after a transfer" \
    py "$CLI" "$S4" <<-'EOF'
	import sys, time
	from ftpc import Ctl
	for transfer in (False, True):
	    c = Ctl(sys.argv[1], timeout=30)
	    t0 = time.time()
	    assert c.login() == 230
	    if transfer:
	        assert c.code("TYPE I") == 200
	        t0 = time.time()
	        assert len(c.passive("EPSV", "RETR pub/small")) == 8192
	    code, lines = c.reply()
	    dt = time.time() - t0
	    print(transfer, code, lines, "after %.1f s" % dt)
	    assert code == 421 and dt > 4.95, (code, dt)
	    assert c.eof(3)
	EOF
idled2() { [ "$(idles)" -eq $((i0 + 2)) ]; }
check "-t 5: both ended by the idle timeout (log)" wait_for 5 idled2
in_fw tc qdisc del dev inside root
proxy_stop
check "-t: ftp-proxy exits 0" [ "$PROXYRC" -eq 0 ]
fi

# --- 3. Long lines: a 10,000-byte greeting line, PATH_MAX paths. -----

if part long; then
kill "$VSFTPDPID" 2>/dev/null
wait "$VSFTPDPID" 2>/dev/null
PIDS=$(echo " $PIDS " | sed "s/ $VSFTPDPID / /")
# A 255-byte file name in pub/, and the same name at the end of a path
# of 4,095 bytes (PATH_MAX less its NUL): 14 directories of 255 bytes,
# one of 254.
LROOT=$WORK/longroot
NAME=$(printf 'n%.0s' $(seq 250))-name
D=""
for i in $(seq 14); do D="$D/$(printf 'd%.0s' $(seq 255))"; done
D="$D/$(printf 'e%.0s' $(seq 254))"
DEEP="$D/$NAME"
mkdir -p "$LROOT/pub"
mkfile "$LROOT/pub/$NAME" 512
# Longer than PATH_MAX from here: one directory at a time.
(cd "$LROOT" && for c in $(echo "$D" | tr / ' '); do
	mkdir "$c" && cd "$c" || exit 1
done && cp "$LROOT/pub/$NAME" .) || fail "cannot make the deep path"
chmod -R a+rX "$LROOT"
check "the deep path has 4,095 bytes, the name 255" \
    [ "${#DEEP}" -eq 4095 ] && [ "${#NAME}" -eq 255 ]
bg ip netns exec "$SRV" /usr/bin/python3 "$LONGFTPD" \
    "$S4" 21 "$LROOT" "$WORK/longftpd.log" "${LONGBANNER:-10000}"
LONGPID=$LASTPID
wait_port "$SRV" 21 || fail "longftpd.py did not start"
# Under ASan (make sanitize) freed memory sits in quarantine and the
# peak would grow with what passes: no quarantine for this one.
PROXYWRAP="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
    proxy_up -t 5

rm -f "$WORK/l1"
check "long greeting: curl downloads the 255-byte name, sha256 matches" \
    eval "$CURL -v $(url "pub/$NAME") -o $WORK/l1 2> $WORK/curl.err &&
    same $WORK/l1 $LROOT/pub/$NAME"
check "long greeting: curl saw the whole 10,000-byte line" \
    grep -q "^< 220-long banner of 10000 bytes x*x end" "$WORK/curl.err"

rm -f "$WORK/l2"
check "long greeting: lftp downloads the 255-byte name, sha256 matches" \
    eval "timeout 30 ip netns exec $CLI lftp -c \"$LFTP_SET;
    open ftp://$S4; get pub/$NAME -o $WORK/l2\" && same $WORK/l2 \
    $LROOT/pub/$NAME"

check "long greeting: ftplib gets the greeting whole, downloads, STATs \
the 4,095-byte path" py "$CLI" "$S4" "$NAME" "$DEEP" \
    "$(sum "$LROOT/pub/$NAME")" <<-'EOF'
	import ftplib, hashlib, sys
	host, name, deep, want = sys.argv[1:5]
	f = ftplib.FTP()
	f.maxline = 65536	# ftplib's own limit is 8192
	w = f.connect(host, 21, timeout=10)
	first = w.split("\n")[0]
	print(len(first), first[:40], first[-10:])
	assert len(first) == 4 + 10000 and first.endswith(" end"), "greeting"
	f.login()
	for path in ("pub/" + name, deep):
	    h = hashlib.sha256()
	    f.retrbinary("RETR " + path, h.update)
	    assert h.hexdigest() == want, "checksum of " + path[:20]
	r = f.sendcmd("STAT " + deep)
	lines = r.split("\n")
	print(len(lines), [len(l) for l in lines])
	assert lines[0] == '213-Status of "%s":' % deep, "STAT first line"
	assert len(lines[0]) > 4096
	assert any(l.endswith(name) for l in lines[1:-1]), "STAT listing"
	assert lines[-1].startswith("213 ")
	assert f.voidcmd("NOOP").startswith("200")
	f.quit()
	EOF
check "the server got RETR and STAT with the 4,095-byte path" \
    eval "grep -q '^RETR 4095$' $WORK/longftpd.log &&
    grep -q '^STAT 4095$' $WORK/longftpd.log"

rm -f "$WORK/l3"
: > "$WORK/longftpd.log"
check "curl --ftp-method nocwd: RETR of the 4,095-byte path, sha256 matches" \
    eval "$CURL --ftp-method nocwd $(url "${DEEP#/}") -o $WORK/l3 &&
    same $WORK/l3 "$LROOT/pub/$NAME" && grep -q '^RETR 4094$' $WORK/longftpd.log"

check "a 12,000-byte command reaches the server; a 20,000-byte one gets \
500 and the session goes on" py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], timeout=10)
	assert c.greeting[0] == 220
	assert c.login() == 230
	code, lines = c.cmd("SITE " + "s" * 12000)
	assert code in (500, 501, 502, 504), code	# the server's answer
	c.send("NOOP " + "x" * 20000)
	code, lines = c.reply()
	assert (code, lines) == (500, ["500 Line too long"]), lines
	# in pieces, and the next command in the same segment
	for i in range(10):
	    c.send(b"y" * 3000)
	c.send(b"\r\nNOOP\r\n")
	assert c.reply() == (500, ["500 Line too long"])
	assert c.reply()[0] == 200	# the NOOP after it
	assert c.code("PWD") == 257
	EOF
check "the server got the 12,000-byte SITE, not the long NOOP" \
    eval "grep -q '^SITE 12000$' $WORK/longftpd.log &&
    ! grep -q '^NOOP [1-9]' $WORK/longftpd.log"

# A greeting line of 8 MiB streams through: the proxy's memory does not
# grow with it.  A second server on another address, the same port.
in_srv ip addr add 198.51.100.11/24 dev eth0
bg ip netns exec "$SRV" /usr/bin/python3 "$LONGFTPD" \
    198.51.100.11 21 "$LROOT" "$WORK/longftpd2.log" $((8 * 1024 * 1024))
wait_grep "$WORK/longftpd2.log" listening 1 || fail "second longftpd.py"
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$WORKERPID/status"; }
m0=$(hwm)
f0=$nfail
check "an 8 MiB greeting line arrives whole" py "$CLI" 198.51.100.11 \
    $((8 * 1024 * 1024)) <<-'EOF'
	import socket, sys
	n = int(sys.argv[2])
	s = socket.create_connection((sys.argv[1], 21), timeout=10)
	got = bytearray()
	while not got.endswith(b"\r\n220 \r\n") and len(got) < 2 * n:
	    d = s.recv(1 << 20)
	    if not d:
	        break
	    got += d
	first = bytes(got[:got.index(b"\r\n")])
	print(len(got), len(first), first[:40], first[-8:])
	assert len(first) == 4 + n and first.startswith(b"220-long banner")
	assert first.endswith(b" end") and got.endswith(b"\r\n220 \r\n")
	s.sendall(b"QUIT\r\n")
	assert s.recv(100).startswith(b"221")
	EOF
m1=$(hwm)
check "... and ftp-proxy's peak memory grew by less than 1 MiB (${m0:-?} -> \
${m1:-?} kB)" eval "[ $nfail -eq $f0 ] && [ $((m1 - m0)) -lt 1024 ]"
proxy_stop
check "long lines: ftp-proxy exits 0" [ "$PROXYRC" -eq 0 ]
fi

finish
