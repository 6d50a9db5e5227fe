"""The listening half of the test proxies (faultproxy, tlsproxy): a socket
on 127.0.0.1 at a free port, and an accept loop that serves each connection
on its own daemon thread. Subclasses set `target` and define _serve(conn)."""
import socket
import threading


class LoopbackListener:
    scheme = "http"

    def __init__(self, target, backlog=64):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(backlog)
        self.port = self.listener.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def endpoint(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.thread.start()

    def stop(self):
        self.running = False
        try:
            self.listener.close()
        except OSError:
            pass

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        raise NotImplementedError
