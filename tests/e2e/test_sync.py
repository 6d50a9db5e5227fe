"""`bakthat sync` between two machines (two HOMEs, two catalogs) through the
project's sync server (tools/bakthat-syncserver, a real HTTP server on
loopback) and one S3 bucket on the Swift test server: a backup made on one
machine restores on the other, a deletion made on one is seen by the other."""
import json
import os
import sqlite3
import time
import uuid

from harness import BakthatTestCase, make_small_tree, servers, tree_digest
from s3util import new_bucket, swift_profile
from syncserver import PASSWORD, SyncServer

class SyncTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.server = SyncServer(self.tmp)
        self.addCleanup(self.server.stop)
        self.bucket = new_bucket("sync")
        # The second machine: its own HOME, catalog and host name in rows.
        self.home_b = os.path.join(self.tmp, "home-b")
        os.makedirs(self.home_b)
        self.env_b = {"HOME": self.home_b, "XDG_DATA_HOME": os.path.join(self.home_b, ".local", "share")}
        self.configure(self.home, self.bucket)
        self.configure(self.home_b, self.bucket)

    def configure(self, home, bucket, auto=False, url=None, password=PASSWORD, profile=None):
        text = (profile or swift_profile(bucket)) + "sync:\n  url: %s\n  username: alice\n  password: %s\n  auto: %s\n" % (
            url or self.server.url, json.dumps(password), "true" if auto else "false")
        self.write_config(text, os.path.join(home, ".bakthat.yml"))

    def on_b(self, *args, **kw):
        env = dict(self.env_b)
        env.update(kw.pop("env", {}))
        return self.ok(*args, env=env, **kw)

    def rows_of(self, home):
        con = sqlite3.connect(os.path.join(home, ".bakthat.sqlite"))
        try:
            return {r[0]: r[1] for r in con.execute("SELECT stored_filename, is_deleted FROM backups")}
        finally:
            con.close()

    def config_of(self, home):
        con = sqlite3.connect(os.path.join(home, ".bakthat.sqlite"))
        try:
            return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM config")}
        finally:
            con.close()

    def test_a_backup_made_on_one_machine_restores_on_the_other_and_deletions_travel(self):
        src = os.path.join(self.work, "tree")
        make_small_tree(src)
        self.ok("backup", src)
        [stored] = self.rows_of(self.home)
        r = self.ok("sync")
        self.assertIn("1 sent, 0 received", r.errtext)
        [row] = self.server.rows()
        self.assertEqual(row["stored_filename"], stored)
        self.assertIn("sha256", row["metadata"])

        r = self.on_b("sync")
        self.assertIn("0 sent, 1 received (1 new, 0 updated)", r.errtext)
        self.assertIn(stored, self.on_b("show").text)
        out = os.path.join(self.work, "out-b")
        self.on_b("restore", "tree", "-o", out)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(src))
        # The row keeps what the first machine knew (checksum, host), so
        # verify works on the second.
        self.on_b("verify", "tree")

        # Deleted on the second machine: gone from the first's catalog too.
        self.on_b("delete", "tree")
        self.assertIn("1 sent", self.on_b("sync").errtext)
        self.assertEqual(self.rows_of(self.home), {stored: 0})
        r = self.ok("sync")
        self.assertIn("1 received (0 new, 1 updated)", r.errtext)
        self.assertEqual(self.rows_of(self.home), {stored: 1})
        self.assertNotIn(stored, self.ok("show").text)
        # Nothing new since: nothing moves.
        self.assertIn("0 received", self.ok("sync").errtext)
        self.assertIn("0 received", self.on_b("sync").errtext)

    def test_a_glacier_vault_backup_restores_on_the_other_machine(self):
        # The vault's archive ids live in each catalog's inventory; the
        # synced row carries its id, so the other machine can retrieve it.
        vault = "bk-e2e-vault-%s" % uuid.uuid4().hex[:10]
        profile = ("default:\n  access_key: x\n  secret_key: y\n  region_name: us-east-1\n"
                   "  glacier_vault: %s\n  glacier_endpoint: %s\n  glacier_tier: Expedited\n"
                   "  default_destination: glacier\n" % (vault, servers()["MOTO_ENDPOINT"]))
        self.configure(self.home, None, profile=profile)
        self.configure(self.home_b, None, profile=profile)
        src = os.path.join(self.work, "vaulted")
        make_small_tree(src)
        self.ok("backup", src)
        self.ok("sync")
        self.on_b("sync")
        [stored] = self.rows_of(self.home_b)
        out = os.path.join(self.work, "out-b")
        self.on_b("restore", "vaulted", "-o", out, "--wait", timeout=120)
        self.assertEqual(tree_digest(os.path.join(out, "vaulted")), tree_digest(src))
        # Now in the second machine's inventory too.
        self.assertIn(stored, self.on_b("ls").text)
        self.on_b("delete", "vaulted")
        self.on_b("sync")
        self.ok("sync")
        self.assertEqual(self.rows_of(self.home), {stored: 1})

    def test_a_deletion_is_never_undone_by_an_older_row(self):
        self.ok("backup", "-", "--name", "db", input=b"x" * 1000)
        self.ok("sync")
        self.on_b("sync")
        self.ok("delete", "db")
        [stored] = self.rows_of(self.home)
        # The second machine's copy of the row changes later (a backup's
        # row is rewritten there) but still says not deleted; the first
        # machine's deletion wins on both sides.
        con = sqlite3.connect(os.path.join(self.home_b, ".bakthat.sqlite"))
        con.execute("UPDATE backups SET last_updated = last_updated + 1000, tags = 'later'")
        con.commit()
        con.close()
        self.ok("sync")
        self.on_b("sync")
        self.assertEqual(self.rows_of(self.home_b), {stored: 1})
        self.ok("sync")
        self.assertEqual(self.rows_of(self.home), {stored: 1})
        self.assertTrue(self.server.rows()[0]["is_deleted"])

    def test_another_stores_backup_of_the_same_name_is_not_taken(self):
        self.ok("backup", "-", "--name", "same", input=b"on s3")
        [stored] = self.rows_of(self.home)
        self.ok("sync")
        # The second machine backed up to its local store in the same second,
        # under the same name.
        self.on_b("show")
        con = sqlite3.connect(os.path.join(self.home_b, ".bakthat.sqlite"))
        con.execute("INSERT INTO backups (backend, backend_hash, backup_date, filename, is_deleted, last_updated,"
                    " metadata, size, stored_filename, tags) VALUES ('local', 'h', 1, 'same', 0, 1, '{}', 5, ?, '')",
                    (stored,))
        con.commit()
        con.close()
        r = self.on_b("sync")
        self.assertIn("not taken from the sync server: %s (s3)" % stored, r.errtext)
        con = sqlite3.connect(os.path.join(self.home_b, ".bakthat.sqlite"))
        self.assertEqual(con.execute("SELECT backend FROM backups").fetchall(), [("local",)])
        con.close()

    def test_auto_sync_after_backup_and_its_failure_is_only_a_warning(self):
        self.configure(self.home, self.bucket, auto=True)
        r = self.ok("backup", "-", "--name", "auto", input=b"auto sync\n")
        self.assertIn("Synced the catalog with", r.errtext)
        self.assertEqual(len(self.server.rows()), 1)
        self.on_b("sync")
        self.assertEqual(self.on_b("restore", "auto", "--stdout").out, b"auto sync\n")
        # A server that cannot be reached: the backup is still made and recorded.
        self.configure(self.home, self.bucket, auto=True, url="http://127.0.0.1:9")
        r = self.ok("backup", "-", "--name", "auto2", input=b"second\n",
                    env={"BAKTHAT_RETRY_ATTEMPTS": "1"})
        self.assertIn("the catalog was not synced", r.errtext)
        self.assertEqual(len(self.rows_of(self.home)), 2)

    def test_rows_of_the_local_destination_stay_on_their_machine(self):
        self.ok("backup", "-", "--name", "here", "-d", "local", input=b"local only\n")
        self.assertIn("0 sent", self.ok("sync").errtext)
        self.assertEqual(self.server.rows(), [])

    def test_reset_sync_sends_and_receives_everything_again(self):
        self.ok("backup", "-", "--name", "one", input=b"1")
        # Rows changed in the second a sync starts are sent again by the
        # next one (harmless, and nothing is missed): let that second pass.
        time.sleep(1.1)
        self.ok("sync")
        first_id = self.config_of(self.home)["client_id"]
        self.assertTrue(first_id)
        self.assertIn("0 sent", self.ok("sync").errtext)
        self.ok("reset_sync")
        self.assertIsNone(self.config_of(self.home)["client_id"])
        r = self.ok("sync")
        self.assertIn("1 sent, 1 received (0 new, 0 updated)", r.errtext)
        # The server knows the machine by its user and host name.
        self.assertEqual(self.config_of(self.home)["client_id"], first_id)
        self.ok("reset-sync")  # the hyphenated alias

    def test_a_wrong_password_is_one_line_and_changes_nothing(self):
        self.ok("backup", "-", "--name", "x", input=b"x")
        self.configure(self.home, self.bucket, password="wrong secret")
        r = self.fails("sync")
        lines = r.errtext.strip().splitlines()
        self.assertEqual(len(lines), 1, r.errtext)
        self.assertIn("refused username 'alice'", lines[0])
        self.assertNotIn("wrong secret", r.errtext + r.text)
        self.assertNotIn("sync_ts", self.config_of(self.home))
        self.assertEqual(self.server.rows(), [])

    def test_missing_or_bad_settings_and_an_unreachable_server(self):
        # Without a server, the catalog syncs through the destination
        # (test_destination_catalog.py).
        self.write_config(swift_profile(self.bucket))
        r = self.fails("sync")
        self.assertIn("bucket '%s' does not exist" % self.bucket, r.errtext)
        self.write_config(swift_profile(self.bucket) + "sync:\n  url: http://alice:pw@127.0.0.1:1\n")
        r = self.fails("sync")
        self.assertIn("holds credentials", r.errtext)
        self.assertNotIn("pw@", r.errtext)
        self.write_config(swift_profile(self.bucket) + "sync:\n  username: alice\n")
        self.assertIn("has no url", self.fails("sync").errtext)
        # A URL that is not the server's API: the server's own words.
        self.configure(self.home, self.bucket, url=self.server.url + "/not/here")
        r = self.fails("sync")
        self.assertIn("POST /clients failed: {\"message\": \"no such resource\"} (404)", r.errtext)
        self.configure(self.home, self.bucket, url="http://127.0.0.1:9")
        r = self.fails("sync", env={"BAKTHAT_RETRY_ATTEMPTS": "1"})
        self.assertIn("cannot connect to http://127.0.0.1:9", r.errtext)
        self.assertEqual(len(r.errtext.strip().splitlines()), 1, r.errtext)

    def test_a_catalog_synced_by_the_python_tool_keeps_its_marks(self):
        # The Python bakthat left client_id and sync_ts (JSON) in `config`.
        self.ok("backup", "-", "--name", "old", input=b"old")
        con = sqlite3.connect(self.catalog_path())
        con.execute("INSERT INTO config (key, value) VALUES ('client_id', '\"abc\"'), ('sync_ts', '0')")
        con.commit()
        con.close()
        r = self.ok("sync")
        self.assertIn("1 sent", r.errtext)
        self.assertEqual(self.config_of(self.home)["client_id"], "abc")  # not registered again
        self.assertIsInstance(self.config_of(self.home)["sync_ts"], int)
