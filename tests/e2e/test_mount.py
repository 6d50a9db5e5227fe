"""`bakthat mount NAME DIR` (FUSE 3) on the local store: every backup of a
name by date (DIR/<date>/, DIR/latest), or the one backup a stored name
picks at DIR itself; what `cat`, `ls -l` and stat show (content, size,
mode, mtime, symlink targets) equals a full restore; unmounted cleanly by
fusermount3 -u and by Ctrl-C. Skipped, saying why, where /dev/fuse or
fusermount3 cannot be used or the binary was built without FUSE."""
import os
import shutil
import signal
import stat
import subprocess
import time
import unittest

from harness import BIN, BakthatTestCase

FUSERMOUNT = shutil.which("fusermount3")


def fuse_unusable():
    """Why FUSE cannot be used here, or None."""
    if FUSERMOUNT is None:
        return "fusermount3 is not installed (Debian fuse3)"
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
    except OSError as e:
        return "/dev/fuse cannot be opened: %s" % e.strerror
    os.close(fd)
    return None


def tree_of(root):
    """path -> (kind, mode bits, size, mtime, content or link target) of
    everything under root, as lstat and reading show it."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", stat.S_IMODE(st.st_mode), None, int(st.st_mtime), os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), None, int(st.st_mtime), None)
            else:
                with open(p, "rb") as f:
                    data = f.read()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_size, int(st.st_mtime), data)
    return out


class Mount(BakthatTestCase):
    def setUp(self):
        super().setUp()
        why = fuse_unusable()
        if why:
            self.skipTest(why)
        self.src = os.path.join(self.work, "src")
        os.makedirs(os.path.join(self.src, "sub", "deep"))
        with open(os.path.join(self.src, "notes.txt"), "w") as f:
            f.write("some notes\n")
        with open(os.path.join(self.src, "sub", "big.bin"), "wb") as f:
            f.write(os.urandom(5 << 20))  # several gzip members, many cache blocks
        with open(os.path.join(self.src, "sub", "deep", "script.sh"), "w") as f:
            f.write("#!/bin/sh\necho hi\n")
        os.chmod(os.path.join(self.src, "sub", "deep", "script.sh"), 0o750)
        os.chmod(os.path.join(self.src, "notes.txt"), 0o600)
        os.symlink("notes.txt", os.path.join(self.src, "link"))
        os.link(os.path.join(self.src, "notes.txt"), os.path.join(self.src, "sub", "hard.txt"))
        os.utime(os.path.join(self.src, "notes.txt"), (1500000000, 1500000000))
        self.mnt = os.path.join(self.tmp, "mnt")
        os.makedirs(self.mnt)
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            subprocess.run([FUSERMOUNT, "-u", self.mnt], capture_output=True)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        super().tearDown()

    def mount(self, *args):
        """Starts `bakthat mount ARGS DIR` and waits for DIR to be mounted."""
        self.proc = subprocess.Popen([BIN, "mount", *args, self.mnt], cwd=self.work, env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode()
                if "without FUSE support" in err:
                    self.skipTest("this bakthat was built without FUSE support")
                self.fail("mount exited %d: %s" % (self.proc.returncode, err))
            self.assertLess(time.monotonic(), deadline, "not mounted within 60 s")
            time.sleep(0.1)

    def unmount(self, how):
        """Unmounts by fusermount3 -u or SIGINT; the command exits 0 and DIR
        is an empty directory again."""
        if how == "fusermount3":
            subprocess.run([FUSERMOUNT, "-u", self.mnt], check=True)
        else:
            self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=60)
        self.assertEqual(self.proc.returncode, 0, err.decode())
        self.assertFalse(os.path.ismount(self.mnt))
        self.assertEqual(os.listdir(self.mnt), [])

    def restored(self, name, where):
        out = os.path.join(self.tmp, where)
        os.makedirs(out)
        self.ok("restore", name, "-o", out)
        return tree_of(out)

    def test_every_backup_of_a_name_by_date_as_a_full_restore_shows_it(self):
        self.ok("backup", "src", "--prompt", "no")
        first = self.store_objects()[0]
        old = self.restored(first, "old")
        time.sleep(1.1)  # another second: another date
        with open(os.path.join(self.src, "notes.txt"), "a") as f:
            f.write("more\n")
        os.remove(os.path.join(self.src, "sub", "deep", "script.sh"))
        self.ok("backup", "src", "--prompt", "no")
        new = self.restored("src", "new")
        self.assertNotEqual(old, new)
        self.mount("src", "--cache-mb", "1")  # less than a file: blocks go and come back
        dates = sorted(n for n in os.listdir(self.mnt) if n != "latest")
        self.assertEqual(len(dates), 2, os.listdir(self.mnt))
        self.assertEqual(os.readlink(os.path.join(self.mnt, "latest")), dates[1])
        self.assertEqual(tree_of(os.path.join(self.mnt, dates[0])), old)
        self.assertEqual(tree_of(os.path.join(self.mnt, "latest")), new)
        # Read out of order: the last MiB, then the first bytes.
        with open(os.path.join(self.mnt, "latest", "src", "sub", "big.bin"), "rb") as f:
            f.seek(4 << 20)
            tail = f.read()
            f.seek(0)
            head = f.read(1000)
        with open(os.path.join(self.src, "sub", "big.bin"), "rb") as f:
            data = f.read()
        self.assertEqual((head, tail), (data[:1000], data[4 << 20:]))
        # ls -l as well as stat: the same mode, size (but a directory's,
        # which is the file system's own), time, name and link target.
        def ls(d):
            lines = subprocess.run(["ls", "-l", "--time-style=+%s", d], capture_output=True, text=True,
                                   check=True).stdout.splitlines()[1:]
            return [[w[0]] + ([] if w[0].startswith("d") else [w[4]]) + w[5:] for w in map(str.split, lines)]

        self.assertEqual(ls(os.path.join(self.mnt, "latest", "src")), ls(os.path.join(self.tmp, "new", "src")))
        # Read-only.
        with self.assertRaises(OSError):
            open(os.path.join(self.mnt, "latest", "src", "notes.txt"), "w")
        self.unmount("fusermount3")

    def test_one_stored_name_at_the_root_and_ctrl_c_unmounts(self):
        self.ok("backup", "src", "--prompt", "no")
        stored = self.store_objects()[0]
        full = self.restored("src", "full")
        self.mount(stored)
        self.assertEqual(os.listdir(self.mnt), ["src"])
        self.assertEqual(tree_of(self.mnt), full)
        cat = subprocess.run(["cat", os.path.join(self.mnt, "src", "sub", "hard.txt")], capture_output=True,
                             check=True)
        self.assertEqual(cat.stdout, b"some notes\n")
        self.unmount("sigint")

    def test_a_password_backup(self):
        password = os.path.join(self.tmp, "password")
        with open(password, "w") as f:
            f.write("s3cret\n")
        self.ok("backup", "src", "--password-file", password)
        out = os.path.join(self.tmp, "full")
        os.makedirs(out)
        self.ok("restore", "src", "-o", out, "--password-file", password)
        self.mount("src", "--password-file", password)
        self.assertEqual(tree_of(os.path.join(self.mnt, "latest")), tree_of(out))
        self.unmount("fusermount3")

    def test_a_name_without_backups_fails_before_mounting(self):
        r = self.fails("mount", "nothing", self.mnt)
        self.assertIn("nothing", r.errtext)
        self.assertFalse(os.path.ismount(self.mnt))


if __name__ == "__main__":
    unittest.main()
