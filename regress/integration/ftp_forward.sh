#!/bin/bash
# SPDX-License-Identifier: ISC
# ftp_forward.sh: ftp-proxy in forward mode (clients behind the firewall).
# vsftpd outside, curl, lftp and python3's ftplib inside; passive and
# active, IPv4 and IPv6, downloads, uploads and listings; -r and -A; and
# that nothing passes without the proxy.  Run as root:
#   TOP=/path/to/tree bash regress/integration/ftp_forward.sh
. "$(dirname "$0")/lib.sh"

require_root
set_up topo_up
set_up admin_rules
VSFTPD_EXTRA="xferlog_enable=YES
log_ftp_protocol=YES"
set_up vsftpd_up

PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 1024
mkfile "$PUB/alpha.txt" 1
mkfile "$PUB/beta.bin" 2
mkfile "$WORK/up" 1024
CURL="timeout 30 ip netns exec $CLI curl -sS --connect-timeout 5 -m 25"

url() { # url 4|6 path
	if [ "$1" = 6 ]; then echo "ftp://[$S6]/$2"; else echo "ftp://$S4/$2"; fi
}

LFTP_SET="set net:timeout 5; set net:max-retries 1;
set net:reconnect-interval-base 1; set cmd:fail-exit yes"

lftp_run() { # fam passive(on|off) epsv(yes|no) commands
	if [ "$1" = 6 ]; then h="[$S6]"; else h=$S4; fi
	timeout 30 ip netns exec "$CLI" lftp -c "$LFTP_SET;
	    set ftp:passive-mode $2; set ftp:prefer-epsv $3;
	    open ftp://$h; $4"
}

# A listing shows the names of the files.
lftp_ls() { # fam passive epsv
	lftp_run "$1" "$2" "$3" "cls -1 pub/" > "$WORK/ls.out" || return 1
	cat "$WORK/ls.out"
	for f in alpha.txt beta.bin big; do
		grep -q "$f" "$WORK/ls.out" || return 1
	done
}

lftp_get_put() { # fam passive epsv tag
	rm -f "$WORK/lftp.out" "$PUB/lftp-$4"
	lftp_run "$1" "$2" "$3" "get pub/big -o $WORK/lftp.out;
	    put $WORK/up -o pub/lftp-$4" || return 1
	[ "$(sum "$WORK/lftp.out")" = "$(sum "$PUB/big")" ] &&
	    [ "$(sum "$PUB/lftp-$4")" = "$(sum "$WORK/up")" ]
}

# --- 1. Without the proxy nothing passes. ---------------------------

check "no proxy: an intercepted control connection is not served" \
    eval "! $CURL $(url 4 pub/big) -o $WORK/out"

# Let the control connection through without the proxy (no redirect,
# masquerade, port 21 forwarded): login works, the data cannot pass.
bypass_on() {
	in_fw nft -f - <<-EOF
	insert rule inet admin filter_fwd tcp dport 21 accept
	insert rule inet admin nat_pre tcp dport 21 accept
	table inet bypass {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "outside" masquerade
		}
	}
	EOF
}
bypass_off() {
	for c in filter_fwd nat_pre; do
		h=$(in_fw nft -a list chain inet admin $c |
		    sed -n 's/.*tcp dport 21 accept # handle \([0-9]*\)$/\1/p')
		[ -n "$h" ] && in_fw nft delete rule inet admin $c handle "$h"
	done
	in_fw nft delete table inet bypass
}
bypass_on
check "no proxy: control works, passive data is dropped" py "$CLI" "$S4" <<-'EOF'
	import socket, sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.greeting[0] == 220 and c.login() == 230
	code, lines = c.cmd("PASV")
	host, port = c.pasv_port(lines, code)
	try:
	    socket.create_connection((sys.argv[1], port), timeout=3)
	except OSError as e:
	    print("data connection failed:", e)
	    sys.exit(0)
	sys.exit("the data connection passed without the proxy")
	EOF
bypass_off

# --- 2. With the proxy: curl, each data command, both families. -----

proxy_up
check "proxy runs, table created, no permits" \
    eval 'has_table && [ "$(permits)" -eq 0 ]'
for fam in 4 6; do
	for m in PASV EPSV PORT EPRT; do
		[ "$fam" = 6 ] && { [ $m = PASV ] || [ $m = PORT ]; } && continue
		check "IPv$fam $m: curl download, sha256 matches" get_big $fam $m
		check "IPv$fam $m: curl upload, sha256 matches" \
		    put_up $fam $m "up-$fam-$m"
		check "IPv$fam $m: no permit left" wait_permits 0
	done
done

check "IPv4: curl directory listing shows the files" eval \
    "$CURL $(url 4 pub/) > $WORK/list && grep -q alpha.txt $WORK/list &&
    grep -q beta.bin $WORK/list"

# --- 3. lftp: listings and transfers. -------------------------------

for spec in "4 on no PASV" "4 on yes EPSV" "4 off no PORT" "6 on yes EPSV" \
    "6 off no EPRT"; do
	set -- $spec
	check "IPv$1 $4: lftp listing shows the files" lftp_ls "$1" "$2" "$3"
	check "IPv$1 $4: lftp get and put, sha256 match" \
	    lftp_get_put "$1" "$2" "$3" "$1$4"
	check "IPv$1 $4: no permit left" wait_permits 0
done

# --- 4. python ftplib: listings, and who the data comes from. --------

for h in "$S4" "$S6"; do
	check "ftplib $h: NLST passive and active list the files" \
	    py "$CLI" "$h" <<-'EOF'
	import ftplib, sys
	f = ftplib.FTP()
	f.connect(sys.argv[1], 21, timeout=10)
	f.login()
	for pasv in (True, False):
	    f.set_pasv(pasv)
	    names = f.nlst("pub")
	    print(pasv, names)
	    assert {"pub/alpha.txt", "pub/beta.bin", "pub/big"} <= set(names)
	f.quit()
	EOF
done

# Active data connections come from the server's address (default: not
# from port 20), as if there were no proxy.
active_peer() { # host want_port(20|any)
	py "$CLI" "$1" "$2" "$(sum "$PUB/big")" <<-'EOF'
	import sys
	from ftpc import active_retr
	host, want, digest = sys.argv[1:4]
	peer, got = active_retr(host, "pub/big")
	print("data connection from", peer)
	assert got == digest, "checksum"
	assert peer[0] == host, "not from the server's address"
	assert (peer[1] == 20) == (want == "20"), "source port"
	EOF
}
check "IPv4 active: data comes from the server, not port 20" \
    active_peer "$S4" any
check "IPv6 active: data comes from the server, not port 20" \
    active_peer "$S6" any

# A permit is single use: the second connection to a passive port dies.
check "a passive data port passes one connection only" \
    py "$CLI" "$S4" <<-'EOF'
	import socket, sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	c.code("TYPE I")
	code, lines = c.cmd("EPSV")
	host, port = c.pasv_port(lines, code)
	d = socket.create_connection((host, port), timeout=5)
	assert c.code("RETR pub/alpha.txt") in (125, 150)
	while d.recv(65536):
	    pass
	d.close()
	assert c.reply()[0] == 226
	try:
	    socket.create_connection((host, port), timeout=3)
	except OSError as e:
	    print("second connection failed:", e)
	    sys.exit(0)
	sys.exit("a second connection reached the data port")
	EOF
check "no permit left" wait_permits 0

# --- 5. Several sessions at once. ------------------------------------

: > "$WORK/ftp-proxy.log"
i=0
BGPIDS=""
for spec in "4 PASV" "4 EPSV" "4 PORT" "4 EPRT" "6 EPSV" "6 EPRT" \
    "4 EPSV" "6 EPSV"; do
	set -- $spec
	i=$((i + 1))
	# shellcheck disable=SC2046
	$CURL -g $(mode_opts "$2") "$(url "$1" pub/big)" \
	    -o "$WORK/par$i" 2> "$WORK/par$i.err" &
	BGPIDS="$BGPIDS $!"
done
for p in $BGPIDS; do wait "$p"; done
par_ok() {
	for j in 1 2 3 4 5 6 7 8; do
		[ "$(sum "$WORK/par$j")" = "$(sum "$PUB/big")" ] || {
			echo "transfer $j: $(cat "$WORK/par$j.err")"; return 1; }
	done
}
check "8 concurrent sessions: all 8 files arrive intact" par_ok
# The most sessions open at once, from the proxy's log.
PEAK=$(awk '/ FTP session /{n++; if (n > m) m = n} / ending session/{n--}
    END{print m + 0}' "$WORK/ftp-proxy.log")
check "8 concurrent sessions overlapped ($PEAK open at once)" \
    test "$PEAK" -ge 2
check "8 concurrent sessions: no permit left" wait_permits 0

# Many control sessions open at once, transfers interleaved.
check "6 sessions open at once, each transfers in turn" \
    py "$CLI" "$S4" "$S6" <<-'EOF'
	import sys
	from ftpc import Ctl
	cs = [Ctl(sys.argv[1 + i % 2]) for i in range(6)]
	for c in cs:
	    assert c.login() == 230
	    assert c.code("TYPE I") == 200
	ref = None
	for rnd in range(2):
	    for c in cs:
	        data = c.passive("EPSV", "RETR pub/beta.bin")
	        assert len(data) == 2048 and (ref is None or data == ref)
	        ref = data
	for c in cs:
	    assert c.code("QUIT") == 221
	EOF
check "no permit left" wait_permits 0

# A USER that -A would refuse reaches the server without -A (so the
# vsftpd log can tell below).
check "without -A, USER carol reaches the server" py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	print(c.cmd("USER carol"))
	c.code("QUIT")
	EOF
check "vsftpd saw USER carol" grep -q "USER carol" "$WORK/vsftpd.log"

# --- 6. SIGTERM with a session open. ---------------------------------

held_session() { # starts a logged-in session that waits for EOF
	rm -f "$WORK/held"
	PYTIMEOUT=20 py "$CLI" "$S4" > "$WORK/held" 2>&1 <<-'EOF' &
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.login() == 230
	print("in", flush=True)
	print("eof" if c.eof(15) else "no eof", flush=True)
	EOF
	HELDPID=$!
	i=0
	while [ $i -lt 50 ] && ! grep -q "^in" "$WORK/held"; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q "^in" "$WORK/held"
}

check "a session is open" held_session
PFHPID=$(pfhelper_pid "$PROXYPID")
proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0
check "SIGTERM: pfhelper exits" wait_gone "${PFHPID:-0}"
check "SIGTERM: the table is gone" eval '! has_table'
wait "$HELDPID"
check "SIGTERM: the open session was closed" grep -q "^eof" "$WORK/held"

# --- 7. -r: active data from port 20. --------------------------------

: > "$WORK/ftp-proxy.log"
proxy_up -r
check "-r IPv4 active: data comes from the server's port 20" \
    active_peer "$S4" 20
check "-r IPv6 active: data comes from the server's port 20" \
    active_peer "$S6" 20
check "-r IPv4 PORT: curl download, sha256 matches" get_big 4 PORT
check "-r: no permit left" wait_permits 0

# ^C in a terminal signals ftp-proxy and pfhelper together.
check "a session is open" held_session
PFHPID=$(pfhelper_pid "$PROXYPID")
kill -INT "$PFHPID" "$PROXYPID"
proxy_stop 0
check "SIGINT to both: ftp-proxy exits 0" test "$PROXYRC" -eq 0
check "SIGINT to both: pfhelper exits" wait_gone "${PFHPID:-0}"
check "SIGINT to both: the table is gone" eval '! has_table'
wait "$HELDPID"

# --- 8. -A: anonymous only. ------------------------------------------

proxy_up -A
check "-A: USER bob gets 530, USER anonymous works" \
    py "$CLI" "$S4" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.code("USER bob") == 530
	assert c.code("user Bob") == 530
	assert c.login("anonymous") == 230, "the session goes on"
	assert c.code("TYPE I") == 200
	assert len(c.passive("EPSV", "RETR pub/beta.bin")) == 2048
	assert c.code("QUIT") == 221
	c2 = Ctl(sys.argv[1])
	assert c2.login("ftp") == 230
	assert c2.code("QUIT") == 221
	EOF
check "-A: vsftpd never saw USER bob" eval "! grep -qi 'USER bob' $WORK/vsftpd.log"
check "-A: curl (anonymous) download, sha256 matches" get_big 4 EPSV
check "-A: no permit left" wait_permits 0

proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0

# --- 9. TPROXY (divert-to) instead of redirect. ----------------------

# The admin diverts port 21 with `tproxy to :8021': no NAT of the
# control connection, the socket's own address is the server's.
tproxy_rules() {
	in_fw nft flush chain inet admin nat_pre
	in_fw nft -f - <<-EOF
	table inet admin_tproxy {
		chain pre {
			type filter hook prerouting priority mangle;
			iifname "inside" tcp dport 21 tproxy ip to :8021 meta mark set 0x1 accept
			iifname "inside" tcp dport 21 tproxy ip6 to :8021 meta mark set 0x1 accept
		}
	}
	EOF
	in_fw ip rule add fwmark 0x1 lookup 100 &&
	    in_fw ip route add local 0.0.0.0/0 dev lo table 100 &&
	    in_fw ip -6 rule add fwmark 0x1 lookup 100 &&
	    in_fw ip -6 route add local ::/0 dev lo table 100
}
check "TPROXY rules in the firewall" tproxy_rules
check "TPROXY: no redirect left" eval \
    "! in_fw nft list chain inet admin nat_pre | grep -q redirect"
: > "$WORK/ftp-proxy.log"
proxy_up
for spec in "4 PASV" "4 PORT" "6 EPSV" "6 EPRT"; do
	set -- $spec
	check "TPROXY IPv$1 $2: curl download, sha256 matches" get_big "$1" "$2"
	check "TPROXY IPv$1 $2: no permit left" wait_permits 0
done
check "TPROXY: the proxy found the server the client dialled" eval \
    "[ \$(grep -c 'FTP session .* -> 198.51.100.10:21 ' $WORK/ftp-proxy.log) \
    -eq 2 ] && [ \$(grep -c 'FTP session .* -> \[2001:db8:2::10\]:21 ' \
    $WORK/ftp-proxy.log) -eq 2 ]"
check "TPROXY: a connection straight to the proxy gets 421" \
    py "$CLI" <<-'EOF'
	from ftpc import Ctl
	for host in ("192.0.2.1", "2001:db8:1::1"):
	    c = Ctl(host, 8021)
	    assert c.greeting[0] == 421 and c.eof(5), host
	EOF

PFHPID=$(pfhelper_pid "$PROXYPID")
proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0
check "SIGTERM: pfhelper exits" wait_gone "${PFHPID:-0}"
check "SIGTERM: the table is gone" eval '! has_table'
check "no ftp-proxy or pfhelper process left in the firewall" \
    eval '[ -z "$(ip netns pids "$FW")" ]'

finish
