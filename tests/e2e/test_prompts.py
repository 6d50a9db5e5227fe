"""What a person at a terminal sees: password prompts (asked twice on
backup, before any download on restore) and the progress bar."""
import os
import sqlite3

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
        self.assertNotIn(b"Downloading", p.before)
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
        self.assertNotIn(b"Downloading", p.before)

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
