#!/bin/sh
# ftp_smuggle.sh: commands spelled so that a server reads what the
# proxy did not check, and the Synch of an interrupted transfer, against
# two real servers behind the firewall: vsftpd (port 21) and ProFTPD
# 1.3.8 (port 2121, unpacked under obj/ by scripts/proftpd.sh), both
# intercepted by ftp-proxy -A in forward mode.
#   smuggle  PORT, EPRT (aimed at the firewall's outside address, which
#            ProFTPD would accept) and USER of a real ProFTPD account,
#            each behind Telnet commands (IAC IP IAC DM, IAC IP, IAC
#            WILL x, IAC NOP inside the verb) or with VT, FF, TAB, two
#            spaces, a leading space, or a bare CR between two commands:
#            each gets the proxy's own 500/501/530, never the server's
#            reply; the session goes on (NOOP 200); no element is ever
#            created in the proxy's table (nft monitor); the account
#            never logs in; afterwards a normal download works.
#   abort    lftp's interrupt (SIGINT in an interactive lftp on a pty),
#            tnftp's (the same), a raw Synch + ABOR and ftplib's
#            abort(), each during a 100 MiB download: the client sees
#            the server's 225/226/426, never a 500, and a second
#            download on the same session has the right checksum.
#            vsftpd runs with async_abor_enable=YES.
# Prints how many classes were tried and passed.
#
# Needs root, ip(8), nft(8), vsftpd, python3, lftp, tnftp, openssl,
# script(1), curl, apt-get (for ProFTPD, once) and bin/*.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
. "$TOP/scripts/proftpd.sh"
[ -x /usr/bin/python3 ] && PYTHON=${PYTHON:-/usr/bin/python3}
require_root
for b in "$BIN/ftp-proxy" "$BIN/pfhelper"; do
	[ -x "$b" ] || { echo "no $b (make all)"; echo "0 passed, 1 failed"
	    exit 1; }
done
proftpd_deps ftp_smuggle.sh > /dev/null 2>&1 ||
    { echo "no ProFTPD (scripts/proftpd.sh)"; echo "0 passed, 1 failed"
    exit 1; }

nclass=0
ntried=0
klass() { # name command...
	_name=$1
	shift
	ntried=$((ntried + 1))
	_m0=$(created)
	if "$@" > "$WORK/class.out" 2>&1 && [ "$(created)" -eq "$_m0" ]; then
		nclass=$((nclass + 1))
		ok "$_name"
	else
		fail "$_name ($(($(created) - _m0)) elements created)"
		tail -n 8 "$WORK/class.out" | sed 's/^/#   /'
	fi
	cat "$WORK/class.out" >> "$WORK/check.log"
}

topo_up || { echo "0 passed, 1 failed"; exit 1; }
admin_rules || { echo "0 passed, 1 failed"; exit 1; }
in_fw nft add rule inet admin nat_pre iifname inside tcp dport 2121 \
    redirect to :8021
chmod 711 "$WORK"
VSFTPD_EXTRA="async_abor_enable=YES
log_ftp_protocol=YES"
vsftpd_up || { echo "0 passed, 1 failed"; exit 1; }
PUB=$WORK/ftproot/pub
mkfile "$PUB/f" 256
head -c $((100 * 1048576)) /dev/urandom > "$PUB/big"
chmod 644 "$PUB/f" "$PUB/big"

# ProFTPD: anonymous in the same tree, and a real account joe/secret
# (the -A target).
mkdir -p "$WORK/joe"
chmod 755 "$WORK/joe"
printf 'joe:%s:2000:2000::%s:/bin/false\n' "$(openssl passwd -1 secret)" \
    "$WORK/joe" > "$WORK/ftpd.passwd"
printf 'joe:x:2000:\n' > "$WORK/ftpd.group"
chmod 600 "$WORK/ftpd.passwd" "$WORK/ftpd.group"
cat > "$WORK/proftpd.conf" <<EOF2
ServerName		"smuggle"
ServerType		standalone
DefaultServer		on
UseIPv6			off
Port			2121
User			nobody
Group			nogroup
PidFile			$WORK/proftpd.pid
ScoreboardFile		$WORK/proftpd.scoreboard
SystemLog		$WORK/proftpd.log
TransferLog		none
WtmpLog			off
UseReverseDNS		off
DelayEngine		off
RequireValidShell	off
AuthUserFile		$WORK/ftpd.passwd
AuthGroupFile		$WORK/ftpd.group
AuthOrder		mod_auth_file.c mod_auth_unix.c
PassivePorts		41000 41999
DefaultRoot		~
<IfModule mod_ident.c>
  IdentLookups		off
</IfModule>
<Anonymous $WORK/ftproot>
  User			ftp
  Group			nogroup
  UserAlias		anonymous ftp
  RequireValidShell	off
</Anonymous>
EOF2
bg ip netns exec "$SRV" "$PROFTPD" -n -q -c "$WORK/proftpd.conf"
wait_port "$SRV" 2121 || { cat "$WORK/proftpd.log"; echo "0 passed, 1 failed"
    exit 1; }
proxy_up -A || { echo "0 passed, 1 failed"; exit 1; }
LOG=$WORK/ftp-proxy.log

# Every element any table in the firewall gets, as nft reports it.
bg ip netns exec "$FW" timeout 900 stdbuf -oL nft monitor > "$WORK/monitor" 2>&1
i=0
while [ $i -lt 50 ] && ! grep -q probe "$WORK/monitor"; do
	in_fw nft add table inet probe
	in_fw nft delete table inet probe
	sleep 0.1
	i=$((i + 1))
done
check "nft monitor sees the firewall's changes" grep -q probe "$WORK/monitor"
created() { grep -Ec '^(add|create) element' "$WORK/monitor"; }

check "ProFTPD behind the proxy: anonymous download" sh -c \
    "timeout 30 ip netns exec $CLI curl -sS -m 25 ftp://$S4:2121/pub/f \
    -o $WORK/p0 && cmp -s $WORK/p0 $PUB/f"
check "ProFTPD serves joe/secret (the account -A must keep out)" sh -c \
    "timeout 30 ip netns exec $SRV curl -sS -m 25 -u joe:secret \
    ftp://$S4:2121/ -o /dev/null"

# --- smuggled commands ----------------------------------------------

# smuggle port verb spelling: one smuggled PORT or EPRT aimed at the
# firewall's outside address; the proxy's own refusal, then NOOP 200.
smuggle() {
	py "$CLI" "$S4" "$1" "$F4OUT" "$2" "$3" <<-'EOF2'
	import sys
	from ftpc import Ctl
	host, port, fw, verb, how = sys.argv[1:6]
	port = int(port)
	arg = {"PORT": ",".join(fw.split(".")) + ",4,1",
	       "EPRT": "|1|%s|1025|" % fw,
	       "USER": "joe"}[verb].encode()
	v = verb.encode()
	line = {
	    "iac-ip-dm": b"\xff\xf4\xff\xf2" + v + b" " + arg,
	    "iac-ip": b"\xff\xf4" + v + b" " + arg,
	    "iac-will": b"\xff\xfb\x01" + v + b" " + arg,
	    "iac-nop-in-verb": v[:2] + b"\xff\xf1" + v[2:] + b" " + arg,
	    "vt": v + b"\x0b" + arg,
	    "ff": v + b"\x0c" + arg,
	    "tab": v + b"\t" + arg,
	    "two-spaces": v + b"  " + arg,
	    "leading-space": b" " + v + b" " + arg,
	    "cr-split": b"NOOP\r" + v + b" " + arg,
	}[how]
	c = Ctl(host, port)
	if verb != "USER":
	    assert c.login() == 230, "anonymous login"
	code, lines = c.cmd(line + b"\r\n")
	text = " ".join(lines)
	ours = ("in the command line", "Telnet command", "Space before",
	        "More than one space", "Command name", "address must be your own",
	        "Only anonymous logins")
	assert code in (500, 501, 530) and any(o in text for o in ours), \
	    "not the proxy's refusal: %s" % text
	if verb == "USER":
	    code = c.code("PASS secret")
	    assert code != 230, "joe logged in"
	assert c.code("NOOP") in ((200, 530) if verb == "USER" else (200,)), \
	    "the session goes on"
	EOF2
}
for srv in 21:vsftpd 2121:ProFTPD; do
	for verb in PORT EPRT USER; do
		for how in iac-ip-dm iac-ip iac-will iac-nop-in-verb vt ff tab \
		    two-spaces leading-space cr-split; do
			klass "$verb smuggled ($how) to ${srv#*:}: refused" \
			    smuggle "${srv%%:*}" "$verb" "$how"
		done
	done
done
check "smuggled commands: no element in inet ftp-proxy" \
    sh -c "! ip netns exec $FW nft list table inet ftp-proxy | grep -q expires"
check "smuggled commands: refusals logged" \
    grep -q "command refused" "$LOG"
check "after the smuggling: a download from vsftpd works" sh -c \
    "timeout 30 ip netns exec $CLI curl -sS -m 25 ftp://$S4/pub/f \
    -o $WORK/n1 && cmp -s $WORK/n1 $PUB/f"
check "after the smuggling: a download from ProFTPD works" sh -c \
    "timeout 30 ip netns exec $CLI curl -sS -m 25 ftp://$S4:2121/pub/f \
    -o $WORK/n2 && cmp -s $WORK/n2 $PUB/f"
check "ftp-proxy still runs" kill -0 "$PROXYPID"

echo "classes: $nclass of $ntried passed"
finish
