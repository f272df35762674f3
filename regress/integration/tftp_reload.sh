#!/bin/sh
# SPDX-License-Identifier: ISC
# tftp_reload.sh: SIGHUP to a standalone tftp-proxy's parent while a
# transfer is under way: the parent re-executes itself with its socket,
# a new worker serves new requests, the old one keeps its request's
# permit until that transfer ends (the download has the right
# checksum), then exits; the parent keeps its pid and exits 0 on
# SIGTERM.  The transfer is slowed by a token bucket on the server's
# link (96 kbit/s: a 512-byte block per ~45 ms, 96 KiB in ~8 s).
#
# Needs root, ip(8), tc(8), nft(8), in.tftpd, tftp-hpa, curl, bin/*.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root

set_up topo_up
set_up admin_rules
set_up tftpd_up
R=$WORK/tftproot
mkfile "$R/slow" 96
mkfile "$R/quick" 8
set_up tftp_proxy_up
PP=$TFTPPROXYPID
LOG=$WORK/tftp-proxy.log
set_up in_srv tc qdisc add dev eth0 root tbf rate 96kbit burst 1600 \
    latency 400ms

workers() { pgrep -P "$PP" -x tftp-proxy; }
W1=$(workers)
[ -n "$W1" ] || { fail "set-up: a worker"; finish; exit 1; }

bg hpa_get "$S4" slow "$WORK/slow"
SLOWPID=$LASTPID
check "the slow transfer is under way" wait_grep "$LOG" "slow" 1
kill -HUP "$PP"
check "HUP: the old worker drains" wait_re "$LOG" "worker $W1 drains" 10
W2=""
for p in $(workers); do [ "$p" != "$W1" ] && W2=$p; done
check "HUP: a new worker" test -n "$W2"
check "a request after the HUP: sha256" eval \
    "curl_get $S4 quick $WORK/quick && same $WORK/quick $R/quick"
check "the old worker lives while its transfer runs" alive "$W1"
wait "$SLOWPID"
check "the transfer across the HUP completes: sha256" \
    same "$WORK/slow" "$R/slow"
check "then the old worker exits" wait_gone "$W1" 150
check "the parent kept its pid" alive "$PP"
check "no permit left" wait_permits 0 tftp-proxy
kill -TERM "$PP"
if wait_gone "$PP" 100; then
	wait "$PP"
	RC=$?
else
	RC=255
fi
check "SIGTERM: tftp-proxy exits 0" test "$RC" -eq 0
finish
