"""The glacier destination with a vault (the Glacier vault API), through the
CLI against moto: backup, show, a restore that starts a retrieval job, a
restore --wait that downloads it, delete. moto completes Expedited jobs
after 2 s; the `aws glacier` CLI is the witness of the vault."""
import os
import sqlite3
import uuid

from harness import BakthatTestCase, servers, tree_digest
from s3util import aws


class GlacierVaultTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.vault = "bk-e2e-vault-%s" % uuid.uuid4().hex[:10]
        self.write_config(
            "default:\n  access_key: x\n  secret_key: y\n  region_name: us-east-1\n"
            "  glacier_vault: %s\n  glacier_endpoint: %s\n  glacier_tier: Expedited\n"
            % (self.vault, servers()["MOTO_ENDPOINT"]))
        self.src = os.path.join(self.work, "data")
        os.makedirs(os.path.join(self.src, "sub"))
        with open(os.path.join(self.src, "a.txt"), "w") as f:
            f.write("glacier data\n" * 500)
        with open(os.path.join(self.src, "sub", "b.bin"), "wb") as f:
            f.write(os.urandom(300000))
        os.symlink("a.txt", os.path.join(self.src, "link"))

    def rows(self, table):
        with sqlite3.connect(self.catalog_path()) as db:
            return db.execute("SELECT * FROM %s" % table).fetchall()

    def test_backup_retrieve_restore_delete(self):
        self.ok("backup", "data", "-d", "glacier")
        vaults = aws("moto", "glacier", "list-vaults", "--account-id", "-")["VaultList"]
        self.assertIn(self.vault, [v["VaultName"] for v in vaults])
        [(_, archive_id, stored)] = self.rows("inventory")
        self.assertTrue(archive_id)
        self.assertTrue(stored.startswith("data"), stored)

        show = self.ok("show").text
        self.assertIn(stored, show)
        self.assertIn(stored, self.ok("ls", "-d", "glacier").text)

        out = os.path.join(self.work, "out")
        r = self.ok("restore", "data", "-d", "glacier", "-o", out)
        self.assertIn("retrieval was started", r.errtext + r.text)
        self.assertFalse(os.path.exists(os.path.join(out, "data")))
        self.assertEqual(len(self.rows("jobs")), 1)

        self.ok("restore", "data", "-d", "glacier", "-o", out, "--wait", timeout=120)
        self.assertEqual(tree_digest(self.src), tree_digest(os.path.join(out, "data")))
        self.assertEqual(self.rows("jobs"), [], "a downloaded job is forgotten")

        self.ok("delete", "data", "-d", "glacier")
        self.assertEqual(self.rows("inventory"), [])
        self.assertNotIn(stored, self.ok("show").text)
        self.fails("restore", "data", "-d", "glacier", "-o", os.path.join(self.work, "again"))

    def test_encrypted_round_trip(self):
        pw = {"BAKTHAT_PASSWORD": "s3cret"}
        self.ok("backup", "data", "-d", "glacier", env=pw)
        [(_, _, stored)] = self.rows("inventory")
        self.assertTrue(stored.endswith(".enc"), stored)
        out = os.path.join(self.work, "out")
        self.ok("restore", "data", "-d", "glacier", "-o", out, env=pw)
        self.ok("restore", "data", "-d", "glacier", "-o", out, "--wait", env=pw, timeout=120)
        self.assertEqual(tree_digest(self.src), tree_digest(os.path.join(out, "data")))

    def test_show_p_lists_every_destination_of_the_profile(self):
        # The profile reaches its local store (its default destination) and
        # a vault: `show -p` lists the rows of both, and none of another
        # profile's.
        with open(os.path.join(self.home, ".bakthat.yml")) as f:
            config = f.read()
        config += ("other:\n  access_key: x\n  secret_key: y\n  local_path: %s\n"
                   "  glacier_vault: %s-other\n" % (os.path.join(self.work, "other-store"), self.vault))
        self.write_config(config)
        self.ok("backup", "data")
        self.ok("backup", "data", "-d", "glacier")
        stored = {r[0]: r[1] for r in self.rows_of("backend, stored_filename")}
        self.assertEqual(set(stored), {"local", "glacier"})
        shown = self.ok("show", "-p", "default").text
        for name in stored.values():
            self.assertIn(name, shown)
        other = self.ok("show", "-p", "other").text
        for name in stored.values():
            self.assertNotIn(name, other)
        self.assertIn(stored["glacier"], self.ok("show", "-p", "default", "-d", "glacier").text)
        self.assertNotIn(stored["local"], self.ok("show", "-p", "default", "-d", "glacier").text)

    def rows_of(self, columns):
        with sqlite3.connect(self.catalog_path()) as db:
            return db.execute("SELECT %s FROM backups" % columns).fetchall()

    def test_wrong_endpoint_is_one_clear_line(self):
        self.write_config(
            "default:\n  access_key: x\n  secret_key: y\n  glacier_vault: v\n"
            "  glacier_endpoint: http://127.0.0.1:9\n",
        )
        r = self.fails("backup", "data", "-d", "glacier",
                       env={"BAKTHAT_RETRY_ATTEMPTS": "2", "BAKTHAT_RETRY_DELAY_MS": "10"})
        errors = [l for l in r.errtext.splitlines() if l.startswith("bakthat: ")]
        self.assertEqual(len(errors), 1, r.errtext)
        self.assertTrue(errors[0].startswith("bakthat: Glacier: cannot connect to http://127.0.0.1:9"), errors[0])

    def test_bad_tier_is_a_config_error(self):
        self.write_config(
            "default:\n  access_key: x\n  secret_key: y\n  glacier_vault: v\n"
            "  glacier_endpoint: %s\n  glacier_tier: Fast\n" % servers()["MOTO_ENDPOINT"])
        r = self.fails("backup", "data", "-d", "glacier")
        self.assertIn("glacier_tier", r.errtext)


if __name__ == "__main__":
    import unittest
    unittest.main()
