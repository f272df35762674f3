#!/bin/bash
# SPDX-License-Identifier: ISC
# ftp_reverse.sh: ftp-proxy in reverse mode (-R), an FTP server behind the
# firewall.  The roles of lib.sh's namespaces turn around: vsftpd runs
# inside (192.0.2.10, 2001:db8:1::10, no route out at all), the clients
# run outside (198.51.100.10, 2001:db8:2::10, no route inside) and dial
# the firewall's outside address.  The admin's forward policy stays drop.
# IPv4 first (-b 198.51.100.1 -p 21), then IPv6 (-p 8021 behind a
# redirect on the outside interface), one server each.  Run as root:
#   TOP=/path/to/tree bash regress/integration/ftp_reverse.sh
. "$(dirname "$0")/lib.sh"

require_root
set_up topo_up
set_up admin_rules
in_cli ip route del default
in_cli ip -6 route del default
INSIDE=$CLI	# the FTP server's namespace
OUTSIDE=$SRV	# the clients' namespace
VSFTPD_EXTRA="xferlog_enable=YES
log_ftp_protocol=YES"
set_up vsftpd_up "$INSIDE"

PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 1024
mkfile "$PUB/alpha.txt" 1
mkfile "$WORK/up" 1024
CURL="timeout 30 ip netns exec $OUTSIDE curl -sS --connect-timeout 5 -m 25"

url() { # url 4|6 path: the firewall's outside address
	if [ "$1" = 6 ]; then echo "ftp://[$F6OUT]/$2"; else echo "ftp://$F4OUT/$2"; fi
}

lftp_ls() { # fam passive(on|off)
	if [ "$1" = 6 ]; then h="[$F6OUT]"; else h=$F4OUT; fi
	timeout 30 ip netns exec "$OUTSIDE" lftp -c "set net:timeout 5;
	    set net:max-retries 1; set cmd:fail-exit yes;
	    set ftp:passive-mode $2; open ftp://$h; cls -1 pub/" \
	    > "$WORK/ls.out" || return 1
	cat "$WORK/ls.out"
	grep -q alpha.txt "$WORK/ls.out" && grep -q big "$WORK/ls.out"
}

# What the client sees: a passive reply naming the firewall, active data
# coming from the firewall (port 20 with -r), and the right bytes.
client_view() { # host want_port(20|any)
	py "$OUTSIDE" "$1" "$2" "$(sum "$PUB/big")" <<-'EOF'
	import sys
	from ftpc import Ctl, active_retr
	host, want, digest = sys.argv[1:4]
	c = Ctl(host)
	assert c.login() == 230
	code, lines = c.cmd("PASV" if ":" not in host else "EPSV")
	if code == 227:
	    assert c.pasv_port(lines, code)[0] == host, "227 names the inside"
	else:
	    assert code == 229, lines
	c.code("QUIT")
	peer, got = active_retr(host, "pub/big")
	print("active data connection from", peer)
	assert got == digest, "checksum"
	assert peer[0] == host, "not from the firewall's outside address"
	assert (peer[1] == 20) == (want == "20"), "source port"
	EOF
}

transfers() { # fam modes...
	fam=$1
	shift
	for m in "$@"; do
		check "IPv$fam $m: download, sha256 matches" get_big "$fam" $m
		check "IPv$fam $m: upload, sha256 matches" \
		    put_up "$fam" $m "up-$fam-$m"
		check "IPv$fam $m: no permit left" wait_permits 0
	done
	check "IPv$fam passive: lftp listing shows the files" lftp_ls "$fam" on
	check "IPv$fam active: lftp listing shows the files" lftp_ls "$fam" off
	check "IPv$fam: no permit left" wait_permits 0
}

stop_ok() {
	PFHPID=$(pfhelper_pid "$PROXYPID")
	proxy_stop TERM
	check "$1: SIGTERM, ftp-proxy exits 0" test "$PROXYRC" -eq 0
	check "$1: pfhelper exits" wait_gone "${PFHPID:-0}"
	check "$1: the table is gone" eval '! has_table'
}

# --- Without the proxy the server cannot be reached. ----------------

check "no proxy: the outside client reaches nothing" \
    eval "! $CURL $(url 4 pub/big) -o $WORK/out"

# --- IPv4: listening on the outside address, port 21. ---------------

PROXYPORT=21 proxy_up -R "$C4" -b "$F4OUT" -p 21
transfers 4 PASV EPSV PORT EPRT
check "IPv4: the client sees only the firewall" client_view "$F4OUT" any
check "IPv4: vsftpd sees the firewall's inside address" \
    grep -q "Client \"::ffff:$F4IN\"" "$WORK/vsftpd.log"

i=0
BGPIDS=""
for m in PASV EPSV PORT EPRT; do
	i=$((i + 1))
	# shellcheck disable=SC2046
	$CURL -g $(mode_opts $m) "$(url 4 pub/big)" -o "$WORK/par$i" \
	    2> "$WORK/par$i.err" &
	BGPIDS="$BGPIDS $!"
done
for p in $BGPIDS; do wait "$p"; done
par_ok() {
	for j in 1 2 3 4; do
		[ "$(sum "$WORK/par$j")" = "$(sum "$PUB/big")" ] || {
			echo "transfer $j: $(cat "$WORK/par$j.err")"; return 1; }
	done
}
check "IPv4: 4 concurrent sessions, all files intact" par_ok
check "IPv4: no permit left" wait_permits 0
stop_ok "IPv4"

PROXYPORT=21 proxy_up -R "$C4" -b "$F4OUT" -p 21 -r
check "IPv4 -r: active data comes from the firewall's port 20" \
    client_view "$F4OUT" 20
check "IPv4 -r: no permit left" wait_permits 0
stop_ok "IPv4 -r"

# --- IPv6: port 8021 behind the admin's redirect of port 21. --------

in_fw nft add rule inet admin nat_pre iifname outside tcp dport 21 \
    redirect to :8021
proxy_up -R "$C6"
transfers 6 EPSV EPRT
check "IPv6: the client sees only the firewall" client_view "$F6OUT" any
check "IPv6: vsftpd sees the firewall's inside address" \
    grep -q "Client \"$F6IN\"" "$WORK/vsftpd.log"
check "IPv6 server: an IPv4 client gets 421" py "$OUTSIDE" "$F4OUT" <<-'EOF'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1])
	assert c.greeting[0] == 421
	assert c.eof(5)
	EOF
check "IPv6: no permit left" wait_permits 0
stop_ok "IPv6"
check "no ftp-proxy or pfhelper process left in the firewall" \
    eval '[ -z "$(ip netns pids "$FW")" ]'

finish
