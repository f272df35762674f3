#!/bin/sh
# SPDX-License-Identifier: ISC
# ftp_farm.sh: ftp-proxy -R with three servers, vsftpd in three
# "containers" (namespaces behind the bridge br0 of the firewall,
# 203.0.113.11-13), reached by clients outside (198.51.100.10-12) at the
# firewall's outside address, port 21.  The admin's forward policy is
# drop, plus the one ct mark line.  Each backend's files have contents
# of their own, so a download's checksum names the backend its data
# came from; the backend's log (log_ftp_protocol) names the session
# (vsftpd's pid) that sent RETR and the one that sent the data.
#   30 sessions, passive and active, several clients at once: spread
#   within one, every checksum right, data from the session's backend.
#   A backend stopped: new sessions go to the others, no client sees an
#   error; started again: it gets sessions again.  One that does not
#   answer at all (its SYNs dropped): the same, after the connect
#   timeout.  -R with a name of three addresses.  All down: 421.
. "$(dirname "$0")/lib.sh"

require_root
fail_early() { echo "0 passed, 1 failed"; exit 1; }
topo_up || fail_early
admin_rules || fail_early
for n in 1 2 3; do ct_up $n || fail_early; done
BE="$CT4NET.11 $CT4NET.12 $CT4NET.13"
CLIENTS="198.51.100.10 198.51.100.11 198.51.100.12"
in_srv ip addr add 198.51.100.11/24 dev eth0
in_srv ip addr add 198.51.100.12/24 dev eth0
NFILES=80	# files f1..f80 on each backend, one per session

# vsftpd in container $1: $WORK/ftproot$1, its log $WORK/vsftpd$1.log.
VSFTPD_EXTRA="xferlog_enable=YES
log_ftp_protocol=YES
max_per_ip=0
max_clients=0"
vs_up() {
	vsftpd_up "${P}ct$1" "$1" || return 1
	eval "VSPID$1=\$VSFTPDPID"
}
vs_stop() {
	eval "_p=\$VSPID$1"
	kill "$_p" 2>/dev/null
	wait_gone "$_p" && wait "$_p" 2>/dev/null
	# Its sessions' processes end with their clients; none are left.
	ip netns pids "${P}ct$1" | while read -r p; do kill "$p"; done
	i=0
	while [ $i -lt 50 ] && [ -n "$(ip netns pids "${P}ct$1")" ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# (lib.sh's wait loops use $i: not here.)
for n in 1 2 3; do
	vs_up $n || fail_early
	for k in $(seq 1 $NFILES); do
		mkfile "$WORK/ftproot$n/pub/f$k" 64
	done
done

# Which backend (1-3) has the contents of download $1 (0: none).
backend_of() {
	[ -f "$WORK/d$1" ] || { echo 0; return; }
	_s=$(sum "$WORK/d$1")
	for _b in 1 2 3; do
		[ "$(sum "$WORK/ftproot$_b/pub/f$1")" = "$_s" ] &&
		    { echo $_b; return; }
	done
	echo 0
}

# Session $1 on backend $2: the process that got "RETR pub/f$1" on the
# control connection also sent the data (OK DOWNLOAD of /pub/f$1).
same_session() {
	log=$WORK/vsftpd$2.log
	c=$(grep -F "\"RETR pub/f$1\"" "$log" | sed -n 's/.*\[pid \([0-9]*\)\].*/\1/p')
	d=$(grep -F "OK DOWNLOAD" "$log" | grep -F "\"/pub/f$1\"," |
	    sed -n 's/.*\[pid \([0-9]*\)\].*/\1/p')
	[ -n "$c" ] && [ "$c" = "$d" ]
}

# Sessions served by backend $1 so far (RETR lines in its log).
served() { cat "$WORK/vsftpd$1.log" 2>/dev/null | grep -c '"RETR pub/f[0-9]*"'; }

NSESS=0
# One session (python3 ftplib): log in, then wait until all sessions of
# its round have (so every one of them got its server before any ends),
# then fetch pub/fK in its mode, bound to its client address.  Writes
# the file and the seconds the greeting took ($WORK/dK, dK.greet).
cat > "$WORK/sess.py" <<-'PYEND'
	import ftplib, os, socket, sys, time
	host, ip, mode, k, work, rnd, n = sys.argv[1:8]
	bar = os.path.join(work, "bar" + rnd)
	t0 = time.time()
	f = ftplib.FTP()
	f.connect(host, 21, timeout=20, source_address=(ip, 0))
	greet = time.time() - t0
	f.login()
	open(os.path.join(bar, k), "w").close()
	for _ in range(400):
	    if len(os.listdir(bar)) >= int(n):
	        break
	    time.sleep(0.05)
	name = "pub/f" + k
	if mode == "PASV" or mode == "PORT":
	    f.set_pasv(mode == "PASV")
	    conn, _ = f.ntransfercmd("RETR " + name)
	elif mode == "EPSV":
	    h, port = ftplib.parse229(f.sendcmd("EPSV"), f.sock.getpeername())
	    conn = socket.create_connection((h, port), 20, source_address=(ip, 0))
	    f.sendcmd("RETR " + name)
	else:
	    srv = socket.create_server((ip, 0))
	    srv.settimeout(20)
	    f.sendeprt(ip, srv.getsockname()[1])
	    f.sendcmd("RETR " + name)
	    conn, _ = srv.accept()
	    srv.close()
	conn.settimeout(20)
	with open(os.path.join(work, "d" + k), "wb") as out:
	    while True:
	        b = conn.recv(65536)
	        if not b:
	            break
	        out.write(b)
	conn.close()
	f.voidresp()
	f.quit()
	with open(os.path.join(work, "d" + k + ".greet"), "w") as g:
	    g.write("%.3f\n" % greet)
	PYEND
ROUND=0
# round N: N sessions at once from the three clients, PASV, EPSV, PORT
# and EPRT in turn, each its own file; then wait until the proxy has
# ended them all.
round() {
	ROUND=$((ROUND + 1))
	mkdir "$WORK/bar$ROUND"
	pids=""
	for j in $(seq 1 "$1"); do
		NSESS=$((NSESS + 1))
		k=$NSESS
		c=$(echo $CLIENTS | cut -d' ' -f$(( (j - 1) % 3 + 1 )))
		m=$(echo PASV EPSV PORT EPRT | cut -d' ' -f$(( (k - 1) % 4 + 1 )))
		rm -f "$WORK/d$k"
		timeout 40 ip netns exec "$SRV" /usr/bin/python3 "$WORK/sess.py" \
		    "$F4OUT" "$c" "$m" "$k" "$WORK" "$ROUND" "$1" \
		    > "$WORK/d$k.err" 2>&1 &
		pids="$pids $!:$k"
	done
	for pk in $pids; do
		wait "${pk%%:*}"
		echo $? > "$WORK/rc${pk#*:}"
	done
	wait_ended "$NSESS"
}
# The longest a client of sessions $1..$2 waited for its greeting.
greet_max() {
	cat $(seq "$1" "$2" | sed "s|.*|$WORK/d&.greet|") 2>/dev/null |
	    sort -n | tail -n 1
}
greet_within() { # from to seconds
	g=$(greet_max "$1" "$2")
	echo "longest wait for the greeting: ${g:-none} s"
	[ -n "$g" ] && awk "BEGIN { exit !($g < $3) }"
}
wait_ended() {
	i=0
	while [ $i -lt 100 ]; do
		[ "$(grep -c 'ending session' "$WORK/ftp-proxy.log")" -ge "$1" ] &&
		    return 0
		sleep 0.1
		i=$((i + 1))
	done
}

# Sessions $1..$2 all fine: curl's exit, the checksum, the session.
sessions_ok() {
	bad=0
	for k in $(seq "$1" "$2"); do
		rc=$(cat "$WORK/rc$k" 2>/dev/null)
		b=$(backend_of $k)
		if [ "$rc" != 0 ] || [ "$b" = 0 ]; then
			echo "session $k: rc $rc, backend $b: $(tail -n 1 "$WORK/d$k.err")"
			bad=$((bad + 1))
		elif ! same_session $k "$b"; then
			echo "session $k: data not from its session on backend $b"
			bad=$((bad + 1))
		fi
	done
	[ $bad -eq 0 ]
}
# Within one of each other: the counts given.
within_one() {
	echo "sessions per backend: $*"
	min=$1 max=$1
	for n in "$@"; do
		[ "$n" -lt "$min" ] && min=$n
		[ "$n" -gt "$max" ] && max=$n
	done
	[ $((max - min)) -le 1 ]
}
wait_log() { # pattern tenths
	i=0
	while [ $i -lt "$2" ]; do
		grep -qF -- "$1" "$WORK/ftp-proxy.log" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "not in the log: $1"
	return 1
}

cat > "$WORK/all_down.py" <<-'PYEND'
	import sys
	from ftpc import Ctl
	c = Ctl(sys.argv[1], timeout=20)
	assert c.greeting[0] == 421, c.greeting
	assert c.eof(5)
	PYEND

# --- without the proxy nothing is reached ----------------------------
check "no proxy: the outside client reaches no backend" \
    eval "! timeout 10 ip netns exec $SRV curl -sS --connect-timeout 3 \
    ftp://$CT4NET.11/pub/f1 -o $WORK/none"

# --- 30 sessions, three backends ------------------------------------
PROXYPORT=21 proxy_up -R $CT4NET.11 -R $CT4NET.12 -R $CT4NET.13 \
    -b "$F4OUT" -p 21 || fail_early
for r in 1 2 3 4 5; do round 6; done
check "30 sessions (PASV EPSV PORT EPRT, 3 clients, 6 at once): \
checksums right, data from each session's own backend" sessions_ok 1 30
check "30 sessions spread within one" \
    within_one "$(served 1)" "$(served 2)" "$(served 3)"
echo "# 30 sessions per backend: $(served 1) $(served 2) $(served 3)"
check "30 sessions: each greeting within 2 s" greet_within 1 30 2
echo "# longest greeting: $(greet_max 1 30) s"
check "the debug log names each session's backend" eval \
    "[ \$(grep -cE '#[0-9]+ backend $CT4NET\.1[123]:21\$' \
    $WORK/ftp-proxy.log) -ge 30 ]"
check "no permit left" wait_permits 0

# --- one backend stopped ---------------------------------------------
vs_stop 2
n1=$(served 1) n2=$(served 2) n3=$(served 3)
s0=$((NSESS + 1))
for r in 1 2; do round 6; done
check "backend 2 stopped: 12 new sessions, no client sees an error" \
    sessions_ok $s0 $NSESS
check "backend 2 stopped: it got none of them" [ "$(served 2)" -eq "$n2" ]
check "backend 2 stopped: each greeting within 2 s" greet_within $s0 $NSESS 2
echo "# backend 2 stopped, longest greeting: $(greet_max $s0 $NSESS) s"
check "backend 2 stopped: the others share them" \
    within_one $(($(served 1) - n1)) $(($(served 3) - n3))
check "backend 2 stopped: its fall is logged" \
    wait_log "server $CT4NET.12:21 is down" 10

# --- started again ---------------------------------------------------
vs_up 2 || fail_early
check "backend 2 started again: a try in the background finds it, logged" \
    wait_log "server $CT4NET.12:21 is up again (it answered a try)" 150
n2=$(served 2)
s0=$((NSESS + 1))
for r in 1 2; do round 6; done
check "backend 2 back: 12 sessions, all fine" sessions_ok $s0 $NSESS
check "backend 2 back: it gets sessions again" \
    [ "$(served 2)" -ge $((n2 + 3)) ]

# --- one that does not answer at all ---------------------------------
ip netns exec "${P}ct3" nft add table inet blackhole
ip netns exec "${P}ct3" nft add chain inet blackhole input \
    '{ type filter hook input priority 0; }'
ip netns exec "${P}ct3" nft add rule inet blackhole input tcp dport 21 drop
n3=$(served 3)
s0=$((NSESS + 1))
t0=$(date +%s)
round 6
t1=$(date +%s)
check "backend 3 silent: 6 sessions, no client sees an error" \
    sessions_ok $s0 $NSESS
check "backend 3 silent: it got none" [ "$(served 3)" -eq "$n3" ]
check "backend 3 silent: the greeting waits the 3 s timeout at most (+2)" \
    greet_within $s0 $NSESS 5
echo "# backend 3 silent, longest greeting: $(greet_max $s0 $NSESS) s"
check "backend 3 silent: marked down after the connect timeout" \
    wait_log "server $CT4NET.13:21 is down (no answer)" 10
echo "# a round of 6 with a silent backend: $((t1 - t0)) s"
ip netns exec "${P}ct3" nft delete table inet blackhole
check "backend 3 answers again: logged up" \
    wait_log "server $CT4NET.13:21 is up again (it answered a try)" 150
check "no permit left" wait_permits 0
proxy_stop TERM
check "SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0

# --- -R with a name of three addresses ------------------------------
printf '%s farm\n' $BE > "$WORK/hosts"
n1=$(served 1) n2=$(served 2) n3=$(served 3)
# A private mount namespace: the firewall's /etc/hosts only.
bg unshare -m sh -c "mount --bind '$WORK/hosts' /etc/hosts && exec \
    ip netns exec '$FW' env PFHELPER='$BIN/pfhelper' '$BIN/ftp-proxy' \
    -d -D 7 -s '$PFHDIR' -R farm -b $F4OUT -p 21 \
    2>> '$WORK/ftp-proxy.log'"
PROXYPID=$LASTPID
wait_port "$FW" 21 || fail_early
s0=$((NSESS + 1))
for r in 1 2; do round 6; done
check "-R farm (3 addresses): 12 sessions, all fine" sessions_ok $s0 $NSESS
check "-R farm: 4 on each backend" eval "[ \$(($(served 1) - n1)) -eq 4 ] &&
    [ \$(($(served 2) - n2)) -eq 4 ] && [ \$(($(served 3) - n3)) -eq 4 ]"

# --- all down: a clear refusal ---------------------------------------
for n in 1 2 3; do vs_stop $n; done
check "all backends down: the client gets 421" py "$SRV" "$F4OUT" \
    < "$WORK/all_down.py"
check "all down: logged" wait_log "no server answered" 30
check "all down: no permit" wait_permits 0
proxy_stop TERM
check "no ftp-proxy or pfhelper process left in the firewall" \
    eval '[ -z "$(ip netns pids "$FW")" ]'

finish
