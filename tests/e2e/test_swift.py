"""The swift destination through the real binary against OpenStack Swift
(tempauth v1) on 127.0.0.1; the `swift` CLI (python3-swiftclient) is the
witness that what bakthat stores is an ordinary object."""
import gzip
import os
import subprocess
import tarfile
import uuid

from harness import BakthatTestCase, make_small_tree, profile_text, servers, tree_digest


def swift_cli(*args):
    s = servers()
    return subprocess.run(["swift", "-A", s["SWIFT_AUTH_URL"], "-U", s["SWIFT_USER"], "-K", s["SWIFT_KEY"],
                           *args], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()


def swift_profile(container, **extra):
    s = servers()
    keys = {"access_key": '"%s"' % s["SWIFT_USER"], "secret_key": s["SWIFT_KEY"],
            "auth_url": s["SWIFT_AUTH_URL"], "auth_version": "'1'", "s3_bucket": container,
            "default_destination": "swift"}
    keys.update(extra)
    return profile_text(keys)


class SwiftTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.container = "bk-e2e-swift-%s" % uuid.uuid4().hex[:10]
        self.write_config(swift_profile(self.container))

    def stored_names(self):
        return [l.split("\t")[-1] for l in self.ok("ls", "-d", "swift").text.splitlines() if l.strip()]

    def test_directory_round_trip_and_swift_cli_reads_it(self):
        src = os.path.join(self.work, "tree")
        make_small_tree(src)
        self.ok("backup", src)
        [name] = self.stored_names()
        self.assertTrue(name.startswith("tree.") and name.endswith(".tgz"), name)
        self.assertIn(name, self.ok("show").text)
        out = os.path.join(self.work, "out")
        self.ok("restore", "tree", "-o", out)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(src))
        local = os.path.join(self.work, "fetched.tgz")
        swift_cli("download", self.container, name, "-o", local)
        with tarfile.open(local, "r:gz") as t:
            self.assertIn("tree/sub/héllo wörld ☃.txt", t.getnames())

    def test_large_stdin_backup_takes_the_segments_path(self):
        data = os.urandom(60 << 20)
        self.ok("backup", "-", "--name", "big stream+%é", input=data, timeout=900)
        [name] = self.stored_names()
        segments = swift_cli("list", self.container + "_segments").splitlines()
        self.assertGreaterEqual(len(segments), 3, segments)
        self.assertTrue(all(s.startswith(name + "/") for s in segments), segments)
        stat = swift_cli("stat", self.container, name)
        self.assertIn("X-Static-Large-Object: True", stat)
        r = self.ok("restore", "big stream+%é", "--stdout", timeout=900)
        self.assertEqual(r.out, data)
        local = os.path.join(self.work, "fetched")
        swift_cli("download", self.container, name, "-o", local)
        with open(local, "rb") as f:
            self.assertEqual(gzip.decompress(f.read()), data)
        self.ok("delete", "big stream+%é")
        self.assertEqual(self.stored_names(), [])
        self.assertEqual(swift_cli("list", self.container + "_segments").splitlines(), [])

    def test_delete_and_show(self):
        for n in ("a.txt", "b.txt"):
            with open(os.path.join(self.work, n), "w") as f:
                f.write(n)
            self.ok("backup", n)
        self.assertEqual(len(self.stored_names()), 2)
        self.ok("delete", "a.txt")
        self.assertEqual([n for n in self.stored_names() if n.startswith("a.txt")], [])
        self.assertNotIn("a.txt", self.ok("show").text)
        self.assertEqual(len([n for n in swift_cli("list", self.container).splitlines()
                              if not n.startswith(".bakthat/")]), 1)

    def test_name_taken_during_the_upload(self):
        # The manifest is written only if the name is still free.
        self.write_config(swift_profile(self.container, part_size=5 << 20))

        def upload_seen():
            try:
                segments = swift_cli("list", self.container + "_segments").split()
            except subprocess.CalledProcessError:  # no segment container yet
                return None
            return segments[0].split("/")[0] if segments else None

        def store_theirs(name):
            theirs = os.path.join(self.work, "theirs")
            with open(theirs, "wb") as f:
                f.write(b"another machine's backup\n")
            swift_cli("upload", self.container, theirs, "--object-name", name)

        name, r = self.backup_stream_raced(["--name", "race", "--prompt", "no"], upload_seen, store_theirs)
        self.assertNotEqual(r.code, 0, r.errtext)
        self.assertIn("already exists", r.errtext)
        got = os.path.join(self.work, "got")
        swift_cli("download", self.container, name, "-o", got)
        with open(got, "rb") as f:
            self.assertEqual(f.read(), b"another machine's backup\n")
        self.assertEqual(swift_cli("list", self.container + "_segments").split(), [])
        self.assertEqual(self.ok("show").text.strip(), "")

    def test_wrong_key_is_one_clear_line(self):
        with open(os.path.join(self.work, "x.txt"), "w") as f:
            f.write("x")
        self.write_config(swift_profile(self.container, secret_key="not-the-key"))
        r = self.fails("backup", "x.txt")
        errors = [l for l in r.errtext.splitlines() if l.startswith("bakthat:")]
        self.assertEqual(len(errors), 1, r.errtext)
        err = errors[0]
        self.assertIn("Swift: authentication failed for user '%s'" % servers()["SWIFT_USER"], err)
        self.assertIn("(401)", err)
        self.assertNotIn("not-the-key", r.errtext + r.text)
        self.assertEqual(self.ok("show").text.strip(), "")


if __name__ == "__main__":
    import unittest
    unittest.main()
