"""A TLS front for a loopback HTTP server, for the https tests: it listens
on 127.0.0.1 (a free port) with a certificate the test made, and passes the
decrypted bytes both ways unchanged, so SigV4 signatures (which cover the
Host header the client sent) stay valid.

    with TlsProxy("127.0.0.1:18080", cert_pem, key_pem) as p: p.endpoint
"""
import socket
import ssl
import subprocess
import threading

from loopback import LoopbackListener


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 (made by the openssl CLI):
    returns (cert.pem, key.pem)."""
    cert, key = directory + "/tls-cert.pem", directory + "/tls-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def _pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class TlsProxy(LoopbackListener):
    scheme = "https"

    def __init__(self, target, cert, key):
        super().__init__(target)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.handshakes_failed = 0

    def _serve(self, conn):
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1  # the client refused our certificate
            conn.close()
            return
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            tls.close()
            return
        back = threading.Thread(target=_pump, args=(upstream, tls), daemon=True)
        back.start()
        _pump(tls, upstream)
        back.join()  # both directions shut down: now the sockets can go
        upstream.close()
        tls.close()
