#!/bin/bash
# SPDX-License-Identifier: ISC
# ha.sh: a pair of firewalls, each with pfhelper -S, ftp-proxy and
# tftp-proxy, made highly available by real keepalived
# (VRRP) and conntrackd (FTFW over a dedicated link), configured by
# etc/keepalived.conf, etc/conntrackd.conf and etc/conntrackd-notify.sh
# themselves; ip_nonlocal_bind=1 on both nodes.
#
#   client (192.0.2.10, gateway the VIP 192.0.2.1)
#     == bridge == fw1 (.2 | 198.51.100.2), fw2 (.3 | 198.51.100.3)
#     == bridge == server (198.51.100.10; the proxies speak to it from
#                  the VIP 198.51.100.1);  fw1 -- sync -- fw2
#
# Each node also runs ftp-proxy -R for an FTP server inside (reverse
# mode, on the VIP 198.51.100.1 port 2121).  A PASV and a PORT download
# (forward) and a PASV download (reverse), 4 MiB at 512 KiB/s each
# (8 s), go on through the backup when the master fails mid-transfer
# (its links go down, its keepalived gets SIGKILL); a new session of
# either mode, a new session over IPv6 (keepalived's IPv6 VIPs go with
# the IPv4 VRRP v3 instance) and a TFTP read work through the new
# master (how soon is printed: scripts/bench-ha.sh's figure),
# and again after failing back;
# the control sessions of the failed node end with a reset; the
# backup's tables held nothing before; the same for a planned
# switchover (keepalived stopped); a backup without conntrackd still
# takes over and serves new sessions; a master that loses its sync link
# stays master and serves; a VIP that flaps (3 s) is logged once per
# change by each front end, which serve again after it and hold no
# descriptor or element more; no permit and no table is left.
# The set-up and helpers are in ha_lib.sh (shared with
# scripts/bench-ha.sh, which has the long flap and the figures).
# keepalived and conntrackd are unpacked under obj/servers/ha
# (scripts/hadeps.sh) and keep their pid files, locks and sockets in
# this run's directory.
# Run as root:  TOP=/path/to/tree bash regress/integration/ha.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ha_lib.sh"

ha_up

# --- 1. failover: the master fails mid-transfer ----------------------
check "an IPv6 FTP session through fw1 (its IPv6 VIPs)" within 50 \
    get_small "$CLI" "ftp://[$S6]/pub/small" "$WORK/ftproot/pub/small"
dl pasv PASV
dl port PORT
dl rev PASV reverse
idle ctl
check "PASV and PORT downloads are going through fw1" \
    eval "dl_going pasv 256 && dl_going port 256"
check "a reverse-mode PASV download is going through fw1" dl_going rev 256
check "an idle control session through fw1 is logged in" idle_in ctl
check "fw1's ftp-proxy made their permits" eval \
    "grep -q ' passive: ' $WORK/ftp-proxy1.log &&
    grep -q ' active: ' $WORK/ftp-proxy1.log"
check "the backup's tables hold nothing before the takeover" \
    [ "$(elems "$N2")" -eq 0 ]
check "fw2's conntrackd has fw1's connections" synced 4
check "the three downloads are mid-transfer" \
    eval "dl_mid pasv 1024 && dl_mid port 1024 && dl_mid rev 1024"
fw1_fails
gap_watch pasv
check "fw2 takes the VIPs" wait_vip "$N2" 50
check "a new FTP session through fw2" new_ftp
check "a TFTP read through fw2" new_tftp
check "a new reverse-mode session through fw2" new_rev
check "a new IPv6 FTP session through fw2" new_ftp6
check "the PASV download completes, right checksum" dl_done pasv
check "the PORT download completes, right checksum" dl_done port
check "the reverse-mode download completes, right checksum" dl_done rev
within 50 test -s "$WORK/pasv.gap"
echo "# failover: the PASV download went on after $(cat "$WORK/pasv.gap") s;" \
    "$(grep -h ' after ' "$WORK/check.log" | tr '\n' ' ')"
check "fw1's idle control session ends with a reset" idle_reset ctl

# --- 2. failing back -------------------------------------------------
fw1_links_up
T0=$(date +%s%N)
ka_up "$N1" 1
check "fw1 takes the VIPs back" eval "wait_vip $N1 && wait_novip $N2"
check "a new FTP session through fw1 after failing back" new_ftp
check "a TFTP read through fw1 after failing back" new_tftp
check "a reverse-mode session through fw1 after failing back" new_rev
check "an IPv6 FTP session through fw1 after failing back" new_ftp6

# --- 3. a fault: fw1 loses its sync link ------------------------------
# VRRP runs on the inside link, so the pair does not split: fw1 stays
# master and serves; only the sync of its connections stops.  The 2.5 s
# without fw2 taking the VIPs are the test's point: more than VRRP's
# master-down interval (3 adverts of 0.5 s, and the skew), in which a
# backup that heard no advert would have taken over.
check "fw1 is master, its conntrackd running" \
    eval "wait_vip $N1 && alive $CTD1"
FDS=$(fds1) ELEMS=$(elems "$N1")
in_n "$N1" ip link set sync down
T0=$(date +%s%N)
check "without its sync link fw1 stays master, fw2 backup" \
    eval "! within 25 has_vip $N2 && has_vip $N1"
check "a new FTP session through fw1 without the sync link" new_ftp
check "a TFTP read through fw1 without the sync link" new_tftp
check "a reverse-mode session through fw1 without the sync link" new_rev
check "fw1's conntrackd runs on" alive "$CTD1"
in_n "$N1" ip link set sync up
check "no permit, no descriptor more on fw1" \
    not_more "$FDS" "$ELEMS"

# --- 4. a fault: the VIP flaps (every second, 3 times) -----------------
log_mark
set_up mon_up
vip_flap 3
T0=$(date +%s%N)
check "after the flap fw1 holds the VIPs" wait_vip "$N1" 50
kill "$MONPID"
check "fw1's front ends log each change of each VIP once" changes_logged
check "a new FTP session through fw1 after the flap" new_ftp
check "a TFTP read through fw1 after the flap" new_tftp
check "a reverse-mode session through fw1 after the flap" new_rev
check "no permit, no descriptor more on fw1" \
    not_more "$FDS" "$ELEMS"

# --- 5. planned switchover: keepalived stopped on the master --------
dl plan PASV
idle ctl2
check "a download and a control session through fw1" \
    eval "dl_going plan 256 && idle_in ctl2 && dl_mid plan 1024"
T0=$(date +%s%N)
kill -TERM "$KA1"
check "keepalived on fw1 stopped: fw2 takes the VIPs" \
    eval "wait_novip $N1 && wait_vip $N2 50"
check "a new FTP session through fw2" new_ftp
check "a TFTP read through fw2" new_tftp
check "the download completes, right checksum" dl_done plan
check "fw1's control session ends with a reset" idle_reset ctl2

# --- 6. a fault: the backup's conntrackd is not running --------------
# The node still takes over and serves new sessions (what ran through
# the master is lost: nothing has its connection tracking entries).
set_up wait_gone "$KA1"
ka_up "$N1" 1
check "fw1 takes the VIPs back again" eval "wait_vip $N1 && wait_novip $N2"
kill "$CTD2"
check "fw2's conntrackd is gone" wait_gone "$CTD2"
fw1_fails
check "without conntrackd, fw2 still takes the VIPs" wait_vip "$N2" 50
check "a new FTP session through fw2" new_ftp
check "a TFTP read through fw2" new_tftp
fw1_links_up

# --- 7. nothing left ---------------------------------------------------
# The front ends stop: each broker drops what their sessions held; the
# brokers stop: their tables go.
for n in 1 2; do eval "kill \$FTP$n \$TFTP$n \$REV$n"; done
check "no permit left on fw1 once its front ends are gone" wait_noelems "$N1"
check "no permit left on fw2 once its front ends are gone" wait_noelems "$N2"
for n in 1 2; do
	eval "kill \$PFH$n"
	eval "wait_gone \$PFH$n"
done
check "no proxy table left on either node" \
    eval "[ \$(ptables $N1) -eq 0 ] && [ \$(ptables $N2) -eq 0 ]"
ls -d /run/keepalived* /run/conntrackd* /var/lock/conntrack* \
    > "$WORK/run.after" 2>/dev/null
check "nothing of keepalived or conntrackd in the host's /run, /var/lock" \
    cmp "$WORK/run.before" "$WORK/run.after"

finish
