"""bakthat.sync() and bakthat.reset_sync() from Python, between two machines
(two config files, two catalogs) through the project's sync server
(tools/bakthat-syncserver on loopback) and one bucket on the Swift test
server's S3 API: the Python tool's functions, their dict results, and the
exception a refused password raises."""
import json
import os
import sqlite3
import time

from pyharness import PackageTestCase, bakthat
from s3util import new_bucket, swift_profile
from syncserver import PASSWORD, SyncServer


class Sync(PackageTestCase):
    def setUp(self):
        super().setUp()
        self.server = SyncServer(self.tmp)
        self.addCleanup(self.server.stop)
        self.bucket = new_bucket("pysync")
        self.config_a = self.machine("a")
        self.config_b = self.machine("b")

    def machine(self, name, password=PASSWORD):
        """The config file of a machine: the bucket, a catalog of its own,
        the sync server."""
        path = os.path.join(self.tmp, name + ".yml")
        text = (swift_profile(self.bucket, database=os.path.join(self.tmp, name + ".sqlite")) +
                "sync:\n  url: %s\n  username: alice\n  password: %s\n  auto: false\n"
                % (self.server.url, json.dumps(password)))
        self.write(path, text)
        os.chmod(path, 0o600)
        return path

    def client_id(self, name):
        con = sqlite3.connect(os.path.join(self.tmp, name + ".sqlite"))
        try:
            [(value,)] = con.execute("SELECT value FROM config WHERE key = 'client_id'").fetchall()
            return json.loads(value)
        finally:
            con.close()

    def test_a_backup_travels_to_the_other_machine_and_reset_sync_sends_it_again(self):
        self.write(os.path.join(self.work, "notes.txt"), "synced from Python\n")
        stored = bakthat.backup("notes.txt", config=self.config_a, prompt="no")["stored_filename"]
        # Rows changed in the second a sync starts are sent again by the
        # next one: let that second pass.
        time.sleep(1.1)
        self.assertEqual(bakthat.sync(config=self.config_a), {"sent": 1, "received": 0, "inserted": 0, "updated": 0})
        self.assertEqual([r["stored_filename"] for r in self.server.rows()], [stored])
        self.assertEqual(bakthat.sync(config=self.config_a)["sent"], 0)
        first_id = self.client_id("a")
        self.assertTrue(first_id)

        # The other machine takes the row in and restores the backup.
        got = bakthat.sync(config=self.config_b)
        self.assertEqual((got["received"], got["inserted"]), (1, 1), got)
        self.assertEqual([b["stored_filename"] for b in bakthat.show(config=self.config_b)], [stored])
        out = os.path.join(self.tmp, "on-b")
        os.makedirs(out)
        os.chdir(out)
        bakthat.restore("notes.txt", config=self.config_b, prompt="no")
        with open(os.path.join(out, "notes.txt")) as f:
            self.assertEqual(f.read(), "synced from Python\n")

        # reset_sync forgets the machine's sync state: the next sync sends
        # and receives every row again, changing none.
        self.assertIsNone(bakthat.reset_sync(config=self.config_a))
        self.assertIsNone(self.client_id("a"))
        self.assertEqual(bakthat.sync(config=self.config_a), {"sent": 1, "received": 1, "inserted": 0, "updated": 0})
        self.assertEqual(self.client_id("a"), first_id)

    def test_a_refused_password_raises_and_changes_nothing(self):
        self.write(os.path.join(self.work, "x.txt"), "x")
        bakthat.backup("x.txt", config=self.config_a, prompt="no")
        wrong = self.machine("a", password="wrong secret")
        with self.assertRaises(bakthat.AuthError) as cm:
            bakthat.sync(config=wrong)
        self.assertIn("refused username 'alice'", str(cm.exception))
        self.assertNotIn("wrong secret", str(cm.exception))
        self.assertEqual(self.server.rows(), [])
