#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# mlpasvd.py: a pyftpdlib FTP server whose 227 and 229 replies are
# multi-line, the address on the first line (227-Entering ...(h,p)
# then 227 OK) or on the last (227-... then 227 Entering ...), for
# regress/integration/ftp_multiline.sh.  Anonymous, read-only, ROOT.
#   mlpasvd.py ADDRESS PORT ROOT first|last
import logging
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

addr, port, root, where = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    sys.argv[4]


class MultiLineHandler(FTPHandler):
    passive_ports = range(42000, 42100)

    def respond(self, resp, logfun=logging.debug):
        if resp[:4] in ("227 ", "229 "):
            code, text = resp[:3], resp[4:]
            if where == "first":
                resp = "%s-%s\r\n%s OK" % (code, text, code)
            else:
                resp = "%s-Passive mode, the address follows\r\n%s %s" % (
                    code, code, text)
        FTPHandler.respond(self, resp, logfun)


logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
auth = DummyAuthorizer()
auth.add_anonymous(root)
MultiLineHandler.authorizer = auth
server = FTPServer((addr, port), MultiLineHandler)
server.serve_forever(timeout=1)
