"""The project's sync server (tools/bakthat-syncserver) on a free loopback
port, for the tests of `bakthat sync`: users alice (PASSWORD) and bob
(OTHER), their passwords hashed by the server's --hash-password."""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

from harness import SOURCE_DIR

SERVER = os.path.join(SOURCE_DIR, "tools", "bakthat-syncserver")
PASSWORD = "sync pass w0rd"
OTHER = "other"


def hashed(password):
    return subprocess.run([sys.executable, SERVER, "--hash-password"], input=password + "\n", text=True,
                          check=True, capture_output=True).stdout.strip()


class SyncServer:
    def __init__(self, workdir, timeout=30):
        self.users = os.path.join(workdir, "users.txt")
        with open(self.users, "w") as f:
            f.write("alice:%s\nbob:%s\n" % (hashed(PASSWORD), hashed(OTHER)))
        os.chmod(self.users, 0o600)
        port_file = os.path.join(workdir, "port")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--users", self.users, "--db", os.path.join(workdir, "sync.sqlite"),
             "--listen", "127.0.0.1:0", "--port-file", port_file, "--quiet", "--timeout", str(timeout)])
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("the sync server did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.url = "http://127.0.0.1:%s" % f.read().strip()

    def page(self, offset=0, user="alice", password=PASSWORD):
        req = urllib.request.Request(self.url + "/backups?offset=%d" % offset, headers={
            "Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode(),
            "bakthat-client": "test"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def rows(self, user="alice", password=PASSWORD):
        out, offset = [], 0
        while offset is not None:
            page = self.page(offset, user, password)
            out += page["backups"]
            offset = page.get("next")
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
