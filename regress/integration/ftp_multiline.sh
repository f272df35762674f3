#!/bin/sh
# SPDX-License-Identifier: ISC
# ftp_multiline.sh: multi-line 227 and 229 replies through ftp-proxy.
# A pyftpdlib server (regress/servers/mlpasvd.py) answers PASV and EPSV
# with two-line replies, the address on the first line, then on the
# last.  curl (PASV and EPSV), lftp and python ftplib download through
# the proxy with the right checksum; the client never sees the server's
# own data port, and the reply keeps RFC 959's framing (opens with
# "227-", closes with "227 ").  Through no proxy at all, curl and lftp
# cannot use a reply with the address on the first line (they read the
# last one): the proxy names its address on the last line too.
# Needs root, ip(8), nft(8), python3-pyftpdlib, curl, lftp, bin/*.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/regress/integration/lib.sh"
require_root
SERVER=$TOP/regress/servers/mlpasvd.py
if ! /usr/bin/python3 -c 'import pyftpdlib' 2>/dev/null; then
	echo "no python3-pyftpdlib (scripts/deps.sh)"
	echo "0 passed, 1 failed"
	exit 1
fi
set_up topo_up
set_up admin_rules
mkdir -p "$WORK/root/pub"
mkfile "$WORK/root/pub/f" 256
chmod -R a+rX "$WORK/root"
set_up proxy_up
CURL="timeout 30 ip netns exec $CLI curl -sS --connect-timeout 5 -m 25"

got() { same "$WORK/root/pub/f" "$1"; }

curl_pasv() { rm -f "$WORK/o"; $CURL --disable-epsv -o "$WORK/o" \
    "ftp://$S4/pub/f" && got "$WORK/o"; }
curl_epsv() { rm -f "$WORK/o"; $CURL -o "$WORK/o" "ftp://$S4/pub/f" &&
    got "$WORK/o"; }
lftp_get() {
	rm -f "$WORK/o"
	timeout 30 ip netns exec "$CLI" lftp -c "set net:timeout 5;
	    set net:max-retries 1; set cmd:fail-exit yes;
	    set ftp:prefer-epsv no; open ftp://$S4; get pub/f -o $WORK/o" &&
	    got "$WORK/o"
}
ftplib_get() {
	py "$CLI" "$S4" "$WORK/o" <<-'EOF'
	import ftplib, sys
	f = ftplib.FTP()
	f.connect(sys.argv[1], 21, timeout=10)
	f.login()
	with open(sys.argv[2], "wb") as out:
	    f.retrbinary("RETR pub/f", out.write)
	f.quit()
	EOF
	got "$WORK/o"
}
# What the client reads: framing, and the proxy's address only.
raw_view() { # verb code
	py "$CLI" "$S4" "$1" "$2" <<-'EOF'
	import re, sys
	from ftpc import Ctl
	host, verb, code = sys.argv[1], sys.argv[2], sys.argv[3]
	c = Ctl(host)
	assert c.login() == 230
	k, lines = c.cmd(verb)
	print(lines)
	assert k == int(code), lines
	assert len(lines) == 2, "two lines"
	assert lines[0].startswith(code + "-"), "opens with the dash"
	assert lines[1].startswith(code + " "), "closes with the code"
	# The server's data ports are 42000-42099, the proxy's 49152 up.
	for l in lines:
	    m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", l)
	    e = re.search(r"\|\|\|(\d+)\|", l)
	    if m:
	        port = int(m.group(5)) * 256 + int(m.group(6))
	    elif e:
	        port = int(e.group(1))
	    else:
	        continue
	    assert port >= 49152, "the server's own port leaked: " + l
	c.code("QUIT")
	EOF
}

for where in first last; do
	bg ip netns exec "$SRV" /usr/bin/python3 "$SERVER" "$S4" 21 \
	    "$WORK/root" "$where"
	SPID=$LASTPID
	wait_port "$SRV" 21 || fail "mlpasvd.py did not start"
	check "address on the $where line: curl PASV, sha256 matches" curl_pasv
	check "address on the $where line: curl EPSV, sha256 matches" curl_epsv
	check "address on the $where line: lftp, sha256 matches" lftp_get
	check "address on the $where line: ftplib, sha256 matches" ftplib_get
	check "address on the $where line: 227 framed, the proxy's port only" \
	    raw_view PASV 227
	check "address on the $where line: 229 framed, the proxy's port only" \
	    raw_view EPSV 229
	check "address on the $where line: no permit left" wait_permits 0
	kill "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	PIDS=$(echo " $PIDS " | sed "s/ $SPID / /")
done
proxy_stop
check "ftp-proxy exits 0" [ "$PROXYRC" -eq 0 ]
finish
