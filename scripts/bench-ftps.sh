#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-ftps.sh (make bench, section ftps): FTP over TLS through
# ftp-proxy -E (TLS end to end, one range permit per TLS session, the
# data path the kernel's) against the two alternatives an admin has
# today:
#   range: no proxy; masquerade, the kernel's FTP helper (it cannot read
#          TLS) and a permissive forward accept of tcp dport low-high;
#   copy:  ProFTPD mod_proxy on the firewall terminating TLS on both
#          sides (every byte decrypted, copied and encrypted again);
#          skipped with a message if its TLS cannot be set up.
# Figures: one large download (curl --ssl-reqd, PROT P, PASV; median of
# three, one for copy) and sessions/s of 64 clients (login, PROT P, PASV, RETR 1 KiB,
# QUIT; python's ftplib FTP_TLS, one process per client).
#
# A benchmark, not a test: it prints figures and ratios from this run.
# Documentation addresses only (regress/integration/lib.sh's topology);
# every loop is bounded in time; the trap removes the namespaces and
# our processes by pid.
#
#	BENCH_FTPS_MB=1024	size of the large download
#	BENCH_SECS=8		seconds of each sessions/s run
#	BENCH_FTPS_ROUNDS=3	sessions/s runs of each setup, range and
#				ours alternating (the machine's other load
#				moves between runs); the median is kept
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
export TOP
P="bf$$-"
. "$TOP/regress/integration/lib.sh"
require_root

MB=${BENCH_FTPS_MB:-1024}
SECS=${BENCH_SECS:-8}
ROUNDS=${BENCH_FTPS_ROUNDS:-3}
LO=41000
HI=41999
RES=$WORK/results
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)

say() { echo "== $*"; }
result() { echo "$1 $2" >> "$RES"; echo "   $1 = $2"; }
get() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$RES"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
ratio() { # a b: a / b, or -
	echo "${1:-} ${2:-}" | awk 'NF == 2 && $2 > 0 {
	    printf "%.2f", $1 / $2; exit } { print "-" }'
}

# ---- the firewall's setups ----

fw_range() {
	in_fw nft flush ruleset
	in_fw conntrack -F 2>/dev/null
	in_fw nft -f - <<-EOF
	table inet bench {
		ct helper ftp-standard { type "ftp" protocol tcp; l3proto inet; }
		chain helpers {
			type filter hook prerouting priority filter;
			iifname "inside" tcp dport 21 ct helper set "ftp-standard"
		}
		chain filter_fwd {
			type filter hook forward priority filter; policy drop;
			ct state established,related accept
			iifname "inside" oifname "outside" tcp dport { 21, $LO-$HI } accept
		}
		chain nat_post {
			type nat hook postrouting priority srcnat;
			oifname "outside" masquerade
		}
	}
	EOF
}

fw_ours() {
	in_fw nft flush ruleset
	in_fw conntrack -F 2>/dev/null
	admin_rules
}

fw_copy() {
	in_fw nft flush ruleset
	in_fw conntrack -F 2>/dev/null
	in_fw nft -f - <<-EOF
	table inet bench {
		chain filter_fwd { type filter hook forward priority filter; policy drop; }
	}
	EOF
}

mkcert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench \
	    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2> "$WORK/req.err"
}

server_up() {
	mkcert || return 1
	VSFTPD_EXTRA="ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
rsa_cert_file=$WORK/cert.pem
rsa_private_key_file=$WORK/key.pem
ssl_ciphers=HIGH
pasv_min_port=$LO
pasv_max_port=$HI
max_clients=0
max_per_ip=0
write_enable=NO"
	vsftpd_up || return 1
	head -c $((MB * 1048576)) /dev/zero > "$WORK/ftproot/pub/big.bin"
	head -c 1024 /dev/urandom > "$WORK/ftproot/pub/small.bin"
	chmod 644 "$WORK/ftproot/pub/"*.bin
}

# copy_up: ProFTPD (mod_tls, mod_proxy) in reverse mode on $F4IN:21,
# TLS with the client (mod_tls) and with vsftpd (ProxyTLSEngine).
copy_up() {
	proftpd_deps bench-ftps.sh > "$WORK/deps.out" 2>&1 &&
	    unpack_debs bench-ftps.sh "$PFTPD_DIR" \
	    "$PFTPD_DIR/usr/lib/proftpd/mod_tls.so" proftpd-mod-crypto \
	    >> "$WORK/deps.out" 2>&1 || { echo "   no ProFTPD mod_tls"; return 1; }
	chmod 711 "$WORK"
	mkdir -p "$WORK/tables" && chown nobody "$WORK/tables"
	cat > "$WORK/proftpd.conf" <<-EOF
	ServerName		"bench ftps mod_proxy"
	ServerType		standalone
	DefaultServer		on
	UseIPv6			off
	DefaultAddress		$F4IN
	Port			21
	User			nobody
	Group			nogroup
	MaxInstances		2000
	PidFile			$WORK/proftpd.pid
	ScoreboardFile		$WORK/proftpd.scoreboard
	SystemLog		$WORK/proftpd.log
	TransferLog		none
	WtmpLog			off
	UseReverseDNS		off
	DelayEngine		off
	PassivePorts		50000 59999
	<IfModule mod_ident.c>
	  IdentLookups		off
	</IfModule>
	ModulePath		$PFTPD_DIR/usr/lib/proftpd
	LoadModule		mod_tls.c
	LoadModule		mod_proxy.c
	TLSEngine		on
	TLSRequired		on
	TLSProtocol		TLSv1.2 TLSv1.3
	TLSRSACertificateFile	$WORK/cert.pem
	TLSRSACertificateKeyFile $WORK/key.pem
	TLSOptions		NoSessionReuseRequired
	TLSLog			$WORK/proftpd-tls.log
	ProxyEngine		on
	ProxyLog		$WORK/proftpd-proxy.log
	ProxyTables		$WORK/tables
	ProxyRole		reverse
	ProxyReverseServers	ftp://$S4:21
	ProxyDataTransferPolicy	PASV
	ProxyTimeoutConnect	5
	ProxySourceAddress	$F4OUT
	ProxyTLSEngine		on
	ProxyTLSVerifyServer	off
	ProxyTLSCACertificateFile $WORK/cert.pem
	EOF
	bg ip netns exec "$FW" "$PROFTPD" -n -q -c "$WORK/proftpd.conf" \
	    2>> "$WORK/proftpd.err"
	COPYPID=$LASTPID
	wait_port "$FW" 21
}

stop_pid() { # pid: TERM, bounded wait, KILL
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null
	wait_gone "$1" 50 || kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ---- figures ----

# tput tag host [runs]: the large download, MB/s, median of three (or
# of runs).
tput() {
	for _i in $(seq "${3:-3}"); do
		timeout 400 ip netns exec "$CLI" curl -sS --ssl-reqd -k \
		    --disable-epsv --ftp-method nocwd -o /dev/null -w '%{speed_download}\n' \
		    "ftp://$2/pub/big.bin" 2>> "$WORK/curl.err"
	done | awk '{ printf "%.0f\n", $1 / 1e6 }' | median > "$WORK/v"
	result "tput_$1" "$(cat "$WORK/v")"
	[ -s "$WORK/curl.err" ] && sed 's/^/   /' "$WORK/curl.err"
	rm -f "$WORK/curl.err"
}

cp "$TOP/regress/integration/ftpstls.py" "$WORK/"
cat > "$WORK/ftpsload.py" <<'EOF'
# ftpsload.py host clients secs: sessions/s of FTP_TLS sessions (login,
# PROT P, PASV, RETR pub/small.bin, QUIT), one process per client.
import multiprocessing, sys, time
from ftpstls import FTPS, ctx

def client(host, t0, end, q):
    c = ctx()
    ok = fail = 0
    time.sleep(max(0, t0 - time.time()))
    while time.time() < end:
        try:
            f = FTPS(context=c, timeout=10)
            f.connect(host, 21)
            f.login()
            f.prot_p()
            f.set_pasv(True)
            got = []
            f.retrbinary("RETR pub/small.bin", got.append)
            f.quit()
            if sum(map(len, got)) == 1024:
                ok += 1
            else:
                fail += 1
        except Exception:
            fail += 1
    q.put((ok, fail))

host, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
q = multiprocessing.Queue()
t0 = time.time() + 3            # every client started by then
end = t0 + secs
ps = [multiprocessing.Process(target=client, args=(host, t0, end, q))
      for _ in range(n)]
for p in ps:
    p.start()
res = [q.get(timeout=secs + 60) for _ in ps]
for p in ps:
    p.join(10)
ok = sum(r[0] for r in res)
fail = sum(r[1] for r in res)
print("sessions=%d fail=%d rate=%.1f" % (ok, fail, ok / secs))
EOF

# load tag host: FTPS sessions/s, 64 clients, one run: its rate and
# failures added to $WORK/tag.rate and .fail.
load() {
	_o=$(timeout $((SECS + 90)) ip netns exec "$CLI" "${PYTHON:-python3}" \
	    "$WORK/ftpsload.py" "$2" 64 "$SECS")
	echo "   $1: $_o"
	echo "$_o" | sed -n 's/.*rate=//p' >> "$WORK/$1.rate"
	echo "$_o" | sed -n 's/.*fail=\([0-9]*\).*/\1/p' >> "$WORK/$1.fail"
}
# loaded tag: the median rate of its runs, and all their failures.
loaded() {
	result "sess_$1" "$(median < "$WORK/$1.rate")"
	result "sessfail_$1" "$(awk '{ n += $1 } END { print n + 0 }' \
	    "$WORK/$1.fail")"
}
ours_up() {
	fw_ours && proxy_up -E "$LO-$HI" -m 1000 -M 1000
}

# ---- the run ----

[ -x "$BIN/ftp-proxy" ] && [ -x "$BIN/pfhelper" ] ||
    { echo "bench-ftps.sh: build bin/ftp-proxy and bin/pfhelper first"; exit 1; }
say "ftps: topology, vsftpd with TLS, a $MB MiB file"
topo_up || exit 1
: > "$RES"
server_up || exit 1

say "ftps baseline: kernel FTP helper, tcp dport $LO-$HI accepted, masquerade"
fw_range || exit 1
tput range "$S4"

say "ftps copy: ProFTPD mod_proxy terminating TLS, reverse mode on $F4IN"
fw_copy
if copy_up; then
	tput copy "$F4IN" 1
	load copy "$F4IN"
	loaded copy
else
	echo "   ProFTPD mod_proxy with TLS could not be set up: skipped"
	tail -n 5 "$WORK/proftpd.log" "$WORK/proftpd.err" 2>/dev/null
fi
stop_pid "${COPYPID:-}"

say "ftps ours: ftp-proxy -E $LO-$HI + pfhelper (forward mode)"
ours_up || exit 1
tput ours "$S4"
stop_pid "$PROXYPID"

say "ftps sessions/s: range and ours alternating, $ROUNDS runs each"
for _r in $(seq "$ROUNDS"); do
	fw_range || exit 1
	load range "$S4"
	ours_up || exit 1
	load ours "$S4"
	stop_pid "$PROXYPID"
done
loaded range
loaded ours

echo
echo "FTPS ($MB MiB download; sessions/s of 64 clients, $SECS s, median" \
    "of $ROUNDS)," \
    "load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
printf '%-34s %8s %8s %8s %10s %10s\n' figure range ours copy ours/range \
    ours/copy
for k in tput:"download, MB/s" sess:"sessions/s" sessfail:"failed sessions"; do
	printf '%-34s %8s %8s %8s %10s %10s\n' "${k#*:}" \
	    "$(get "${k%%:*}_range")" "$(get "${k%%:*}_ours")" \
	    "$(get "${k%%:*}_copy")" \
	    "$(ratio "$(get "${k%%:*}_ours")" "$(get "${k%%:*}_range")")" \
	    "$(ratio "$(get "${k%%:*}_ours")" "$(get "${k%%:*}_copy")")"
done | sed '/^failed/s/ *[0-9.-]* *[0-9.-]*$//'
paste -d' ' "$WORK/range.rate" "$WORK/ours.rate" | awk '{
    printf "%s %.2f", (NR > 1 ? "," : "ours/range of each run:"), $2 / $1 }
    END { print "" }'
echo "bench-ftps.sh: $(($(date +%s) - T0)) s"
