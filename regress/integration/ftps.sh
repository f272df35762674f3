#!/bin/bash
# SPDX-License-Identifier: ISC
# ftps.sh: FTP over TLS through ftp-proxy -E, TLS end to end (no key on
# the firewall), with one range permit per TLS session.  vsftpd with
# ssl_enable=YES, anonymous logins and data forced over TLS, its
# default require_ssl_reuse=YES kept, a certificate made here with
# openssl req; curl --ssl-reqd, python's ftplib FTP_TLS with prot_p()
# and lftp with ftp:ssl-force; IPv4 and IPv6; forward mode, then
# reverse mode (vsftpd's pasv_address is the firewall's, implicit TLS
# on -I's port to a second vsftpd's 990), ProFTPD with mod_tls and
# pure-ftpd with TLS in reverse mode (MasqueradeAddress, -P: both
# unpacked under obj/servers, never installed); a standing pfhelper
# with -E, whose pfhelper -l names the range permit.  A capture
# on the firewall's interfaces holds none of the files' bytes.  Without
# -E: 502 and nothing inserted.  Hostile: plaintext PORT after AUTH
# TLS; 1,000 TLS sessions of one client; the range
# permit gone at the session's end and after kill -9 of ftp-proxy.
# Run as root:  TOP=/path/to/tree bash regress/integration/ftps.sh
. "$(dirname "$0")/lib.sh"

require_root
need "$BIN/ftp-proxy" "$BIN/pfhelper"
for _p in openssl tcpdump curl; do
	command -v "$_p" >/dev/null || { fail "no $_p"; finish; exit 1; }
done
set_up topo_up
set_up admin_rules

LO=41000
HI=41099
mkcert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ftps.test \
	    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2> "$WORK/req.err"
}
set_up mkcert
TLSCONF="ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
rsa_cert_file=$WORK/cert.pem
rsa_private_key_file=$WORK/key.pem
ssl_ciphers=HIGH
pasv_min_port=$LO
pasv_max_port=$HI"
VSFTPD_EXTRA=$TLSCONF
set_up vsftpd_up

PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 1024
mkfile "$PUB/alpha.txt" 1
mkfile "$WORK/up" 1024
# Implicit FTP over TLS: a second vsftpd on port 990, intercepted too.
VSFTPD_EXTRA="$TLSCONF
implicit_ssl=YES
listen_port=990"
set_up vsftpd_up "$SRV" i
set_up wait_port "$SRV" 990
cp "$PUB/big" "$PUB/alpha.txt" "$WORK/ftprooti/pub/"
set_up in_fw nft add rule inet admin nat_pre iifname inside tcp dport 990 \
    redirect to :8021
CURL="timeout 30 ip netns exec $CLI curl -sS --connect-timeout 5 -m 25 -g"
CURL="$CURL --ssl-reqd -k"

# tlsc.py: ftplib's FTP_TLS (ftpstls.py, beside it in $WORK).
cp "$(dirname "$0")/ftpstls.py" "$WORK/"
cat > "$WORK/tlsc.py" <<'EOF'
import os, socket, sys, time
from ftpstls import FTPS, ctx

def login(host):
    f = FTPS(context=ctx(), timeout=10)
    f.connect(host, 21)
    f.login()
    f.prot_p()
    return f

def waitfile(path, secs):
    for _ in range(secs * 10):
        if os.path.exists(path):
            return
        time.sleep(0.1)

mode, host = sys.argv[1], sys.argv[2]
if mode == "xfer":              # xfer HOST GET OUT PUTSRC PUTNAME
    f = login(host)
    with open(sys.argv[4], "wb") as o:
        f.retrbinary("RETR " + sys.argv[3], o.write)
    with open(sys.argv[5], "rb") as i:
        f.storbinary("STOR " + sys.argv[6], i)
    print("\n".join(f.nlst("pub")))
    f.quit()
elif mode == "hold":            # hold HOST READY GO: a session, held
    f = login(host)
    open(sys.argv[3], "w").close()
    waitfile(sys.argv[4], 20)
    f.quit()
elif mode in ("plainport", "auth"):
    # AUTH TLS, its reply; plainport: then PORT in clear
    s = socket.create_connection((host, 21), 10)
    s.settimeout(5)
    r = s.makefile("rb")
    r.readline()
    s.sendall(b"AUTH TLS\r\n")
    print("auth", r.readline().decode().strip())
    if mode == "auth":
        sys.exit(0)
    s.sendall(b"PORT 203,0,113,5,160,1\r\n")
    try:
        print("reply", r.readline()[:3].decode("latin-1") or "closed")
    except (socket.timeout, OSError) as e:
        print("reply error", e)
EOF
tlsc() { # ns args...
	_ns=$1
	shift
	timeout 40 ip netns exec "$_ns" "${PYTHON:-python3}" \
	    "$WORK/tlsc.py" "$@"
}

# Elements in the range permits' set (tpass4 or tpass6) of the table.
tpass() {
	in_fw nft list set inet "${2:-ftp-proxy}" "tpass$1" 2>/dev/null |
	    sed -n '/elements/,$p' | grep -o ' \. ' | wc -l
}
# wait_tpass fam n: until the set holds n elements (5 s at most).
wait_tpass() {
	_i=0
	while [ $_i -lt 50 ]; do
		[ "$(tpass "$1")" -eq "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "tpass$1: $(tpass "$1") elements, expected $2"
	return 1
}

url() { # url host path
	case $1 in *:*) echo "ftp://[$1]/$2" ;; *) echo "ftp://$1/$2" ;; esac
}

get_ok() { # ns host [curl options]: pub/big, its checksum
	_ns=$1 _h=$2
	shift 2
	rm -f "$WORK/out"
	timeout 30 ip netns exec "$_ns" curl -sS --connect-timeout 5 -m 25 \
	    -g --ssl-reqd -k "$@" "$(url "$_h" pub/big)" -o "$WORK/out" &&
	    same "$WORK/out" "$PUB/big"
}
put_ok() { # ns host name: $WORK/up as pub/name, its checksum there
	rm -f "$PUB/$3"
	timeout 30 ip netns exec "$1" curl -sS --connect-timeout 5 -m 25 \
	    -g --ssl-reqd -k -T "$WORK/up" "$(url "$2" "pub/$3")" &&
	    same "$PUB/$3" "$WORK/up"
}
list_ok() { # ns host [curl options]: the names in pub/
	_ns=$1 _h=$2
	shift 2
	timeout 30 ip netns exec "$_ns" curl -sS --connect-timeout 5 -m 25 \
	    -g --ssl-reqd -k -l "$@" "$(url "$_h" pub/)" > "$WORK/ls.out" &&
	    grep -qx big "$WORK/ls.out" && grep -qx alpha.txt "$WORK/ls.out"
}
py_ok() { # ns host tag: ftplib FTP_TLS, prot_p: get, put, list
	rm -f "$WORK/py.out" "$PUB/py-$3"
	tlsc "$1" xfer "$2" pub/big "$WORK/py.out" "$WORK/up" \
	    "pub/py-$3" > "$WORK/pyls.out" &&
	    same "$WORK/py.out" "$PUB/big" && same "$PUB/py-$3" "$WORK/up" &&
	    grep -q big "$WORK/pyls.out"
}
lftp_ok() { # ns host: ftp:ssl-force, ftp:ssl-protect-data
	rm -f "$WORK/lftp.out"
	case $2 in *:*) _h="[$2]" ;; *) _h=$2 ;; esac
	timeout 30 ip netns exec "$1" lftp -c "set net:timeout 5;
	    set net:max-retries 1; set cmd:fail-exit yes;
	    set ftp:ssl-force yes; set ftp:ssl-protect-data yes;
	    set ftp:ssl-allow-anonymous yes;
	    set ssl:verify-certificate no; open ftp://$_h;
	    get pub/big -o $WORK/lftp.out" && same "$WORK/lftp.out" "$PUB/big"
}

# hold_start ns host: a TLS session that stays until hold_end.
hold_start() {
	rm -f "$WORK/ready" "$WORK/go"
	bg timeout 40 ip netns exec "$1" "${PYTHON:-python3}" \
	    "$WORK/tlsc.py" hold "$2" "$WORK/ready" "$WORK/go" \
	    2>> "$WORK/hold.err"
	HOLDPID=$LASTPID
	_i=0
	while [ $_i -lt 100 ] && [ ! -e "$WORK/ready" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -e "$WORK/ready" ] || { echo "no TLS session"; return 1; }
}
hold_end() {
	touch "$WORK/go"
	wait_gone "$HOLDPID" 100
}

# --- 1. Without -E: 502, named in the log, nothing inserted ----------

set_up proxy_up
check "without -E: implicit TLS (port 990) closed, logged" sh -c "
	! $CURL ftps://$S4/pub/big -o $WORK/out &&
	grep -q 'implicit FTP over TLS (port 990) refused: it needs -E' \
	    $WORK/ftp-proxy.log"
check "without -E: AUTH TLS gets 502, the log names -E, no element" sh -c "
	! $CURL -v $(url $S4 pub/big) -o $WORK/out 2> $WORK/curl.err &&
	grep -q '^< 502 AUTH' $WORK/curl.err &&
	grep -q 'AUTH TLS refused: FTP over TLS needs -E' \
	    $WORK/ftp-proxy.log &&
	! ip netns exec $FW nft list table inet ftp-proxy | grep -q elements"
proxy_stop

# --- 2. Forward mode, with a capture on the firewall's interfaces ----

bg ip netns exec "$FW" tcpdump -i any -U -s 0 -w "$WORK/cap.pcap" tcp \
    2> "$WORK/tcpdump.err"
CAPPID=$LASTPID
set_up wait_re "$WORK/tcpdump.err" "listening on" 10
set_up proxy_up -E "$LO-$HI"

check "forward IPv4: curl --ssl-reqd get" get_ok "$CLI" "$S4"
check "forward IPv4: curl --ssl-reqd put" put_ok "$CLI" "$S4" up4
check "forward IPv4: curl --ssl-reqd list" list_ok "$CLI" "$S4"
check "forward IPv6: curl --ssl-reqd get" get_ok "$CLI" "$S6"
check "forward IPv6: curl --ssl-reqd put" put_ok "$CLI" "$S6" up6
check "forward IPv6: curl --ssl-reqd list" list_ok "$CLI" "$S6"
check "forward IPv4: ftplib FTP_TLS prot_p get, put, list" \
    py_ok "$CLI" "$S4" 4
check "forward IPv6: ftplib FTP_TLS prot_p get, put, list" \
    py_ok "$CLI" "$S6" 6
implicit_ok() { # ns host [root]: curl ftps:// get, a put on its disk
	_root=$WORK/ftproot${3:-i}/pub
	rm -f "$WORK/out" "$_root/imp"
	case $2 in *:*) _h="[$2]" ;; *) _h=$2 ;; esac
	timeout 30 ip netns exec "$1" curl -sS --connect-timeout 5 -m 25 -g \
	    -k "ftps://$_h/pub/big" -o "$WORK/out" &&
	    same "$WORK/out" "$_root/big" &&
	    timeout 30 ip netns exec "$1" curl -sS --connect-timeout 5 -m 25 \
	    -g -k -T "$WORK/up" "ftps://$_h/pub/imp" &&
	    same "$_root/imp" "$WORK/up"
}
check "forward IPv4: implicit TLS (port 990): curl ftps:// get, put" \
    implicit_ok "$CLI" "$S4"
check "forward IPv6: implicit TLS (port 990): curl ftps:// get, put" \
    implicit_ok "$CLI" "$S6"
if command -v lftp >/dev/null; then
	check "forward IPv4: lftp ssl-force, ssl-protect-data get" \
	    lftp_ok "$CLI" "$S4"
	check "forward IPv6: lftp ssl-force, ssl-protect-data get" \
	    lftp_ok "$CLI" "$S6"
fi

# vsftpd refuses an address that is not the control connection's
# (ours), with 500; a server that took it would get no permit (425).
check "forward: active mode inside TLS fails cleanly (500 or 425)" sh -c "
	! $CURL -v -P - $(url $S4 pub/big) -o $WORK/out 2> $WORK/curl.err &&
	grep -q '^< 234' $WORK/curl.err &&
	grep -Eq '^< (500 Illegal (PORT|EPRT)|425)' $WORK/curl.err"

# The range permit: one set element per TLS session, for its life.
live_then_gone() { # while the held session lives, its range permit
	in_fw nft list set inet ftp-proxy tpass4 | grep -q "$C4 . $S4" &&
	    in_fw nft list map inet ftp-proxy tsnat4 |
	    grep -q "$C4 . $S4 : $F4OUT" || return 1
	hold_end
	wait_tpass 4 0
}
second_shares() { # a second TLS session meanwhile: served, one element
	py_ok "$CLI" "$S4" 4b && [ "$(tpass 4)" -eq 1 ]
}
kill9_gone() { # the held session's permit, then kill -9 ftp-proxy
	wait_tpass 6 1 || return 1
	kill -9 "$PROXYPID"
	_i=0
	while [ $_i -lt 50 ] && in_fw nft list set inet ftp-proxy tpass6 \
	    2>/dev/null | grep -q "$C6"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	! in_fw nft list set inet ftp-proxy tpass6 2>/dev/null | grep -q "$C6"
}
hold_start "$CLI" "$S4"
check "forward: a second TLS session of the same client and server \
meanwhile: served, the elements shared" second_shares
check "forward: the range permit (C . S, snat) lives with its session" \
    live_then_gone
hold_start "$CLI" "$S6"
check "kill -9 of ftp-proxy: the range permit is gone" kill9_gone
hold_end
proxy_stop KILL

kill -INT "$CAPPID" 2>/dev/null
wait_gone "$CAPPID" 50
# Slices of every file that crossed the firewall, none in the capture;
# the greeting (before AUTH) is there in clear, so the capture is read.
check "capture: the files' bytes never crossed the firewall in clear" \
    "${PYTHON:-python3}" - "$WORK/cap.pcap" "$PUB/big" "$WORK/up" <<'EOF'
import sys
cap = open(sys.argv[1], "rb").read()
assert len(cap) > 4 * 1024 * 1024, "capture too small: %d" % len(cap)
assert b"vsFTPd" in cap, "no greeting in clear: not our capture"
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    for k in range(128):
        off = k * (len(data) - 64) // 127
        assert data[off:off + 24] not in cap, "%s at %d in clear" % (path, off)
print("ok")
EOF

# --- 3. Hostile ----------------------------------------------------

plain_port() { # 234, no 200, no single permit; the range permit goes
	_o=$(tlsc "$CLI" plainport "$S4")
	echo "$_o"
	echo "$_o" | grep -q '^auth 234' &&
	    ! echo "$_o" | grep -q '^reply 200' &&
	    ! ptable | grep -q expires &&
	    wait_tpass 4 0
}
set_up proxy_up -E "$LO-$HI"
check "AUTH TLS, then PORT to a third host in clear: refused, no permit" \
    plain_port
# A server that answers 234 to a client that never speaks TLS: the
# client's plaintext reaches it as it was sent (a byte relay), the
# server's close reaches the client, and the range permit goes.
cat > "$WORK/fake234.py" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 2121))
s.listen(1)
s.settimeout(20)
print("listening", flush=True)
c, _ = s.accept()
c.settimeout(10)
f = c.makefile("rb")
c.sendall(b"220 fake\r\n")
f.readline()
c.sendall(b"234 Go ahead\r\n")
print("got", f.readline().decode("latin-1").strip(), flush=True)
c.close()
EOF
cat > "$WORK/noTLS.py" <<'EOF'
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 2121), 10)
s.settimeout(10)
f = s.makefile("rb")
f.readline()
s.sendall(b"AUTH TLS\r\n")
print("auth", f.readline().decode().strip(), flush=True)
for _ in range(100):                    # the test looks meanwhile
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
s.sendall(b"USER anonymous\r\n")
print("eof" if f.read() == b"" else "data", flush=True)
EOF
fake_234() { # on port 2121, intercepted as well
	in_fw nft add rule inet admin nat_pre iifname inside tcp dport 2121 \
	    redirect to :8021 || return 1
	bg timeout 30 ip netns exec "$SRV" "${PYTHON:-python3}" \
	    "$WORK/fake234.py" "$S4" > "$WORK/fake.out"
	wait_re "$WORK/fake.out" listening 10 || return 1
	rm -f "$WORK/go"
	timeout 20 ip netns exec "$CLI" "${PYTHON:-python3}" \
	    "$WORK/noTLS.py" "$S4" "$WORK/go" > "$WORK/noTLS.out" &
	_c=$!
	wait_re "$WORK/noTLS.out" '^auth 234' 10 || return 1
	in_fw nft list set inet ftp-proxy tpass4 | grep -q "$C4 . $S4"
	_live=$?
	touch "$WORK/go"
	wait "$_c"
	cat "$WORK/noTLS.out" "$WORK/fake.out"
	[ $_live -eq 0 ] && grep -q '^got USER anonymous$' "$WORK/fake.out" &&
	    grep -q '^eof$' "$WORK/noTLS.out" && wait_tpass 4 0
}
check "a server's 234 to a client that never speaks TLS: bytes as sent, \
its close reaches the client, the range permit goes" fake_234
proxy_stop

# 1,000 TLS sessions from one client: -M holds (20 at once, 20 234s),
# they share one range permit's elements, and another client is served
# meanwhile.
cat > "$WORK/many.py" <<'EOF'
import socket, sys, time
host, n, flag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks, res = [], {}
for _ in range(n):
    try:
        s = socket.create_connection((host, 21), 5)
        s.settimeout(5)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"AUTH TLS\r\n")
        code = f.readline()[:3].decode("latin-1") or "closed"
        socks.append(s)
    except OSError:
        code = "error"
    res[code] = res.get(code, 0) + 1
print(" ".join("%s=%d" % kv for kv in sorted(res.items())), flush=True)
open(flag, "w").close()
time.sleep(15)
EOF
many_hold() {
	in_cli ip addr add 192.0.2.11/24 dev eth0
	rm -f "$WORK/many.flag"
	bg timeout 120 ip netns exec "$CLI" "${PYTHON:-python3}" \
	    "$WORK/many.py" "$S4" 1000 "$WORK/many.flag" > "$WORK/many.out"
	MANYPID=$LASTPID
	_i=0
	while [ $_i -lt 900 ] && [ ! -e "$WORK/many.flag" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	cat "$WORK/many.out"
	grep -Eq '^234=20 (closed|421)=980$' "$WORK/many.out" &&
	    [ "$(tpass 4)" -eq 1 ] &&
	    ! ptable | grep -q expires &&
	    get_ok "$CLI" "$S4" --interface 192.0.2.11 &&
	    kill "$MANYPID" && wait_tpass 4 0
}
set_up proxy_up -E "$LO-$HI" -M 20 -m 100
check "1,000 TLS sessions of one client: 20 at once, one set of elements, \
another client served" many_hold
proxy_stop

# --- 4. A standing service: its -E, and pfhelper -l -----------------

svc_lists_range() { # pfhelper -l names the held session's range permit
	in_fw "$BIN/pfhelper" -l -s "$PFHDIR" > "$WORK/status" &&
	    grep -q "range in ftp-proxy: $C4 . $S4 . tcp . $LO-$HI" \
	    "$WORK/status"
}
other_range_refused() { # a front end with another range: refused
	! timeout 20 ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" \
	    "$BIN/ftp-proxy" -d -S -s "$PFHDIR" -p 8022 -E 42000-42099 \
	    2> "$WORK/other.log"
	cat "$WORK/other.log"
	grep -q "another -E range" "$WORK/other.log"
}
bg ip netns exec "$FW" "$BIN/pfhelper" -S -s "$PFHDIR" -E "$LO-$HI" -d \
    -D 7 2>> "$WORK/pfhelper.log"
SVCPID=$LASTPID
set_up wait_re "$WORK/pfhelper.log" "serving table inet ftp-proxy" 10
set_up proxy_up -S -E "$LO-$HI"
set_up hold_start "$CLI" "$S4"
check "service: pfhelper -l shows the range permit" svc_lists_range
hold_end
check "service: a front end with another -E range is refused" \
    other_range_refused
proxy_stop
kill "$SVCPID"
wait_gone "$SVCPID" 50

# --- 5. Reverse mode: the server inside, pasv_address the firewall's -

in_cli ip route del default
in_cli ip -6 route del default
VSFTPD_EXTRA="$TLSCONF
pasv_address=$F4OUT"
set_up vsftpd_up "$CLI" 2
PUB=$WORK/ftproot2/pub
mkfile "$PUB/big" 512
mkfile "$PUB/alpha.txt" 1
# Its implicit twin on port 990, for -I.
VSFTPD_EXTRA="$TLSCONF
pasv_address=$F4OUT
implicit_ssl=YES
listen_port=990"
set_up vsftpd_up "$CLI" ri
set_up wait_port "$CLI" 990
cp "$PUB/big" "$WORK/ftprootri/pub/"
PROXYPORT=21 set_up proxy_up -R "$C4" -b "$F4OUT" -p 21 \
    -E "$LO-$HI" -I 990
check "reverse IPv4: curl get (PASV, pasv_address)" \
    get_ok "$SRV" "$F4OUT" --disable-epsv
check "reverse IPv4: curl put (EPSV)" put_ok "$SRV" "$F4OUT" rup4
check "reverse IPv4: curl list" list_ok "$SRV" "$F4OUT"
check "reverse IPv4: ftplib FTP_TLS prot_p get, put, list" \
    py_ok "$SRV" "$F4OUT" r4
rev_live_then_gone() {
	in_fw nft list map inet ftp-proxy trdr4 |
	    grep -q "$S4 . $F4OUT : $C4" || return 1
	hold_end
	wait_tpass 4 0
}
hold_start "$SRV" "$F4OUT"
check "reverse: the range permit (C . fw -> server, port kept) lives \
with its session" rev_live_then_gone
implicit_rev() { # to -I's port, on to the server's 990
	implicit_ok "$SRV" "$F4OUT" ri &&
	    grep -q " -> $C4:990 via" "$WORK/ftp-proxy.log"
}
check "reverse IPv4: implicit TLS on -I's port: curl ftps:// get, put" \
    implicit_rev
proxy_stop
PROXYPORT=21 set_up proxy_up -R "$C6" -b "$F6OUT" -p 21 \
    -E "$LO-$HI" -I 990
check "reverse IPv6: curl get (EPSV)" get_ok "$SRV" "$F6OUT"
check "reverse IPv6: implicit TLS on -I's port: curl ftps:// get, put" \
    implicit_ok "$SRV" "$F6OUT" ri
reload_implicit() { # SIGHUP: a new worker, -I's listeners handed on
	_w=$(pgrep -P "$PROXYPID" -x ftp-proxy)
	kill -HUP "$PROXYPID" || return 1
	_i=0 _n=""
	while [ $_i -lt 100 ] && [ -z "$_n" ]; do
		_n=$(pgrep -P "$PROXYPID" -x ftp-proxy | grep -vx "$_w")
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -n "$_n" ] && implicit_ok "$SRV" "$F6OUT" ri
}
check "reload (SIGHUP): implicit TLS on -I's port still served" \
    reload_implicit
check "reverse IPv6: curl put" put_ok "$SRV" "$F6OUT" rup6
check "reverse IPv6: ftplib FTP_TLS prot_p get, put, list" \
    py_ok "$SRV" "$F6OUT" r6
proxy_stop

# --- 6. ProFTPD with mod_tls, reverse: MasqueradeAddress -------------
# Unpacked under obj/servers (scripts/servers.sh), with its crypto
# modules (mod_tls), never installed.

proftpd_tls() {
	proftpd_deps ftps.sh > /dev/null 2>&1 &&
	    unpack_debs ftps.sh "$PFTPD_DIR" \
	    "$PFTPD_DIR/usr/lib/proftpd/mod_tls.so" proftpd-mod-crypto \
	    > /dev/null 2>&1 || { echo "no ProFTPD with mod_tls"; return 1; }
	mkdir -p "$WORK/proot/pub"
	cp "$PUB/big" "$PUB/alpha.txt" "$WORK/proot/pub/"
	chmod 755 "$WORK/proot" "$WORK/proot/pub"
	chmod 777 "$WORK/proot/pub"
	chmod 711 "$WORK"
	cat > "$WORK/proftpd.conf" <<-EOF2
	ServerName		"ftps"
	ServerType		standalone
	DefaultServer		on
	UseIPv6			off
	Port			2121
	User			nobody
	Group			nogroup
	PidFile			$WORK/proftpd.pid
	ScoreboardFile		$WORK/proftpd.scoreboard
	SystemLog		$WORK/proftpd.log
	TransferLog		none
	WtmpLog			off
	UseReverseDNS		off
	DelayEngine		off
	RequireValidShell	off
	ModulePath		$PFTPD_DIR/usr/lib/proftpd
	LoadModule		mod_tls.c
	MasqueradeAddress	$F4OUT
	PassivePorts		$LO $HI
	<IfModule mod_ident.c>
	  IdentLookups		off
	</IfModule>
	TLSEngine		on
	TLSRequired		on
	TLSProtocol		TLSv1.2 TLSv1.3
	TLSRSACertificateFile	$WORK/cert.pem
	TLSRSACertificateKeyFile $WORK/key.pem
	TLSLog			$WORK/proftpd-tls.log
	<Anonymous $WORK/proot>
	  User			ftp
	  Group			nogroup
	  UserAlias		anonymous ftp
	  RequireValidShell	off
	  <Directory pub>
	    <Limit STOR>
	      AllowAll
	    </Limit>
	  </Directory>
	</Anonymous>
	EOF2
	bg ip netns exec "$CLI" "$PROFTPD" -n -q -c "$WORK/proftpd.conf" \
	    2>> "$WORK/proftpd.err"
	wait_port "$CLI" 2121 ||
	    { tail -n 5 "$WORK/proftpd.log"; return 1; }
}
set_up proftpd_tls
PUB=$WORK/proot/pub
PROXYPORT=21 set_up proxy_up -R "$C4" -P 2121 -b "$F4OUT" -p 21 \
    -E "$LO-$HI"
check "ProFTPD mod_tls, reverse: curl get (PASV, MasqueradeAddress)" \
    get_ok "$SRV" "$F4OUT" --disable-epsv
check "ProFTPD mod_tls, reverse: curl put" put_ok "$SRV" "$F4OUT" pup4
check "ProFTPD mod_tls, reverse: ftplib FTP_TLS prot_p get, put, list" \
    py_ok "$SRV" "$F4OUT" p4
proxy_stop

# --- 6b. pure-ftpd with TLS, reverse: -P the firewall's address ------
# Unpacked under obj/servers too; a virtual user (pure-pw) whose home
# is this run's, TLS required on control and data connections (-Y 3).

pureftpd_tls() {
	pureftpd_deps ftps.sh > /dev/null 2>&1 || { echo "no pure-ftpd"; return 1; }
	mkdir -p "$WORK/pure/pub"
	cp "$PUB/big" "$PUB/alpha.txt" "$WORK/pure/pub/"
	chown -R nobody:nogroup "$WORK/pure"
	cat "$WORK/key.pem" "$WORK/cert.pem" > "$WORK/pure.pem"
	printf 'tlspw\ntlspw\n' | "$PUREPW" useradd tls -u nobody -g nogroup \
	    -d "$WORK/pure" -f "$WORK/pure.passwd" > /dev/null &&
	    "$PUREPW" mkdb "$WORK/pure.pdb" -f "$WORK/pure.passwd" || return 1
	bg ip netns exec "$CLI" "$PUREFTPD" -S "$C4,2122" -l \
	    "puredb:$WORK/pure.pdb" -E -A -H -Y 3 -2 "$WORK/pure.pem" \
	    -p "$LO:$HI" -P "$F4OUT" 2>> "$WORK/pure-ftpd.err"
	wait_port "$CLI" 2122
}
set_up pureftpd_tls
PUB=$WORK/pure/pub
PROXYPORT=21 set_up proxy_up -R "$C4" -P 2122 -b "$F4OUT" -p 21 \
    -E "$LO-$HI"
check "pure-ftpd TLS, reverse: curl get (PASV, -P)" \
    get_ok "$SRV" "$F4OUT" --disable-epsv -u tls:tlspw
pure_put() { # as user tls, on its disk
	rm -f "$PUB/pu4"
	timeout 30 ip netns exec "$SRV" curl -sS --connect-timeout 5 -m 25 \
	    --ssl-reqd -k -u tls:tlspw -T "$WORK/up" "ftp://$F4OUT/pub/pu4" &&
	    same "$PUB/pu4" "$WORK/up"
}
check "pure-ftpd TLS, reverse: curl put" pure_put
check "pure-ftpd TLS, reverse: curl list" list_ok "$SRV" "$F4OUT" -u tls:tlspw
proxy_stop

# --- 7. A farm (two -R): a client's TLS sessions stick to one server -

farm_up() {
	ct_up 1 && ct_up 2 || return 1
	VSFTPD_EXTRA="$TLSCONF
pasv_address=$F4OUT"
	vsftpd_up "${P}ct1" f1 && vsftpd_up "${P}ct2" f2 || return 1
	for _n in 1 2; do
		cp "$PUB/big" "$PUB/alpha.txt" "$WORK/ftprootf$_n/pub/"
	done
}
farm_sticky() { # while one TLS session lives, another: the same server
	hold_start "$SRV" "$F4OUT" || return 1
	rm -f "$WORK/py.out" "$WORK"/ftprootf?/pub/py-farm
	tlsc "$SRV" xfer "$F4OUT" pub/big "$WORK/py.out" "$WORK/up" \
	    pub/py-farm > /dev/null
	_rc=$?
	hold_end
	[ $_rc -eq 0 ] && same "$WORK/py.out" "$PUB/big" &&
	    { same "$WORK/ftprootf1/pub/py-farm" "$WORK/up" ||
	    same "$WORK/ftprootf2/pub/py-farm" "$WORK/up"; } &&
	    wait_tpass 4 0
}
set_up farm_up
PROXYPORT=21 set_up proxy_up -R "$CT4NET.11" -R "$CT4NET.12" -b "$F4OUT" \
    -p 21 -E "$LO-$HI"
check "farm: a client's second TLS session goes to its first's server; \
the range permit goes with both" farm_sticky
proxy_stop

finish
