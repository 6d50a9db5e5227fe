"""A hostile or forged Swift auth reply cannot send bakthat's token (or its
data) anywhere the user did not configure: its storage URL must be http or
https, stay https when auth_url is, and, when the reply came over plain
http, name auth_url's own host. A loopback auth endpoint plays the attacker;
a second listener on another host name (localhost) records what reaches it.
(A storage URL on auth_url's own host is what every test of test_swift uses.)"""
import http.server
import os
import threading

from harness import BakthatTestCase, profile_text
from tlsproxy import TlsProxy, make_certificate

TOKEN = "AUTH_tk-hostile-witness"


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request 201 after noting its method, path and token."""
    seen = None

    def _any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.seen.append((self.command, self.path, self.headers.get("X-Auth-Token")))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _any

    def log_message(self, *args):
        pass


class HostileAuth(http.server.BaseHTTPRequestHandler):
    """TempAuth v1 that names whatever storage URL the test sets."""
    storage_url = None

    def do_GET(self):
        self.send_response(200)
        self.send_header("X-Storage-Url", self.storage_url)
        self.send_header("X-Auth-Token", TOKEN)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def serve(handler, host="127.0.0.1"):
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class HostileSwiftAuthTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.seen = []
        self.witness = serve(type("Witness", (Recorder,), {"seen": self.seen}), "localhost")
        self.auth = None
        with open(os.path.join(self.work, "file.txt"), "w") as f:
            f.write("data\n")

    def tearDown(self):
        for s in (self.witness, self.auth):
            if s:
                s.shutdown()
                s.server_close()
        super().tearDown()

    def backup_with(self, storage_url, auth_scheme="http", env=None):
        self.auth = serve(type("Auth", (HostileAuth,), {"storage_url": storage_url}))
        auth_url = "http://127.0.0.1:%d/auth/v1.0" % self.auth.server_port
        if auth_scheme == "https":
            cert, key = make_certificate(self.tmp)
            proxy = TlsProxy("127.0.0.1:%d" % self.auth.server_port, cert, key).__enter__()
            self.addCleanup(proxy.__exit__, None, None, None)
            auth_url = "%s/auth/v1.0" % proxy.endpoint
            env = dict(env or {}, OS_CACERT=cert)
        self.write_config(profile_text({"access_key": "test:tester", "secret_key": "testing", "auth_url": auth_url,
                                        "auth_version": "'1'", "s3_bucket": "c", "default_destination": "swift"}))
        return self.run_bakthat("backup", "file.txt", env=env, timeout=120)

    def witness_url(self):
        return "http://localhost:%d/v1/AUTH_x" % self.witness.server_port

    def test_a_storage_url_on_another_host_over_plain_http_gets_no_token(self):
        r = self.backup_with(self.witness_url())
        self.assertEqual(r.code, 9, repr(r))
        self.assertIn("another host", r.errtext)
        self.assertEqual(self.seen, [])
        self.assertNotIn(TOKEN, r.errtext)

    def test_a_file_url_writes_nothing(self):
        target = os.path.join(self.work, "stolen")
        os.makedirs(target)
        r = self.backup_with("file://" + target + "/v1/AUTH_x")
        self.assertEqual(r.code, 9, repr(r))
        self.assertIn("not http or https", r.errtext)
        self.assertEqual([f for _, _, fs in os.walk(target) for f in fs], [])

    def test_https_auth_cannot_send_the_token_over_http(self):
        r = self.backup_with(self.witness_url(), auth_scheme="https")
        self.assertEqual(r.code, 9, repr(r))
        self.assertIn("unencrypted", r.errtext)
        self.assertEqual(self.seen, [])


if __name__ == "__main__":
    import unittest
    unittest.main()
