# SPDX-License-Identifier: ISC
# ftpstls.py: python's ftplib FTP_TLS for ftps.sh and bench-ftps.sh,
# whose data connections resume the control connection's TLS session,
# as vsftpd's require_ssl_reuse wants (curl and lftp do so on their
# own); ctx(): a client context for the run's self-signed certificate.
import ftplib
import ssl


class FTPS(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn,
                server_hostname=self.host, session=self.sock.session)
        return conn, size


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c
