# lib.sh: the integration tests' topology, sourced by regress/integration/*.sh.
#
#   client ns (192.0.2.10, 2001:db8:1::10)
#     -- fw ns (192.0.2.1 | 198.51.100.1, 2001:db8:1::1 | 2001:db8:2::1)
#     -- server ns (198.51.100.10, 2001:db8:2::10; no route inside)
#
# Documentation addresses only.  Names carry a per-run prefix; the trap
# removes the namespaces and ends every process started here, by pid.

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=$TOP/bin
P=${P:-"r$$-"}
CLI=${P}cli
FW=${P}fw
SRV=${P}srv
WORK=$(mktemp -d /tmp/regress.$$.XXXXXX)
PIDS=""
npass=0
nfail=0

C4=192.0.2.10; F4IN=192.0.2.1; F4OUT=198.51.100.1; S4=198.51.100.10
C6=2001:db8:1::10; F6IN=2001:db8:1::1; F6OUT=2001:db8:2::1; S6=2001:db8:2::10

ok() { npass=$((npass + 1)); echo "ok $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
check() { # check "what" command...
	what=$1; shift
	if "$@" >> "$WORK/check.log" 2>&1; then ok "$what"; else fail "$what"; fi
}
in_cli() { ip netns exec "$CLI" "$@"; }
in_fw() { ip netns exec "$FW" "$@"; }
in_srv() { ip netns exec "$SRV" "$@"; }

# Run in the background, remembering the pid for the trap.  Give it a
# command, not a shell function, so that the pid is the program's.
bg() { "$@" & PIDS="$PIDS $!"; LASTPID=$!; }

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for ns in "$CLI" "$FW" "$SRV"; do
		ip netns pids "$ns" 2>/dev/null | while read -r p; do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}

finish() {
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
}

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "integration tests need root (network namespaces)"
		echo "0 passed, 1 failed"
		exit 1
	fi
}

topo_up() {
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP
	for ns in "$CLI" "$FW" "$SRV"; do ip netns add "$ns" || return 1; done
	ip link add "${P}c" netns "$CLI" type veth peer name "${P}fi" netns "$FW"
	ip link add "${P}s" netns "$SRV" type veth peer name "${P}fo" netns "$FW"
	in_cli ip link set "${P}c" name eth0
	in_srv ip link set "${P}s" name eth0
	in_fw ip link set "${P}fi" name inside
	in_fw ip link set "${P}fo" name outside
	for ns in "$CLI" "$FW" "$SRV"; do
		ip netns exec "$ns" ip link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
	done
	in_cli ip addr add $C4/24 dev eth0
	in_cli ip addr add $C6/64 dev eth0 nodad
	in_cli ip link set eth0 up
	in_cli ip route add default via $F4IN
	in_cli ip -6 route add default via $F6IN
	in_srv ip addr add $S4/24 dev eth0
	in_srv ip addr add $S6/64 dev eth0 nodad
	in_srv ip link set eth0 up
	in_fw ip addr add $F4IN/24 dev inside
	in_fw ip addr add $F6IN/64 dev inside nodad
	in_fw ip addr add $F4OUT/24 dev outside
	in_fw ip addr add $F6OUT/64 dev outside nodad
	in_fw ip link set inside up
	in_fw ip link set outside up
	in_fw sysctl -qw net.ipv4.ip_forward=1
	in_fw sysctl -qw net.ipv6.conf.all.forwarding=1
	# The kernel's FTP helper must not do our job.
	in_fw sysctl -qw net.netfilter.nf_conntrack_helper=0 2>/dev/null
	return 0
}

# The admin's ruleset: forward policy drop plus pfhelper's one line,
# and the interception of port 21 (and 69) on the inside interface.
admin_rules() {
	line=$("$BIN/pfhelper" -n | sed -n 's/^#[[:space:]]*//; /ct mark and/p' | head -n 1)
	[ -n "$line" ] || { echo "no admin line from pfhelper -n"; return 1; }
	in_fw nft -f - <<-EOF2
	table inet admin {
		chain filter_fwd {
			type filter hook forward priority 0; policy drop;
			ct state established,related accept
			$line
		}
		chain nat_pre {
			type nat hook prerouting priority dstnat;
			iifname "inside" tcp dport 21 redirect to :8021
			iifname "inside" udp dport 69 redirect to :6969
		}
	}
	EOF2
}

# vsftpd in the server namespace, anonymous, upload allowed in pub/.
vsftpd_up() {
	mkdir -p "$WORK/ftproot/pub" /var/run/vsftpd/empty
	chown ftp "$WORK/ftproot/pub" 2>/dev/null || chown 65534 "$WORK/ftproot/pub"
	chmod 755 "$WORK/ftproot"
	cat > "$WORK/vsftpd.conf" <<-EOF2
	listen=NO
	listen_ipv6=YES
	background=NO
	anonymous_enable=YES
	local_enable=NO
	no_anon_password=YES
	anon_root=$WORK/ftproot
	write_enable=YES
	anon_upload_enable=YES
	anon_mkdir_write_enable=YES
	anon_other_write_enable=YES
	anon_umask=022
	dirlist_enable=YES
	pasv_enable=YES
	pasv_min_port=40000
	pasv_max_port=40999
	port_enable=YES
	connect_from_port_20=NO
	seccomp_sandbox=NO
	isolate_network=NO
	secure_chroot_dir=/var/run/vsftpd/empty
	xferlog_enable=NO
	vsftpd_log_file=$WORK/vsftpd.log
	EOF2
	bg ip netns exec "$SRV" vsftpd "$WORK/vsftpd.conf"
	wait_port "$SRV" 21
}

# Wait (bounded) until something listens on tcp port $2 in ns $1.
wait_port() {
	i=0
	while [ $i -lt 50 ]; do
		ip netns exec "$1" ss -ltnH "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "nothing listens on port $2 in $1"
	return 1
}

# ftp-proxy in the firewall, foreground, logs to $WORK/ftp-proxy.log.
proxy_up() {
	bg ip netns exec "$FW" env PFHELPER="$BIN/pfhelper" \
	    "$BIN/ftp-proxy" -d -D 7 "$@" 2>> "$WORK/ftp-proxy.log"
	PROXYPID=$LASTPID
	wait_port "$FW" "${PROXYPORT:-8021}"
}

# Elements in the proxy's maps and sets, all of them.
permits() {
	in_fw nft list table inet "${1:-ftp-proxy}" 2>/dev/null |
	    grep -o 'expires' | wc -l
}

# A file of $2 KiB with random content.
mkfile() { head -c "$(($2 * 1024))" /dev/urandom > "$1"; }
sum() { sha256sum < "$1" | cut -d' ' -f1; }
