"""The files of one backup through the Python package, on the local store:
list_entries (as tar lists the archive), open_entry (a file object over
one file's content, the GIL released while it reads), and restore of a
selection (paths=, include=, exclude=)."""
import base64
import os
import subprocess
import unittest

from pyharness import PackageTestCase, bakthat  # first: puts tests/e2e on the path


class Entries(PackageTestCase):
    def setUp(self):
        super().setUp()
        self.conf = self.local_conf()
        self.src = os.path.join(self.tmp, "tree")
        self.write(os.path.join(self.src, "notes.txt"), "one\ntwo\nthree\n")
        self.noise = os.urandom(3 << 20)  # over several gzip members
        self.write(os.path.join(self.src, "sub", "noise.bin"), self.noise)
        self.write(os.path.join(self.src, "sub", "deep", "app.log"), "logged\n")
        os.link(os.path.join(self.src, "notes.txt"), os.path.join(self.src, "sub", "hardlink.txt"))

    def stored(self, rec):
        return os.path.join(self.conf["local_path"], rec["stored_filename"])

    def test_list_entries_is_what_tar_lists(self):
        rec = bakthat.backup(self.src, conf=self.conf, password="")
        entries = bakthat.list_entries("tree", conf=self.conf)
        tar = subprocess.run(["tar", "-tzf", self.stored(rec)], check=True, capture_output=True, text=True)
        self.assertEqual([e["path"] for e in entries], tar.stdout.splitlines())
        by_path = {e["path"]: e for e in entries}
        noise = by_path["tree/sub/noise.bin"]
        self.assertEqual((noise["type"], noise["size"]), ("file", len(self.noise)))
        self.assertEqual(by_path["tree/sub/"]["type"], "directory")
        self.assertEqual(sorted(e["type"] for e in entries if "notes" in e["path"] or "hardlink" in e["path"]),
                         ["file", "hardlink"])

    def test_open_entry_reads_a_file(self):
        bakthat.backup(self.src, conf=self.conf, password="")
        with bakthat.open_entry("tree", "tree/sub/noise.bin", conf=self.conf) as f:
            first = f.read(1000)
            rest = f.read()
        self.assertEqual(first + rest, self.noise)
        self.assertTrue(f.closed)
        with bakthat.open_entry("tree", "./tree/notes.txt", conf=self.conf) as f:
            self.assertEqual(list(f), [b"one\n", b"two\n", b"three\n"])
        with bakthat.open_entry("tree", "tree/sub/hardlink.txt", conf=self.conf) as f:
            self.assertEqual(f.read(), b"one\ntwo\nthree\n")
        with self.assertRaises(bakthat.NotFoundError):
            bakthat.open_entry("tree", "tree/none.txt", conf=self.conf)
        with self.assertRaises(bakthat.UsageError):
            bakthat.open_entry("tree", "tree/sub", conf=self.conf)

    def test_open_entry_of_a_password_backup(self):
        bakthat.backup(self.src, conf=self.conf, password="s3cret")
        with bakthat.open_entry("tree", "tree/sub/deep/app.log", conf=self.conf, password="s3cret") as f:
            self.assertEqual(f.read(), b"logged\n")
        with self.assertRaises(bakthat.CryptoError):
            bakthat.open_entry("tree", "tree/sub/deep/app.log", conf=self.conf, password="wrong")

    def test_restore_a_selection(self):
        bakthat.backup(self.src, conf=self.conf, password="")
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        rec = bakthat.restore("tree", conf=self.conf, target_dir=out, paths=["tree/sub"], exclude="*.bin")
        self.assertEqual(rec["restored"], ["tree"])
        self.assertTrue(os.path.isfile(os.path.join(out, "tree", "sub", "deep", "app.log")))
        self.assertTrue(os.path.isfile(os.path.join(out, "tree", "sub", "hardlink.txt")))
        self.assertFalse(os.path.exists(os.path.join(out, "tree", "sub", "noise.bin")))
        logs = os.path.join(self.tmp, "logs")
        os.makedirs(logs)
        bakthat.restore("tree", conf=self.conf, target_dir=logs, include=["*.log"])
        found = sorted(os.path.relpath(os.path.join(d, n), logs) for d, _, ns in os.walk(logs) for n in ns)
        self.assertEqual(found, ["tree/sub/deep/app.log"])

    def test_the_gil_is_released_while_reading(self):
        big = os.path.join(self.tmp, "big")
        chunk = base64.b64encode(os.urandom(3 << 20))
        with open(self.write(os.path.join(big, "data.txt"), b""), "wb") as f:
            for i in range(24):
                f.write(chunk[i:] + chunk[:i])
        bakthat.backup(big, conf=self.conf, password="")
        with bakthat.open_entry("big", "big/data.txt", conf=self.conf) as reader:
            data = self.assert_runs_without_the_gil(reader.raw.readall, min_seconds=0.1, min_ticks=10)
        self.assertEqual(len(data), 24 * len(chunk))


if __name__ == "__main__":
    unittest.main()
