#!/bin/bash
# ftp_interop.sh: what real clients and servers need beyond the basics:
# -T and -q (ct label and meta priority on the data connections), lines
# of any length from the server and long client commands, and the idle
# timeout during a slow transfer.  vsftpd and a pyftpdlib server
# (regress/servers/longftpd.py) outside; curl, lftp and python ftplib
# inside.  Run as root:
#   TOP=/path/to/tree bash regress/integration/ftp_interop.sh
# PARTS="tag long idle" (the default: all) runs some of it.
. "$(dirname "$0")/lib.sh"

PARTS=${PARTS:-"tag long idle"}
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

require_root
topo_up || { echo "0 passed, 1 failed"; exit 1; }
admin_rules || { echo "0 passed, 1 failed"; exit 1; }
vsftpd_up || { echo "0 passed, 1 failed"; exit 1; }

PUB=$WORK/ftproot/pub
mkfile "$PUB/big" 1024
CURL="timeout 40 ip netns exec $CLI curl -sS --connect-timeout 5 -m 35"
LFTP_SET="set net:timeout 5; set net:max-retries 1;
set net:reconnect-interval-base 1; set cmd:fail-exit yes"
url() { echo "ftp://$S4/$1"; }

# An nft counter in the firewall: counter TABLE CHAIN COMMENT prints
# "packets bytes" of the rule with that comment.
counter() {
	in_fw nft list chain inet "$1" "$2" | sed -n \
	    "s/.*counter packets \([0-9]*\) bytes \([0-9]*\).*comment \"$3\".*/\1 \2/p"
}
packets() { counter "$@" | cut -d' ' -f1; }
bytes() { counter "$@" | cut -d' ' -f2; }

# --- 1. -T and -q. ---------------------------------------------------

if part tag; then
# The admin's rules that use them: count new connections with the
# label (the data connections), and packets with the priority.
in_fw nft -f - <<-EOF
table inet watch {
	chain wfwd {
		type filter hook forward priority filter + 10;
		ct state new ct label 5 counter comment "tagnew"
		ct label 5 counter comment "tagall"
	}
	chain wpost {
		type filter hook postrouting priority filter + 10;
		meta priority 1:2 counter comment "prio"
		tcp dport 21 meta priority 1:2 counter comment "prioctl"
		tcp dport 21 counter comment "ctl"
	}
}
EOF
proxy_up -T 5 -q 1:2
check "-T 5 -q 1:2: ftp-proxy runs, its table is there" has_table

# pfhelper -n shows exactly what the running table has.
"$BIN/pfhelper" -n -T 5 -q 1:2 > "$WORK/desc"
grep -v '^[[:space:]]*#' "$WORK/desc" | grep -v '^$' > "$WORK/d1"
in_fw nft list table inet ftp-proxy | sed -e 's/ # progname.*//' \
    -e '/flags owner/d' -e '/^$/d' > "$WORK/d2"
check "-T/-q: pfhelper -n shows the running table" \
    eval "[ -s $WORK/d1 ] && cmp $WORK/d1 $WORK/d2"
check "-T: the pass rules set ct label 5" \
    grep -q "ct mark | 0x20000000 ct label set 5" "$WORK/d2"
check "-q: marked packets get meta priority 1:2" \
    grep -q "ct mark & 0x20000000 == 0x20000000 meta priority set 1:2" \
    "$WORK/d2"

rm -f "$WORK"/o[1-4]
check "-T/-q: four downloads (PASV twice in one session, EPSV, PORT)" \
    eval "$CURL --disable-epsv $(url pub/big) -o $WORK/o1 \
    $(url pub/big) -o $WORK/o2 && $CURL $(url pub/big) -o $WORK/o3 &&
    $CURL -P - --disable-eprt $(url pub/big) -o $WORK/o4 &&
    same $WORK/o1 $PUB/big && same $WORK/o2 $PUB/big &&
    same $WORK/o3 $PUB/big && same $WORK/o4 $PUB/big"
n=$(packets watch wfwd tagnew)
check "-T: the admin's ct label rule counted 4 new connections (${n:-none})" \
    [ "${n:-0}" -eq 4 ]
b=$(bytes watch wfwd tagall)
check "-T: the labelled connections carried the data (${b:-0} bytes)" \
    [ "${b:-0}" -ge $((4 * 1024 * 1024)) ]
b=$(bytes watch wpost prio)
check "-q: packets with priority 1:2 carried the data (${b:-0} bytes)" \
    [ "${b:-0}" -ge $((4 * 1024 * 1024)) ]
n=$(packets watch wpost ctl)
m=$(packets watch wpost prioctl)
check "-q: the control connections (${n:-0} packets) have no priority" \
    [ "${n:-0}" -gt 0 ] && [ "${m:-1}" -eq 0 ]
proxy_stop
check "-T/-q: ftp-proxy exits 0, table gone" \
    eval "[ $PROXYRC -eq 0 ] && ! has_table"
in_fw nft delete table inet watch
check "-T 128 and -q 1 are refused" eval "! $BIN/ftp-proxy -T 128 2>&1 &&
    ! $BIN/ftp-proxy -q 1 2>&1"
fi

finish
