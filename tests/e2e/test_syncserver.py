"""tools/bakthat-syncserver's own defences, against the real server on
loopback: a request that fails authentication is answered without its body
being read, a silent connection is closed, GET /backups comes in pages, the
users file holds only password hashes, and a stale or replayed deletion
cannot delete a row changed since."""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

from harness import BakthatTestCase
from syncserver import PASSWORD, SERVER, SyncServer


def auth(user="alice", password=PASSWORD):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def row(name, last_updated, deleted=False):
    return {"backend": "s3", "backend_hash": "h", "backup_date": 1700000000, "filename": name.split(".")[0],
            "is_deleted": deleted, "last_updated": last_updated, "size": 1, "stored_filename": name,
            "tags": "", "metadata": {}}


class SyncServerTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.server = SyncServer(self.tmp, timeout=2)
        self.addCleanup(self.server.stop)
        self.host, self.port = self.server.url.split("://")[1].split(":")

    def post(self, resource, doc, user="alice", password=PASSWORD):
        req = urllib.request.Request(self.server.url + resource, data=json.dumps(doc).encode(), method="POST",
                                     headers={"Authorization": auth(user, password), "bakthat-client": "t",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def connect(self):
        s = socket.create_connection((self.host, int(self.port)), timeout=10)
        self.addCleanup(s.close)
        return s

    def read_all(self, s):
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
        return data

    def test_a_stranger_is_answered_before_the_body_is_read(self):
        s = self.connect()
        # 60 MiB announced, nothing sent: the 401 comes at once, the connection closes.
        s.sendall(b"POST /backups/sync HTTP/1.1\r\nHost: x\r\nbakthat-client: t\r\n"
                  b"Authorization: " + auth("alice", "wrong").encode() + b"\r\n"
                  b"Content-Length: 62914560\r\n\r\n")
        start = time.monotonic()
        reply = self.read_all(s)
        self.assertTrue(reply.startswith(b"HTTP/1.1 401"), reply[:200])
        self.assertLess(time.monotonic() - start, 1.5)

    def test_a_silent_connection_is_closed(self):
        s = self.connect()
        s.sendall(b"POST /backups/sync HTTP/1.1\r\nHost: x\r\n")  # and then nothing
        start = time.monotonic()
        self.read_all(s)
        self.assertLess(time.monotonic() - start, 8)
        # The server still serves others.
        self.assertEqual(self.server.rows(), [])

    def test_get_backups_comes_in_pages(self):
        self.post("/backups/sync", {"sync_ts": 0, "new": [row("n%04d.20260101000000.tgz" % i, 10)
                                                         for i in range(1500)]})
        first = self.server.page(0)
        self.assertEqual(len(first["backups"]), 1000)
        self.assertEqual(first["next"], 1000)
        second = self.server.page(1000)
        self.assertEqual(len(second["backups"]), 500)
        self.assertIsNone(second["next"])
        self.assertEqual(len({r["stored_filename"] for r in self.server.rows()}), 1500)

    def test_the_users_file_holds_hashes_only(self):
        with open(self.server.users) as f:
            text = f.read()
        self.assertNotIn(PASSWORD, text)
        self.assertTrue(all(l.split(":", 1)[1].startswith("scrypt$") for l in text.splitlines()), text)
        plain = os.path.join(self.tmp, "plain.txt")
        with open(plain, "w") as f:
            f.write("carol:secret\n")
        os.chmod(plain, 0o600)
        r = subprocess.run([sys.executable, SERVER, "--users", plain, "--listen", "127.0.0.1:0",
                            "--db", os.path.join(self.tmp, "x.sqlite")], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not hashed", r.stderr)
        self.assertNotIn("secret", r.stderr)
        # A wrong password is refused, the right one (checked against its hash) accepted.
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.post("/clients", {}, password="wrong")
        self.assertEqual(e.exception.code, 401)
        self.assertEqual(self.post("/clients", {})["user"], "alice")

    def test_a_stale_deletion_does_not_delete_a_newer_row(self):
        name = "db.20260101000000.gz"
        self.post("/backups/sync", {"sync_ts": 0, "new": [row(name, 200)]})
        self.post("/backups/sync", {"sync_ts": 0, "new": [row(name, 100, deleted=True)]})
        [kept] = self.server.rows()
        self.assertFalse(kept["is_deleted"])
        self.post("/backups/sync", {"sync_ts": 0, "new": [row(name, 300, deleted=True)]})
        [gone] = self.server.rows()
        self.assertTrue(gone["is_deleted"])
        # Another user's deletion of that name touches only their own rows.
        self.post("/backups/sync", {"sync_ts": 0, "new": [row("x.20260101000000.gz", 100)]})
        self.post("/backups/sync", {"sync_ts": 0, "new": [row("x.20260101000000.gz", 900, deleted=True)]},
                  user="bob", password="other")
        self.assertFalse([r for r in self.server.rows() if r["stored_filename"].startswith("x.")][0]["is_deleted"])


if __name__ == "__main__":
    unittest.main()
