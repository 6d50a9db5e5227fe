"""What a person at a terminal sees: password prompts (asked twice on
backup, before any download on restore) and the progress bar."""
import fcntl
import os
import pty
import re
import select
import sqlite3
import struct
import subprocess
import termios
import time

import pexpect

import harness
from harness import BakthatTestCase, tree_digest


class PromptCase(BakthatTestCase):
    """Runs bakthat on a pseudo-terminal (pexpect)."""

    def spawn(self, *args):
        return pexpect.spawn(harness.BIN, list(args), cwd=self.work, env=self.env, timeout=120)

    def finish(self, p):
        """Waits for the spawned command to end; its exit status."""
        p.expect(pexpect.EOF)
        p.close()
        return p.exitstatus

    def make_dir(self, name="d", size=3000000):
        d = os.path.join(self.work, name)
        os.makedirs(d)
        with open(os.path.join(d, "data"), "wb") as f:
            f.write(os.urandom(size))
        return d

    def rows(self):
        if not os.path.exists(self.catalog_path()):
            return 0
        db = sqlite3.connect(self.catalog_path())
        try:
            return db.execute("select count(*) from backups").fetchone()[0]
        finally:
            db.close()


class TerminalPrompts(PromptCase):
    def test_backup_of_standard_input_refuses_a_terminal(self):
        # Before the password prompt: nothing is asked, nothing stored.
        p = self.spawn("backup", "-", "--name", "typed")
        p.expect("reads standard input, which is a terminal")
        self.assertEqual(self.finish(p), 2)
        self.assertEqual(self.rows(), 0)

    def test_password_twice_then_restore_asks_first(self):
        src = self.make_dir()
        self.write_config("default:\n  scrypt_work_factor: 12\n")
        p = self.spawn("backup", "d")
        p.expect("Password")
        p.sendline("s3cret pass")
        p.expect("confirmation")
        p.sendline("s3cret pass")
        self.assertEqual(self.finish(p), 0, p.before)
        stored = self.store_objects()
        self.assertEqual(len(stored), 1)
        self.assertTrue(stored[0].endswith(".tgz.enc"))
        out = os.path.join(self.tmp, "out")
        p = self.spawn("restore", "d", "-o", out)
        p.expect("Password")
        self.assertNotIn(b"Reading from", p.before)
        p.sendline("s3cret pass")
        self.assertEqual(self.finish(p), 0, p.before)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "d")))

    def test_wrong_password_at_restore_writes_nothing(self):
        self.make_dir()
        self.write_config("default:\n  scrypt_work_factor: 12\n")
        self.ok("backup", "d", env={"BAKTHAT_PASSWORD": "right"})
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        p = self.spawn("restore", "d", "-o", out)
        p.expect("Password")
        p.sendline("wrong")
        self.assertNotEqual(self.finish(p), 0)
        self.assertIn(b"wrong password", p.before)
        self.assertEqual(os.listdir(out), [])

    def test_mismatch_stores_nothing(self):
        self.make_dir()
        p = self.spawn("backup", "d")
        p.expect("Password")
        p.sendline("one")
        p.expect("confirmation")
        p.sendline("two")
        self.assertNotEqual(self.finish(p), 0)
        self.assertIn(b"do not match", p.before)
        self.assertFalse(os.path.exists(self.store_dir()) and self.store_objects())
        self.assertEqual(self.rows(), 0)

    def test_empty_password_means_no_encryption(self):
        self.make_dir()
        p = self.spawn("backup", "d")
        p.expect("Password")
        p.sendline("")
        self.assertEqual(self.finish(p), 0, p.before)
        self.assertTrue(self.store_objects()[0].endswith(".tgz"))

    def test_config_warning_comes_before_the_prompt(self):
        # `recipient:` (sic) leaves the backup without recipients, so the
        # password is asked: the reason must be on the screen before, and once.
        self.make_dir()
        self.write_config("default:\n  recipient: age1xyz\n")
        p = self.spawn("backup", "d")
        p.expect("Password")
        self.assertIn(b"unknown key 'recipient' (did you mean 'recipients'?)", p.before)
        p.sendline("")
        self.assertEqual(self.finish(p), 0, p.before)
        self.assertNotIn(b"unknown key", p.before)

    def test_progress_bar_on_a_terminal(self):
        self.make_dir(size=40000000)
        p = self.spawn("backup", "d", "--prompt", "no")
        self.assertEqual(self.finish(p), 0, p.before)
        # A local destination is written, not uploaded.
        self.assertRegex(p.before.decode(), r"Writing .*\] 100%")
        self.assertNotIn("Uploading", p.before.decode())
        self.assertIn("/s", p.before.decode())
        self.assertNotIn("Upload completion", p.before.decode())


class ProgressBar(PromptCase):
    """The bar on a terminal of a given width: each drawing fits on one line
    with whole figures, shows the total once known, follows a resize, and
    Ctrl-C wipes it before the error's line."""

    # One drawing: the label, the count (of the total), an optional bar, the
    # percentage, then the rate and the ETA as far as they fit.
    DRAWING = re.compile(r"^(Writing|Uploading|Reading|Downloading) [0-9.]+ [KMGTP]?B( of [0-9.]+ [KMGTP]?B)?"
                         r"( \[[# ]+\])?( [0-9]+%)?(  [0-9.]+ [KMGTP]?B/s)?(  ETA [0-9]+:[0-9]{2})?$")

    def drawings(self, output):
        """The bar's drawings in a terminal's output: what follows each
        carriage return + erase-line, up to the next control character."""
        return [re.split(r"[\r\n\x1b^]", part, maxsplit=1)[0] for part in output.split("\r\x1b[K")[1:]]

    def check_drawings(self, output, columns):
        drawings = [d for d in self.drawings(output) if d]
        self.assertTrue(drawings, output)
        for d in drawings:
            self.assertLess(len(d), columns, "%r wider than %d columns" % (d, columns))
            self.assertRegex(d, self.DRAWING)
        return drawings

    @staticmethod
    def set_columns(fd, columns):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))

    def start_stream_backup(self, columns):
        """(process, terminal): `backup - --name stream` with standard input
        a pipe and its output on a pseudo-terminal of `columns` columns,
        its controlling terminal (so that Ctrl-C typed there reaches it);
        both are ended and closed when the test ends."""
        master, slave = pty.openpty()
        self.set_columns(slave, columns)

        def controlling_terminal():
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        proc = subprocess.Popen([harness.BIN, "backup", "-", "--name", "stream", "--prompt", "no"],
                                cwd=self.work, env=self.env, stdin=subprocess.PIPE, stdout=slave,
                                stderr=slave, preexec_fn=controlling_terminal)
        os.close(slave)

        def end():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdin.close()
            os.close(master)
        self.addCleanup(end)
        return proc, master

    @staticmethod
    def read_until(master, pattern, output, feed=None, timeout=60):
        """Reads the terminal into output (a bytearray) until pattern (a
        regular expression, or a test of the text) matches the text read so
        far; calls feed() every 50 ms meanwhile."""
        deadline = time.monotonic() + timeout
        found = pattern if callable(pattern) else lambda text: re.search(pattern, text)
        while not found(output.decode("utf-8", "replace")):
            if time.monotonic() > deadline:
                raise AssertionError("no %r in %r" % (pattern, bytes(output)))
            if not select.select([master], [], [], 0.05)[0]:
                if feed:
                    feed()
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side closed
                chunk = b""
            if not chunk:
                raise AssertionError("no %r in %r" % (pattern, bytes(output)))
            output += chunk

    @staticmethod
    def feeder(proc):
        """What feeds the stream backup a quarter of a MiB at a time."""
        def feed():
            proc.stdin.write(os.urandom(1 << 18))
            proc.stdin.flush()
        return feed

    def test_bar_fits_the_terminal_and_shows_the_total(self):
        self.make_dir(size=60000000)
        for columns in (40, 120):
            p = pexpect.spawn(harness.BIN, ["backup", "d", "--prompt", "no"], cwd=self.work, env=self.env,
                              timeout=120, dimensions=(24, columns))
            self.assertEqual(self.finish(p), 0, p.before)
            drawings = self.check_drawings(p.before.decode(), columns)
            # The tree's size is known before its first byte is stored: every
            # drawing shows it, the last at 100%.
            for d in drawings:
                self.assertIn(" of 57.2 MB", d)
            self.assertIn("100%", drawings[-1])
            if columns == 120:
                self.assertRegex(drawings[-1], r"\[#{30}\] 100%  [0-9.]+ [KMGTP]?B/s$")

    def test_bar_follows_a_resize(self):
        proc, master = self.start_stream_backup(120)
        output = bytearray()
        feed = self.feeder(proc)
        self.read_until(master, r"Writing [0-9.]+ [KM]?B  ", output, feed)
        wide = len(output)
        self.set_columns(master, 20)
        # Three drawings after the resize.
        self.read_until(master, lambda text: text.encode()[wide:].count(b"\r\x1b[K") >= 3, output, feed)
        proc.stdin.close()
        self.read_until(master, r"Stored stream\.", output)
        self.assertEqual(proc.wait(timeout=60), 0, output)
        text = output.decode("utf-8", "replace")
        self.check_drawings(text[:wide], 120)
        narrow = self.check_drawings(text[wide:], 20)
        self.assertGreater(len(narrow), 1, text)

    def test_ctrl_c_wipes_the_bar_before_the_error(self):
        proc, master = self.start_stream_backup(80)
        output = bytearray()
        self.read_until(master, r"Writing [0-9.]+ [KM]?B  ", output, self.feeder(proc))
        os.write(master, b"\x03")  # Ctrl-C, as typed
        self.read_until(master, r"interrupted", output)
        self.assertEqual(proc.wait(timeout=10), 130, output)
        # The error's line starts at the margin on a wiped line: no rest of
        # the bar after it.
        self.assertRegex(output.decode("utf-8", "replace"), r"\r\x1b\[Kbakthat: [^\r\n]*interrupted")
        self.assertEqual(self.rows(), 0)
        self.assertFalse(os.path.exists(self.store_dir()) and self.store_objects())


class ConfigurePrompts(PromptCase):
    """configure's questions at a terminal: Enter keeps what the profile has,
    secrets show masked, a bad answer is asked again, Ctrl-C writes nothing."""

    S3_PROFILE = ("default:\n  access_key: AKIAIOSFODNN7EXAMPLE\n  secret_key: wJalrXUtnFEMIK7MDENGbPxRfiCYSEKRIT\n"
                  "  s3_bucket: mybucket\n  glacier_vault: ''\n  default_destination: s3\n"
                  "  region_name: eu-west-3\n  compress: false\n")

    def config(self):
        with open(os.path.join(self.home, ".bakthat.yml")) as f:
            return f.read()

    def test_enter_keeps_every_value(self):
        self.write_config(self.S3_PROFILE)
        p = self.spawn("configure")
        p.expect(r"AWS Access Key \[\*\*\*\*MPLE\]: ")
        p.sendline("")
        p.expect(r"AWS Secret Key \[\*\*\*\*KRIT\]: ")
        p.sendline("")
        for question in ("S3 Bucket Name", "Glacier Vault Name", "Default destination", "Region Name"):
            p.expect(question)
            p.sendline("")
        self.assertEqual(self.finish(p), 0, p.before)
        import yaml
        with open(os.path.join(self.home, ".bakthat.yml")) as f:
            conf = yaml.safe_load(f)["default"]
        self.assertEqual(conf, yaml.safe_load(self.S3_PROFILE)["default"])
        # Neither secret was ever on the screen.
        self.assertNotIn(b"SEKRIT", p.before)

    def test_bad_answer_is_asked_again(self):
        p = self.spawn("configure")
        for q in ("Access Key", "Secret Key", "Bucket", "Vault"):
            p.expect(q)
            p.sendline("")
        p.expect("Default destination")
        p.sendline("ftp")
        p.expect("unknown destination|ftp")
        p.expect("Default destination")
        p.sendline("local")
        p.expect("Region Name")
        p.sendline("")
        self.assertEqual(self.finish(p), 0, p.before)
        self.assertIn("default_destination: local", self.config())
        # The Python tool reads glacier_vault unconditionally: kept, empty.
        import yaml
        self.assertEqual(yaml.safe_load(self.config())["default"]["glacier_vault"], "")

    def test_ctrl_c_at_configure_writes_nothing(self):
        self.write_config(self.S3_PROFILE)
        for answers in (0, 2, 4):
            p = self.spawn("configure")
            for _ in range(answers):
                p.expect(": ")
                p.sendline("changed")
            p.expect(": ")
            p.sendintr()
            self.assertEqual(self.finish(p), 130, p.before)
            self.assertEqual(self.config(), self.S3_PROFILE)

    def test_ctrl_c_at_password_prompts(self):
        self.make_dir()
        p = self.spawn("backup", "d")
        p.expect("Password")
        p.sendintr()
        self.assertEqual(self.finish(p), 130, p.before)
        p = self.spawn("backup", "d")
        p.expect("Password")
        p.sendline("pw")
        p.expect("confirmation")
        p.sendintr()
        self.assertEqual(self.finish(p), 130, p.before)
        self.assertFalse(os.path.exists(self.store_dir()) and self.store_objects())
        self.assertEqual(self.rows(), 0)
        self.write_config("default:\n  scrypt_work_factor: 12\n")
        self.ok("backup", "d", env={"BAKTHAT_PASSWORD": "right"})
        out = os.path.join(self.tmp, "out")
        p = self.spawn("restore", "d", "-o", out)
        p.expect("Password")
        p.sendintr()
        self.assertEqual(self.finish(p), 130, p.before)
        self.assertFalse(os.path.exists(out))
        # The terminal's echo came back.
        self.assertNotIn(b"Reading from", p.before)

    def test_rotation_prompts_offer_the_current_rule(self):
        self.write_config("default:\n  rotation:\n    days: 3\n    weeks: 2\n    months: 12\n"
                          "    first_week_day: monday\n")
        p = self.spawn("configure_backups_rotation")
        p.expect(r"days to keep \[3\]")
        p.sendline("")
        p.expect(r"weeks to keep \[2\]")
        p.sendline("x")
        p.expect(r"weeks to keep \[2\]")  # asked again
        p.sendline("5")
        p.expect(r"months to keep \[12\]")
        p.sendline("")
        p.expect(r"First week day.*\[monday\]")
        p.sendline("")
        self.assertEqual(self.finish(p), 0, p.before)
        import yaml
        self.assertEqual(yaml.safe_load(self.config())["default"]["rotation"],
                         {"days": 3, "weeks": 5, "months": 12, "first_week_day": "monday"})
