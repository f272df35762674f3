#!/bin/sh
# SPDX-License-Identifier: ISC
# broker_restart.sh: pfhelper goes away under live sessions and ftp-proxy
# loses none of them (pfh_keep in common/pfh_client.c, the parent's
# reconnection in common/parent.c).
#   1. kill -9 of ftp-proxy's own pfhelper: four sessions logged in, one
#      with a permit announced (227) and not used yet.  The parent spawns
#      a new pfhelper, the worker makes every session and the permit
#      again: the permit count comes back, the announced port works, a
#      PASV sent while pfhelper was away waits and then works, both
#      downloads have the right checksum, a new session works; the
#      front end (parent and worker) never exits; no element is left
#      once the sessions end.
#   2. The same with kill -9 of the pfhelper service (-S), started again
#      by the test.
#   3. A reload (SIGHUP) while the service is away: the re-executed
#      parent keeps the old worker accepting and goes on reaching
#      pfhelper for it; once the service is back, the old worker makes
#      its sessions again and a new worker starts; no session gets 421.
#      And the service back, then at once a reload, the order of the
#      Debian upgrade's postinst: the reload used to drop the old
#      worker's reconnection when it came during the parent's backoff.
#   4. The bound (-W 2): the service does not come back; the waiting
#      PASV gets 421, and ftp-proxy exits 1 with a log line.
#
# Needs root, ip(8), nft(8), vsftpd, python3, and bin/*.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root

set_up topo_up
set_up admin_rules
set_up vsftpd_up
mkfile "$WORK/ftproot/pub/f" 256
SUM=$(sum "$WORK/ftproot/pub/f")
ftpc_init
LOG=$WORK/ftp-proxy.log

# hold.py: sessions A (PASV before the loss, used after it), B (PASV
# during the loss), C and D (idle); then E, new.  Markers in $WORK.
cat > "$WORK/hold.py" <<'EOF'
import hashlib, os, socket, sys, time
sys.path.insert(0, os.environ["WORK"])
from ftpc import Ctl
W, S, R = os.environ["WORK"], os.environ["S4"], os.environ["RUN"]
def wait_file(name, t=30):
    end = time.time() + t
    while time.time() < end:
        if os.path.exists(os.path.join(W, name + R)):
            return True
        time.sleep(0.05)
    return False
def data(c, host, port):
    d = socket.create_connection((host, port), timeout=10)
    assert c.code("RETR pub/f") in (125, 150)
    h = hashlib.sha256()
    while True:
        b = d.recv(65536)
        if not b:
            break
        h.update(b)
    d.close()
    assert c.reply()[0] == 226
    return h.hexdigest()
s = [Ctl(S, timeout=30) for i in range(4)]
for c in s:
    assert c.login() == 230
code, lines = s[0].cmd("PASV")
assert code == 227
a = s[0].pasv_port(lines, code)
print("ready", flush=True)
assert wait_file("killed")
code, lines = s[1].cmd("PASV")
print("PASV during the loss ->", code, flush=True)
if code != 227:
    sys.exit(0)
b = s[1].pasv_port(lines, code)
assert wait_file("reopened")
print("A", data(s[0], *a), flush=True)
print("B", data(s[1], *b), flush=True)
e = Ctl(S)
assert e.login() == 230
print("E", hashlib.sha256(e.passive("PASV", "RETR pub/f")).hexdigest(),
      flush=True)
for c in s + [e]:
    assert c.code("QUIT") == 221
print("done", flush=True)
EOF

# hold N: run hold.py in the background, its output in $WORK/hold.N.
hold() {
	bg ip netns exec "$CLI" env WORK="$WORK" S4="$S4" RUN="$1" \
	    PYTHONDONTWRITEBYTECODE=1 timeout 60 python3 "$WORK/hold.py" \
	    > "$WORK/hold.$1" 2>&1
	HOLDPID=$LASTPID
}

# after N what: the checks once pfhelper is back.
after() {
	check "$2: the parent and its worker never exited" \
	    eval 'alive "$PROXYPID" && alive "$WPID" &&
	    [ "$(child_of "$PROXYPID" ftp-proxy)" = "$WPID" ]'
	check "$2: the sessions and the permit are made again" \
	    wait_re "$LOG" "a new pfhelper: 4 sessions made again" 10
	# A's permit made again, and B's new one: twice the elements.
	check "$2: the permits: A's made again, B's new ($((2 * P0)))" \
	    wait_permits $((2 * P0))
	touch "$WORK/reopened$1"
	wait "$HOLDPID"
	check "$2: the PASV sent while pfhelper was away waited and got 227" \
	    grep -q "^PASV during the loss -> 227" "$WORK/hold.$1"
	check "$2: the permit announced before the loss works: sha256" \
	    grep -q "^A $SUM" "$WORK/hold.$1"
	check "$2: the PASV during the loss works: sha256" \
	    grep -q "^B $SUM" "$WORK/hold.$1"
	check "$2: a new session works: sha256" \
	    grep -q "^E $SUM" "$WORK/hold.$1"
	check "$2: every session ended cleanly" grep -q "^done" "$WORK/hold.$1"
	check "$2: no element left once the sessions end" wait_permits 0
	check "$2: no session got 421" \
	    eval '! grep -q "lost its packet filter helper" "$LOG"'
}

# --- 1. kill -9 of the spawned pfhelper ----------------------------------
set_up proxy_up
WPID=$(child_of "$PROXYPID" ftp-proxy)
PFH=$(pfhelper_pid "$PROXYPID")
hold 1
set_up wait_re "$WORK/hold.1" "^ready" 15
P0=$(permits)
check "a permit is live before the loss ($P0 elements)" [ "$P0" -gt 0 ]
kill -9 "$PFH"
touch "$WORK/killed1"
check "spawned: the worker asks for another pfhelper" \
    wait_re "$LOG" "worker $WPID lost pfhelper" 5
check "spawned: the parent spawned a new pfhelper" eval '
    i=0; while [ $i -lt 50 ]; do
        p=$(pfhelper_pid "$PROXYPID"); [ -n "$p" ] && [ "$p" != "$PFH" ] &&
        break; sleep 0.1; i=$((i + 1)); done; [ $i -lt 50 ]'
after 1 spawned
proxy_stop
check "spawned: SIGTERM: ftp-proxy exits 0" test "$PROXYRC" -eq 0

# --- 2. kill -9 of the pfhelper service ----------------------------------
svc_up() {
	bg ip netns exec "$FW" "$BIN/pfhelper" -S -d -D 7 -s "$PFHDIR" \
	    2>> "$WORK/pfhelper.log"
	SVCPID=$LASTPID
	i=0
	while [ $i -lt 50 ] && ! [ -S "$PFHDIR/ftp" ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ -S "$PFHDIR/ftp" ]
}
mkdir -p "$PFHDIR"
chmod 700 "$PFHDIR"
set_up svc_up
: > "$LOG"
set_up proxy_up -S
WPID=$(child_of "$PROXYPID" ftp-proxy)
hold 2
set_up wait_re "$WORK/hold.2" "^ready" 15
P0=$(permits)
kill -9 "$SVCPID"
wait "$SVCPID" 2>/dev/null
touch "$WORK/killed2"
check "service: the worker asks for another pfhelper" \
    wait_re "$LOG" "worker $WPID lost pfhelper" 5
set_up svc_up
after 2 service

# --- 3. a reload while the service is away --------------------------------
# reload_away N what order: sessions held (hold N), the service killed,
# then "away": the reload, then the service back; "back": the service
# back (serving), then at once the reload, as dpkg's postinst does it
# (pfhelper restarted, then ftp-proxy reloaded), while the parent may
# still be backing off before it reaches the service again.
reload_away() {
	proxy_stop
	: > "$LOG"
	set_up proxy_up -S
	WPID=$(child_of "$PROXYPID" ftp-proxy)
	hold "$1"
	set_up wait_re "$WORK/hold.$1" "^ready" 15
	P0=$(permits)
	kill -9 "$SVCPID"
	wait "$SVCPID" 2>/dev/null
	rm -f "$PFHDIR/ftp"
	touch "$WORK/killed$1"
	set_up wait_re "$LOG" "worker $WPID lost pfhelper" 5
	if [ "$3" = away ]; then
		kill -HUP "$PROXYPID"
		check "$2: the old worker goes on accepting" wait_re "$LOG" \
		    "no pfhelper for a new worker: worker $WPID goes on" 5
		check "$2: the re-executed parent reaches pfhelper for it" \
		    wait_re "$LOG" \
		    "worker $WPID waits for pfhelper: reaching it again" 5
		check "$2: ftp-proxy and the old worker still run" \
		    eval 'alive "$PROXYPID" && alive "$WPID"'
		set_up svc_up
	else
		sleep 0.5
		set_up svc_up
		kill -HUP "$PROXYPID"
	fi
	check "$2: the old worker's sessions made again" \
	    wait_re "$LOG" "a new pfhelper: 4 sessions made again" 10
	check "$2: a new worker started, the old one drains" \
	    wait_re "$LOG" "worker $WPID drains" 10
	NPID=$(pgrep -P "$PROXYPID" -x ftp-proxy | grep -vx "$WPID" |
	    head -n 1)
	check "$2: the new worker ($WPID -> ${NPID:-none}) runs" \
	    alive "${NPID:-0}"
	check "$2: the permits: A's made again, B's new ($((2 * P0)))" \
	    wait_permits $((2 * P0))
	touch "$WORK/reopened$1"
	wait "$HOLDPID"
	check "$2: the PASV sent while pfhelper was away got 227" \
	    grep -q "^PASV during the loss -> 227" "$WORK/hold.$1"
	check "$2: the permit announced before the loss works: sha256" \
	    grep -q "^A $SUM" "$WORK/hold.$1"
	check "$2: the PASV during the loss works: sha256" \
	    grep -q "^B $SUM" "$WORK/hold.$1"
	check "$2: a new session works: sha256" grep -q "^E $SUM" "$WORK/hold.$1"
	check "$2: every session ended cleanly" grep -q "^done" "$WORK/hold.$1"
	check "$2: the old worker exits once its sessions end" \
	    wait_gone "$WPID" 50
	check "$2: no element left once the sessions end" wait_permits 0
	check "$2: no session got 421" \
	    eval '! grep -q "lost its packet filter helper" "$LOG"'
}
reload_away 4 "reload, service away" away
reload_away 5 "service back, reload at once" back

# --- 4. the bound ---------------------------------------------------------
proxy_stop
: > "$LOG"
set_up proxy_up -S -W 2
hold 3
set_up wait_re "$WORK/hold.3" "^ready" 15
kill -9 "$SVCPID"
wait "$SVCPID" 2>/dev/null
touch "$WORK/killed3"
wait "$HOLDPID"
check "bound: the PASV that waited longer than -W gets 421" \
    grep -q "^PASV during the loss -> 421" "$WORK/hold.3"
check "bound: the log says why" \
    wait_re "$LOG" "lost pfhelper: no new pfhelper in time" 5
check "bound: ftp-proxy exits 1" eval '
    wait_gone "$PROXYPID" 50 && { wait "$PROXYPID"; [ $? -eq 1 ]; }'
PIDS=$(echo " $PIDS " | sed "s/ $PROXYPID / /")
finish
