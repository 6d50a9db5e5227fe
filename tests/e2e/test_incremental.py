"""Incremental backups (backup --incremental): a tree evolves through ten
levels; after each, `restore` of that level and stock GNU tar
(`tar -x --listed-incremental=/dev/null` of the decrypted levels in order)
both give the tree as it was. Local store and Swift's S3 API, plain and
encrypted to an age recipient."""
import json
import os
import shutil
import subprocess
import time

from harness import BakthatTestCase, profile_text, tree_digest
from s3util import aws, new_bucket, swift_profile
from test_encryption import age_keygen


def write(path, data, mtime=None):
    with open(path, "wb") as f:
        f.write(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def evolve(root, step):
    """The tree before level `step` (0: the first)."""
    j = lambda *p: os.path.join(root, *p)
    if step == 0:
        os.makedirs(j("docs", "old"))
        os.makedirs(j("empty"))
        write(j("a.txt"), b"alpha\n" * 100, 1600000000)
        write(j("b.bin"), os.urandom(300000), 1600000000)
        write(j("docs", "report.txt"), b"report v1\n" * 50, 1600000000)
        write(j("docs", "old", "x.txt"), b"x" * 5000, 1600000000)
        write(j("docs", "old", "y.txt"), b"y" * 5000, 1600000000)
        os.symlink("a.txt", j("link-a"))
    elif step == 1:  # files and a directory added
        os.makedirs(j("new", "deep"))
        write(j("new", "deep", "n.txt"), b"new file\n")
        write(j("c.txt"), b"gamma\n")
    elif step == 2:  # content changed with size and mtime kept: only the ctime says so
        write(j("docs", "report.txt"), b"report v2\n" * 50, 1600000000)
    elif step == 3:  # truncated
        with open(j("b.bin"), "r+b") as f:
            f.truncate(1000)
    elif step == 4:  # deleted
        os.unlink(j("c.txt"))
    elif step == 5:  # renamed: a file and a directory
        os.rename(j("a.txt"), j("a-renamed.txt"))
        os.rename(j("new"), j("newer"))
    elif step == 6:  # a directory tree removed, another made
        shutil.rmtree(j("docs", "old"))
        os.rmdir(j("empty"))
        os.makedirs(j("made", "here"))
        write(j("made", "here", "m.txt"), b"made\n")
    elif step == 7:  # mode and mtime only
        os.chmod(j("a-renamed.txt"), 0o600)
        os.utime(j("docs", "report.txt"), (1700000000, 1700000000))
    elif step == 8:  # hard links
        os.link(j("a-renamed.txt"), j("hard-a"))
        os.link(j("made", "here", "m.txt"), j("docs", "hard-m"))
    elif step == 9:  # symlinks: one new, one retargeted, one dangling
        os.unlink(j("link-a"))
        os.symlink("a-renamed.txt", j("link-a"))
        os.symlink("nowhere", j("dangling"))
    elif step == 10:  # sparse: a hole with data at both ends, then a change in it
        with open(j("sparse.img"), "wb") as f:
            f.write(b"head")
            f.seek(8 << 20)
            f.write(b"tail")
        with open(j("newer", "deep", "n.txt"), "ab") as f:
            f.write(b"more\n")


class IncrementalCase:
    maxDiff = None
    """Mixed into a BakthatTestCase with destination(), fetch(name, path)."""
    encrypted = False
    # Stock GNU tar checked after every level, or only after the last (a
    # remote store: each level fetched with the aws CLI and decrypted again
    # for every later check would make the case several times longer).
    stock_every_level = True

    def setUp(self):
        super().setUp()
        self.key = os.path.join(self.tmp, "key.txt")
        self.recipient = age_keygen(self.key)
        self.setup_destination()
        self.args = ["-d", self.destination()]
        if self.encrypted:
            self.args_backup = self.args + ["--recipient", self.recipient]
        else:
            self.args_backup = self.args

    def rows(self):
        rows = json.loads(self.ok("show", "--json", *self.args).text)
        return sorted((r for r in rows if not r["is_deleted"]), key=lambda r: r["backup_date"])

    def stock_restore(self, chain, out):
        """Each level fetched, decrypted with `age -d`, extracted with
        `tar -xz --listed-incremental=/dev/null`, in order."""
        os.makedirs(out)
        for row in chain:
            obj = os.path.join(self.tmp, row["stored_filename"])
            if not os.path.exists(obj):  # each level fetched once for all the checks
                self.fetch(row["stored_filename"], obj)
            if self.encrypted:
                plain = obj + ".tgz"
                if os.path.exists(plain):
                    os.unlink(plain)
                subprocess.run(["age", "-d", "-i", self.key, "-o", plain, obj], check=True)
                obj = plain
            subprocess.run(["tar", "-xz", "--listed-incremental=/dev/null", "-f", obj], cwd=out, check=True)

    def test_ten_levels_restore_as_the_tree_was(self):
        src = os.path.join(self.work, "tree")
        os.makedirs(src)
        chain = []
        for step in range(11):
            evolve(src, step)
            expected = tree_digest(src)
            r = self.ok("backup", src, "--incremental", *self.args_backup)
            self.assertIn("Incremental level %d" % step, r.errtext)
            row = self.rows()[-1]
            self.assertEqual(row["metadata"]["level"], step)
            self.assertEqual(row["metadata"].get("parent"), chain[-1]["stored_filename"] if chain else None)
            chain.append(row)
            out = os.path.join(self.tmp, "out%d" % step)
            self.ok("restore", row["stored_filename"], "-o", out, *self.args)
            self.assertEqual(tree_digest(os.path.join(out, "tree")), expected, "level %d" % step)
            if self.stock_every_level or step == 10:
                stock = os.path.join(self.tmp, "stock%d" % step)
                self.stock_restore(chain, stock)
                self.assertEqual(tree_digest(os.path.join(stock, "tree")), expected, "stock tar, level %d" % step)
        # An unchanged tree makes a level with nothing but its directories.
        self.ok("backup", src, "--incremental", *self.args_backup)
        last = self.rows()[-1]
        self.assertEqual(last["metadata"]["level"], 11)
        self.assertEqual(last["metadata"]["files"], 0)
        self.assertLess(last["size"], chain[0]["size"] / 10)


class LocalPlain(IncrementalCase, BakthatTestCase):
    def setup_destination(self):
        self.write_config(profile_text({"identity_file": self.key}))

    def destination(self):
        return "local"

    def fetch(self, name, path):
        shutil.copyfile(os.path.join(self.store_dir(), name), path)


class LocalEncrypted(LocalPlain):
    encrypted = True


class SwiftS3Plain(IncrementalCase, BakthatTestCase):
    stock_every_level = False

    def setup_destination(self):
        self.bucket = new_bucket("incr")
        self.write_config(swift_profile(self.bucket) + "  identity_file: %s\n" % self.key)

    def destination(self):
        return "s3"

    def fetch(self, name, path):
        # The levels not fetched yet, in one `aws s3 sync` (one start of the
        # CLI instead of one a level).
        levels = os.path.join(self.tmp, "levels")
        if not os.path.exists(os.path.join(levels, name)):
            aws("swift", "s3", "sync", "s3://%s/" % self.bucket, levels, "--exclude", ".bakthat/*")
        shutil.copyfile(os.path.join(levels, name), path)


class SwiftS3Encrypted(SwiftS3Plain):
    encrypted = True


class Chains(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.src = os.path.join(self.work, "tree")
        os.makedirs(self.src)
        evolve(self.src, 0)

    def level(self):
        rows = json.loads(self.ok("show", "--json").text)
        return max(rows, key=lambda r: r["backup_date"])["metadata"].get("level")

    def test_a_lost_snapshot_is_rebuilt_from_the_destination_and_the_chain_goes_on(self):
        self.ok("backup", self.src, "--incremental")
        evolve(self.src, 1)
        self.ok("backup", self.src, "--incremental")
        shutil.rmtree(os.path.join(self.home, ".bakthat.sqlite.incremental"))
        evolve(self.src, 3)  # not 2: a rewrite keeping size and mtime is what a rebuilt snapshot misses
        r = self.ok("backup", self.src, "--incremental")
        rows = sorted(json.loads(self.ok("show", "--json").text), key=lambda r: r["backup_date"])
        self.assertIn("Incremental level 2 of tree, after %s: continuing the chain of %s from the destination"
                      % (rows[1]["stored_filename"], rows[1]["stored_filename"]), r.errtext)
        self.assertEqual(self.level(), 2)
        # What was unchanged stays out: b.bin (300 kB of noise) is not in it.
        self.assertLess(rows[2]["size"], rows[0]["size"] / 10)
        out = os.path.join(self.tmp, "out")
        self.ok("restore", "tree", "-o", out)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))

    def test_snapshot_is_private(self):
        self.ok("backup", self.src, "--incremental")
        d = os.path.join(self.home, ".bakthat.sqlite.incremental")
        self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
        for n in os.listdir(d):
            self.assertEqual(os.stat(os.path.join(d, n)).st_mode & 0o077, 0, n)

    def test_profile_key_makes_every_backup_a_level_and_starts_a_full_after_n(self):
        self.write_config(profile_text({"incremental": 2}))
        levels = []
        for step in range(1, 5):
            evolve(self.src, step)
            self.ok("backup", self.src)
            levels.append(self.level())
        self.assertEqual(levels, [0, 1, 2, 0])

    def test_a_plain_backup_between_starts_a_new_chain(self):
        self.ok("backup", self.src, "--incremental")
        self.ok("backup", self.src)
        r = self.ok("backup", self.src, "--incremental")
        self.assertIn("is not incremental", r.errtext)
        self.assertEqual(self.level(), 0)

    def test_incremental_of_a_file_is_refused(self):
        p = os.path.join(self.work, "f.txt")
        write(p, b"x")
        r = self.fails("backup", p, "--incremental")
        self.assertIn("needs a directory", r.errtext)

    def test_a_level_whose_parent_is_gone_is_refused_with_what_remains(self):
        for step in (1, 2):
            self.ok("backup", self.src, "--incremental")
            evolve(self.src, step)
        self.ok("backup", self.src, "--incremental")
        rows = sorted(json.loads(self.ok("show", "--json").text), key=lambda r: r["backup_date"])
        # The middle level disappears behind retention's back.
        os.unlink(os.path.join(self.store_dir(), rows[1]["stored_filename"]))
        import sqlite3
        with sqlite3.connect(self.catalog_path()) as db:
            db.execute("update backups set is_deleted = 1 where stored_filename = ?", (rows[1]["stored_filename"],))
        out = os.path.join(self.tmp, "out")
        r = self.fails("restore", rows[2]["stored_filename"], "-o", out)
        self.assertIn("is missing", r.errtext)
        self.assertIn(rows[1]["stored_filename"], r.errtext)
        self.assertFalse(os.path.exists(os.path.join(out, "tree")))

    def chain(self, levels):
        """`levels` incremental backups of the tree (level 0 first), the tree
        changing between them; their rows, oldest first."""
        for step in range(levels):
            if step:
                evolve(self.src, step)
            self.ok("backup", self.src, "--incremental")
        return sorted(json.loads(self.ok("show", "--json").text), key=lambda r: r["backup_date"])

    def test_delete_refuses_a_level_another_is_built_on(self):
        rows = self.chain(2)
        r = self.fails("delete", rows[0]["stored_filename"])
        self.assertIn("is built on it", r.errtext)
        self.assertIn(rows[1]["stored_filename"], r.errtext)
        self.assertEqual(len(self.store_objects()), 2)
        self.ok("delete", rows[1]["stored_filename"])
        self.ok("delete", rows[0]["stored_filename"])
        self.assertEqual(self.store_objects(), [])

    def test_retention_keeps_the_bases_of_a_kept_level_and_deletes_unkept_chains_whole(self):
        old = self.chain(3)  # a first chain
        self.ok("backup", self.src)  # a plain backup between: the next chain is a new one
        evolve(self.src, 3)
        self.ok("backup", self.src, "--incremental")
        evolve(self.src, 4)
        self.ok("backup", self.src, "--incremental")
        rows = sorted(json.loads(self.ok("show", "--json").text), key=lambda r: r["backup_date"])
        self.assertEqual([r["metadata"].get("level") for r in rows], [0, 1, 2, None, 0, 1])
        # Only the newest within the interval: its level 0 stays, said why.
        cut = "%ds" % max(1, int(time.time()) - rows[-1]["backup_date"])
        r = self.ok("delete_older_than", "tree", cut, "--dry-run")
        [kept] = [l for l in r.text.splitlines() if l.startswith("keep   " + rows[4]["stored_filename"])]
        self.assertIn("base of %s (incremental level 1)" % rows[5]["stored_filename"], kept)
        for row in rows[:4]:
            self.assertIn("would delete " + row["stored_filename"], r.text)
        self.ok("delete_older_than", "tree", cut)
        left = sorted(self.store_objects())
        self.assertEqual(left, sorted(r["stored_filename"] for r in rows[4:]))
        out = os.path.join(self.tmp, "out")
        self.ok("restore", "tree", "-o", out)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))
        del old

    def test_retention_deletes_a_chain_from_its_last_level_so_a_kill_leaves_no_level_without_its_base(self):
        rows = self.chain(3)
        evolve(self.src, 3)
        self.ok("backup", self.src)  # a plain backup: the newest, kept
        time.sleep(1.1)
        import sqlite3

        def deleted():
            with sqlite3.connect(self.catalog_path()) as db:
                return {r[0] for r in db.execute("select stored_filename from backups where is_deleted = 1")}
        proc = subprocess.Popen([self.bin(), "delete_older_than", "tree", "1s"], cwd=self.work,
                                env=dict(self.env, BAKTHAT_TEST_PAUSE_BEFORE_REMOVAL="30"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not deleted():
            self.assertLess(time.time(), deadline, "no row was marked deleted")
            self.assertIsNone(proc.poll(), "the deletion ended without pausing")
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        # The first to go is the last level: what is left is a chain that restores.
        self.assertEqual(deleted(), {rows[2]["stored_filename"]})
        out = os.path.join(self.tmp, "out")
        self.ok("restore", rows[1]["stored_filename"], "-o", out)
        self.ok("delete_older_than", "tree", "1s")
        self.ok("sync")  # removes the object the killed deletion left behind its tombstone
        self.assertEqual(len(self.store_objects()), 1)

    def test_verify_checks_the_whole_chain_and_names_a_missing_level(self):
        rows = self.chain(3)
        r = self.ok("verify", "tree")
        for row in rows:
            self.assertIn("Verifying " + row["stored_filename"], r.errtext)
        os.unlink(os.path.join(self.store_dir(), rows[1]["stored_filename"]))
        r = self.fails("verify", "tree")
        self.assertIn("level 1", r.errtext)
        self.assertIn("levels 0-0 restore", r.errtext)

    def test_kill_9_during_a_level_leaves_the_chain_usable(self):
        self.chain(2)
        big = os.path.join(self.src, "big.bin")
        with open(big, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(1 << 20))
        proc = subprocess.Popen([self.bin(), "backup", self.src, "--incremental"], cwd=self.work, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        if proc.poll() is not None:
            self.skipTest("the backup ended before it could be killed")
        proc.kill()
        proc.wait()
        levels = len(json.loads(self.ok("show", "--json").text))
        r = self.ok("backup", self.src, "--incremental")
        self.assertIn("Incremental level %d" % levels, r.errtext)
        out = os.path.join(self.tmp, "out")
        self.ok("restore", "tree", "-o", out)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))

    def bin(self):
        from harness import BIN
        return BIN

    def test_restore_from_files_takes_the_levels_in_order(self):
        key = os.path.join(self.tmp, "key.txt")
        recipient = age_keygen(key)
        for step in range(3):
            if step:
                evolve(self.src, step)
            self.ok("backup", self.src, "--incremental", "--recipient", recipient)
        rows = sorted(json.loads(self.ok("show", "--json").text), key=lambda r: r["backup_date"])
        # The stored files, copied out by hand as a user without the catalog would.
        files = []
        for row in rows:
            files.append(os.path.join(self.tmp, row["stored_filename"]))
            shutil.copyfile(os.path.join(self.store_dir(), row["stored_filename"]), files[-1])
        out = os.path.join(self.tmp, "out")
        r = self.fails("restore", "--from-file", files[1], files[0], files[2], "-i", key, "-o", out)
        self.assertIn("give the levels in order, level 0 first", r.errtext)
        self.assertFalse(os.path.exists(out))
        r = self.ok("restore", "--from-file", *files, "-i", key, "-o", out)
        self.assertIn("3 levels", r.errtext)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))

    def test_restore_does_not_overwrite_without_force(self):
        self.ok("backup", self.src, "--incremental")
        evolve(self.src, 1)
        self.ok("backup", self.src, "--incremental")
        out = os.path.join(self.tmp, "out")
        self.ok("restore", "tree", "-o", out)
        r = self.fails("restore", "tree", "-o", out)
        self.assertIn("would overwrite", r.errtext)
        self.ok("restore", "tree", "-o", out, "--force")
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))


class TwoMachines(BakthatTestCase):
    """Machine A makes a chain in a shared local store; machine B (a HOME of
    its own, the same config) reads it from the rows at the destination."""

    def setUp(self):
        super().setUp()
        self.home_b = os.path.join(self.tmp, "home-b")
        os.makedirs(self.home_b)
        self.env_b = {"HOME": self.home_b, "XDG_DATA_HOME": os.path.join(self.home_b, ".local", "share")}
        text = profile_text({"local_path": os.path.join(self.tmp, "shared-store"), "default_destination": "local"})
        self.write_config(text)
        self.write_config(text, os.path.join(self.home_b, ".bakthat.yml"))
        self.src = os.path.join(self.work, "tree")
        os.makedirs(self.src)

    def on_b(self, *args, **kw):
        return self.ok(*args, env=self.env_b, **kw)

    def show(self, env=None):
        rows = json.loads(self.ok("show", "--json", env=env).text)
        return sorted(rows, key=lambda r: r["backup_date"])

    def chain_on_a(self, levels):
        for step in range(levels):
            evolve(self.src, step)
            self.ok("backup", self.src, "--incremental")
        return self.show()

    def test_sync_gives_machine_b_each_level_and_parent_and_b_restores_the_chain(self):
        a = self.chain_on_a(3)
        self.on_b("sync")
        b = self.show(self.env_b)
        self.assertEqual([(r["stored_filename"], r["metadata"]["level"], r["metadata"].get("parent")) for r in b],
                         [(r["stored_filename"], i, a[i - 1]["stored_filename"] if i else None)
                          for i, r in enumerate(a)])
        out = os.path.join(self.tmp, "out-b")
        r = self.on_b("restore", "tree", "-o", out)
        self.assertIn("3 levels", r.errtext)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))

    def test_machine_b_continues_the_chain_of_a_from_the_destination(self):
        a = self.chain_on_a(3)
        # B: its own copy of the tree, restored from A's chain, then changed.
        copy = os.path.join(self.tmp, "b")
        self.on_b("restore", "tree", "-o", copy)
        tree_b = os.path.join(copy, "tree")
        evolve(tree_b, 3)
        expected = tree_digest(tree_b)
        r = self.on_b("backup", tree_b, "--incremental")
        self.assertIn("Incremental level 3 of tree, after %s: continuing the chain of %s from the destination"
                      % (a[-1]["stored_filename"], a[-1]["stored_filename"]), r.errtext)
        b = self.show(self.env_b)
        self.assertEqual((b[-1]["metadata"]["level"], b[-1]["metadata"]["parent"]), (3, a[-1]["stored_filename"]))
        # Only the truncated b.bin and the directories: nothing B restored
        # unchanged is stored again.
        self.assertLess(b[-1]["size"], a[0]["size"] / 10)
        self.assertEqual(b[-1]["metadata"]["files"], 1)
        # B's next level goes on from the snapshot B now keeps.
        evolve(tree_b, 4)
        r = self.on_b("backup", tree_b, "--incremental")
        self.assertNotIn("from the destination", r.errtext)
        self.assertEqual(self.show(self.env_b)[-1]["metadata"]["level"], 4)
        expected = tree_digest(tree_b)
        # A takes the chain in and restores it whole.
        self.ok("sync")
        out = os.path.join(self.tmp, "out-a")
        r = self.ok("restore", "tree", "-o", out)
        self.assertIn("5 levels", r.errtext)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), expected)

    def test_machine_b_without_the_identity_starts_a_new_full_and_says_why(self):
        key = os.path.join(self.tmp, "key.txt")
        recipient = age_keygen(key)
        for step in range(2):
            evolve(self.src, step)
            self.ok("backup", self.src, "--incremental", "--recipient", recipient)
        a = self.show()
        r = self.on_b("backup", self.src, "--incremental", "--recipient", recipient)
        self.assertIn("Incremental level 0 (full) of tree: a new full, as this machine has no snapshot of its "
                      "latest level, %s, and cannot rebuild it from the destination" % a[-1]["stored_filename"],
                      r.errtext)
        self.assertEqual(self.show(self.env_b)[-1]["metadata"]["level"], 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
