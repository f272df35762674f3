#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-soak.sh [secs]: make bench's soak sections (scripts/bench.sh:
# `soak', 600 s, in the default list; `longsoak', 3600 s, only with
# BENCH_ONLY=longsoak).  Sessions loop through ftp-proxy + its pfhelper
# for secs seconds (default $BENCH_SOAK_SECS, else 3600), one minute at a
# time: every minute, regress/tools/ftpbench (48 clients) and
# scripts/bench/ftpload.py (16 clients) run that minute's sessions
# (connect, login, PASV, RETR of 1 KiB, QUIT; a step that waits 10 s is
# a hung session, a 421 or 425 a refused one), and a line gives:
#   sessions/s; failed, refused and hung sessions; RSS (KiB) and open
#   descriptors of ftp-proxy's parent, its worker and pfhelper, taken
#   near the end of the minute, under load; the live elements of
#   ftp-proxy's table then; ftp-proxy's warnings (-D 4) that minute.
# At the end a summary: the totals, RSS and descriptors of the first
# minute against the last (flat memory: the same), and the elements
# left once the load has stopped.  A benchmark: it prints, asserts
# nothing.  Its own topology (regress/integration/lib.sh): documentation
# addresses only, every loop bounded, the trap removes the namespaces
# and our processes by pid.
#	BENCH_SOAK_STEP=60 (seconds a line)  BENCH_SOAK_CLIENTS=48 (ftpbench)
#	BENCH_SOAK_PY=16 (ftpload.py clients; 0: none)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
P="bs$$-"
. "$TOP/regress/integration/lib.sh"
require_root
SECS=${1:-${BENCH_SOAK_SECS:-3600}}
STEP=${BENCH_SOAK_STEP:-60}
NFB=${BENCH_SOAK_CLIENTS:-48}
NPY=${BENCH_SOAK_PY:-16}
PYLOAD=$TOP/scripts/bench/ftpload.py
ftpbench_built || exit 1
need "$BIN/ftp-proxy" "$BIN/pfhelper"
[ "$STEP" -ge 10 ] || STEP=10
[ "$SECS" -ge "$STEP" ] || SECS=$STEP
NMIN=$((SECS / STEP))

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# procs: parent, worker and pfhelper, as "rss/fds" each.
procs() {
	for _p in "$PROXYPID" "$(worker_of "$PROXYPID")" \
	    "$(pfhelper_pid "$PROXYPID")"; do
		printf ' %s/%s' "$(rss "$_p")" "$(fds "$_p")"
	done
}

echo "== soak: ${SECS} s of sessions through ftp-proxy, $NFB + $NPY" \
    "clients, a line every $STEP s (load average $(cut -d' ' -f1-3 \
    /proc/loadavg))"
VSFTPD_EXTRA="max_per_ip=0
max_clients=0"
set_up topo_up
set_up admin_rules
set_up vsftpd_up
head -c 1024 /dev/urandom > "$WORK/ftproot/pub/small.bin"
chmod 644 "$WORK/ftproot/pub/small.bin"
SRCS=""
for i in $(seq 11 26); do
	in_cli ip addr add "192.0.2.$i/24" dev eth0
	SRCS="$SRCS${SRCS:+,}192.0.2.$i"
done
set_up proxy_up -D 4 -m 1000 -M 1000
LOG=$WORK/ftp-proxy.log
: > "$LOG"

# minute N: one step's load, the sample near its end, its line.
minute() {
	_w0=$(wc -l < "$LOG")
	if [ "$NPY" -gt 0 ]; then
		bg ip netns exec "$CLI" timeout $((STEP + 120)) \
		    /usr/bin/python3 "$PYLOAD" -H "$S4" -c "$NPY" -t "$STEP" \
		    -f pub/small.bin -o "$WORK/py.hung" > "$WORK/py.out"
		_py=$LASTPID
	fi
	bg ip netns exec "$CLI" timeout $((STEP + 60)) "$FB" load -h "$S4" \
	    -c "$NFB" -t "$STEP" -f pub/small.bin -b "$SRCS" \
	    > "$WORK/fb.out" 2>> "$WORK/fb.hung"
	_fb=$LASTPID
	# A sample, not a synchronisation: the processes under load.
	sleep $((STEP - 3))
	_s=$(procs)
	_e=$(permits)
	wait "$_fb"
	_o=$(cat "$WORK/fb.out")
	_n=$(field sessions "$_o") _f=$(field fail "$_o")
	_h=$(field hung "$_o") _r=$(field refused "$_o")
	_t=$(field secs "$_o")
	if [ "$NPY" -gt 0 ]; then
		wait "$_py"
		_o=$(grep '^pyload' "$WORK/py.out")
		_n=$((_n + $(field sessions "$_o")))
		_f=$((_f + $(field fail "$_o")))
		_h=$((_h + $(field hung "$_o")))
	fi
	# ftpbench's fail counts its hung and refused sessions too.
	_w=$(($(wc -l < "$LOG") - _w0))
	printf '%4d %8d %7s %6d %5d %5d %s %6d %5d\n' "$1" "$_n" \
	    "$(echo "$_n ${_t:-$STEP}" | awk '{ printf "%.1f", $1 / $2 }')" \
	    "$_f" "$_r" "$_h" "$(echo "$_s" | awk '{ printf "%13s %13s %13s",
	    $1, $2, $3 }')" "$_e" "$_w" | tee -a "$WORK/lines"
}

printf '%4s %8s %7s %6s %5s %5s %13s %13s %13s %6s %5s\n' min sessions \
    sess/s failed refus hung "parent rss/fd" "worker rss/fd" "pfh rss/fd" elems warns
: > "$WORK/lines"
m=0
while [ $m -lt "$NMIN" ]; do
	m=$((m + 1))
	minute "$m"
done
# Once the load stops, every element goes when its session ends.
wait_permits 0 > /dev/null
LEFT=$(permits)

awk -v step="$STEP" -v left="$LEFT" '
function kib(a) { split(a, v, "/"); return v[1] }
function fd(a) { split(a, v, "/"); return v[2] }
NR == 1 { for (i = 7; i <= 9; i++) { r0[i] = kib($i); f0[i] = fd($i) } }
{ n += $2; f += $4; r += $5; h += $6
  for (i = 7; i <= 9; i++) { r1[i] = kib($i); f1[i] = fd($i) } }
END {
	split("parent worker pfhelper", who, " ")
	printf "soak sessions=%d fail=%d refused=%d hung=%d rate=%.1f " \
	    "minutes=%d left=%d\n", n, f, r, h, n / (NR * step), NR, left
	for (i = 7; i <= 9; i++)
		printf "   %-9s RSS %6d -> %6d KiB (%+d), fds %4d -> %4d\n",
		    who[i - 6], r0[i], r1[i], r1[i] - r0[i], f0[i], f1[i]
}' "$WORK/lines"
cat "$WORK/fb.hung" "$WORK/py.hung" 2>/dev/null | head -n 5 | sed 's/^/   /'
proxy_stop
echo "   ftp-proxy exit status on SIGTERM: $PROXYRC"
cleanup
