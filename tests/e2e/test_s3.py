"""The s3 destination through the real binary against OpenStack Swift's S3
API, which verifies every signature and payload hash; the aws CLI and tar
are the witnesses. https goes through a TLS front on loopback."""
import hashlib
import os
import sqlite3
import tarfile
import time

from harness import BakthatTestCase, make_small_tree, servers, tree_digest
from s3util import aws, backup_objects, new_bucket, open_uploads, swift_profile
from tlsproxy import TlsProxy, make_certificate


class S3SwiftTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("swift")
        self.write_config(swift_profile(self.bucket))

    def stored_names(self):
        return [l.split("\t")[-1] for l in self.ok("ls", "-d", "s3").text.splitlines() if l.strip()]

    def test_directory_round_trip_and_aws_cli_reads_it(self):
        src = os.path.join(self.work, "tree")
        make_small_tree(src)
        self.ok("backup", src, "-d", "s3")
        [name] = self.stored_names()
        self.assertTrue(name.startswith("tree.") and name.endswith(".tgz"), name)
        self.assertIn(name, self.ok("show").text)
        out = os.path.join(self.work, "out")
        self.ok("restore", "tree", "-d", "s3", "-o", out)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(src))
        # What bakthat stored is a plain .tgz any S3 client can fetch.
        local = os.path.join(self.work, "fetched.tgz")
        aws("swift", "s3", "cp", "s3://%s/%s" % (self.bucket, name), local)
        with tarfile.open(local, "r:gz") as t:
            self.assertIn("tree/sub/héllo wörld ☃.txt", t.getnames())
        self.ok("verify", "tree", "-d", "s3")

    def test_stdin_and_special_names(self):
        data = os.urandom(100000)
        self.ok("backup", "-", "--name", "from stdin+%é", "-d", "s3", input=data)
        fname = os.path.join(self.work, "my file+x%y é.bin")
        with open(fname, "wb") as f:
            f.write(b"special\n" * 100)
        self.ok("backup", fname, "-d", "s3")
        names = self.stored_names()
        self.assertEqual(len(names), 2, names)
        keys = [o["Key"] for o in backup_objects(aws("swift", "s3api", "list-objects-v2", "--bucket", self.bucket))]
        self.assertEqual(sorted(keys), sorted(names))
        r = self.ok("restore", "from stdin+%é", "-d", "s3", "--stdout")
        self.assertEqual(r.out, data)
        out = os.path.join(self.work, "out")
        self.ok("restore", "my file+x%y é.bin", "-d", "s3", "-o", out)
        with open(os.path.join(out, "my file+x%y é.bin"), "rb") as f:
            self.assertEqual(f.read(), b"special\n" * 100)

    def test_large_backup_takes_the_multipart_path(self):
        big = os.path.join(self.work, "big.bin")
        with open(big, "wb") as f:
            for _ in range(200):
                f.write(os.urandom(1 << 20))
        self.ok("backup", big, "-d", "s3", timeout=900)
        [name] = self.stored_names()
        head = aws("swift", "s3api", "head-object", "--bucket", self.bucket, "--key", name)
        self.assertRegex(head["ETag"], r'-\d+"$')  # assembled from parts
        self.assertEqual(open_uploads("swift", self.bucket), [])
        out = os.path.join(self.work, "out")
        self.ok("restore", "big.bin", "-d", "s3", "-o", out, timeout=900)
        with open(big, "rb") as a, open(os.path.join(out, "big.bin"), "rb") as b:
            while True:
                x, y = a.read(1 << 20), b.read(1 << 20)
                self.assertEqual(x, y)
                if not x:
                    break

    def test_show_ls_delete_and_delete_older_than(self):
        for n in ("a.txt", "b.txt"):
            with open(os.path.join(self.work, n), "w") as f:
                f.write(n)
        self.ok("backup", "a.txt", "-d", "s3")
        self.ok("backup", "b.txt", "-d", "s3")
        names = self.stored_names()
        self.assertEqual(len(names), 2)
        self.ok("delete", "a.txt", "-d", "s3")
        self.assertEqual([n for n in self.stored_names() if n.startswith("a.txt")], [])
        self.assertNotIn("a.txt", self.ok("show").text)
        time.sleep(2)
        self.ok("delete_older_than", "b.txt", "1s", "--all", "-d", "s3")
        self.assertEqual(self.stored_names(), [])
        self.assertEqual(backup_objects(aws("swift", "s3api", "list-objects-v2", "--bucket", self.bucket)), [])

    def test_keys_from_aws_credentials_then_moved_into_the_profile(self):
        # The row names the store by the key requests are signed with, wherever
        # it came from: moving it from ~/.aws/credentials into the profile
        # keeps the row this profile's.
        s = servers()
        os.makedirs(os.path.join(self.home, ".aws"))
        with open(os.path.join(self.home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (s["S3_ACCESS_KEY"], s["S3_SECRET_KEY"]))
        self.write_config(swift_profile(self.bucket).replace(
            '  access_key: "%s"\n' % s["S3_ACCESS_KEY"], "").replace("  secret_key: %s\n" % s["S3_SECRET_KEY"], ""))
        for n in ("a.txt", "old.txt"):
            with open(os.path.join(self.work, n), "w") as f:
                f.write(n * 100)
            self.ok("backup", n, "-d", "s3")
        sha = lambda text: hashlib.sha512(text.encode()).hexdigest()
        with sqlite3.connect(self.catalog_path()) as db:
            hashes = {r[0] for r in db.execute("SELECT backend_hash FROM backups")}
            self.assertEqual(hashes, {sha(s["S3_ACCESS_KEY"] + self.bucket)})
            # A row as versions that hashed an empty key for ~/.aws/credentials wrote it.
            db.execute("UPDATE backups SET backend_hash = ? WHERE filename = 'old.txt'", (sha(self.bucket),))

        os.remove(os.path.join(self.home, ".aws", "credentials"))
        self.write_config(swift_profile(self.bucket))
        out = os.path.join(self.work, "out")
        for n in ("a.txt", "old.txt"):
            self.ok("restore", n, "-d", "s3", "-o", out)
            with open(os.path.join(out, n)) as f:
                self.assertEqual(f.read(), n * 100)
            self.assertIn(n + ".", self.ok("show", "-p", "default").text)
        self.ok("delete", "old.txt", "-d", "s3")
        self.assertEqual([n for n in self.stored_names() if n.startswith("old.txt")], [])

    def test_wrong_secret_key_is_refused_clearly(self):
        with open(os.path.join(self.work, "x.txt"), "w") as f:
            f.write("x")
        self.write_config(swift_profile(self.bucket, secret_key="not-the-secret"))
        r = self.fails("backup", "x.txt", "-d", "s3")
        self.assertIn("S3: wrong secret key for bucket '%s' (SignatureDoesNotMatch)" % self.bucket, r.errtext)
        self.assertNotIn("not-the-secret", r.errtext + r.text)
        self.assertEqual(self.ok("show").text.strip(), "")

    def test_unreachable_endpoint_is_reported(self):
        with open(os.path.join(self.work, "x.txt"), "w") as f:
            f.write("x")
        self.write_config(swift_profile(self.bucket, s3_endpoint="http://127.0.0.1:1"))
        r = self.fails("backup", "x.txt", "-d", "s3", env={"BAKTHAT_RETRY_ATTEMPTS": "2"})
        self.assertIn("S3: cannot connect to http://127.0.0.1:1 (Couldn't connect to server)", r.errtext)


class S3HttpsTest(BakthatTestCase):
    """https to an S3 endpoint: the server's certificate is checked against
    the system's trust store, or the bundle AWS_CA_BUNDLE names."""

    def setUp(self):
        super().setUp()
        self.cert, key = make_certificate(self.tmp)
        target = servers()["S3_ENDPOINT"].split("://", 1)[1]
        self.proxy = TlsProxy(target, self.cert, key).__enter__()
        self.addCleanup(self.proxy.__exit__)
        self.bucket = new_bucket("tls")
        self.write_config(swift_profile(self.bucket, s3_endpoint=self.proxy.endpoint))
        with open(os.path.join(self.work, "x.txt"), "w") as f:
            f.write("over https\n" * 1000)

    def test_untrusted_certificate_is_refused(self):
        r = self.fails("backup", "x.txt", "-d", "s3", env={"BAKTHAT_RETRY_ATTEMPTS": "2"})
        last = r.errtext.strip().splitlines()[-1]
        self.assertTrue(last.startswith("bakthat: S3: TLS certificate of %s not trusted (" % self.proxy.endpoint),
                        r.errtext)
        self.assertGreater(self.proxy.handshakes_failed, 0)
        self.assertEqual(self.ok("show").text.strip(), "")

    def test_certificate_trusted_through_aws_ca_bundle(self):
        env = {"AWS_CA_BUNDLE": self.cert}
        self.ok("backup", "x.txt", "-d", "s3", env=env)
        out = os.path.join(self.work, "out")
        self.ok("restore", "x.txt", "-d", "s3", "-o", out, env=env)
        with open(os.path.join(out, "x.txt")) as f:
            self.assertEqual(f.read(), "over https\n" * 1000)
        self.assertEqual(self.proxy.handshakes_failed, 0)
        # A bundle that does not hold the server's certificate is no bypass.
        os.makedirs(os.path.join(self.tmp, "other"))
        other, _ = make_certificate(os.path.join(self.tmp, "other"))
        r = self.fails("restore", "x.txt", "-d", "s3", "-o", os.path.join(self.work, "out2"),
                       env={"AWS_CA_BUNDLE": other, "BAKTHAT_RETRY_ATTEMPTS": "2"})
        self.assertIn("not trusted", r.errtext)


if __name__ == "__main__":
    import unittest
    unittest.main()
