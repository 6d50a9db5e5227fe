"""A small fault-injecting HTTP/1.1 proxy for the network destinations'
tests: it sits on 127.0.0.1 (a free port) in front of a server and, driven
by a seeded random generator, answers some requests with 500/503 itself,
stalls some replies, and drops some connections (before the reply or in the
middle of its body). A throttled request (slow_drop, a regex on the request
line; the first match only) has its body read slowly, as over a slow uplink,
for slow_seconds, and then its connection dropped. A held request (hold, a regex
on the request line) reaches the server, and its reply is held back for
stall_seconds, as a reply that is slow to come. A delayed request (delay, a
regex on the request line) waits delay_seconds before it reaches the server,
and reaches it even if its client has gone meanwhile, as a request the server
is slow to act on. Requests are forwarded byte for byte (only the Connection
header is set to close), so signatures stay valid.

As a module:  with FaultProxy("127.0.0.1:18080", seed=1, fail=0.1) as p: p.port
As a script:  python3 faultproxy.py --target 127.0.0.1:18080 --seed 1 --fail 0.1
              (prints "PORT <n>" once listening; runs until killed)
"""
import argparse
import random
import re
import socket
import sys
import threading
import time

from loopback import LoopbackListener

FAULT_BODY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
              b'<Message>injected by faultproxy</Message></Error>')


def _recv_until(sock, buf, marker):
    while marker not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    return buf


def _recv_exact(sock, buf, n):
    while len(buf) < n:
        chunk = sock.recv(max(65536, n - len(buf)))
        if not chunk:
            return None
        buf += chunk
    return buf


def _headers(head):
    out = {}
    for line in head.split(b"\r\n")[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            out[k.strip().lower()] = v.strip()
    return out


def _set_header(head, name, value):
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(name.lower() + b":")]
    lines.insert(1, name + b": " + value)
    return b"\r\n".join(lines)


class FaultProxy(LoopbackListener):
    """fail/stall/drop/drop_body are per-request probabilities; max_faults
    bounds the faults injected in all (None: no bound); always_fail is a
    regex on the request line whose matches always get a 500."""

    def __init__(self, target, seed=0, fail=0.0, stall=0.0, stall_seconds=2.0, drop=0.0,
                 drop_body=0.0, max_faults=None, always_fail=None, stats_path=None,
                 slow_drop=None, slow_seconds=10.0, slow_rate=65536, hold=None, delay=None, delay_seconds=1.0):
        super().__init__(target)
        self.hold = re.compile(hold.encode()) if hold else None
        self.delay = re.compile(delay.encode()) if delay else None
        self.delay_seconds = delay_seconds
        self.slow_drop = re.compile(slow_drop.encode()) if slow_drop else None
        self.slow_seconds = slow_seconds
        self.slow_rate = slow_rate
        self.rng = random.Random(seed)
        self.p = {"fail": fail, "stall": stall, "drop": drop, "drop_body": drop_body}
        self.stall_seconds = stall_seconds
        self.max_faults = max_faults
        self.always_fail = re.compile(always_fail.encode()) if always_fail else None
        self.lock = threading.Lock()
        self.stats_path = stats_path
        self.stats = {"requests": 0, "fail": 0, "stall": 0, "drop": 0, "drop_body": 0, "always_fail": 0,
                      "slow_drop": 0, "hold": 0, "delay": 0}
        self.request_lines = []  # every request's first line ("GET /b/k HTTP/1.1"), as text
        self.replies = []  # (request line, bytes of the reply's body) of every reply forwarded

    def body_bytes(self, pattern):
        """Bytes of the reply bodies to requests whose line matches `pattern`
        (a regex): what a client fetched."""
        rx = re.compile(pattern)
        with self.lock:
            return sum(n for line, n in self.replies if rx.search(line))

    def faults(self):
        with self.lock:
            return sum(v for k, v in self.stats.items() if k != "requests")

    def _decide(self, request_line):
        with self.lock:
            try:
                return self._decide_locked(request_line)
            finally:
                if self.stats_path:
                    with open(self.stats_path, "w") as f:
                        f.write(" ".join("%s=%d" % kv for kv in sorted(self.stats.items())) + "\n")

    def _decide_locked(self, request_line):
        self.stats["requests"] += 1
        self.request_lines.append(request_line.decode("latin-1"))
        if self.always_fail and self.always_fail.search(request_line):
            self.stats["always_fail"] += 1
            return "always_fail"
        if self.hold and self.hold.search(request_line):
            self.stats["hold"] += 1
            return "stall"
        if self.delay and self.delay.search(request_line):
            self.stats["delay"] += 1
            return "delay"
        r = self.rng.random()
        if self.max_faults is not None and self.faults_unlocked() >= self.max_faults:
            return None
        acc = 0.0
        for kind in ("fail", "stall", "drop", "drop_body"):
            acc += self.p[kind]
            if r < acc:
                self.stats[kind] += 1
                return kind
        return None

    def _take_slow_drop(self, request_line):
        with self.lock:
            if not self.slow_drop or self.stats["slow_drop"] or not self.slow_drop.search(request_line):
                return False
            self.stats["slow_drop"] += 1
            return True

    def _read_slowly(self, conn):
        step = 0.25
        end = time.monotonic() + self.slow_seconds
        while time.monotonic() < end:
            if not conn.recv(int(self.slow_rate * step)):
                return
            time.sleep(step)

    def faults_unlocked(self):
        return sum(v for k, v in self.stats.items() if k != "requests")

    def _serve(self, conn):
        try:
            buf = b""
            while True:
                buf = _recv_until(conn, buf, b"\r\n\r\n")
                if buf is None:
                    return
                head, buf = buf.split(b"\r\n\r\n", 1)
                if self._take_slow_drop(head.split(b"\r\n", 1)[0]):
                    self._read_slowly(conn)
                    return
                length = int(_headers(head).get(b"content-length", b"0"))
                buf = _recv_exact(conn, buf, length)
                if buf is None:
                    return
                body, buf = buf[:length], buf[length:]
                request_line = head.split(b"\r\n", 1)[0]
                fault = self._decide(request_line)
                if fault in ("fail", "always_fail"):
                    code = self.rng.choice([(500, b"InternalError"), (503, b"SlowDown")]) \
                        if fault == "fail" else (500, b"InternalError")
                    payload = FAULT_BODY % code[1]
                    reply = (b"HTTP/1.1 %d Injected\r\nContent-Type: application/xml\r\n"
                             b"Content-Length: %d\r\n\r\n" % (code[0], len(payload)))
                    if not request_line.startswith(b"HEAD "):
                        reply += payload
                    conn.sendall(reply)
                    continue  # the connection stays usable
                if fault == "drop":
                    return
                if fault == "delay":
                    time.sleep(self.delay_seconds)
                response = self._forward(head, body)
                if response is None:
                    return
                rhead, _, rbody = response.partition(b"\r\n\r\n")
                rhead = _set_header(rhead, b"Connection", b"close")
                with self.lock:
                    self.replies.append((request_line.decode("latin-1"), len(rbody)))
                if fault == "stall":
                    time.sleep(self.stall_seconds)
                if fault == "drop_body" and len(rbody) > 1:
                    conn.sendall(rhead + b"\r\n\r\n" + rbody[:len(rbody) // 2])
                    return
                conn.sendall(rhead + b"\r\n\r\n" + rbody)
                return
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _forward(self, head, body):
        up = socket.create_connection(self.target, timeout=120)
        try:
            up.sendall(_set_header(head, b"Connection", b"close") + b"\r\n\r\n" + body)
            chunks = []
            while True:
                c = up.recv(1 << 20)
                if not c:
                    break
                chunks.append(c)
            return b"".join(chunks) or None
        finally:
            up.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", required=True)
    ap.add_argument("--seed", type=int, default=0)
    for k in ("fail", "stall", "drop", "drop-body"):
        ap.add_argument("--" + k, type=float, default=0.0)
    ap.add_argument("--stall-seconds", type=float, default=2.0)
    ap.add_argument("--max-faults", type=int, default=None)
    ap.add_argument("--always-fail", default=None)
    ap.add_argument("--stats", default=None, help="file rewritten with the counts after each request")
    a = ap.parse_args()
    p = FaultProxy(a.target, a.seed, a.fail, a.stall, a.stall_seconds, a.drop, a.drop_body,
                   a.max_faults, a.always_fail, a.stats)
    p.start()
    print("PORT %d" % p.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
