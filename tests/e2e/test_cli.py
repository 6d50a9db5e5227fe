"""The command line's own contract: configure, profiles, global options in
either place, aliases, help and version, one-line errors."""
import json
import os
import re
import sqlite3
import stat
import subprocess
import time

from harness import BakthatTestCase


class Configure(BakthatTestCase):
    def test_flags_write_a_private_file(self):
        self.ok("configure", "--access-key", "AK", "--secret-key", "SECRETVALUE", "--s3-bucket", "b",
                "--region-name", "eu-west-1")
        path = os.path.join(self.home, ".bakthat.yml")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        text = open(path).read()
        self.assertIn("s3_bucket: b", text)
        self.assertIn("eu-west-1", text)
        # The Python tool reads glacier_vault unconditionally: there, empty.
        import yaml
        self.assertEqual(yaml.safe_load(text)["default"]["glacier_vault"], "")
        self.write_config("default:\n  glacier_vault: v\n")
        self.ok("configure", "--s3-bucket", "c")
        self.assertEqual(yaml.safe_load(open(path).read())["default"], {"glacier_vault": "v", "s3_bucket": "c"})

    def test_prompts_as_the_original(self):
        answers = "AK\nSK\n\n\nlocal\n\n"
        r = self.ok("configure", input=answers.encode())
        self.assertIn("AWS Access Key", r.errtext)
        self.assertNotIn("SK", r.out.decode())
        text = open(os.path.join(self.home, ".bakthat.yml")).read()
        self.assertIn("access_key: AK", text)
        self.assertIn("default_destination: local", text)
        self.assertIn("us-east-1", text)

    def test_bad_answer_writes_nothing(self):
        self.fails("configure", "--default-destination", "ftp")
        self.assertFalse(os.path.exists(os.path.join(self.home, ".bakthat.yml")))

    def test_profiles_and_config_path(self):
        store_a = os.path.join(self.tmp, "store-a")
        store_b = os.path.join(self.tmp, "store-b")
        cfg = self.write_config("default:\n  local_path: %s\nother:\n  local_path: %s\n" % (store_a, store_b),
                                path=os.path.join(self.tmp, "conf.yml"))
        d = os.path.join(self.work, "d")
        os.makedirs(d)
        open(os.path.join(d, "f"), "w").write("x")
        # global options after the command, as the original took them
        self.ok("backup", "d", "--prompt", "no", "-c", cfg, "-p", "other")
        self.assertEqual(len([n for n in os.listdir(store_b) if n != ".bakthat"]), 1)
        self.assertFalse(os.path.exists(store_a))
        # and before it
        self.ok("-c", cfg, "backup", "d", "--prompt", "no")
        self.assertEqual(len([n for n in os.listdir(store_a) if n != ".bakthat"]), 1)
        rows = json.loads(self.ok("-c", cfg, "show", "--json").out)
        self.assertEqual(len(rows), 2)
        rows = json.loads(self.ok("-c", cfg, "show", "--json", "-p", "other").out)
        self.assertEqual(len(rows), 1)
        self.fails("-c", cfg, "-p", "missing", "show")

    def test_a_named_config_or_profile_that_does_not_exist_is_an_error(self):
        # Without ~/.bakthat.yml every default applies (the local store); a
        # misspelt -c path or profile must not silently mean the same.
        d = os.path.join(self.work, "d")
        os.makedirs(d)
        open(os.path.join(d, "f"), "w").write("x")
        missing = os.path.join(self.tmp, "prod.yml")
        r = self.fails("-c", missing, "backup", "d", "--prompt", "no")
        self.assertIn("config file %s not found" % missing, r.errtext)
        r = self.fails("-p", "prod", "backup", "d", "--prompt", "no")
        self.assertIn("profile 'prod' not found", r.errtext)
        self.fails("-c", missing, "sync")
        self.assertFalse(os.path.exists(self.store_dir()))
        self.ok("-p", "default", "backup", "d", "--prompt", "no")
        self.assertEqual(len(self.store_objects()), 1)
        # configure writes the file a -c names.
        self.ok("-c", missing, "configure", "--default-destination", "local")
        self.assertTrue(os.path.exists(missing))

    def test_secrets_others_can_read_are_warned_of_once(self):
        path = self.write_config("default:\n  access_key: AK\n  secret_key: SEKRIT\n"
                                 "sync:\n  url: http://127.0.0.1:9\n  password: PASSWORD\n")
        os.makedirs(os.path.join(self.work, "d"))
        self.assertNotIn("warning", self.ok("backup", "d", "--prompt", "no").errtext)
        os.chmod(path, 0o644)
        err = self.ok("backup", "d", "--prompt", "no").errtext
        warning = "warning: %s holds secrets and is readable by others: run `chmod 600 %s`" % (path, path)
        self.assertEqual(err.count(warning), 1, err)
        self.assertNotIn("SEKRIT", err)
        self.assertNotIn("PASSWORD", err)

    def test_misspelt_keys_and_hook_events_are_warned_of_once(self):
        path = self.write_config("default:\n  s3-bucket: SEKRIT-BUCKET\n  hooks:\n"
                                 "    after_backup: echo HOOK-RAN\n")
        os.makedirs(os.path.join(self.work, "d"))
        err = self.ok("backup", "d", "--prompt", "no").errtext
        key = ("warning: %s: profile 'default': unknown key 's3-bucket' (did you mean 's3_bucket'?); "
               "it is ignored" % path)
        hook = ("warning: %s: profile 'default': unknown hook event 'after_backup' "
                "(did you mean 'on_backup'?); it never runs" % path)
        self.assertEqual(err.count(key), 1, err)
        self.assertEqual(err.count(hook), 1, err)
        self.assertEqual(err.count("warning"), 2, err)
        self.assertNotIn("SEKRIT", err)
        self.assertNotIn("HOOK-RAN", err)
        # Spelt right, and a key only the Python tool used: no warning, the hook runs.
        self.write_config("default:\n  default_destination: local\n  bakmanager_token: T\n  hooks:\n"
                          "    on_backup: echo HOOK-RAN\n", path)
        err = self.ok("backup", "d", "--prompt", "no").errtext
        self.assertNotIn("warning", err)
        self.assertIn("HOOK-RAN", err)

    def test_rotation_prompt(self):
        self.ok("configure_backups_rotation", input=b"3\n2\n1\nmonday\n")
        text = open(os.path.join(self.home, ".bakthat.yml")).read()
        self.assertIn("days: 3", text)
        self.assertIn("first_week_day: monday", text)  # as written, a name


class Basics(BakthatTestCase):
    def test_version_and_help(self):
        self.assertIn("bakthat", self.ok("--version").text)
        self.assertIn("backup", self.ok("--help").text)

    def test_unknown_or_missing_command_is_one_line(self):
        r = self.fails("-q", "bakup", "x")
        self.assertEqual(r.code, 2)
        self.assertEqual(r.errtext.strip(),
                         "bakthat: unknown command 'bakup' (did you mean 'backup'?) (see bakthat --help)")
        r = self.fails("-q")
        self.assertEqual(r.code, 2)
        self.assertEqual(r.errtext.strip(), "bakthat: A subcommand is required (see bakthat --help)")

    def test_alias(self):
        self.ok("backup", "-", "--name", "x", "--prompt", "no", input=b"x")
        self.ok("delete-older-than", "x", "1D")
        self.ok("rotate-backups", "--help")

    def test_the_original_periodic_key_flag_is_kept_in_the_row(self):
        # `bakthat backup -k daily-db` from the Python tool's crontabs.
        self.ok("backup", "-", "--name", "db", "-k", "daily-db", "--prompt", "no", input=b"dump")
        self.ok("backup", "-", "--name", "db2", "--key", "weekly", "--prompt", "no", input=b"dump")
        rows = {r["filename"]: r["metadata"] for r in json.loads(self.ok("show", "--json").text)}
        self.assertEqual(rows["db"]["periodic_key"], "daily-db")
        self.assertEqual(rows["db2"]["periodic_key"], "weekly")

    def test_periodic_backups_from_the_catalog(self):
        self.assertIn("No periodic backups", self.ok("periodic_backups").errtext)
        for key in ["daily"] * 3 + ["weekly"] * 2 + ["once", ""]:
            args = ["-k", key] if key else []
            self.ok("backup", "-", "--name", "db", "--prompt", "no", *args, input=b"x" * 100)
        # Spread the backups over time as cron would have.
        day = 86400
        now = int(time.time())
        dates = {"daily": [now - 3 * day, now - 2 * day, now - day], "weekly": [now - 30 * day, now - 23 * day]}
        con = sqlite3.connect(self.catalog_path())
        rows = con.execute("SELECT id, metadata FROM backups ORDER BY id").fetchall()
        for rid, meta in rows:
            key = json.loads(meta).get("periodic_key")
            if key in dates:
                con.execute("UPDATE backups SET backup_date = ? WHERE id = ?", (dates[key].pop(0), rid))
        con.commit()
        con.close()
        lines = self.ok("periodic_backups").text.splitlines()
        self.assertEqual([l.split()[0] for l in lines], ["daily", "once", "weekly"], lines)
        self.assertRegex(lines[0], r"^daily +status: ok +interval: 1D +total: .*\(3 backups\)$")
        self.assertRegex(lines[1], r"^once +status: - +interval: - ")
        self.assertRegex(lines[2], r"^weekly +status: late +interval: 1W +.*\(2 backups\)$")

    def test_verbose_and_quiet(self):
        d = os.path.join(self.work, "d")
        os.makedirs(d)
        open(os.path.join(d, "f"), "w").write("x")
        # -q leaves the one line that says what was stored, and where.
        r = self.ok("-q", "backup", "d", "--prompt", "no")
        self.assertRegex(r.errtext, r"^Stored d\.\d{14}\.tgz \(.*\) in %s\n$" % re.escape(self.store_dir()))
        r = self.ok("backup", "d", "--prompt", "no", "-v")
        self.assertIn("sha256", r.errtext)
        self.assertIn("Backing up", r.errtext)

    def test_upload_completion_lines_without_a_terminal(self):
        # The tree is measured while it streams; the total still arrives, so
        # the log has the original's lines, rising to 100%.
        d = os.path.join(self.work, "tree")
        for i in range(40):
            os.makedirs(os.path.join(d, str(i % 7)), exist_ok=True)
            with open(os.path.join(d, str(i % 7), "f%d" % i), "wb") as f:
                f.write(os.urandom(100_000 + i))
        r = self.ok("backup", "tree", "--prompt", "no", "-v")
        steps = [int(m) for m in re.findall(r"^Write completion: (\d+)%$", r.errtext, re.M)]
        self.assertTrue(steps, r.errtext)
        self.assertEqual(steps[-1], 100, r.errtext)
        self.assertEqual(steps, sorted(set(steps)), r.errtext)

    def test_upload_completion_counts_only_what_is_archived(self):
        # An excluded directory: the total leaves it out too, so the log
        # climbs to 90% instead of jumping from 70% to 100% at the end. (The
        # total is measured while the tree streams; 40 MB give it time.)
        d = os.path.join(self.work, "tree")
        os.makedirs(os.path.join(d, "cache"))
        for i in range(40):
            with open(os.path.join(d, "f%d" % i), "wb") as f:
                f.write(os.urandom(1_000_000))
        for i in range(6):
            with open(os.path.join(d, "cache", "c%d" % i), "wb") as f:
                f.write(os.urandom(2_000_000))
        with open(os.path.join(d, ".bakthatexclude"), "w") as f:
            f.write("cache\n")
        r = self.ok("backup", "tree", "--prompt", "no", "-v")
        steps = [int(m) for m in re.findall(r"^Write completion: (\d+)%$", r.errtext, re.M)]
        self.assertIn(90, steps, r.errtext)
        self.assertEqual(steps[-1], 100, r.errtext)

    def test_secret_never_printed(self):
        self.write_config("default:\n  secret_key: TOPSECRETVALUE\n  threads: -1\n")
        r = self.fails("show")
        self.assertNotIn("TOPSECRETVALUE", r.errtext + r.text)
