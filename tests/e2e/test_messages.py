"""What the command line tells a user and a script: where things went, what
is wrong (before any data is read, never echoing a secret), help and
parsing as the Python tool's argparse allowed, --json, and the switches
cron jobs need (--password-file, password_command, prompt: no, -q, -v)."""
import json
import os
import re
import sqlite3
import subprocess

from harness import BIN, BakthatTestCase, profile_text, servers
from s3util import new_bucket, swift_profile


def age_keygen(path):
    subprocess.run(["age-keygen", "-o", path], check=True, capture_output=True)
    return subprocess.run(["age-keygen", "-y", path], check=True, capture_output=True,
                          text=True).stdout.strip()


class MessagesCase(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.src = os.path.join(self.work, "d")
        os.makedirs(self.src)
        with open(os.path.join(self.src, "f"), "w") as f:
            f.write("data\n" * 1000)

    def rows(self):
        if not os.path.exists(self.catalog_path()):
            return 0
        with sqlite3.connect(self.catalog_path()) as db:
            return db.execute("select count(*) from backups").fetchone()[0]


class Secrets(MessagesCase):
    def test_identity_file_given_as_recipients_is_never_echoed(self):
        key = os.path.join(self.tmp, "key.txt")
        age_keygen(key)
        with open(key) as f:
            secret = [l for l in f.read().splitlines() if l.startswith("AGE-SECRET-KEY-")][0]
        r = self.fails("backup", "d", "--recipients-file", key)
        self.assertEqual(r.code, 2, repr(r))
        self.assertIn("%s line 3" % key, r.errtext)
        self.assertNotIn(secret[15:25], r.errtext + r.text)
        # Given on the command line, or in the config: not echoed either.
        r = self.fails("backup", "d", "--recipient", secret)
        self.assertNotIn(secret[15:25], r.errtext + r.text)
        self.write_config("default:\n  recipients: [%s]\n" % secret)
        r = self.fails("backup", "d")
        self.assertNotIn(secret[15:25], r.errtext + r.text)
        self.assertEqual(self.rows(), 0)


class CheckedEarly(MessagesCase):
    def test_bad_recipient_before_backing_up(self):
        r = self.fails("backup", "d", "--recipient", "age1notakey")
        self.assertIn("invalid age recipient", r.errtext)
        self.assertNotIn("Backing up", r.errtext)
        self.assertEqual(self.rows(), 0)

    def test_missing_or_refused_credentials_before_backing_up(self):
        self.write_config("default:\n  s3_bucket: b\n  s3_endpoint: http://127.0.0.1:15000\n")
        r = self.fails("backup", "d", "-d", "s3", "--prompt", "no")
        self.assertNotIn("Backing up", r.errtext)
        # The Swift server's S3 API checks signatures (moto does not).
        self.write_config(swift_profile(new_bucket("early"), secret_key="wrong"))
        r = self.fails("backup", "d", "-d", "s3", "--prompt", "no")
        self.assertEqual(r.code, 9, repr(r))
        self.assertNotIn("Backing up", r.errtext)
        self.assertEqual(self.rows(), 0)


    def test_unusable_destination_before_reading_a_byte(self):
        """A bucket, container or vault that can be neither found nor
        created: one line, before "Backing up", and before a byte of the
        data is read (standard input is a pipe that never gets any: a read
        would wait for it)."""
        s = servers()
        swift = {"access_key": '"%s"' % s["SWIFT_USER"], "auth_url": s["SWIFT_AUTH_URL"], "auth_version": "'1'"}
        glacier = {"access_key": "x", "secret_key": "y", "region_name": "us-east-1"}
        cases = [
            ("s3", swift_profile("Not_A_Bucket!"), 10, "InvalidBucketName"),
            ("s3", swift_profile("ab"), 10, "InvalidBucketName"),
            ("s3", swift_profile(new_bucket("early"), secret_key="wrong"), 9, "wrong secret key"),
            ("s3", swift_profile(new_bucket("early"), s3_endpoint="http://127.0.0.1:1"), 10, "cannot connect"),
            ("swift", profile_text(dict(swift, secret_key="wrong", s3_bucket="c")), 9, "authentication failed"),
            ("swift", profile_text(dict(swift, secret_key=s["SWIFT_KEY"], s3_bucket="a" * 300)), 10, "longer than 256"),
            ("glacier", profile_text(dict(glacier, glacier_vault="v", glacier_endpoint="http://127.0.0.1:1")), 10,
             "cannot connect"),
        ]
        for destination, profile, code, message in cases:
            with self.subTest(destination=destination, message=message):
                self.write_config(profile)
                proc = subprocess.Popen([BIN, "backup", "-", "--name", "s", "-d", destination, "--prompt", "no"],
                                        cwd=self.work, env=dict(self.env, BAKTHAT_RETRY_ATTEMPTS="2"),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                try:
                    _, err = proc.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                    self.fail("waited for the data instead of refusing the destination")
                finally:
                    proc.stdin.close()
                err = err.decode()
                self.assertEqual(proc.returncode, code, err)
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertIn(message, err)
                self.assertEqual(self.rows(), 0)


class WhereItWent(MessagesCase):
    def test_backup_and_restore_say_where(self):
        r = self.ok("backup", "d", "--prompt", "no")
        self.assertRegex(r.errtext, r"Stored d\.\d{14}\.tgz \(.*\) in %s" % re.escape(self.store_dir()))
        self.assertNotIn("Uploading", r.errtext)
        out = os.path.join(self.tmp, "out")
        r = self.ok("restore", "d", "-o", out)
        self.assertIn("into %s: d" % out, r.errtext)
        # Read from the disk, not downloaded.
        self.assertIn("Reading from %s..." % self.store_dir(), r.errtext)
        self.assertNotIn("Download", r.errtext)
        r = self.ok("restore", "d", "-o", out, "--force", "-v", env={"BAKTHAT_PASSWORD": ""})
        self.assertIn("Read completion: 100%", r.errtext)

    def test_empty_show_and_ls_say_so(self):
        r = self.ok("show")
        self.assertEqual(r.text, "")
        self.assertIn("No backups in the catalog", r.errtext)
        r = self.ok("ls")
        self.assertIn("Nothing stored in %s" % self.store_dir(), r.errtext)

    def test_no_file_matched_names_the_name(self):
        self.ok("backup", "d", "--prompt", "no")
        r = self.fails("restore", "nothere")
        self.assertEqual(r.code, 4)
        self.assertIn("No file matched 'nothere'", r.errtext)
        self.assertIn("bakthat show", r.errtext)

    def test_show_flags_backups_that_left_files_out_or_changed(self):
        self.ok("backup", "d", "--prompt", "no")
        self.ok("backup", "-", "--name", "clean", "--prompt", "no", input=b"x")
        # The row as a backup with unreadable and changed files writes it.
        with sqlite3.connect(self.catalog_path()) as db:
            (rid, meta), = db.execute("select id, metadata from backups where filename = 'd'").fetchall()
            meta = json.loads(meta)
            meta.update({"unreadable": ["d/a", "d/b"], "unreadable_count": 2, "changed": ["d/log"],
                         "changed_count": 1})
            db.execute("update backups set metadata = ? where id = ?", (json.dumps(meta), rid))
        lines = self.ok("show").text.splitlines()
        [flagged] = [l for l in lines if "\td." in l]
        self.assertIn("[2 unreadable file(s) left out, 1 file(s) changed while read]", flagged)
        [clean] = [l for l in lines if "clean." in l]
        self.assertNotIn("[", clean)


class Scripts(MessagesCase):
    def test_password_file_and_command_and_no_prompt(self):
        self.write_config("default:\n  scrypt_work_factor: 12\n")
        pw = os.path.join(self.tmp, "pw")
        with open(pw, "w") as f:
            f.write("s3cret\n")
        self.ok("backup", "d", "--password-file", pw)
        [stored] = self.store_objects()
        self.assertTrue(stored.endswith(".tgz.enc"), stored)
        out = os.path.join(self.tmp, "out")
        self.ok("restore", "d", "-o", out, "--password-file", pw)
        self.assertTrue(os.path.exists(os.path.join(out, "d", "f")))
        # password_command, and prompt: no
        self.write_config("default:\n  scrypt_work_factor: 12\n  password_command: cat %s\n  prompt: no\n" % pw)
        r = self.ok("verify", "d")
        self.assertNotIn("s3cret", r.errtext + r.text)
        self.write_config("default:\n  scrypt_work_factor: 12\n  password_command: exit 3\n")
        r = self.fails("verify", "d")
        self.assertIn("password_command failed", r.errtext)

    def test_quiet_and_progress_without_a_terminal(self):
        with open(os.path.join(self.src, "big"), "wb") as f:
            f.write(os.urandom(3 << 20))
        r = self.ok("backup", "d", "--prompt", "no")
        self.assertNotIn("completion", r.errtext)  # cron mail: the start and end lines
        self.assertIn("Backing up", r.errtext)
        r = self.ok("-q", "backup", "d", "--prompt", "no")
        self.assertEqual(len(r.errtext.splitlines()), 1, r.errtext)
        self.assertTrue(r.errtext.startswith("Stored d."), r.errtext)


class HelpAndParsing(MessagesCase):
    def test_subcommand_help(self):
        r = self.ok("restore", "--help")
        self.assertIn("--config", r.text)   # the global options
        self.assertRegex(r.text, r"Usage: bakthat restore \[OPTIONS\] name\b")
        self.assertNotIn(os.path.dirname(os.path.abspath(self.bin())), r.text)
        self.assertEqual(self.ok("help", "restore").text, r.text)
        for cmd in ("backup", "delete", "delete_older_than", "rotate_backups", "verify", "configure",
                    "configure_backups_rotation", "ls", "show"):
            text = self.ok(cmd, "--help").text
            opts = text[text.index("Options:"):] if "Options:" in text else ""
            pos = text[text.index("Positionals:"):text.index("Options:")] if "Positionals:" in text else ""
            for line in (pos + opts).splitlines()[1:]:
                if line.strip() and line.startswith("  ") and not line.startswith("      "):
                    self.assertRegex(line.strip(), r"\S+.*\s{2,}\S", "%s: %r undescribed" % (cmd, line))

    def bin(self):
        import harness
        return harness.BIN

    def test_did_you_mean(self):
        r = self.fails("shwo")
        self.assertIn("did you mean 'show'", r.errtext)
        r = self.fails("rotate_backups", "x", "--dryrun")
        self.assertIn("did you mean '--dry-run'", r.errtext)

    def test_tags_prefixes_and_prompt_case(self):
        self.ok("backup", "d", "-t", "a", "-t", "b", "--prompt", "NO")
        self.ok("backup", "d", "-t", "c d", "--prom", "no")
        rows = json.loads(self.ok("show", "--json").text)
        self.assertEqual(sorted(r["tags"] for r in rows), ["a b", "c d"])
        r = self.ok("delete_older_than", "d", "1y", "--dry", "--js")
        self.assertEqual(len(json.loads(r.text)), 2)

    def test_json_everywhere(self):
        r = self.ok("backup", "d", "--prompt", "no", "--json")
        stored = json.loads(r.text)["stored_filename"]
        self.assertEqual(json.loads(self.ok("verify", "d", "--json").text)["stored_filename"], stored)
        self.assertEqual([o["name"] for o in json.loads(self.ok("ls", "--json").text)], [stored])
        self.assertEqual(json.loads(self.ok("periodic_backups", "--json").text), [])
        d = json.loads(self.ok("delete_older_than", "d", "1D", "--json").text)
        self.assertEqual(d[0]["record"]["stored_filename"], stored)
        self.assertTrue(d[0]["keep"])


class PythonFiles(MessagesCase):
    def test_loose_mode_warning_says_how_to_fix_it(self):
        path = self.write_config("default:\n  access_key: AK\n  secret_key: SK\n  glacier_vault: ''\n")
        os.chmod(path, 0o644)
        r = self.ok("show")
        self.assertEqual(r.errtext.count("chmod 600 %s" % path), 1, r.errtext)
        self.ok("configure", "--s3-bucket", "b")
        with open(path) as f:
            self.assertIn("glacier_vault: \"\"", f.read())
