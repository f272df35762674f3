#!/bin/sh
# SPDX-License-Identifier: ISC
# reload.sh: SIGHUP to ftp-proxy's parent re-executes it with its
# listeners, starts a new worker and drains the old one (parent.c).
#   1. A download at a limited rate, an idle logged-in session and a
#      session that stays, all through ftp-proxy: HUP mid-transfer; the
#      download completes with the right checksum and a second file
#      follows on the same control connection; the idle session
#      downloads too; a new session is served by the new worker; the
#      one that stays gets 421 when the drain time (-w) is over, with a
#      log line, and then the old worker exits.
#   2. A second HUP with an idle session on the worker: it exits as
#      soon as that session ends, before its drain time.
#   3. 200 connections opened across a third HUP: every one gets the
#      server's greeting (0 refused, 0 reset).
# The pid stays the parent's throughout.  The parent runs without
# CAP_KILL, as under systemd's bounding set: it cannot signal its
# workers (another uid), and ends them over their channel.
#
# Needs root, ip(8), nft(8), vsftpd, python3, and bin/*.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root

DRAIN=12
# 250,000 bytes/s: the big file takes ~5 s; no limit of connections.
VSFTPD_EXTRA="anon_max_rate=250000
max_per_ip=0
max_clients=0"
set_up topo_up
set_up admin_rules
set_up vsftpd_up
mkfile "$WORK/ftproot/pub/big" 1280
mkfile "$WORK/ftproot/pub/small" 64
PROXYWRAP="setpriv --bounding-set -kill" set_up proxy_up -m 400 -M 400 \
    -w $DRAIN
ftpc_init

# The parent's workers (children named ftp-proxy), one per line.
workers() { pgrep -P "$PROXYPID" -x ftp-proxy; }
# The worker holding the proxy's side of the client's port $1.
holder() {
	in_fw ss -Htnp state established "( sport = :8021 and dport = :$1 )" |
	    sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}
# Wait (bounded, $2 tenths of a second) for a worker other than $1.
wait_new_worker() {
	_i=0
	while [ $_i -lt "${2:-50}" ]; do
		for _p in $(workers); do
			[ "$_p" != "$1" ] && { echo "$_p"; return 0; }
		done
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

check "the parent runs without CAP_KILL" eval '
    b=$(sed -n "s/^CapBnd:[[:space:]]*//p" /proc/$PROXYPID/status);
    [ $((0x$b & 0x20)) -eq 0 ]'
W1=$(workers)
[ -n "$W1" ] || { fail "set-up: a worker"; finish; exit 1; }

# --- 1. HUP mid-transfer ------------------------------------------------
cat > "$WORK/one.py" <<'EOF'
import hashlib, os, socket, sys, threading, time
sys.path.insert(0, os.environ["WORK"])
from ftpc import Ctl
W = os.environ["WORK"]
S = os.environ["S4"]
def mark(name, text="x\n"):
    with open(os.path.join(W, name), "w") as f:
        f.write(text)
def wait_file(name, t=30):
    end = time.time() + t
    while time.time() < end:
        if os.path.exists(os.path.join(W, name)):
            return True
        time.sleep(0.05)
    return False
def retr(c, path, mid=None):
    c.s.settimeout(30)
    code, lines = c.cmd("PASV")
    host, port = c.pasv_port(lines, code)
    d = socket.create_connection((host, port), timeout=30)
    assert c.code("RETR " + path) in (125, 150)
    h, n = hashlib.sha256(), 0
    while True:
        b = d.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
        if mid and n >= 100000 and not os.path.exists(os.path.join(W, mid)):
            mark(mid)
    d.close()
    assert c.reply()[0] == 226
    return h.hexdigest()
c1, c2, c3 = Ctl(S), Ctl(S), Ctl(S)
for c in (c1, c2, c3):
    assert c.login() == 230
mark("ports", "%d %d %d" % tuple(c.s.getsockname()[1] for c in (c1, c2, c3)))
big = retr(c1, "pub/big", mid="mid")
assert wait_file("reloaded")
small = retr(c1, "pub/small")
idle = retr(c2, "pub/small")
c4 = Ctl(S)
assert c4.login() == 230
mark("port4", str(c4.s.getsockname()[1]))
assert wait_file("held")
new = retr(c4, "pub/small")
for c in (c1, c2, c4):
    assert c.code("QUIT") == 221
mark("sums", "%s\n%s\n%s\n%s\n" % (big, small, idle, new))
c3.s.settimeout(60)
print("stayer:", c3.reply())
EOF
bg ip netns exec "$CLI" env WORK="$WORK" S4="$S4" PYTHONDONTWRITEBYTECODE=1 \
    timeout 60 python3 "$WORK/one.py" > "$WORK/one.out" 2>&1
ONEPID=$LASTPID
check "the download is under way" wait_re "$WORK/mid" x 20
kill -HUP "$PROXYPID"
W2=$(wait_new_worker "$W1" 50)
check "HUP: a new worker" test -n "$W2"
check "HUP: the old worker drains" \
    wait_re "$WORK/ftp-proxy.log" "worker $W1 drains" 5
touch "$WORK/reloaded"
check "the parent kept its pid" alive "$PROXYPID"
wait_re "$WORK/port4" "[0-9]" 30
P4=$(cat "$WORK/port4" 2>/dev/null)
H4=$(holder "${P4:-0}")
check "a new session is served by the new worker ($H4, want $W2)" \
    test -n "$H4" -a "$H4" = "${W2:-x}"
touch "$WORK/held"
wait_re "$WORK/sums" "." 30
BIG=$(sum "$WORK/ftproot/pub/big")
SMALL=$(sum "$WORK/ftproot/pub/small")
check "the download across the HUP: sha256 matches" \
    test "$(sed -n 1p "$WORK/sums")" = "$BIG"
check "a second file on the same control connection: sha256 matches" \
    test "$(sed -n 2p "$WORK/sums")" = "$SMALL"
check "the idle session downloads after the HUP: sha256 matches" \
    test "$(sed -n 3p "$WORK/sums")" = "$SMALL"
check "the new session downloads: sha256 matches" \
    test "$(sed -n 4p "$WORK/sums")" = "$SMALL"
check "the old worker lives on while a session stays" alive "$W1"
check "drain time over: the log line" wait_re "$WORK/ftp-proxy.log" \
    "drain time over: ending 1 session" $((DRAIN + 10))
check "drain time over: the session's own line" \
    wait_re "$WORK/ftp-proxy.log" "ending session: drain time over" 5
wait "$ONEPID"
check "the session that stayed got 421" \
    grep -q "stayer: (421" "$WORK/one.out"
check "then the old worker exits" wait_gone "$W1" 50
check "the old worker's table entries are gone" wait_permits 0
[ -s "$WORK/sums" ] || cat "$WORK/one.out"

# --- 2. An old worker exits when its last session ends ------------------
cat > "$WORK/two.py" <<'EOF'
import os, sys, time
sys.path.insert(0, os.environ["WORK"])
from ftpc import Ctl
W = os.environ["WORK"]
c = Ctl(os.environ["S4"])
assert c.login() == 230
open(os.path.join(W, "in2"), "w").write("x\n")
end = time.time() + 30
while not os.path.exists(os.path.join(W, "quit2")) and time.time() < end:
    time.sleep(0.05)
assert c.code("QUIT") == 221
EOF
bg ip netns exec "$CLI" env WORK="$WORK" S4="$S4" PYTHONDONTWRITEBYTECODE=1 \
    timeout 40 python3 "$WORK/two.py" > "$WORK/two.out" 2>&1
set_up wait_re "$WORK/in2" x 10
kill -HUP "$PROXYPID"
W3=$(wait_new_worker "$W2" 50)
check "second HUP: a new worker" test -n "$W3"
check "second HUP: the old worker drains" \
    wait_re "$WORK/ftp-proxy.log" "worker $W2 drains" 5
touch "$WORK/quit2"
check "the old worker exits when its last session ends" wait_gone "$W2" 30
check "the parent says so" \
    wait_re "$WORK/ftp-proxy.log" "old worker $W2 exited" 5
check "no drain time over for it" \
    test "$(grep -c 'drain time over: ending' "$WORK/ftp-proxy.log")" -eq 1

# --- 3. The accept queue across a HUP -----------------------------------
cat > "$WORK/three.py" <<'EOF'
import os, socket, sys, time
W = os.environ["WORK"]
S = os.environ["S4"]
N = 200
socks, refused, reset, other = [], 0, 0, 0
for i in range(N):
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect((S, 21))
        socks.append(s)
    except ConnectionRefusedError:
        refused += 1
    except OSError:
        other += 1
    if i == 20:
        open(os.path.join(W, "burst"), "w").write("x\n")
    time.sleep(0.01)
good = 0
for s in socks:
    try:
        b = b""
        while b"\n" not in b:
            d = s.recv(512)
            if not d:
                break
            b += d
        if b.startswith(b"220"):
            good += 1
        else:
            other += 1
            print("not greeted:", b[:80])
    except ConnectionResetError:
        reset += 1
    except OSError:
        other += 1
    s.close()
print("greeted %d refused %d reset %d other %d" % (good, refused, reset,
      other))
EOF
bg ip netns exec "$CLI" env WORK="$WORK" S4="$S4" PYTHONDONTWRITEBYTECODE=1 \
    timeout 60 python3 "$WORK/three.py" > "$WORK/three.out" 2>&1
THREEPID=$LASTPID
set_up wait_re "$WORK/burst" x 10
kill -HUP "$PROXYPID"
W4=$(wait_new_worker "$W3" 50)
check "third HUP during the burst: a new worker" test -n "$W4"
wait "$THREEPID"
cat "$WORK/three.out"
check "200 connections across the HUP: all greeted, 0 refused, 0 reset" \
    grep -q "greeted 200 refused 0 reset 0 other 0" "$WORK/three.out"
check "the burst spanned the handover" \
    wait_re "$WORK/ftp-proxy.log" "worker $W3 drains" 5

proxy_stop
check "SIGTERM after three reloads: ftp-proxy exits 0" test "$PROXYRC" -eq 0
check "no table left" eval '! has_table && ! has_table ftp-proxy-1'
finish
