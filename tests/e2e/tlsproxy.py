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


class TlsProxy:
    def __init__(self, target, cert, key):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.port = self.listener.getsockname()[1]
        self.handshakes_failed = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def endpoint(self):
        return "https://127.0.0.1:%d" % self.port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        try:
            self.listener.close()
        except OSError:
            pass

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

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
        threading.Thread(target=_pump, args=(upstream, tls), daemon=True).start()
        _pump(tls, upstream)
