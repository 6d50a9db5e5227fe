"""The foundation on the embedded local store: backup -> show -> restore ->
delete through the real binary, with GNU tar and sqlite3 as witnesses."""
import glob
import gzip
import io
import json
import resource
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import stat
import tarfile
import threading
import time
import unittest

from harness import BakthatTestCase, tree_digest

OLD_SCHEMA = """
CREATE TABLE "backups" ("id" INTEGER NOT NULL PRIMARY KEY, "backend" VARCHAR(255) NOT NULL,
  "backend_hash" VARCHAR(255), "backup_date" INTEGER NOT NULL, "filename" TEXT NOT NULL,
  "is_deleted" SMALLINT NOT NULL, "last_updated" INTEGER NOT NULL, "metadata" VARCHAR(255) NOT NULL,
  "size" INTEGER NOT NULL, "stored_filename" TEXT NOT NULL, "tags" VARCHAR(255) NOT NULL);
CREATE INDEX "backups_backend" ON "backups" ("backend");
CREATE INDEX "backups_backend_hash" ON "backups" ("backend_hash");
CREATE INDEX "backups_backup_date" ON "backups" ("backup_date");
CREATE INDEX "backups_filename" ON "backups" ("filename");
CREATE UNIQUE INDEX "backups_stored_filename" ON "backups" ("stored_filename");
CREATE TABLE "config" ("id" INTEGER NOT NULL PRIMARY KEY, "key" VARCHAR(255) NOT NULL, "value" TEXT NOT NULL);
CREATE UNIQUE INDEX "config_key" ON "config" ("key");
CREATE TABLE "inventory" ("id" INTEGER NOT NULL PRIMARY KEY, "filename" VARCHAR(255) NOT NULL, "archive_id" VARCHAR(255) NOT NULL);
CREATE UNIQUE INDEX "inventory_archive_id" ON "inventory" ("archive_id");
CREATE TABLE "jobs" ("id" INTEGER NOT NULL PRIMARY KEY, "filename" VARCHAR(255) NOT NULL, "job_id" VARCHAR(255) NOT NULL);
CREATE TABLE "history" ("id" INTEGER NOT NULL PRIMARY KEY, "data" TEXT NOT NULL, "ts" INTEGER NOT NULL, "action" VARCHAR(255) NOT NULL, "model" VARCHAR(255) NOT NULL, "pk" INTEGER NOT NULL);
"""


def make_tree(root):
    os.makedirs(os.path.join(root, "empty", "deeper"))
    os.makedirs(os.path.join(root, "sub", "dir"))
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello\n")
    with open(os.path.join(root, "sub", "dir", "data.bin"), "wb") as f:
        f.write(os.urandom(300000))
    with open(os.path.join(root, "sub", "text.txt"), "w") as f:
        f.write("line\n" * 50000)
    long_name = "n" * 150 + ".txt"
    with open(os.path.join(root, "sub", long_name), "w") as f:
        f.write("long")
    with open(os.path.join(root, "héllo wörld ☃.txt"), "w") as f:
        f.write("unicode")
    os.symlink("hello.txt", os.path.join(root, "link"))
    os.symlink("does/not/exist", os.path.join(root, "dangling"))
    os.link(os.path.join(root, "hello.txt"), os.path.join(root, "sub", "hardlink.txt"))
    os.chmod(os.path.join(root, "sub", "dir", "data.bin"), 0o600)
    os.chmod(os.path.join(root, "sub", "text.txt"), 0o755)
    for i, (dirpath, dirnames, filenames) in enumerate(os.walk(root, topdown=False)):
        for n in filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.utime(p, (1600000000 + i, 1600000000 + i))
        os.utime(dirpath, (1500000000 + i, 1500000000 + i))


class LocalRoundTrip(BakthatTestCase):
    def backup_tree(self):
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "tree", "--prompt", "no", "-t", "one two")
        return src

    def test_round_trip_is_exact(self):
        src = self.backup_tree()
        out = os.path.join(self.tmp, "out")
        r = self.ok("restore", "tree", "-o", out)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "tree")))
        self.assertIn("Restoring", r.errtext)

    def test_stored_name_and_gnu_tar(self):
        self.backup_tree()
        objs = self.store_objects()
        self.assertEqual(len(objs), 1)
        self.assertRegex(objs[0], r"^tree\.\d{14}\.tgz$")
        listing = subprocess.run(["tar", "-tzf", os.path.join(self.store_dir(), objs[0])],
                                 check=True, capture_output=True, text=True).stdout.split("\n")
        self.assertIn("tree/", listing)
        self.assertIn("tree/empty/deeper/", listing)
        x = os.path.join(self.tmp, "gnu")
        os.makedirs(x)
        subprocess.run(["tar", "-xzf", os.path.join(self.store_dir(), objs[0]), "-C", x], check=True)
        self.assertEqual(tree_digest(os.path.join(self.work, "tree")), tree_digest(os.path.join(x, "tree")))

    def test_catalog_row(self):
        self.backup_tree()
        db = sqlite3.connect(self.catalog_path())
        rows = db.execute("select backend, backend_hash, filename, is_deleted, metadata, size, "
                          "stored_filename, tags, backup_date from backups").fetchall()
        self.assertEqual(len(rows), 1)
        backend, bhash, filename, deleted, meta, size, stored, tags, date = rows[0]
        self.assertEqual((backend, filename, deleted, tags), ("local", "tree", 0, "one two"))
        self.assertEqual(len(bhash), 128)
        meta = json.loads(meta)
        self.assertFalse(meta["is_enc"])
        self.assertEqual(meta["compression"], "gzip")
        self.assertTrue(meta["client"])
        self.assertGreater(meta["original_size"], 550000)
        path = os.path.join(self.store_dir(), stored)
        self.assertEqual(size, os.path.getsize(path))
        import hashlib
        self.assertEqual(meta["sha256"], hashlib.sha256(open(path, "rb").read()).hexdigest())
        self.assertLess(abs(date - time.time()), 120)

    def test_show_json_tags_and_delete(self):
        self.backup_tree()
        rows = json.loads(self.ok("show", "--json").out)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["filename"], "tree")
        self.assertIn("tree.", self.ok("show", "tre").text)
        self.assertEqual(self.ok("show", "-t", "two").text.count("\n"), 1)
        self.assertEqual(self.ok("show", "-t", "three").text, "")
        self.assertEqual(self.ok("show", "nomatch").text, "")
        self.assertIn(rows[0]["stored_filename"], self.ok("ls").text)
        self.ok("delete", "tree")
        self.assertEqual(self.store_objects(), [])
        self.assertEqual(json.loads(self.ok("show", "--json").out), [])
        db = sqlite3.connect(self.catalog_path())
        self.assertEqual(db.execute("select is_deleted from backups").fetchall(), [(1,)])
        self.fails("restore", "tree")

    def test_verify(self):
        self.backup_tree()
        self.ok("verify", "tree")
        obj = glob.glob(os.path.join(self.store_dir(), "*"))[0]
        data = bytearray(open(obj, "rb").read())
        data[len(data) // 2] ^= 0x40
        os.chmod(obj, 0o600)
        open(obj, "wb").write(data)
        r = self.fails("-q", "verify", "tree")
        self.assertEqual(len(r.errtext.strip().splitlines()), 1, r.errtext)
        self.assertIn("damaged", r.errtext)

    def test_restore_refuses_to_overwrite(self):
        src = self.backup_tree()
        out = os.path.join(self.tmp, "out")
        self.ok("restore", "tree", "-o", out)
        with open(os.path.join(out, "tree", "hello.txt"), "w") as f:
            f.write("changed")
        with open(os.path.join(out, "tree", "not-in-the-backup.txt"), "w") as f:
            f.write("mine")
        before = tree_digest(out)
        r = self.fails("restore", "tree", "-o", out)
        self.assertIn("restore would overwrite", r.errtext)
        self.assertEqual(before, tree_digest(out))
        self.ok("restore", "tree", "-o", out, "--force")
        # Merged as tar -x merges: what the backup holds is replaced, the rest stays.
        with open(os.path.join(out, "tree", "not-in-the-backup.txt")) as f:
            self.assertEqual(f.read(), "mine")
        os.remove(os.path.join(out, "tree", "not-in-the-backup.txt"))
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "tree")))

    def test_restore_into_current_directory(self):
        src = self.backup_tree()
        cwd = os.path.join(self.tmp, "cwd")
        os.makedirs(cwd)
        self.ok("restore", "tree", cwd=cwd)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(cwd, "tree")))

    def test_corrupt_object_leaves_target_unchanged(self):
        self.backup_tree()
        obj = glob.glob(os.path.join(self.store_dir(), "*"))[0]
        data = bytearray(open(obj, "rb").read())
        data[-100] ^= 1
        os.chmod(obj, 0o600)
        open(obj, "wb").write(data)
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        self.fails("restore", "tree", "-o", out)
        self.assertEqual(os.listdir(out), [])


class LocalKinds(BakthatTestCase):
    def test_single_file_and_stdout(self):
        p = os.path.join(self.work, "notes.txt")
        with open(p, "w") as f:
            f.write("some notes\n" * 1000)
        self.ok("backup", p, "--prompt", "no")
        self.assertRegex(self.store_objects()[0], r"^notes\.txt\.\d{14}\.tgz$")
        r = self.ok("restore", "notes.txt", "--stdout")
        self.assertEqual(r.out, b"some notes\n" * 1000)
        out = os.path.join(self.tmp, "o")
        self.ok("restore", "notes", "-o", out)
        self.assertEqual(open(os.path.join(out, "notes.txt")).read(), "some notes\n" * 1000)

    def test_one_file_system_stores_other_file_systems_empty(self):
        tree = os.path.join(self.work, "tree")
        mnt = os.path.join(tree, "mnt")
        os.makedirs(mnt)
        open(os.path.join(tree, "a"), "w").write("a")
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "tmpfs", mnt]).returncode != 0:
            self.skipTest("needs root to mount a tmpfs")
        try:
            self.check_one_file_system(tree, mnt)
        finally:
            subprocess.run(["umount", mnt])  # before tearDown removes the tree

    def check_one_file_system(self, tree, mnt):
        open(os.path.join(mnt, "f"), "w").write("on another file system")

        def names(*args):
            r = self.ok("backup", "tree", "--prompt", "no", *args)
            newest = max(self.store_objects())
            listed = subprocess.run(["tar", "-tzf", os.path.join(self.store_dir(), newest)],
                                    capture_output=True, text=True, check=True).stdout.split()
            return listed, r.errtext
        listed, err = names("--one-file-system")
        self.assertEqual(listed, ["tree/", "tree/a", "tree/mnt/"])
        self.assertIn("Leaving out the content of %s: another file system" % mnt, err)
        listed, err = names()
        self.assertEqual(listed, ["tree/", "tree/a", "tree/mnt/", "tree/mnt/f"])
        self.assertNotIn("another file system", err)

    def test_failed_restore_removes_the_directories_it_made(self):
        tree = os.path.join(self.work, "tree")
        os.makedirs(tree)
        with open(os.path.join(tree, "r"), "wb") as f:
            f.write(os.urandom(300000))
        self.ok("backup", "tree", "--prompt", "no")
        stored = os.path.join(self.store_dir(), self.store_objects()[0])
        with open(stored, "r+b") as f:  # damage the compressed data
            f.seek(150000)
            b = f.read(1)
            f.seek(150000)
            f.write(bytes([b[0] ^ 0x55]))
        os.makedirs(os.path.join(self.tmp, "there"))
        r = self.fails("restore", "tree", "-o", os.path.join(self.tmp, "there", "new", "deeper"))
        self.assertEqual(r.code, 6, repr(r))
        self.assertEqual(os.listdir(os.path.join(self.tmp, "there")), [])

    def test_stdout_refuses_a_tree_before_writing(self):
        tree = os.path.join(self.work, "tree")
        os.makedirs(tree)
        for n in ("a", "b"):
            with open(os.path.join(tree, n), "w") as f:
                f.write(n * 100)
        self.ok("backup", tree, "--prompt", "no")
        r = self.fails("restore", "tree", "--stdout")
        self.assertEqual(r.out, b"")
        self.assertIn("--stdout needs a backup of a single file", r.errtext)
        self.assertNotIn("Reading from", r.errtext)  # refused from the catalog row
        # One file in a directory: the row counts one file, the archive's
        # first entry (the directory) refuses it, still before any output.
        os.remove(os.path.join(tree, "b"))
        self.ok("backup", tree, "--prompt", "no")
        r = self.fails("restore", "tree", "--stdout")
        self.assertEqual(r.out, b"")
        self.assertIn("--stdout needs a backup of a single file", r.errtext)

    def test_backups_in_one_second_get_their_own_names_and_no_future_dates(self):
        d = os.path.join(self.work, "d")
        os.makedirs(d)
        open(os.path.join(d, "f"), "w").write("x")
        for _ in range(3):  # ~50 ms each: the first two share a second
            self.ok("backup", "d", "--prompt", "no")
        now = int(time.time())
        db = sqlite3.connect(self.catalog_path())
        rows = db.execute("select stored_filename, backup_date from backups").fetchall()
        self.assertEqual(len({name for name, _ in rows}), 3)
        for name, date in rows:
            self.assertLessEqual(date, now, name)  # a name taken waits for the next second
            self.assertIn(time.strftime("%Y%m%d%H%M%S", time.gmtime(date)), name)

    def test_stdin_stream(self):
        data = os.urandom(100000) + b"x" * 1000000
        self.ok("backup", "-", "--name", "dump", "--prompt", "no", input=data)
        name = self.store_objects()[0]
        self.assertRegex(name, r"^dump\.\d{14}\.gz$")
        self.assertEqual(subprocess.run(["gzip", "-dc", os.path.join(self.store_dir(), name)],
                                        capture_output=True, check=True).stdout, data)
        self.assertEqual(self.ok("restore", "dump", "--stdout").out, data)
        out = os.path.join(self.tmp, "o")
        self.ok("restore", "dump", "-o", out)
        self.assertEqual(open(os.path.join(out, "dump"), "rb").read(), data)
        self.fails("backup", "-", "--prompt", "no", input=b"x")

    def test_stream_with_a_long_name_restores_under_the_umask(self):
        # The temporary file of a stream restore has a short name of its
        # own: a name near NAME_MAX still restores.
        name = "n" * 245
        archive = os.path.join(self.work, name + ".gz")
        with gzip.open(archive, "wb") as f:
            f.write(b"data")
        out = os.path.join(self.tmp, "o")
        self.ok("restore", "--from-file", archive, "-o", out, preexec_fn=lambda: os.umask(0o027))
        path = os.path.join(out, name)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"data")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        self.assertEqual(os.listdir(out), [name])
        r = self.fails("restore", "--from-file", archive, "-o", out)
        self.assertEqual(r.code, 7, repr(r))
        # Into a symlink to a directory, as a tree restores.
        os.symlink(out, os.path.join(self.tmp, "link"))
        os.rename(path, path + ".old")
        self.ok("restore", "--from-file", archive, "-o", os.path.join(self.tmp, "link"))
        self.assertTrue(os.path.isfile(path))

    def test_already_compressed_tgz(self):
        src = os.path.join(self.work, "d")
        os.makedirs(src)
        open(os.path.join(src, "f"), "w").write("f")
        subprocess.run(["tar", "-czf", os.path.join(self.work, "arch.tar.gz"), "-C", self.work, "d"], check=True)
        self.ok("backup", "arch.tar.gz", "--prompt", "no")
        name = self.store_objects()[0]
        self.assertRegex(name, r"^arch\.\d{14}\.tgz$")
        self.assertEqual(open(os.path.join(self.store_dir(), name), "rb").read(),
                         open(os.path.join(self.work, "arch.tar.gz"), "rb").read())
        # The catalog keeps the file's name, as the Python bakthat wrote it.
        db = sqlite3.connect(self.catalog_path())
        self.assertEqual(db.execute("select filename from backups").fetchall(), [("arch.tar.gz",)])
        db.close()
        out = os.path.join(self.tmp, "o")
        self.ok("restore", "arch.tar.gz", "-o", out)
        self.assertEqual(open(os.path.join(out, "d", "f")).read(), "f")
        self.ok("restore", "arch", "-o", os.path.join(self.tmp, "o2"))  # the name without it still finds it
        self.assertEqual(open(os.path.join(self.tmp, "o2", "d", "f")).read(), "f")

    def test_compress_false(self):
        self.write_config("default:\n  compress: false\n")
        p = os.path.join(self.work, "raw.bin")
        open(p, "wb").write(b"raw bytes")
        self.ok("backup", p, "--prompt", "no")
        name = self.store_objects()[0]
        self.assertRegex(name, r"^raw\.bin\.\d{14}$")
        self.assertEqual(open(os.path.join(self.store_dir(), name), "rb").read(), b"raw bytes")
        out = os.path.join(self.tmp, "o")
        self.ok("restore", "raw.bin", "-o", out)
        self.assertEqual(open(os.path.join(out, "raw.bin"), "rb").read(), b"raw bytes")

    def test_zstd(self):
        self.write_config("default:\n  compression: zstd\n")
        src = os.path.join(self.work, "z")
        os.makedirs(src)
        open(os.path.join(src, "a.txt"), "w").write("zzz" * 100000)
        self.ok("backup", "z", "--prompt", "no")
        name = self.store_objects()[0]
        self.assertRegex(name, r"^z\.\d{14}\.tar\.zst$")
        subprocess.run(["tar", "--zstd", "-tf", os.path.join(self.store_dir(), name)], check=True,
                       capture_output=True)
        out = os.path.join(self.tmp, "o")
        self.ok("restore", "z", "-o", out)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "z")))

    def test_exclusions(self):
        src = os.path.join(self.work, "proj")
        os.makedirs(os.path.join(src, "node_modules", "x"))
        os.makedirs(os.path.join(src, "src"))
        open(os.path.join(src, "src", "main.c"), "w").write("int main;")
        open(os.path.join(src, "src", "debug.log"), "w").write("log")
        open(os.path.join(src, "node_modules", "x", "y.js"), "w").write("js")

        def backed_up_names(exclude_file, text):
            """The names in a new backup of proj once exclude_file holds text."""
            open(os.path.join(src, exclude_file), "w").write(text)
            time.sleep(1.1)  # a stored name of its own
            self.ok("backup", "proj", "--prompt", "no")
            newest = sorted(self.store_objects())[-1]
            return subprocess.run(["tar", "-tzf", os.path.join(self.store_dir(), newest)],
                                  capture_output=True, text=True, check=True).stdout

        names = backed_up_names(".gitignore", "node_modules\n*.log\n")
        self.assertIn("proj/src/main.c", names)
        self.assertNotIn("debug.log", names)
        self.assertNotIn("node_modules", names)
        # .bakthatexclude wins over .gitignore
        names = backed_up_names(".bakthatexclude", "main.c\n")
        self.assertNotIn("main.c", names)
        self.assertIn("debug.log", names)
        # An exclude file written for the Python bakthat names absolute paths.
        real = os.path.realpath(src)
        names = backed_up_names(".bakthatexclude", real + "/src/debug.log\n" + real + "/node_modules\n")
        self.assertIn("proj/src/main.c", names)
        self.assertNotIn("debug.log", names)
        self.assertNotIn("node_modules", names)

    def test_an_exclude_file_is_said_recorded_and_can_be_turned_off(self):
        """A .gitignore leaves files out: the backup names it and the count
        (-v names the paths), the row records it, --no-exclude reads none,
        and a whitelist ("*", "!keep") keeps what it names."""
        src = os.path.join(self.work, "proj")
        os.makedirs(os.path.join(src, "build"))
        for name in ("keep", ".env", "app.log", "main.c", "build/out.o"):
            open(os.path.join(src, name), "w").write(name)
        gitignore = os.path.join(os.path.realpath(src), ".gitignore")
        open(gitignore, "w").write(".env\nbuild/\n*.log\n")

        def names_of(stored):
            out = subprocess.run(["tar", "-tzf", os.path.join(self.store_dir(), stored)],
                                 capture_output=True, text=True, check=True).stdout
            return sorted(n.rstrip("/") for n in out.split())

        def row(stored):
            db = sqlite3.connect(self.catalog_path())
            meta = db.execute("select metadata from backups where stored_filename = ?", (stored,)).fetchone()[0]
            db.close()
            return json.loads(meta)

        def backup(*args):
            time.sleep(1.1)  # a stored name of its own
            r = self.ok("backup", "proj", "--prompt", "no", *args)
            return r, sorted(os.listdir(self.store_dir()))[-1]

        r, stored = backup()
        self.assertIn("Using %s to exclude files: 3 path(s) left out" % gitignore, r.errtext)
        self.assertNotIn("Excluded ", r.errtext)
        self.assertEqual(names_of(stored), ["proj", "proj/.gitignore", "proj/keep", "proj/main.c"])
        meta = row(stored)
        self.assertEqual(meta["exclude_file"], gitignore)
        self.assertEqual(meta["excluded_count"], 3)
        self.assertEqual(sorted(os.path.basename(p) for p in meta["excluded"]), [".env", "app.log", "build"])
        # -v names each path
        r, _ = backup("-v")
        for name in (".env", "app.log", "build"):
            self.assertIn("Excluded %s" % os.path.join(src, name), r.errtext)
        # --no-exclude: everything, and nothing said or recorded
        r, stored = backup("--no-exclude")
        self.assertNotIn("to exclude files", r.errtext)
        self.assertIn("proj/.env", names_of(stored))
        self.assertIn("proj/build/out.o", names_of(stored))
        self.assertNotIn("exclude_file", row(stored))
        r = self.fails("backup", "proj", "--prompt", "no", "--no-exclude", "--exclude-file", gitignore)
        self.assertEqual(r.code, 2, repr(r))
        # A whitelist keeps what its "!" lines name.
        open(gitignore, "w").write("*\n!keep\n!main.c\n")
        r, stored = backup()
        self.assertEqual(names_of(stored), ["proj", "proj/keep", "proj/main.c"])
        self.assertIn("4 path(s) left out", r.errtext)

    def test_two_backups_in_one_second(self):
        src = os.path.join(self.work, "same")
        os.makedirs(src)
        open(os.path.join(src, "f"), "w").write("f")
        for _ in range(3):
            self.ok("backup", "same", "--prompt", "no")
        self.assertEqual(len(self.store_objects()), 3)
        db = sqlite3.connect(self.catalog_path())
        self.assertEqual(db.execute("select count(distinct stored_filename) from backups").fetchone(), (3,))

    def test_concurrent_backups(self):
        for n in ("a", "b"):
            d = os.path.join(self.work, n)
            os.makedirs(d)
            open(os.path.join(d, "data"), "wb").write(os.urandom(2000000))
        names = ("a", "b", "a", "b")
        results = [None] * len(names)

        def run(i):
            results[i] = self.run_bakthat("backup", names[i], "--prompt", "no")
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(names))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            self.assertIsNotNone(r)
            self.assertEqual(r.code, 0, repr(r))
        db = sqlite3.connect(self.catalog_path())
        self.assertEqual(db.execute("select count(*) from backups").fetchone(), (4,))
        self.assertEqual(len(self.store_objects()), 4)

    def test_old_catalog_from_sqlite3_cli(self):
        subprocess.run(["sqlite3", self.catalog_path()], input=OLD_SCHEMA, text=True, check=True)
        subprocess.run(["sqlite3", self.catalog_path(),
                        "insert into backups (backend, backend_hash, backup_date, filename, is_deleted, "
                        "last_updated, metadata, size, stored_filename, tags) values ('s3', 'abc', 1370000000, "
                        "'old', 0, 1370000000, '{\"is_enc\": false, \"client\": \"oldhost\"}', 12, "
                        "'old.20130531113320.tgz', 'legacy')"], check=True)
        src = os.path.join(self.work, "new")
        os.makedirs(src)
        open(os.path.join(src, "f"), "w").write("f")
        self.ok("backup", "new", "--prompt", "no")
        out = self.ok("show").text
        self.assertIn("old.20130531113320.tgz", out)
        self.assertIn("(legacy)", out)
        self.assertIn("new.", out)
        schema = subprocess.run(["sqlite3", self.catalog_path(), ".schema backups"], capture_output=True,
                                text=True, check=True).stdout
        self.assertIn('"stored_filename" TEXT NOT NULL', schema)

    def test_sparse_file_is_stored_sparse_and_restored_with_its_holes(self):
        src = os.path.join(self.work, "vm")
        os.makedirs(src)
        image = os.path.join(src, "disk.img")
        data = os.urandom(1 << 20)
        with open(image, "wb") as f:
            f.truncate(8 << 30)  # 8 GiB, 2 MiB of it data
            f.seek(4096)
            f.write(data)
            f.seek((5 << 30) + 7)
            f.write(data)
        if os.stat(image).st_blocks * 512 > (16 << 20):
            self.skipTest("this file system does not keep holes")
        self.ok("backup", "vm", "--prompt", "no")
        stored = [n for n in self.store_objects() if not n.startswith(".")]
        self.assertEqual(len(stored), 1)
        self.assertLess(os.path.getsize(os.path.join(self.store_dir(), stored[0])), 4 << 20)
        out = os.path.join(self.work, "out")
        os.makedirs(out)
        self.ok("restore", "vm", "-o", out, "--prompt", "no")
        got = os.path.join(out, "vm", "disk.img")
        self.assertEqual(os.path.getsize(got), 8 << 30)
        self.assertLess(os.stat(got).st_blocks * 512, 16 << 20, "the holes were filled")
        with open(got, "rb") as f:
            f.seek(4096)
            self.assertEqual(f.read(len(data)), data)
            f.seek((5 << 30) + 7)
            self.assertEqual(f.read(len(data)), data)
            f.seek(3 << 30)
            self.assertEqual(f.read(1 << 16), bytes(1 << 16))

    def test_own_store_inside_the_tree_is_left_out(self):
        # The default store is under HOME: backing up HOME must not put every
        # earlier backup (and the one being written) inside the next one.
        with open(os.path.join(self.home, "notes.txt"), "w") as f:
            f.write("notes")
        self.ok("backup", self.home, "--prompt", "no")
        r = self.ok("backup", self.home, "--prompt", "no")
        self.assertIn("Leaving out %s: bakthat's own store" % self.store_dir(), r.errtext)
        newest = sorted(self.store_objects())[-1]
        names = subprocess.run(["tar", "-tzf", os.path.join(self.store_dir(), newest)],
                               capture_output=True, text=True, check=True).stdout.split()
        self.assertIn("home/notes.txt", names)
        self.assertFalse([n for n in names if "bakthat/store/" in n], names)

    def test_symlink_named_on_the_command_line_is_followed(self):
        real = os.path.join(self.work, "releases", "2026")
        os.makedirs(real)
        with open(os.path.join(real, "app.conf"), "w") as f:
            f.write("conf")
        os.symlink(real, os.path.join(self.work, "current"))
        os.symlink(os.path.join(real, "app.conf"), os.path.join(self.work, "conf-link"))
        self.ok("backup", "current", "--prompt", "no")
        self.ok("backup", "conf-link", "--prompt", "no")
        stored = {n.split(".")[0]: os.path.join(self.store_dir(), n) for n in self.store_objects()}

        def names(p):
            return subprocess.run(["tar", "-tzf", p], capture_output=True, text=True, check=True).stdout.split()
        self.assertEqual(names(stored["current"]), ["current/", "current/app.conf"])
        self.assertEqual(names(stored["conf-link"]), ["conf-link"])
        self.assertEqual(self.ok("restore", "conf-link", "--stdout").out, b"conf")
        r = self.fails("backup", "/dev/null", "--prompt", "no")
        self.assertIn("backup - --name", r.errtext)

    def test_sparse_file_to_stdout_has_its_holes_as_zeros(self):
        image = os.path.join(self.work, "small.img")
        with open(image, "wb") as f:
            f.truncate(64 << 20)  # holes before, between and after the data
            f.seek(5 << 20)
            f.write(b"A" * 70000)
            f.seek(40 << 20)
            f.write(os.urandom(100000))
        self.ok("backup", image, "--prompt", "no")
        with open(image, "rb") as f:
            self.assertEqual(self.ok("restore", "small.img", "--stdout").out, f.read())

    def test_extended_attributes_and_acls_are_kept(self):
        src = os.path.join(self.work, "x")
        sub = os.path.join(src, "sub")
        os.makedirs(sub)
        f = os.path.join(sub, "f.txt")
        with open(f, "w") as fh:
            fh.write("content")
        value = b"binary\x00value \xff" * 100  # longer than one pax line, not text

        def acl(*entries):  # the kernel's xattr form: version 2, then (tag, perm, id)
            return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)
        none = 0xffffffff
        # owner rw, nobody r, group r, group 100 rx, mask rwx, others nothing
        access = acl((1, 6, none), (2, 4, 65534), (4, 4, none), (8, 5, 100), (0x10, 7, none), (0x20, 0, none))
        default = acl((1, 7, none), (2, 5, 65534), (4, 5, none), (0x10, 5, none), (0x20, 5, none))
        try:
            os.setxattr(f, "user.comment", value)
            os.setxattr(sub, "user.dir", b"d")
            os.setxattr(f, "system.posix_acl_access", access)
            os.setxattr(sub, "system.posix_acl_default", default)
        except OSError:
            self.skipTest("this file system has no user extended attributes or ACLs")
        self.ok("backup", "x", "--prompt", "no")
        stored = os.path.join(self.store_dir(), self.store_objects()[0])
        out = os.path.join(self.work, "out")
        os.makedirs(out)
        self.ok("restore", "x", "-o", out)
        got_f, got_sub = os.path.join(out, "x", "sub", "f.txt"), os.path.join(out, "x", "sub")
        self.assertEqual(os.getxattr(got_f, "user.comment"), value)
        self.assertEqual(os.getxattr(got_sub, "user.dir"), b"d")
        self.assertEqual(os.getxattr(got_f, "system.posix_acl_access"), access)
        self.assertEqual(os.getxattr(got_sub, "system.posix_acl_default"), default)
        self.assertEqual(os.stat(got_f).st_mode & 0o777, os.stat(f).st_mode & 0o777)
        self.assertEqual(os.listxattr(os.path.join(out, "x")), [])
        # GNU tar reads both too
        gnu = os.path.join(self.work, "gnu")
        os.makedirs(gnu)
        subprocess.run(["tar", "--xattrs", "--xattrs-include=user.*", "--acls", "-xzf", stored, "-C", gnu],
                       check=True)
        self.assertEqual(os.getxattr(os.path.join(gnu, "x", "sub", "f.txt"), "user.comment"), value)
        self.assertEqual(os.getxattr(os.path.join(gnu, "x", "sub", "f.txt"), "system.posix_acl_access"), access)

    def backup_while_written(self, path, *args):
        """Runs `bakthat backup *args` while a thread keeps writing to the
        64 MiB file `path`, as a live log: a byte and a new mtime every
        millisecond."""
        with open(path, "wb") as f:
            f.write(os.urandom(64 << 20))
        stop = threading.Event()

        def writer():
            n = 0
            with open(path, "r+b") as f:
                while not stop.is_set():
                    n += 1
                    os.pwrite(f.fileno(), b"x", n % (64 << 20))
                    os.utime(f.fileno(), ns=(n * 10**9, n * 10**9))
                    time.sleep(0.001)
        t = threading.Thread(target=writer)
        t.start()
        try:
            return self.run_bakthat("backup", *args)
        finally:
            stop.set()
            t.join()

    def changed_of_the_row(self):
        db = sqlite3.connect(self.catalog_path())
        meta = json.loads(db.execute("select metadata from backups").fetchone()[0])
        return [os.path.basename(p) for p in meta["changed"]]

    def test_file_written_during_backup_is_kept_and_reported(self):
        src = os.path.join(self.work, "live")
        os.makedirs(src)
        r = self.backup_while_written(os.path.join(src, "app.log"), "live", "--prompt", "no")
        self.assertEqual(r.code, 12, repr(r))  # Partial, as for unreadable files
        self.assertIn("app.log changed while it was read", r.errtext)
        self.assertIn("1 file(s) changed while they were read", r.errtext)
        self.assertEqual(self.changed_of_the_row(), ["app.log"])
        self.ok("restore", "live", "-o", os.path.join(self.work, "out"))

    def test_a_changed_file_is_reported_when_it_is_read_not_at_the_end(self):
        # app.log is archived first, then 40 MB more: its warning must come
        # before the progress lines of what follows it.
        src = os.path.join(self.work, "live")
        os.makedirs(src)
        with open(os.path.join(src, "zz-after.bin"), "wb") as f:
            f.write(os.urandom(40 << 20))
        r = self.backup_while_written(os.path.join(src, "app.log"), "live", "--prompt", "no", "-v")
        self.assertEqual(r.code, 12, repr(r))
        err = r.errtext
        self.assertLess(err.index("app.log changed while it was read"), err.index("Write completion: 90%"), err)

    def test_file_stored_as_is_written_during_backup_is_reported(self):
        # A .tgz is stored as it is, not tarred: the same check applies.
        r = self.backup_while_written(os.path.join(self.work, "dump.tgz"), "dump.tgz", "--prompt", "no")
        self.assertEqual(r.code, 12, repr(r))
        self.assertIn("dump.tgz changed while it was read", r.errtext)
        self.assertEqual(self.changed_of_the_row(), ["dump.tgz"])


class LocalFailures(BakthatTestCase):
    def test_missing_path(self):
        r = self.fails("backup", "nope", "--prompt", "no")
        self.assertEqual(len(r.errtext.strip().splitlines()), 1)
        self.assertFalse(os.path.exists(self.store_dir()) and self.store_objects())

    def test_broken_yaml(self):
        self.write_config("default:\n  compress: [unclosed\n")
        r = self.fails("show")
        self.assertIn(".bakthat.yml", r.errtext)

    def test_bad_value(self):
        self.write_config("default:\n  threads: many\n")
        r = self.fails("show")
        self.assertIn("threads", r.errtext)

    def test_unknown_destination(self):
        r = self.fails("backup", ".", "-d", "ftp", "--prompt", "no")
        self.assertIn("ftp", r.errtext)

    def test_a_destination_without_its_settings_says_which(self):
        r = self.fails("backup", ".", "-d", "glacier", "--prompt", "no")
        self.assertEqual(r.code, 3, repr(r))
        self.assertIn("needs glacier_vault (a Glacier vault) or s3_bucket", r.errtext)
        r = self.fails("backup", ".", "-d", "s3", "--prompt", "no")
        self.assertIn("the s3 destination needs s3_bucket", r.errtext)

    def test_unknown_name(self):
        r = self.fails("restore", "nothing")
        self.assertIn("No file matched", r.errtext)
        self.fails("delete", "nothing")
        self.fails("verify", "nothing")

    def test_unknown_command(self):
        self.fails("frobnicate")

    def test_unreadable_file_is_reported_and_backup_goes_on(self):
        src = os.path.join(self.work, "u")
        os.makedirs(src)
        open(os.path.join(src, "ok.txt"), "w").write("ok")
        secret = os.path.join(src, "secret.txt")
        open(secret, "w").write("no")
        os.chmod(secret, 0)
        r = self.backup_unable_to_read("u")
        self.assertNotEqual(r.code, 0, repr(r))
        self.assertIn("secret.txt", r.errtext)
        names = subprocess.run(["tar", "-tzf", glob.glob(os.path.join(self.store_dir(), "*"))[0]],
                               capture_output=True, text=True, check=True).stdout
        self.assertIn("u/ok.txt", names)
        self.assertNotIn("secret", names)
        db = sqlite3.connect(self.catalog_path())
        self.assertEqual(db.execute("select count(*) from backups").fetchone(), (1,))

    def test_an_unreadable_file_named_as_the_path_is_refused(self):
        """As an unreadable directory is: no empty archive, no catalog row."""
        for compress in ("true", "false"):
            with self.subTest(compress=compress):
                self.write_config("default:\n  compress: %s\n" % compress)
                secret = os.path.join(self.work, "secret-%s.txt" % compress)
                with open(secret, "w") as f:
                    f.write("no")
                os.chmod(secret, 0)
                r = self.backup_unable_to_read(os.path.basename(secret))
                self.assertEqual(r.code, 11, repr(r))
                self.assertIn("cannot back up secret-%s.txt: Permission denied" % compress, r.errtext)
                self.assertFalse(os.path.exists(self.store_dir()) and
                                 [n for n in os.listdir(self.store_dir()) if not n.startswith(".")])
                if os.path.exists(self.catalog_path()):
                    db = sqlite3.connect(self.catalog_path())
                    self.assertEqual(db.execute("select count(*) from backups").fetchone(), (0,))
                    db.close()

    def test_the_row_lists_a_hundred_unreadable_files_and_counts_them_all(self):
        src = os.path.join(self.work, "u")
        os.makedirs(src)
        for i in range(150):
            p = os.path.join(src, "s%03d" % i)
            open(p, "w").write("no")
            os.chmod(p, 0)
        r = self.backup_unable_to_read("u")
        self.assertEqual(r.code, 12, repr(r))
        self.assertEqual(r.errtext.count("warning: cannot read"), 150)
        self.assertIn("150 file(s) could not be read", r.errtext)
        db = sqlite3.connect(self.catalog_path())
        meta = json.loads(db.execute("select metadata from backups").fetchone()[0])
        self.assertEqual(meta["unreadable_count"], 150)
        self.assertEqual(len(meta["unreadable"]), 100)

    def test_restore_that_cannot_write_fails_and_leaves_the_target(self):
        # Files may grow to 1 MiB only (RLIMIT_FSIZE, with SIGXFSZ ignored so
        # that write(2) fails with EFBIG as on a full disk): every restore
        # that must write a 3 MB file fails in one line and leaves nothing.
        import resource

        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        src = os.path.join(self.work, "big")
        os.makedirs(src)
        data = os.urandom(3 << 20)
        with open(os.path.join(src, "data.bin"), "wb") as f:
            f.write(data)
        self.ok("backup", "big", "--prompt", "no")
        self.ok("backup", "big/data.bin", "--prompt", "no")
        self.ok("backup", "-", "--name", "stream", "--prompt", "no", input=data)
        for name in ("big", "data.bin", "stream"):
            out = os.path.join(self.tmp, "out-" + name)
            os.makedirs(out)
            with open(os.path.join(out, "kept"), "w") as f:
                f.write("kept")
            r = self.fails("restore", name, "-o", out, preexec_fn=small_files)
            errors = [line for line in r.errtext.splitlines() if line.startswith("bakthat:")]
            self.assertEqual(len(errors), 1, r.errtext)
            self.assertIn("File too large", errors[0], name)
            self.assertEqual(os.listdir(out), ["kept"], name)
            self.ok("restore", name, "-o", out)  # and without the limit it works
        with open("/dev/full", "wb") as full:
            r = self.fails("restore", "stream", "--stdout", stdout=full)
            self.assertIn("No space left on device", r.errtext)
            # the catalog listing too: output that never arrived is a failure
            r = self.fails("show", stdout=full)
            self.assertIn("cannot write to standard output", r.errtext)

    def files_with_attributes(self, name, count, attributes):
        """A directory `name` of `count` files holding "content" and the
        extended attributes `attributes` (name: bytes)."""
        src = os.path.join(self.work, name)
        os.makedirs(src)
        try:
            for i in range(count):
                f = os.path.join(src, "f%d.txt" % i)
                with open(f, "w") as fh:
                    fh.write("content")
                for k, v in attributes.items():
                    os.setxattr(f, k, v)
        except OSError:
            self.skipTest("this file system does not keep " + ", ".join(attributes))

    def restore_as_nobody(self, name):
        """Restores `name` as nobody into a new directory; returns the result
        (checked successful) and the directory."""
        self.hand_to_nobody()
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        os.chown(out, 65534, 65534)
        r = self.run_as_nobody(["restore", name, "-o", out])
        self.assertEqual(r.code, 0, repr(r))
        return r, out

    def hand_to_nobody(self):
        """Gives the test's whole scratch tree to nobody (uid 65534)."""
        for dirpath, dirnames, filenames in os.walk(self.tmp):
            for n in dirnames + filenames + [""]:
                os.lchown(os.path.join(dirpath, n), 65534, 65534)
        os.chmod(self.tmp, 0o755)

    def test_metadata_the_user_may_not_set_is_a_warning(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to make a trusted.* attribute")
        self.files_with_attributes("t", 8, {"trusted.origin": b"root only"})  # five named, then a count
        self.ok("backup", "t", "--prompt", "no")
        r, out = self.restore_as_nobody("t")
        self.assertIn("restored without all its metadata: t/f0.txt: Cannot restore extended attributes: "
                      "trusted.origin", r.errtext)
        self.assertEqual(r.errtext.count("restored without all its metadata: "), 5)
        self.assertIn("... and 3 more restored without all their metadata", r.errtext)
        for i in range(8):
            with open(os.path.join(out, "t", "f%d.txt" % i)) as fh:
                self.assertEqual(fh.read(), "content")

    def test_selinux_labels_are_left_to_the_policy_in_a_user_restore(self):
        # Archives made on SELinux systems label every file; a user's
        # restore lets the policy label its files, without a warning each,
        # and keeps the user's own attributes.
        if os.geteuid() != 0:
            self.skipTest("needs root to set security.selinux")
        label = b"unconfined_u:object_r:user_home_t:s0\0"
        self.files_with_attributes("labelled", 3, {"security.selinux": label, "user.note": b"mine"})
        self.ok("backup", "labelled", "--prompt", "no")
        r, out = self.restore_as_nobody("labelled")
        self.assertNotIn("metadata", r.errtext)
        for i in range(3):
            f = os.path.join(out, "labelled", "f%d.txt" % i)
            self.assertEqual(os.getxattr(f, "user.note"), b"mine")
            self.assertNotIn("security.selinux", os.listxattr(f))
        # root restores the labels as archived
        self.ok("restore", "labelled", "-o", os.path.join(self.tmp, "out-root"))
        self.assertEqual(os.getxattr(os.path.join(self.tmp, "out-root", "labelled", "f0.txt"), "security.selinux"),
                         label)

    def backup_unable_to_read(self, path):
        """`bakthat backup PATH` by a user whom mode 0 files stop: root reads
        anything, so as nobody over a tree nobody owns."""
        args = ["backup", path, "--prompt", "no"]
        if os.geteuid() != 0:
            return self.run_bakthat(*args)
        self.hand_to_nobody()
        return self.run_as_nobody(args)

    def run_as_nobody(self, args):
        import harness
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", harness.BIN, *args]
        proc = subprocess.run(cmd, cwd=self.work, env=self.env, capture_output=True, timeout=300)
        return harness.Result(proc)

    def test_sigkill_leaves_no_row_and_no_object(self):
        # An endless stream on stdin, so that every kill lands mid-backup
        # whatever the machine's speed (files of any size were stored too
        # fast on a quiet box, and sparse files are now archived sparse).
        import harness
        for delay in (0.2, 0.7, 1.5):
            with open("/dev/zero", "rb") as endless:
                proc = subprocess.Popen([harness.BIN, "backup", "-", "--name", "endless", "--prompt", "no"],
                                        cwd=self.work, env=self.env, stdin=endless,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            self.assertEqual(proc.wait(), -signal.SIGKILL, "the backup ended before it was killed")
            finals = [n for n in self.store_objects() if not n.startswith(".")] \
                if os.path.exists(self.store_dir()) else []
            self.assertEqual(finals, [], "delay %s" % delay)
            if os.path.exists(self.catalog_path()):
                db = sqlite3.connect(self.catalog_path())
                try:
                    rows = db.execute("select count(*) from backups").fetchone()[0]
                except sqlite3.OperationalError:  # killed before the tables were made
                    rows = 0
                db.close()
                self.assertEqual(rows, 0, "delay %s" % delay)
        # the next backup cleans the dead writers' temporary files and succeeds
        small = os.path.join(self.work, "small")
        os.makedirs(small)
        open(os.path.join(small, "f"), "w").write("f")
        self.ok("backup", "small", "--prompt", "no")
        self.assertEqual([n for n in self.store_objects() if n.startswith(".")], [])


class DeepTrees(BakthatTestCase):
    LEVELS = 2000

    def listing(self, root):
        out = subprocess.run(["find", ".", "-printf", "%p %y %s\\n"], cwd=root, capture_output=True, check=True)
        return sorted(out.stdout.decode().splitlines())

    def test_two_thousand_levels_at_256_descriptors(self):
        # GNU tar handles such trees; a walk that holds a descriptor per
        # level fails past the process's limit.
        src = os.path.join(self.work, "deep")
        target = os.path.join(self.tmp, "t")
        try:
            self.deep_round_trip(src, target)
        finally:
            # Python's own tree functions recurse past its limit here (the
            # harness's clean-up too): GNU rm removes the trees.
            subprocess.run(["rm", "-rf", src, target])

    def deep_round_trip(self, src, target):
        subprocess.run(["mkdir", "-p", os.path.join(src, *(["d"] * self.LEVELS))], check=True)
        for level in (1, 600, 1400, self.LEVELS):
            with open(os.path.join(src, *(["d"] * level), "f"), "w") as f:
                f.write("level %d" % level)

        def limited():
            resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

        r = self.ok("backup", "deep", "--prompt", "no", preexec_fn=limited)
        self.assertNotIn("cannot", r.errtext)
        self.ok("restore", "deep", "-o", target, preexec_fn=limited)
        self.assertEqual(self.listing(os.path.join(target, "deep")), self.listing(src))
        # Over the restored tree: every level merged, the deepest file replaced.
        deepest = os.path.join(target, "deep", *(["d"] * self.LEVELS), "f")
        with open(deepest, "w") as f:
            f.write("changed")
        self.ok("restore", "deep", "-o", target, "--force", preexec_fn=limited)
        with open(deepest) as f:
            self.assertEqual(f.read(), "level %d" % self.LEVELS)
        self.assertEqual(self.listing(os.path.join(target, "deep")), self.listing(src))
        self.assertEqual([n for n in os.listdir(target) if n.startswith(".bakthat-")], [])


class KilledRestores(BakthatTestCase):
    """A restore killed at any point leaves what the next restore into the
    same target rolls back or finishes, and no backup takes it in."""

    def setUp(self):
        super().setUp()
        src = os.path.join(self.work, "d")
        os.makedirs(os.path.join(src, "sub"))
        for name in ("a", "b", "c", "sub/x", "sub/y"):
            with open(os.path.join(src, name), "w") as f:
                f.write("new " + name)
        self.ok("backup", "d", "--prompt", "no")
        other = os.path.join(self.work, "other")
        os.makedirs(other)
        open(os.path.join(other, "o"), "w").write("o")
        self.ok("backup", "other", "--prompt", "no")
        self.target = os.path.join(self.tmp, "target")
        os.makedirs(os.path.join(self.target, "d", "sub"))
        for name, text in (("a", "old a"), ("mine", "mine"), ("sub/x", "old x")):
            with open(os.path.join(self.target, "d", name), "w") as f:
                f.write(text)
        self.before = tree_digest(self.target)

    def leftovers(self):
        return [n for n in os.listdir(self.target) if n.startswith(".bakthat-")]

    def killed_restore(self, moves):
        r = self.run_bakthat("restore", "d", "-o", self.target, "--force",
                             env={"BAKTHAT_TEST_DIE_AFTER_MOVES": str(moves)})
        self.assertEqual(r.code, -signal.SIGKILL, repr(r))
        self.assertTrue(self.leftovers())

    def test_killed_before_and_during_the_move_is_rolled_back(self):
        for moves in (0, 1, 3, 5):
            with self.subTest(moves=moves):
                self.killed_restore(moves)
                # Another restore into the target puts it back first.
                r = self.ok("restore", "other", "-o", self.target)
                self.assertIn("interrupted restore", r.errtext + r.text)
                self.assertEqual(self.leftovers(), [])
                shutil.rmtree(os.path.join(self.target, "other"))
                self.assertEqual(tree_digest(self.target), self.before)

    def test_the_next_restore_completes_and_a_backup_never_takes_leftovers(self):
        self.killed_restore(2)
        r = self.ok("backup", self.target, "--prompt", "no")
        self.assertIn("interrupted restore", r.errtext)
        stored = [n for n in os.listdir(self.store_dir()) if n.startswith("target.")]
        listing = subprocess.run(["tar", "-tzf", os.path.join(self.store_dir(), stored[0])],
                                 capture_output=True, check=True).stdout.decode()
        self.assertNotIn(".bakthat-", listing)
        self.ok("restore", "d", "-o", self.target, "--force")
        self.assertEqual(self.leftovers(), [])
        self.assertEqual(open(os.path.join(self.target, "d", "a")).read(), "new a")
        self.assertEqual(open(os.path.join(self.target, "d", "sub", "x")).read(), "new sub/x")
        self.assertEqual(open(os.path.join(self.target, "d", "mine")).read(), "mine")

    def test_a_running_restore_is_left_alone(self):
        # A staging directory whose restore still runs (its lock held) is
        # not touched by another restore into the same target.
        import fcntl
        live = os.path.join(self.target, ".bakthat-restore-live00")
        os.makedirs(os.path.join(live, "tree"))
        fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.ok("restore", "other", "-o", self.target)
            self.assertTrue(os.path.isdir(live))
        finally:
            os.close(fd)
        self.ok("restore", "other", "-o", self.target, "--force")
        self.assertFalse(os.path.exists(live))


class HostileArchives(BakthatTestCase):
    def hostile(self, entries):
        path = os.path.join(self.tmp, "evil.tgz")
        with tarfile.open(path, "w:gz") as t:
            for kind, name, target in entries:
                info = tarfile.TarInfo(name)
                if kind == "file":
                    data = b"pwned"
                    info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
                elif kind == "symlink":
                    info.type = tarfile.SYMTYPE
                    info.linkname = target
                    t.addfile(info)
                elif kind == "hardlink":
                    info.type = tarfile.LNKTYPE
                    info.linkname = target
                    t.addfile(info)
        return path

    def check_refused(self, entries, outside):
        evil = self.hostile(entries)
        target = os.path.join(self.tmp, "target")
        os.makedirs(target)
        open(os.path.join(target, "keep.txt"), "w").write("keep")
        before = tree_digest(target)
        self.fails("restore", "--from-file", evil, "-o", target)
        self.assertEqual(before, tree_digest(target))
        for p in outside:
            self.assertFalse(os.path.lexists(p), p)

    def test_dotdot(self):
        self.check_refused([("file", "ok/a", None), ("file", "../escaped", None)],
                           [os.path.join(self.tmp, "escaped")])

    def test_absolute(self):
        victim = os.path.join(self.tmp, "abs-victim")
        self.check_refused([("file", victim, None)], [victim])

    def test_symlink_then_file(self):
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        self.check_refused([("symlink", "l", outside), ("file", "l/x", None)],
                           [os.path.join(outside, "x")])

    def test_hardlink_outside(self):
        self.check_refused([("hardlink", "h", "../../etc/passwd")], [])

    def test_hard_link_with_data_to_an_outside_symlink_changes_no_mode(self):
        # A symlink to a file outside, then a pax hard link to it carrying
        # data and mode 04777: nothing outside may change, whether the
        # restore fails or not (the hard link is a second name of the link).
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        victim = os.path.join(outside, "victim")
        with open(victim, "w") as f:
            f.write("untouched")
        os.chmod(victim, 0o644)
        evil = os.path.join(self.work, "evil.tgz")
        with tarfile.open(evil, "w:gz", format=tarfile.PAX_FORMAT) as t:
            link = tarfile.TarInfo("l")
            link.type = tarfile.SYMTYPE
            link.linkname = victim
            t.addfile(link)
            hard = tarfile.TarInfo("h")
            hard.type = tarfile.LNKTYPE
            hard.linkname = "l"
            hard.size = 1
            hard.mode = 0o4777
            hard.pax_headers = {"comment": "keeps the link's size"}
            t.addfile(hard, io.BytesIO(b"A"))

        def check(result, target):
            st = os.stat(victim)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o644, repr(result))
            self.assertEqual(open(victim).read(), "untouched")
            if result.code == 0:
                self.assertEqual(os.readlink(os.path.join(target, "h")), victim)

        target = os.path.join(self.tmp, "t1")
        os.makedirs(target)
        check(self.run_bakthat("restore", "--from-file", evil, "-o", target), target)
        # The same archive backed up as a file and restored by name.
        self.ok("backup", evil)
        target = os.path.join(self.tmp, "t2")
        os.makedirs(target)
        r = self.run_bakthat("restore", "evil", "-o", target)
        check(r, target)

    def test_plain_tgz_from_file(self):
        src = os.path.join(self.work, "plain")
        os.makedirs(src)
        open(os.path.join(src, "f.txt"), "w").write("plain")
        subprocess.run(["tar", "-czf", os.path.join(self.tmp, "plain.tgz"), "-C", self.work, "plain"], check=True)
        out = os.path.join(self.tmp, "o")
        self.ok("restore", "--from-file", os.path.join(self.tmp, "plain.tgz"), "-o", out)
        self.assertEqual(open(os.path.join(out, "plain", "f.txt")).read(), "plain")

    def test_file_named_as_archive_that_is_not_one(self):
        """A damaged or empty .tgz is an error (exit 6), not a stream file of
        its raw bytes; the name and the magic decide together."""
        cases = {"empty.tgz": b"", "random.tgz": os.urandom(5000), "text.tar.gz": b"hello\n" * 100,
                 "empty.gz": b"", "garbage.tar": b"x" * 2048, "notar.tgz": gzip.compress(b"not a tar\n" * 100),
                 "zstd-named.tar.zst": gzip.compress(b"x")}
        for name, data in cases.items():
            with self.subTest(name=name):
                path = os.path.join(self.tmp, name)
                with open(path, "wb") as f:
                    f.write(data)
                target = os.path.join(self.tmp, "t-" + name)
                os.makedirs(target)
                r = self.fails("restore", "--from-file", path, "-o", target)
                self.assertEqual(r.code, 6, repr(r))
                self.assertIn(name, r.errtext)
                self.assertEqual(os.listdir(target), [])
        # Files named as what they are still restore: a gzipped stream, a plain file.
        for name, data, plain in (("stream.gz", gzip.compress(b"payload\n"), b"payload\n"),
                                  ("notes.txt", b"just text\n", b"just text\n")):
            with self.subTest(name=name):
                path = os.path.join(self.tmp, name)
                with open(path, "wb") as f:
                    f.write(data)
                target = os.path.join(self.tmp, "ok-" + name)
                self.ok("restore", "--from-file", path, "-o", target)
                [got] = os.listdir(target)
                with open(os.path.join(target, got), "rb") as f:
                    self.assertEqual(f.read(), plain)


if __name__ == "__main__":
    unittest.main()
