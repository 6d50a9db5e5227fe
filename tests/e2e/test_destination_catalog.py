"""The catalog kept at the destination (docs/destination-catalog.md): two
machines (two HOMEs, two catalogs) sharing one destination, with no sync
server. Machine B, with only the config, restores what A backed up, by
name and by stored name, with no sync step; `sync` gives both the same
catalog; deletions travel; a lost catalog is rebuilt; objects without a row
(put by hand, left by a killed backup) get one. On the local store (a
directory both HOMEs name), on S3 (Swift's S3 API and moto, also the
Glacier storage class and the Glacier vault), and on Swift itself."""
import glob
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import tarfile
import time
import uuid

from faultproxy import FaultProxy
from harness import BIN, BakthatTestCase, make_small_tree, profile_text, servers, tree_digest
from s3util import aws, moto_profile, new_bucket, swift_profile
from test_swift import swift_profile as native_swift_profile

PASSWORD = "correct horse battery"


def rows(home):
    """stored_filename -> is_deleted of a HOME's catalog."""
    con = sqlite3.connect(os.path.join(home, ".bakthat.sqlite"))
    try:
        return {r[0]: r[1] for r in con.execute("SELECT stored_filename, is_deleted FROM backups")}
    finally:
        con.close()


class SwiftLog:
    """The requests clients sent to one container of the loopback Swift
    while the with-block ran, as (method, path), read from its proxy
    server's log (Swift's auth hands out the server's own storage URL,
    which a proxy in front would not see)."""

    def __init__(self, container):
        self.log = os.path.join(servers()["SWIFT_DIR"], "log", "proxy.log")
        self.mine = "/v1/AUTH_test/%s/" % container
        self.requests = []

    def __enter__(self):
        self.start = os.path.getsize(self.log)
        return self.requests

    def __exit__(self, *exc):
        time.sleep(1)  # the server logs a request once its reply is out
        with open(self.log, errors="replace") as f:
            f.seek(self.start)
            fields = [l.split() for l in f]
        # A client's request (the S3 API's own subrequests log no address).
        self.requests.extend((l[4], l[5]) for l in fields if len(l) > 5 and l[1] != "-" and l[5].startswith(self.mine))
        return False


class Machines:
    """Mixed into a BakthatTestCase: self.profile() is the config both
    machines use; put_by_hand(name, path) stores a file at the destination
    as someone without bakthat would."""

    destination = None
    restore_extra = []  # archive tiers: wait for the retrieval

    def setUp(self):
        super().setUp()
        self.home_b = os.path.join(self.tmp, "home-b")
        os.makedirs(self.home_b)
        self.env_b = {"HOME": self.home_b, "XDG_DATA_HOME": os.path.join(self.home_b, ".local", "share")}
        self.src = os.path.join(self.work, "tree")
        make_small_tree(self.src)
        self.configure()

    def configure(self, extra=""):
        text = self.profile() + extra
        self.write_config(text)
        self.write_config(text, os.path.join(self.home_b, ".bakthat.yml"))

    def on_b(self, *args, **kw):
        env = dict(self.env_b)
        env.update(kw.pop("env", {}))
        return self.ok(*args, env=env, **kw)

    def show_json(self, env=None):
        out = json.loads(self.ok("show", "--json", env=env or {}).text)
        for r in out:
            r.pop("id")
        return sorted(out, key=lambda r: r["stored_filename"])

    def keygen(self, path):
        subprocess.run(["age-keygen", "-o", path], check=True, capture_output=True)
        return subprocess.run(["age-keygen", "-y", path], check=True, capture_output=True).stdout.decode().strip()


class TwoMachines(Machines):
    """What every destination does."""

    def test_machine_b_restores_syncs_deletes_and_a_rebuilds(self):
        key = os.path.join(self.tmp, "key.txt")
        recipient = self.keygen(key)
        self.ok("backup", self.src)
        self.ok("backup", self.src, "--name", "secret", env={"BAKTHAT_PASSWORD": PASSWORD})
        self.ok("backup", self.src, "--name", "sealed", "--recipient", recipient, "--tags", "a b")
        stored = {r["filename"]: r["stored_filename"] for r in self.show_json()}
        self.assertEqual(set(stored), {"tree", "secret", "sealed"})
        # Row objects are no backups: ls lists the three objects only.
        self.assertEqual(sorted(self.ok("ls").text.split()), sorted(stored.values()))

        # B: no sync step. Each by name, then by exact stored name.
        r = self.on_b("show")
        if self.destination != "local":
            self.assertIn("bakthat sync", r.errtext)
        # The first restore (by exact stored name) looks at the destination,
        # and takes in every row there.
        first = True
        for name, extra, env in (("tree", [], {}), ("secret", [], {"BAKTHAT_PASSWORD": PASSWORD}),
                                 ("sealed", ["--identity", key], {})):
            for which in (stored[name], name):
                out = os.path.join(self.work, "b-%s-%s" % (name, which == name))
                r = self.on_b("restore", which, "-o", out, *extra, *self.restore_extra, env=env)
                self.assertEqual(first, "not in this machine's catalog" in r.errtext, r.errtext)
                first = False
                self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))
        # Both already know every row; sync makes B's catalog A's.
        self.on_b("sync")
        self.assertEqual(self.show_json(self.env_b), self.show_json())
        self.on_b("verify", "tree")

        # B deletes one and lets retention go over another; A agrees.
        self.on_b("delete", "tree")
        self.on_b("delete_older_than", "secret", "1s", "--all", env={"BAKTHAT_PASSWORD": PASSWORD})
        self.ok("sync")
        self.assertEqual(rows(self.home), {stored["tree"]: 1, stored["secret"]: 1, stored["sealed"]: 0})
        self.assertEqual(self.show_json(), self.show_json(self.env_b))
        self.assertEqual(self.ok("ls").text.split(), [stored["sealed"]])
        # A machine that had not heard of the deletions never undoes them.
        home_c_env = {"HOME": os.path.join(self.tmp, "home-c")}
        os.makedirs(home_c_env["HOME"])
        self.write_config(self.profile(), os.path.join(home_c_env["HOME"], ".bakthat.yml"))
        r = self.run_bakthat("restore", "tree", "-o", os.path.join(self.work, "c"), env=home_c_env)
        self.assertEqual(r.code, 4, repr(r))

        # A's catalog lost: sync rebuilds it, deletions included.
        before = self.show_json()
        os.remove(self.catalog_path())
        self.ok("sync")
        self.assertEqual(self.show_json(), before)
        self.assertEqual(rows(self.home), {stored["tree"]: 1, stored["secret"]: 1, stored["sealed"]: 0})

    def test_an_object_put_by_hand_restores_and_syncs(self):
        tgz = os.path.join(self.tmp, "old.tgz")
        with tarfile.open(tgz, "w:gz") as t:
            t.add(self.src, arcname="tree")
        self.put_by_hand("old.20130102030405.tgz", tgz)
        out = os.path.join(self.work, "out")
        r = self.ok("restore", "old", "-o", out, *self.restore_extra)
        self.assertIn("not in this machine's catalog", r.errtext)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))
        [row] = self.show_json()
        self.assertEqual((row["filename"], row["backup_date"], row["size"]), ("old", 1357095845, os.path.getsize(tgz)))
        # Read through and found sound, the object's digest is its checksum from now on.
        with open(tgz, "rb") as f:
            self.assertEqual(row["metadata"].get("sha256"), hashlib.sha256(f.read()).hexdigest())
        # B takes the adopted row in; it is not adopted twice.
        r = self.on_b("sync")
        self.assertIn("0 adopted", r.errtext)
        self.assertEqual(self.show_json(self.env_b), self.show_json())
        self.on_b("verify", "old")


class LocalStore(Machines):
    destination = "local"

    def profile(self):
        return profile_text({"local_path": os.path.join(self.tmp, "shared-store"), "default_destination": "local"})

    def put_by_hand(self, name, path):
        os.makedirs(os.path.join(self.tmp, "shared-store"), exist_ok=True)
        with open(path, "rb") as f, open(os.path.join(self.tmp, "shared-store", name), "wb") as g:
            g.write(f.read())

    def objects(self):
        d = os.path.join(self.tmp, "shared-store")
        return sorted(n for n in os.listdir(d) if not n.startswith("."))


class LocalDestination(LocalStore, TwoMachines, BakthatTestCase):
    pass


class OnSwiftS3(Machines):
    destination = "s3"
    server = "swift"

    def setUp(self):
        self.bucket = new_bucket("dcat")
        super().setUp()

    def profile(self):
        return swift_profile(self.bucket)

    def put_by_hand(self, name, path):
        aws(self.server, "s3", "mb", "s3://" + self.bucket, check=False)
        aws(self.server, "s3", "cp", path, "s3://%s/%s" % (self.bucket, name))


class S3OnSwift(OnSwiftS3, TwoMachines, BakthatTestCase):
    pass


class S3OnMoto(S3OnSwift):
    server = "moto"

    def profile(self):
        return moto_profile(self.bucket)


class GlacierClassOnMoto(S3OnSwift):
    destination = "glacier"
    server = "moto"
    restore_extra = ["--wait"]

    def profile(self):
        return moto_profile(self.bucket, default_destination="glacier", glacier_storage_class="GLACIER")

    def put_by_hand(self, name, path):
        aws("moto", "s3", "mb", "s3://" + self.bucket, check=False)
        aws("moto", "s3", "cp", path, "s3://%s/%s" % (self.bucket, name), "--storage-class", "GLACIER")


class SwiftNative(S3OnSwift):
    destination = "swift"

    def profile(self):
        return native_swift_profile(self.bucket)

    def put_by_hand(self, name, path):
        # The container is a bucket of the same server's S3 API.
        aws("swift", "s3", "mb", "s3://" + self.bucket, check=False)
        aws("swift", "s3", "cp", path, "s3://%s/%s" % (self.bucket, name))


class GlacierVaultOnMoto(Machines, BakthatTestCase):
    """A vault lists its archives only through a day-old inventory job, so
    its rows live in the profile's s3_bucket (docs/destination-catalog.md)."""

    destination = "glacier"

    def setUp(self):
        self.vault = "bk-e2e-vault-%s" % uuid.uuid4().hex[:10]
        self.bucket = new_bucket("vault")
        super().setUp()

    def profile(self):
        return moto_profile(self.bucket, default_destination="glacier", glacier_vault=self.vault,
                            glacier_endpoint=servers()["MOTO_ENDPOINT"], glacier_tier="Expedited")

    def test_machine_b_restores_deletes_and_syncs(self):
        pw = {"BAKTHAT_PASSWORD": PASSWORD}
        self.ok("backup", self.src)
        self.ok("backup", self.src, "--name", "secret", env=pw)
        # (moto's CreateVault empties an existing vault, so only the last
        # backup's archive is still there.)
        out = os.path.join(self.work, "out")
        r = self.on_b("restore", "secret", "-o", out, "--wait", env=pw, timeout=120)
        self.assertIn("not in this machine's catalog", r.errtext)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))
        self.on_b("delete", "secret")
        self.on_b("sync")
        self.ok("sync")
        self.assertEqual([r["filename"] for r in self.show_json()], ["tree"])
        self.assertEqual(self.show_json(self.env_b), self.show_json())

    def test_without_s3_bucket_there_are_no_rows(self):
        self.write_config(profile_text({"access_key": "x", "secret_key": "y", "glacier_vault": self.vault,
                                        "glacier_endpoint": servers()["MOTO_ENDPOINT"],
                                        "default_destination": "glacier"}))
        r = self.fails("sync")
        self.assertIn("s3_bucket", r.errtext)


class KilledOnTheLocalStore(LocalStore, BakthatTestCase):
    """kill -9 at random points of backup, delete and sync, on the local
    store (cheap enough for every run). BAKTHAT_TEST_PAUSE_BEFORE_ROW holds a
    backup between its complete object and its row, the window of issue 18
    item 3; BAKTHAT_TEST_PAUSE_BEFORE_REMOVAL a deletion between its row and
    its object's removal."""

    store = property(lambda self: os.path.join(self.tmp, "shared-store"))

    def start(self, *args, env=None, home=None):
        e = dict(self.env)
        e.update(env or {})
        if home:
            e.update(HOME=home, XDG_DATA_HOME=os.path.join(home, ".local", "share"))
        return subprocess.Popen([BIN, *args], cwd=self.work, env=e, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def test_a_backup_killed_after_its_object_is_adopted_by_the_next_sync(self):
        p = self.start("backup", self.src, env={"BAKTHAT_TEST_PAUSE_BEFORE_ROW": "30"})
        deadline = time.time() + 60
        while not [n for n in os.listdir(self.store) if n.startswith("tree.")] if os.path.isdir(self.store) else True:
            self.assertLess(time.time(), deadline, "the object never appeared")
            time.sleep(0.05)
        p.kill()
        p.wait()
        [stored] = self.objects()
        self.assertEqual(rows(self.home), {})
        r = self.ok("sync")
        self.assertIn("Adopted " + stored, r.errtext)
        self.assertIn("1 adopted", r.errtext)
        self.assertEqual(rows(self.home), {stored: 0})
        self.ok("verify", "tree")
        # The row carries what the backup knew before its object: its name,
        # date and format.
        [row] = self.show_json()
        self.assertTrue(row["metadata"]["adopted"])
        self.assertEqual(row["metadata"]["format"], "tar")
        # The other machine sees it too, adopted once.
        r = self.on_b("sync")
        self.assertIn("0 adopted", r.errtext)
        self.assertEqual(self.show_json(self.env_b), self.show_json())

    def test_a_delete_killed_before_its_object_is_removed_leaves_no_row_without_it(self):
        self.ok("backup", self.src)
        [stored] = self.objects()
        p = self.start("delete", "tree", env={"BAKTHAT_TEST_PAUSE_BEFORE_REMOVAL": "30"})
        deadline = time.time() + 60
        while rows(self.home).get(stored) != 1:
            self.assertLess(time.time(), deadline, "the row was never marked deleted")
            self.assertIsNone(p.poll(), "the delete ended without pausing")
            time.sleep(0.05)
        # The row went first: the object is still there when the kill comes.
        self.assertEqual(self.objects(), [stored])
        p.kill()
        p.wait()
        self.assertEqual(self.show_json(), [])
        index = glob.glob(os.path.join(self.store, ".bakthat", "index", "*", stored))
        self.assertEqual(len(index), 1, "a backup of a tree has an index")
        r = self.ok("sync")
        self.assertIn("Deleted " + stored + ": a deletion that was not finished", r.errtext)
        self.assertEqual(self.objects(), [])
        self.assertFalse(os.path.exists(index[0]), "the sync that finishes the deletion removes the index too")
        self.on_b("sync")
        self.assertEqual(self.show_json(self.env_b), [])

    def test_kill_trials(self):
        rng = random.Random(int(os.environ.get("BAKTHAT_KILL_SEED", "19")))
        trials = int(os.environ.get("BAKTHAT_KILL_TRIALS", "50"))
        homes = [self.home, self.home_b]
        names = ["alpha", "beta"]
        for n in names:
            self.ok("backup", self.src, "--name", n)
        for i in range(trials):
            home = rng.choice(homes)
            op = rng.choice(["backup", "backup", "delete", "sync"])
            name = rng.choice(names)
            env = {}
            if op == "backup":
                args = ["backup", self.src, "--name", name]
                if rng.random() < 0.5:
                    env["BAKTHAT_TEST_PAUSE_BEFORE_ROW"] = "0.2"
            elif op == "delete":
                args = ["delete", name]
                if rng.random() < 0.5:
                    env["BAKTHAT_TEST_PAUSE_BEFORE_REMOVAL"] = "0.2"
            else:
                args = ["sync"]
            p = self.start(*args, env=env, home=home)
            time.sleep(rng.uniform(0.0, 0.3))
            p.send_signal(signal.SIGKILL)
            p.wait()
        # Afterwards: each machine syncs, every listed backup verifies, no
        # row without its object, no object without its row, and both
        # machines agree.
        for env in ({}, self.env_b, {}):
            self.ok("sync", env=env)
        listed = self.show_json()
        self.assertEqual(self.show_json(self.env_b), listed)
        for r in listed:
            self.ok("verify", r["stored_filename"])
        self.assertEqual(sorted(r["stored_filename"] for r in listed), self.objects())


class SyncRequests(OnSwiftS3, BakthatTestCase):
    """What a sync costs in requests (docs/destination-catalog.md, Cost):
    every entry is read with one GET, no HEAD before it, and the entries a
    pack replaces go in one DeleteObjects request, not a HEAD and a DELETE
    each."""

    ROWS = ".bakthat/rows/s3/"

    def row_objects(self):
        listing = aws(self.server, "s3api", "list-objects-v2", "--bucket", self.bucket, "--prefix", self.ROWS)
        return [o["Key"][len(self.ROWS):] for o in listing.get("Contents") or []]

    def test_one_get_per_entry_and_one_request_removes_what_the_pack_replaces(self):
        self.ok("backup", self.src)
        entries = [n for n in self.row_objects() if n.startswith("log-")]
        self.assertTrue(entries)
        # 70 more entries of the same backup, as 35 backups would leave
        # (more than the 64 after which a sync packs).
        copies = os.path.join(self.work, "entries")
        os.makedirs(copies)
        aws(self.server, "s3", "cp", "s3://%s/%s%s" % (self.bucket, self.ROWS, entries[-1]), os.path.join(self.work, "e"))
        with open(os.path.join(self.work, "e")) as f:
            entry = f.read()
        for i in range(70):
            with open(os.path.join(copies, "log-20261207000000-%016x" % i), "w") as f:
                f.write(entry)
        aws(self.server, "s3", "sync", copies, "s3://%s/%s" % (self.bucket, self.ROWS))
        endpoint = servers()["S3_ENDPOINT" if self.server == "swift" else "MOTO_ENDPOINT"]
        with FaultProxy(endpoint.split("//")[1]) as proxy:
            self.write_config(self.profile().replace(endpoint, proxy.endpoint), os.path.join(self.home_b, ".bakthat.yml"))
            self.on_b("sync")
            lines = [l.split(" ")[:2] for l in proxy.request_lines]
        on_rows = "/%s/%s" % (self.bucket, self.ROWS)
        self.assertEqual([l for l in lines if l[0] == "HEAD" and l[1].startswith(on_rows)], [])
        self.assertEqual(sorted(l[1][len(on_rows):] for l in lines if l[0] == "GET" and l[1].startswith(on_rows)),
                         sorted(entries + os.listdir(copies)))
        self.assertEqual([l for l in lines if l[0] == "DELETE"], [])
        self.assertEqual(len([l for l in lines if l[0] == "POST" and l[1].split("?")[-1] in ("delete", "delete=")]), 1, lines)
        left = self.row_objects()
        self.assertEqual([n[:5] for n in left], ["pack-"], left)
        self.assertEqual([r["filename"] for r in self.show_json(self.env_b)], ["tree"])


class SyncRequestsOnMoto(SyncRequests):
    server = "moto"

    def profile(self):
        return moto_profile(self.bucket)


class BackupRowRequests(OnSwiftS3, BakthatTestCase):
    """What a backup's row entries cost (docs/destination-catalog.md, Cost):
    its pending note and its row are one PUT each, with no listing or HEAD
    before them to find the (random) name free."""

    # Swift's S3 API turns down If-None-Match (501) once per store, and the
    # PUT goes again without it.
    puts = 3

    def requests_of_a_backup(self):
        """(method, path) of the requests a backup sends, the bucket made."""
        self.ok("backup", self.src)
        endpoint = servers()["S3_ENDPOINT" if self.server == "swift" else "MOTO_ENDPOINT"]
        with FaultProxy(endpoint.split("//")[1]) as proxy:
            self.write_config(self.profile().replace(endpoint, proxy.endpoint))
            r = self.ok("backup", self.src)
            self.assertNotIn("sync", r.errtext)
            return [tuple(l.split(" ")[:2]) for l in proxy.request_lines]

    def test_a_backups_entries_are_one_put_each(self):
        on_rows = [l for l in self.requests_of_a_backup() if ".bakthat/rows/" in l[1] or ".bakthat%2Frows" in l[1]]
        self.assertEqual({m for m, _ in on_rows}, {"PUT"}, on_rows)
        self.assertEqual(len({p for _, p in on_rows}), 2, on_rows)  # its pending note and its row
        self.assertEqual(len(on_rows), self.puts, on_rows)


class BackupRowRequestsOnMoto(BackupRowRequests):
    server = "moto"
    puts = 2

    def profile(self):
        return moto_profile(self.bucket)


class BackupRowRequestsOnSwift(BackupRowRequests):
    """Swift itself, counted in its proxy server's log."""

    destination = "swift"
    puts = 2

    def profile(self):
        return native_swift_profile(self.bucket)

    def requests_of_a_backup(self):
        self.ok("backup", self.src)
        with SwiftLog(self.bucket) as requests:
            self.ok("backup", self.src)
        return requests


class SyncRequestsOnSwift(OnSwiftS3, BakthatTestCase):
    """Swift itself: a sync reads each entry with one GET, no HEAD before
    it (the GET's reply says the size, or that the object is gone)."""

    destination = "swift"

    def profile(self):
        return native_swift_profile(self.bucket)

    def test_one_get_per_entry(self):
        self.ok("backup", self.src)
        self.ok("backup", self.src, "--name", "other")
        with SwiftLog(self.bucket) as requests:
            self.on_b("sync")
        on_rows = [r for r in requests if "/.bakthat/rows/" in r[1]]
        self.assertEqual([r for r in on_rows if r[0] == "HEAD"], [], on_rows)
        # Two backups: a pending note and a row each.
        self.assertEqual(len([r for r in on_rows if r[0] == "GET" and "/log-" in r[1]]), 4, on_rows)
        self.assertEqual(sorted(r["filename"] for r in self.show_json(self.env_b)), ["other", "tree"])


class RowFaults(OnSwiftS3, BakthatTestCase):
    """The fault proxy fails the row objects' writes and listings: backups
    and deletions still succeed (with a warning), sync fails and says so,
    and once the faults stop a sync converges."""

    def test_failed_row_writes_and_listings_converge(self):
        target = servers()["S3_ENDPOINT"].split("//")[1]
        with FaultProxy(target, always_fail=r"\.bakthat(/|%2F)rows") as proxy:
            self.write_config(swift_profile(self.bucket, s3_endpoint=proxy.endpoint))
            env = {"BAKTHAT_RETRY_DELAY_MS": "20", "BAKTHAT_RETRY_ATTEMPTS": "2"}
            r = self.ok("backup", self.src, env=env)
            self.assertIn("the next `bakthat sync` sends it", r.errtext)
            self.ok("backup", self.src, "--name", "gone", env=env)
            self.ok("delete", "gone", env=env)
            r = self.run_bakthat("sync", env=env)
            self.assertNotEqual(r.code, 0)
            self.assertEqual(len(r.errtext.strip().splitlines()), 1, r.errtext)
            self.assertGreater(proxy.stats["always_fail"], 0)
        self.write_config(self.profile())
        self.ok("sync")
        self.assertEqual(self.show_json(self.env_b), [])
        self.on_b("sync")
        self.assertEqual(self.show_json(self.env_b), self.show_json())
        self.assertEqual([r["filename"] for r in self.show_json()], ["tree"])


if __name__ == "__main__":
    import unittest
    unittest.main()
