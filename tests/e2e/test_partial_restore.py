"""A backup's index (docs/formats.md §13): `bakthat list` equals `tar -tvf`
of the same archive, `restore NAME PATH...` gives the bytes a full restore
gives while fetching only the members that hold them, `restore --tar -`
writes a tar stream, and damage (to the index, to the archive inside the
range read) is found before anything is written. Local store and Swift's
S3 API; gzip, zstd, password and recipient backups; the archive stays what
`tar -xzf` and `age -d | tar -x` open."""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import unittest

import pexpect

from faultproxy import FaultProxy
from harness import BakthatTestCase, profile_text, servers, tree_digest
from s3util import aws, backup_objects, new_bucket, swift_profile

AGE = shutil.which("age")
AGE_KEYGEN = shutil.which("age-keygen")


def make_tree(root):
    """Files at the start, middle and end of the archive, big enough to
    span several 1 MiB gzip members, plus a symlink and a hard link."""
    os.makedirs(os.path.join(root, "a_first"))
    os.makedirs(os.path.join(root, "m_middle", "deep"))
    os.makedirs(os.path.join(root, "z_last"))
    with open(os.path.join(root, "a_first", "start.txt"), "w") as f:
        f.write("the first file\n" * 100)
    for i in range(6):
        with open(os.path.join(root, "m_middle", "blob%d.bin" % i), "wb") as f:
            f.write(os.urandom(700000))
    with open(os.path.join(root, "m_middle", "deep", "mid.txt"), "w") as f:
        f.write("".join("line %d of the middle file\n" % i for i in range(40000)))
    with open(os.path.join(root, "z_last", "end.bin"), "wb") as f:
        f.write(os.urandom(300000))
    os.symlink("../a_first/start.txt", os.path.join(root, "z_last", "link"))
    os.link(os.path.join(root, "m_middle", "blob0.bin"), os.path.join(root, "z_last", "hard"))
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            os.utime(os.path.join(dirpath, n), (1700000000, 1700000000), follow_symlinks=False)


def tar_listing(path, decompress=None):
    """`tar -tvf` of a file (through `decompress`'s stdout first when set),
    whitespace-split so that column widths do not count."""
    if decompress:
        data = subprocess.run(decompress, check=True, stdout=subprocess.PIPE).stdout
        out = subprocess.run(["tar", "-tvf", "-"], input=data, check=True, stdout=subprocess.PIPE,
                             env={"TZ": "UTC", "PATH": os.environ["PATH"]}).stdout
    else:
        out = subprocess.run(["tar", "-tvf", path], check=True, stdout=subprocess.PIPE,
                             env={"TZ": "UTC", "PATH": os.environ["PATH"]}).stdout
    return [l.split() for l in out.decode().splitlines()]


class PartialRestoreLocal(BakthatTestCase):
    profile = {}
    extra_args = ()
    env_extra = {}

    def setUp(self):
        super().setUp()
        self.write_config(profile_text(self.profile) if self.profile else "default:\n  default_destination: local\n")
        self.src = os.path.join(self.work, "tree")
        make_tree(self.src)

    def bk(self, *args, **kw):
        env = dict(self.env_extra)
        env.update(kw.pop("env", {}))
        return self.ok(*args, *self.extra_args, env=env, **kw)

    def bk_fails(self, *args, **kw):
        env = dict(self.env_extra)
        env.update(kw.pop("env", {}))
        return self.fails(*args, *self.extra_args, env=env, **kw)

    def stored_object(self):
        [name] = [n for n in os.listdir(self.store_dir()) if n.startswith("tree.")]
        return os.path.join(self.store_dir(), name)

    def index_object(self):
        [p] = glob.glob(os.path.join(self.store_dir(), ".bakthat", "index", "*", "tree.*"))
        return p

    def decompress_cmd(self, path):
        return None

    def full_restore(self):
        full = os.path.join(self.work, "full")
        self.bk("restore", "tree", "-o", full)
        return tree_digest(os.path.join(full, "tree"))

    def test_listing_equals_tar_tvf(self):
        self.bk("backup", self.src)
        mine = [l.split() for l in self.bk("list", "tree").text.splitlines()]
        stored = self.stored_object()
        theirs = tar_listing(stored, self.decompress_cmd(stored))
        self.assertEqual(mine, theirs)
        entries = json.loads(self.bk("list", "tree", "--json").text)
        by_path = {e["path"]: e for e in entries}
        self.assertEqual(by_path["tree/m_middle/deep/mid.txt"]["size"],
                         os.path.getsize(os.path.join(self.src, "m_middle", "deep", "mid.txt")))
        self.assertEqual(by_path["tree/z_last/link"]["link"], "../a_first/start.txt")
        self.assertEqual(by_path["tree/z_last/"]["type"], "directory")
        self.assertEqual(by_path["tree/a_first/start.txt"]["mtime"], 1700000000)

    def test_partial_restore_gives_the_bytes_of_a_full_restore(self):
        self.bk("backup", self.src)
        full = self.full_restore()
        for path in ("tree/a_first/start.txt", "tree/m_middle/deep/mid.txt", "tree/z_last/end.bin",
                     "tree/m_middle/blob3.bin"):
            out = os.path.join(self.work, "part-" + os.path.basename(path))
            self.bk("restore", "tree", path, "-o", out)
            got = tree_digest(os.path.join(out, "tree"))
            rel = os.path.relpath(path, "tree")
            self.assertEqual(got[rel][:4], full[rel][:4], path)
            # Only the file and the directories above it.
            files = [k for k, v in got.items() if v[0] != "dir"]
            self.assertEqual(files, [rel])
        # A directory takes what is under it.
        out = os.path.join(self.work, "dir")
        self.bk("restore", "tree", "tree/m_middle/", "-o", out)
        got = tree_digest(os.path.join(out, "tree"))
        # (Without z_last/hard, blob0.bin is no hard link's group.)
        self.assertEqual({k: v[:4] for k, v in got.items() if k.startswith("m_middle/")},
                         {k: v[:4] for k, v in full.items() if k.startswith("m_middle/")})
        # Patterns.
        out = os.path.join(self.work, "pat")
        self.bk("restore", "tree", "--include", "*.txt", "--exclude", "start*", "-o", out)
        files = sorted(k for k, v in tree_digest(os.path.join(out, "tree")).items() if v[0] != "dir")
        self.assertEqual(files, ["m_middle/deep/mid.txt"])

    def test_hard_link_outside_the_selection_gets_its_data(self):
        self.bk("backup", self.src)
        out = os.path.join(self.work, "hard")
        self.bk("restore", "tree", "tree/z_last/hard", "-o", out)
        with open(os.path.join(out, "tree", "z_last", "hard"), "rb") as f, \
                open(os.path.join(self.src, "z_last", "hard"), "rb") as g:
            self.assertEqual(f.read(), g.read())

    def test_no_overwrite_without_force(self):
        self.bk("backup", self.src)
        out = os.path.join(self.work, "again")
        self.bk("restore", "tree", "tree/z_last/end.bin", "-o", out)
        self.bk_fails("restore", "tree", "tree/z_last/end.bin", "-o", out)
        self.bk("restore", "tree", "tree/z_last/end.bin", "-o", out, "--force")

    def test_tar_export(self):
        self.bk("backup", self.src)
        r = self.bk("restore", "tree", "tree/m_middle/deep", "--tar", "-")
        listed = subprocess.run(["tar", "-tf", "-"], input=r.out, check=True, stdout=subprocess.PIPE).stdout.decode()
        self.assertEqual(listed.split(), ["tree/", "tree/m_middle/", "tree/m_middle/deep/",
                                          "tree/m_middle/deep/mid.txt"])
        whole = self.bk("restore", "tree", "--tar", "-").out
        names = subprocess.run(["tar", "-tf", "-"], input=whole, check=True, stdout=subprocess.PIPE).stdout.decode()
        self.assertIn("tree/z_last/end.bin", names.split())

    def test_tampered_index_is_detected_before_writing(self):
        self.bk("backup", self.src)
        p = self.index_object()
        with open(p, "r+b") as f:
            data = bytearray(f.read())
            data[len(data) // 2] ^= 0x40
            f.seek(0)
            f.write(data)
        out = os.path.join(self.work, "tampered")
        r = self.bk_fails("restore", "tree", "tree/z_last/end.bin", "-o", out)
        self.assertIn("index", r.errtext)
        self.assertFalse(os.path.exists(out) and os.listdir(out), "something was written")
        self.bk_fails("list", "tree")

    def test_backup_without_index_is_read_whole(self):
        self.bk("backup", self.src)
        os.remove(self.index_object())
        self.assertIn("tree/z_last/end.bin", self.bk("list", "tree").text)
        out = os.path.join(self.work, "noindex")
        self.bk("restore", "tree", "tree/z_last/end.bin", "-o", out)
        self.assertTrue(os.path.exists(os.path.join(out, "tree", "z_last", "end.bin")))

    def test_index_command_makes_the_missing_index(self):
        self.bk("backup", self.src)
        p = self.index_object()
        with open(p, "rb") as f:
            first = f.read()
        os.remove(p)
        r = self.bk("index", "tree")
        self.assertIn("Indexed", r.errtext)
        with open(self.index_object(), "rb") as f:
            remade = f.read()
        if first.startswith(b"age-encryption.org/v1\n"):
            # Encrypted to what opens the backup, with its header.
            end = remade.index(b"\n--- ") + 5 + 43 + 1
            with open(self.stored_object(), "rb") as f:
                self.assertEqual(remade[:end], f.read(end))
        # The row's index_sha256 is the new object's: list and partial
        # restore read it (and no whole read is announced).
        r = self.bk("list", "tree")
        self.assertIn("tree/z_last/end.bin", r.text)
        self.assertNotIn("Reading the whole", r.errtext)
        out = os.path.join(self.work, "reindexed")
        r = self.bk("restore", "tree", "tree/m_middle/deep/mid.txt", "-o", out)
        self.assertNotIn("Reading the whole", r.errtext)
        with open(os.path.join(out, "tree", "m_middle", "deep", "mid.txt"), "rb") as f, \
                open(os.path.join(self.src, "m_middle", "deep", "mid.txt"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        # An index in place is left as it is.
        r = self.bk("index", "tree")
        self.assertIn("already has an index", r.errtext)

    def test_delete_removes_the_index(self):
        self.bk("backup", self.src)
        p = self.index_object()
        self.bk("delete", "tree")
        self.assertFalse(os.path.exists(p))


    def test_archive_opens_with_stock_tools(self):
        self.bk("backup", self.src)
        out = os.path.join(self.work, "tarx")
        os.makedirs(out)
        cmd = self.decompress_cmd(self.stored_object())
        data = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout if cmd else None
        subprocess.run(["tar", "-xf", "-" if cmd else self.stored_object(), "-C", out], input=data, check=True)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))

    def test_corrupted_member_in_the_range_is_detected(self):
        self.bk("backup", self.src)
        listing = json.loads(self.bk("list", "tree", "--json").text)
        [entry] = [e for e in listing if e["path"] == "tree/z_last/end.bin"]
        # The byte at 98% of the object lies in the last members, which hold end.bin.
        p = self.stored_object()
        size = os.path.getsize(p)
        with open(p, "r+b") as f:
            f.seek(size - 20000)
            b = f.read(1)
            f.seek(size - 20000)
            f.write(bytes([b[0] ^ 0xff]))
        out = os.path.join(self.work, "corrupt")
        r = self.bk_fails("restore", "tree", "tree/z_last/end.bin", "-o", out)
        self.assertFalse(os.path.exists(os.path.join(out, "tree")), r.errtext)
        self.assertGreater(entry["data"], 0)
        # A file before the damage is still restored: only its range is read.
        self.bk("restore", "tree", "tree/a_first/start.txt", "-o", out)


class PartialRestoreZstd(PartialRestoreLocal):
    profile = {"compression": "zstd"}

    def stored_object(self):
        [name] = [n for n in os.listdir(self.store_dir()) if n.startswith("tree.")]
        self.assertTrue(name.endswith(".tar.zst"), name)
        return os.path.join(self.store_dir(), name)

    def decompress_cmd(self, path):
        return ["zstd", "-dc", path]

    def test_archive_opens_with_tar_zstd(self):
        """Many frames, one stream to GNU tar."""
        self.bk("backup", self.src)
        out = os.path.join(self.work, "tarzstd")
        os.makedirs(out)
        subprocess.run(["tar", "--zstd", "-xf", self.stored_object(), "-C", out], check=True)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))


class PartialRestorePassword(PartialRestoreLocal):
    PASSWORD = "correct horse battery"
    env_extra = {"BAKTHAT_PASSWORD": PASSWORD}
    profile = {"scrypt_work_factor": 10}

    def test_listing_equals_tar_tvf(self):
        self.bk("backup", self.src)
        mine = [l.split() for l in self.bk("list", "tree").text.splitlines()]
        whole = self.bk("restore", "tree", "--tar", "-").out
        out = subprocess.run(["tar", "-tvf", "-"], input=whole, check=True, stdout=subprocess.PIPE,
                             env={"TZ": "UTC", "PATH": os.environ["PATH"]}).stdout
        self.assertEqual(mine, [l.split() for l in out.decode().splitlines()])

    def age_decrypt(self, obj, plain):
        """`age -d` with the backup's password; age reads it only from a terminal."""
        child = pexpect.spawn("age", ["-d", "-o", plain, obj], timeout=120)
        child.expect("passphrase")
        child.sendline(self.PASSWORD)
        child.expect(pexpect.EOF)
        child.close()
        self.assertEqual(child.exitstatus, 0, child.before)

    @unittest.skipUnless(AGE, "age is not installed")
    def test_archive_opens_with_stock_tools(self):
        self.bk("backup", self.src)
        plain = os.path.join(self.work, "plain.tgz")
        self.age_decrypt(self.stored_object(), plain)
        out = os.path.join(self.work, "tarx")
        os.makedirs(out)
        subprocess.run(["tar", "-xzf", plain, "-C", out], check=True)
        self.assertEqual(tree_digest(os.path.join(out, "tree")), tree_digest(self.src))

    @unittest.skipUnless(AGE, "age is not installed")
    def test_index_opens_with_age_and_the_same_password(self):
        self.bk("backup", self.src)
        plain = os.path.join(self.work, "index.gz")
        self.age_decrypt(self.index_object(), plain)
        text = subprocess.run(["gzip", "-dc", plain], check=True, stdout=subprocess.PIPE).stdout
        self.assertIn(b"mid.txt", text)

    def test_index_is_encrypted(self):
        self.bk("backup", self.src)
        with open(self.index_object(), "rb") as f:
            head = f.read()
        self.assertTrue(head.startswith(b"age-encryption.org/v1\n"))
        self.assertNotIn(b"mid.txt", head)

    def test_index_shares_the_archive_header(self):
        """One header (one scrypt to open both), each file its own payload nonce."""
        self.bk("backup", self.src)
        with open(self.index_object(), "rb") as f:
            index = f.read()
        with open(self.stored_object(), "rb") as f:
            archive = f.read(len(index))
        end = index.index(b"\n--- ") + 5 + 43 + 1
        self.assertEqual(index[:end], archive[:end])
        self.assertNotEqual(index[end:end + 16], archive[end:end + 16])


@unittest.skipUnless(AGE and AGE_KEYGEN, "age and age-keygen are not installed")
class PartialRestoreRecipient(PartialRestoreLocal):
    def setUp(self):
        BakthatTestCase.setUp(self)
        self.key = os.path.join(self.home, "key.txt")
        subprocess.run([AGE_KEYGEN, "-o", self.key], check=True, stderr=subprocess.PIPE)
        recipient = subprocess.run([AGE_KEYGEN, "-y", self.key], check=True,
                                   stdout=subprocess.PIPE).stdout.decode().strip()
        self.write_config(profile_text({"recipients": "['%s']" % recipient, "identity_file": self.key}))
        self.src = os.path.join(self.work, "tree")
        make_tree(self.src)

    def decompress_cmd(self, path):
        return ["sh", "-c", 'age -d -i "$0" "$1" | gzip -dc', self.key, path]

    def test_index_opens_with_age(self):
        self.bk("backup", self.src)
        # The index is an age file the same identity opens.
        idx = subprocess.run(["sh", "-c", 'age -d -i "$0" "$1" | gzip -dc', self.key, self.index_object()],
                             check=True, stdout=subprocess.PIPE).stdout.decode()
        self.assertIn('"path":"tree/m_middle/deep/mid.txt"', idx)


class IndexByHand(BakthatTestCase):
    """`bakthat index` on an object put by hand (no row, no index): the
    row it adopts gets the index's sha256, and the archive is read by
    ranges from then on."""

    def test_index_of_an_object_put_by_hand(self):
        self.write_config("default:\n  default_destination: local\n")
        src = os.path.join(self.work, "tree")
        make_tree(src)
        tgz = os.path.join(self.work, "old.tgz")
        subprocess.run(["tar", "-czf", tgz, "-C", self.work, "tree"], check=True)
        os.makedirs(self.store_dir(), exist_ok=True)
        shutil.copy(tgz, os.path.join(self.store_dir(), "old.20130102030405.tgz"))
        r = self.ok("index", "old")
        self.assertIn("Indexed", r.errtext)
        [p] = glob.glob(os.path.join(self.store_dir(), ".bakthat", "index", "*", "old.20130102030405.tgz"))
        with open(p, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        [row] = json.loads(self.ok("show", "--json").text)
        self.assertEqual(row["metadata"]["index_sha256"], digest)
        with open(tgz, "rb") as f:
            self.assertEqual(row["metadata"]["sha256"], hashlib.sha256(f.read()).hexdigest())
        # GNU gzip's one member: no member map, so a restore reads it whole,
        # but the listing comes from the index.
        r = self.ok("list", "old")
        self.assertNotIn("Reading the whole", r.errtext)
        self.assertEqual([l.split() for l in r.text.splitlines()], tar_listing(tgz))
        out = os.path.join(self.work, "out")
        self.ok("restore", "old", "tree/z_last/end.bin", "-o", out)
        with open(os.path.join(out, "tree", "z_last", "end.bin"), "rb") as f, \
                open(os.path.join(src, "z_last", "end.bin"), "rb") as g:
            self.assertEqual(f.read(), g.read())


class PartialRestoreS3(BakthatTestCase):
    """Swift's S3 API: ranged GETs."""

    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("swift")
        self.write_config(swift_profile(self.bucket))
        self.src = os.path.join(self.work, "tree")
        make_tree(self.src)

    def test_index_command(self):
        self.ok("backup", self.src, "-d", "s3")
        key = [o["Key"] for o in backup_objects(aws("swift", "s3api", "list-objects-v2", "--bucket", self.bucket))
               if o["Key"].startswith("tree.")][0]
        aws("swift", "s3api", "delete-object", "--bucket", self.bucket, "--key", ".bakthat/index/s3/" + key)
        self.assertIn("Indexed", self.ok("index", "tree", "-d", "s3").errtext)
        r = self.ok("list", "tree", "-d", "s3")
        self.assertNotIn("Reading the whole", r.errtext)
        self.assertIn("tree/z_last/end.bin", r.text)

    def test_list_and_partial_restore(self):
        self.ok("backup", self.src, "-d", "s3")
        entries = json.loads(self.ok("list", "tree", "-d", "s3", "--json").text)
        self.assertIn("tree/m_middle/deep/mid.txt", [e["path"] for e in entries])
        full = os.path.join(self.work, "full")
        self.ok("restore", "tree", "-d", "s3", "-o", full)
        want = tree_digest(os.path.join(full, "tree"))
        for path in ("tree/a_first/start.txt", "tree/m_middle/deep/mid.txt", "tree/z_last/end.bin"):
            out = os.path.join(self.work, "p-" + os.path.basename(path))
            self.ok("restore", "tree", path, "-d", "s3", "-o", out)
            rel = os.path.relpath(path, "tree")
            self.assertEqual(tree_digest(os.path.join(out, "tree"))[rel][:4], want[rel][:4])


class PartialRestoreS3Fetched(BakthatTestCase):
    """A one-file restore from a multi-MB encrypted backup on Swift's S3 API
    fetches only the age chunks (and gzip members) that hold it: the bytes
    of the replies, counted by a proxy in front of the server."""
    PASSWORD = "correct horse battery"
    profile = {}

    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("swift")
        self.target = servers()["S3_ENDPOINT"].split("://", 1)[1]
        self.src = os.path.join(self.work, "tree")
        make_tree(self.src)
        # Tens of MB of incompressible files around the small one restored:
        # it and the directories above it lie in three 1 MiB gzip members
        # (or two or three 4 MiB zstd frames).
        with open(os.path.join(self.src, "m_middle", "deep", "note.txt"), "w") as f:
            f.write("a small file in the middle\n" * 400)
        for i in range(40):
            with open(os.path.join(self.src, "m_middle", "more%02d.bin" % i), "wb") as f:
                f.write(os.urandom(1 << 20))

    def fetched_for(self, proxy, key_rx, path, env):
        """Bytes of the object fetched to restore `path` alone; its bytes
        checked against the source."""
        before = proxy.body_bytes(key_rx)
        out = os.path.join(self.work, "one-" + os.path.basename(path))
        self.ok("restore", "tree", "tree/" + path, "-d", "s3", "-o", out, env=env)
        with open(os.path.join(out, "tree", path), "rb") as f, open(os.path.join(self.src, path), "rb") as g:
            self.assertEqual(f.read(), g.read())
        return proxy.body_bytes(key_rx) - before

    def run_case(self, **profile):
        """{path: (bytes fetched to restore it alone, object size)}."""
        env = {"BAKTHAT_PASSWORD": self.PASSWORD}
        self.write_config(swift_profile(self.bucket, scrypt_work_factor=10, **profile))
        self.ok("backup", self.src, "-d", "s3", env=env)
        # The reads only go through the proxy (it forwards requests with a
        # Content-Length, not an upload's).
        with FaultProxy(self.target) as proxy:
            self.write_config(swift_profile(self.bucket, s3_endpoint=proxy.endpoint, scrypt_work_factor=10,
                                            **profile))
            [obj] = [o for o in backup_objects(aws("swift", "s3api", "list-objects-v2", "--bucket", self.bucket))
                     if o["Key"].startswith("tree.")]
            size = obj["Size"]
            self.assertGreater(size, 40 << 20)
            key_rx = r"^GET /%s/%s" % (self.bucket, re.escape(obj["Key"]))
            fetched = {p: self.fetched_for(proxy, key_rx, p, env)
                       for p in ("m_middle/deep/note.txt", "a_first/start.txt")}
        for p, n in fetched.items():
            self.assertGreater(n, 0, p)
        return fetched, size

    def test_one_file_of_an_encrypted_gzip_backup(self):
        fetched, size = self.run_case()
        for p, n in fetched.items():
            self.assertLess(n, size // 10, "%s: fetched %d of %d bytes" % (p, n, size))

    def test_one_file_of_an_encrypted_zstd_backup(self):
        """Only the 4 MiB frames holding it and the directories above it,
        and only their age chunks: the first file lies in the first frame
        with its directories; the one in the middle needs the frames of
        tree/m_middle/ and tree/m_middle/deep/ too."""
        fetched, size = self.run_case(compression="zstd")
        n = fetched["a_first/start.txt"]
        self.assertLess(n, size // 10, "fetched %d of %d bytes" % (n, size))
        n = fetched["m_middle/deep/note.txt"]
        self.assertLess(n, size * 35 // 100, "fetched %d of %d bytes" % (n, size))


if __name__ == "__main__":
    unittest.main()
