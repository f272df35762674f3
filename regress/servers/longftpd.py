#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# longftpd.py: a pyftpdlib FTP server with long lines, for
# regress/integration/ftp_interop.sh.  Anonymous, read-only, serving
# ROOT, which it chroots into (so the paths it opens are the paths the
# client names, up to PATH_MAX).  Its 220 greeting has a line of
# BANNER bytes, and it takes commands of up to 64 KiB (pyftpdlib's
# default is 2 KiB).  Every command it gets is logged to LOG as "VERB
# length-of-argument".
#   longftpd.py ADDRESS PORT ROOT LOG [BANNER]
import encodings.idna		# loaded late otherwise, after the chroot
import encodings.latin_1
import logging
import os
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

addr, port, root, logpath = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    sys.argv[4]
banner = int(sys.argv[5]) if len(sys.argv) > 5 else 10000
log = open(logpath, "a", buffering=1)


class LongHandler(FTPHandler):
    # The start of the long line says how long it is, the end shows
    # the client got all of it.
    banner = ("long banner of %d bytes " % banner).ljust(banner - 4,
                                                          "x") + " end"
    passive_ports = range(41000, 41100)

    def collect_incoming_data(self, data):
        self._in_buffer.append(data)
        self._in_buffer_len += len(data)
        if self._in_buffer_len > 65536:
            self.respond_w_warning("500 Command too long.")
            self._in_buffer = []
            self._in_buffer_len = 0

    def pre_process_command(self, line, cmd, arg):
        log.write("%s %d\n" % (cmd, len(arg or "")))
        return FTPHandler.pre_process_command(self, line, cmd, arg)


logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
server = FTPServer((addr, port), LongHandler)
os.chroot(root)
os.chdir("/")
auth = DummyAuthorizer()
auth.add_anonymous("/")
LongHandler.authorizer = auth
log.write("listening\n")
server.serve_forever(timeout=1)
