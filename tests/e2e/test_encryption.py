"""Encryption end to end: bakthat's age archives against the real age CLI in
both directions (X25519 recipients and scrypt passphrases typed on a pty),
chunk-boundary sizes, wrong passwords and damaged objects (nothing may be
written), and archives of the Python bakthat (beefish)."""
import glob
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import unittest

import pexpect

from harness import BakthatTestCase, SOURCE_DIR, tree_digest

PASSWORD = "correct horse battery staple"
BEEFISH_DIR = os.path.join(SOURCE_DIR, "tests", "data", "beefish")


def age_keygen(path):
    """Writes an identity file; returns its recipient."""
    subprocess.run(["age-keygen", "-o", path], check=True, capture_output=True)
    return subprocess.run(["age-keygen", "-y", path], check=True, capture_output=True,
                          text=True).stdout.strip()


def make_tree(root):
    os.makedirs(os.path.join(root, "sub"))
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello\n")
    with open(os.path.join(root, "sub", "random.bin"), "wb") as f:
        f.write(os.urandom(200000))  # several 64 KiB chunks, incompressible
    os.symlink("hello.txt", os.path.join(root, "link"))


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


class EncryptionCase(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.key = os.path.join(self.tmp, "key.txt")
        self.recipient = age_keygen(self.key)

    def stored(self):
        objs = glob.glob(os.path.join(self.store_dir(), "*"))
        self.assertEqual(len(objs), 1, objs)
        return objs[0]

    def age_decrypt_untar(self, obj, identity=None, passphrase=None):
        """Extracts an object with `age -d | tar -xz`; returns the directory."""
        out = os.path.join(self.tmp, "age-out")
        os.makedirs(out, exist_ok=True)
        tgz = os.path.join(self.tmp, "age-plain.tgz")
        if identity:
            subprocess.run(["age", "-d", "-i", identity, "-o", tgz, obj], check=True)
        else:
            # age reads a passphrase only from a terminal.
            child = pexpect.spawn("age", ["-d", "-o", tgz, obj], timeout=120)
            child.expect("passphrase")
            child.sendline(passphrase)
            child.expect(pexpect.EOF)
            child.close()
            self.assertEqual(child.exitstatus, 0, child.before)
        subprocess.run(["tar", "-xzf", tgz, "-C", out], check=True)
        return out

    def age_encrypt_passphrase(self, src, dst, passphrase, armor=False):
        args = ["-e", "-p"] + (["-a"] if armor else []) + ["-o", dst, src]
        child = pexpect.spawn("age", args, timeout=120)
        child.expect("passphrase")
        child.sendline(passphrase)
        child.expect("onfirm")
        child.sendline(passphrase)
        child.expect(pexpect.EOF)
        child.close()
        self.assertEqual(child.exitstatus, 0, child.before)

    def make_tgz(self, files):
        """A tar.gz (made by GNU tar) of a directory `d` holding `files`."""
        d = os.path.join(self.work, "d")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in files.items():
            write_bytes(os.path.join(d, name), data)
        tgz = os.path.join(self.tmp, "plain.tgz")
        subprocess.run(["tar", "-czf", tgz, "-C", self.work, "d"], check=True)
        return d, tgz

    def assert_clean_failure(self, r, out):
        """Non-zero exit, a one-line error (after any progress lines),
        nothing written to `out`."""
        lines = r.errtext.strip().splitlines()
        errors = [l for l in lines if l.startswith("bakthat:")]
        self.assertEqual(len(errors), 1, r.errtext)
        self.assertEqual(errors[0], lines[-1], r.errtext)
        self.assertEqual(os.listdir(out), [], r.errtext)


class BakthatToAge(EncryptionCase):
    def test_recipient_backup_opens_with_age(self):
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "tree", "--recipient", self.recipient)
        obj = self.stored()
        self.assertRegex(os.path.basename(obj), r"^tree\.\d{14}\.tgz\.enc$")
        self.assertTrue(read_bytes(obj).startswith(b"age-encryption.org/v1\n-> X25519 "))
        out = self.age_decrypt_untar(obj, identity=self.key)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "tree")))
        # and bakthat restores it with the identity
        back = os.path.join(self.tmp, "back")
        self.ok("restore", "tree", "-o", back, "--identity", self.key)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(back, "tree")))

    def test_several_recipients_and_recipients_file(self):
        key2 = os.path.join(self.tmp, "key2.txt")
        r2 = age_keygen(key2)
        rfile = os.path.join(self.tmp, "recipients.txt")
        with open(rfile, "w") as f:
            f.write("# team\n\n%s\n" % r2)
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "tree", "--recipient", self.recipient, "--recipients-file", rfile)
        obj = self.stored()
        self.assertEqual(read_bytes(obj).count(b"\n-> X25519 "), 2)
        for key in (self.key, key2):
            out = self.age_decrypt_untar(obj, identity=key)
            self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "tree")))
            shutil.rmtree(out)

    def test_key_options_before_the_name(self):
        # Each --recipient / --identity takes one value, so the path or name
        # may follow them (the options used to swallow it as another key).
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "--recipient", self.recipient, "--recipient", self.recipient, "tree")
        self.assertEqual(read_bytes(self.stored()).count(b"\n-> X25519 "), 2)
        back = os.path.join(self.tmp, "back")
        self.ok("restore", "-i", self.key, "tree", "-o", back)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(back, "tree")))
        self.ok("verify", "-i", self.key, "--identity", self.key, "tree")

    def test_config_recipients_and_identity_file(self):
        self.write_config("default:\n  recipients: [%s]\n  identity_file: %s\n" % (self.recipient, self.key))
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "tree")
        obj = self.stored()
        self.assertTrue(obj.endswith(".tgz.enc"))
        out = self.age_decrypt_untar(obj, identity=self.key)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "tree")))
        back = os.path.join(self.tmp, "back")
        self.ok("restore", "tree", "-o", back)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(back, "tree")))

    def test_password_backup_opens_with_age_passphrase(self):
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "tree", env={"BAKTHAT_PASSWORD": PASSWORD})
        obj = self.stored()
        head = read_bytes(obj)[:200]
        self.assertRegex(head, rb"^age-encryption\.org/v1\n-> scrypt [A-Za-z0-9+/]{22} \d+\n")
        out = self.age_decrypt_untar(obj, passphrase=PASSWORD)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "tree")))

    def test_sizes_at_chunk_boundaries(self):
        for size in (0, 1, 65536, 65537, 50 * 1024 * 1024):
            with self.subTest(size=size):
                name = "f%d.bin" % size
                data = os.urandom(size)
                write_bytes(os.path.join(self.work, name), data)
                self.ok("backup", name, "--recipient", self.recipient)
                obj = [p for p in glob.glob(os.path.join(self.store_dir(), "*")) if name in p][0]
                out = self.age_decrypt_untar(obj, identity=self.key)
                self.assertEqual(read_bytes(os.path.join(out, name)), data)
                shutil.rmtree(out)
                back = os.path.join(self.tmp, "back%d" % size)
                self.ok("restore", name, "-o", back, "-i", self.key)
                self.assertEqual(read_bytes(os.path.join(back, name)), data)


class AgeToBakthat(EncryptionCase):
    def test_age_recipient_archives_restore(self):
        for size in (0, 1, 65536, 65537, 50 * 1024 * 1024):
            for armor in (False, True):
                with self.subTest(size=size, armor=armor):
                    d, tgz = self.make_tgz({"data.bin": os.urandom(size)})
                    enc = os.path.join(self.tmp, "from-age.tgz.enc")
                    subprocess.run(["age", "-e"] + (["-a"] if armor else []) +
                                   ["-r", self.recipient, "-o", enc, tgz], check=True)
                    out = os.path.join(self.tmp, "out-%d-%d" % (size, armor))
                    self.ok("restore", "--from-file", enc, "-o", out, "--identity", self.key)
                    self.assertEqual(tree_digest(d), tree_digest(os.path.join(out, "d")))

    def test_age_passphrase_archive_restores(self):
        d, tgz = self.make_tgz({"a.txt": b"alpha\n", "b.bin": os.urandom(70000)})
        enc = os.path.join(self.tmp, "from-age-p.tgz.enc")
        self.age_encrypt_passphrase(tgz, enc, PASSWORD)
        out = os.path.join(self.tmp, "out")
        self.ok("restore", "--from-file", enc, "-o", out, env={"BAKTHAT_PASSWORD": PASSWORD})
        self.assertEqual(tree_digest(d), tree_digest(os.path.join(out, "d")))
        # a wrong passphrase: clean failure, nothing written
        out2 = os.path.join(self.tmp, "out2")
        os.makedirs(out2)
        r = self.fails("restore", "--from-file", enc, "-o", out2, "--prompt", "no",
                       env={"BAKTHAT_PASSWORD": "not it"})
        self.assert_clean_failure(r, out2)
        self.assertIn("wrong password", r.errtext)

    def test_python_bakthat_beefish_archives_restore(self):
        for name, password in (("small.ecb.tgz.enc", "password"), ("small.cbc.tgz.enc", "password"),
                               ("big.cbc.tgz.enc", "x" * 28 + "y" * 28)):
            with self.subTest(name=name):
                out = os.path.join(self.tmp, "out-" + name)
                self.ok("restore", "--from-file", os.path.join(BEEFISH_DIR, name), "-o", out,
                        env={"BAKTHAT_PASSWORD": password})
                plain = read_bytes(os.path.join(BEEFISH_DIR, name.split(".")[0] + ".tgz"))
                with tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as t:
                    for m in t.getmembers():
                        if m.isfile():
                            got = read_bytes(os.path.join(out, m.name))
                            self.assertEqual(got, t.extractfile(m).read(), m.name)
        out = os.path.join(self.tmp, "wrong")
        os.makedirs(out)
        r = self.fails("restore", "--from-file", os.path.join(BEEFISH_DIR, "small.cbc.tgz.enc"), "-o", out,
                       "--prompt", "no", env={"BAKTHAT_PASSWORD": "Password"})
        self.assert_clean_failure(r, out)


class PythonBakthatWithoutGzip(EncryptionCase):
    def test_compress_false_backups_restore_in_both_variants(self):
        """What the Python bakthat stored with `compress: false` and a
        password: NAME.DATE.enc, beefish over the raw file, made by the real
        beefish 0.1.1 (ECB) and 0.1.2 (CBC); its catalog row says no more
        than is_enc."""
        write_bytes(os.path.join(self.work, "first.txt"), b"x")
        self.ok("backup", "first.txt", "--prompt", "no")  # the catalog, and this store's backend_hash
        db = sqlite3.connect(self.catalog_path())
        backend, backend_hash = db.execute("SELECT backend, backend_hash FROM backups").fetchone()
        plain = read_bytes(os.path.join(BEEFISH_DIR, "notes.txt"))
        for variant in ("ecb", "cbc"):
            name = "notes-%s.txt" % variant
            stored = "%s.20140301120000.enc" % name
            data = read_bytes(os.path.join(BEEFISH_DIR, "notes.txt.20140301120000.%s.enc" % variant))
            write_bytes(os.path.join(self.store_dir(), stored), data)
            with db:
                db.execute("INSERT INTO backups (backend, backend_hash, backup_date, filename, is_deleted,"
                           " last_updated, metadata, size, stored_filename, tags)"
                           " VALUES (?, ?, 1393675200, ?, 0, 1393675200, ?, ?, ?, '')",
                           (backend, backend_hash, name, '{"is_enc": true, "client": "old"}', len(data), stored))
        db.close()
        for variant in ("ecb", "cbc"):
            with self.subTest(variant=variant):
                name = "notes-%s.txt" % variant
                out = os.path.join(self.tmp, "out-" + variant)
                self.ok("restore", name, "-o", out, env={"BAKTHAT_PASSWORD": "s3cret " + variant})
                self.assertEqual(read_bytes(os.path.join(out, name)), plain)
                r = self.ok("restore", name, "--stdout", env={"BAKTHAT_PASSWORD": "s3cret " + variant})
                self.assertEqual(r.out, plain)
                # the other variant's password: refused, nothing written
                wrong = os.path.join(self.tmp, "wrong-" + variant)
                os.makedirs(wrong)
                other = "s3cret " + ("cbc" if variant == "ecb" else "ecb")
                r = self.fails("restore", name, "-o", wrong, "--prompt", "no", env={"BAKTHAT_PASSWORD": other})
                self.assertEqual(r.code, 5, repr(r))
                self.assert_clean_failure(r, wrong)
                # and as a file downloaded by hand
                byhand = os.path.join(self.tmp, "byhand-" + variant)
                self.ok("restore", "--from-file", os.path.join(BEEFISH_DIR, "notes.txt.20140301120000.%s.enc" % variant),
                        "-o", byhand, env={"BAKTHAT_PASSWORD": "s3cret " + variant})
                self.assertEqual([read_bytes(os.path.join(byhand, n)) for n in os.listdir(byhand)], [plain])


def ssh_keygen(path, kind):
    """An unencrypted OpenSSH key pair at path and path.pub; returns the
    public key line."""
    if shutil.which("ssh-keygen") is None:
        raise unittest.SkipTest("ssh-keygen (openssh-client) is not installed")
    args = ["-t", kind] + (["-b", "2048"] if kind == "rsa" else [])
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-C", "me@host", "-f", path] + args, check=True)
    with open(path + ".pub") as f:
        return f.read().strip()


class SshKeys(EncryptionCase):
    """SSH keys as age recipients and identities, as `age -R key.pub` and
    `age -i key` use them, against the real age both ways."""

    def check_kind(self, kind):
        key = os.path.join(self.tmp, "id_" + kind)
        public = ssh_keygen(key, kind)
        src = os.path.join(self.work, "tree")
        make_tree(src)
        # bakthat -> age: --recipient "ssh-... AAAA... comment"
        self.ok("backup", "tree", "--recipient", public)
        obj = self.stored()
        self.assertEqual(self.encryption_of_latest(), "age-ssh-" + kind)
        self.assertTrue(read_bytes(obj).startswith(b"age-encryption.org/v1\n-> ssh-%s " %
                                                   (b"ed25519" if kind == "ed25519" else b"rsa")))
        out = self.age_decrypt_untar(obj, identity=key)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "tree")))
        shutil.rmtree(out)
        # bakthat restores it with the private key
        back = os.path.join(self.tmp, "back")
        self.ok("restore", "tree", "-o", back, "-i", key)
        self.assertEqual(tree_digest(src), tree_digest(os.path.join(back, "tree")))
        # a recipients file holding the .pub, with an age key beside it
        os.remove(obj)
        rfile = os.path.join(self.tmp, "recipients.txt")
        with open(rfile, "w") as f:
            f.write("# mine\n%s\n%s\n" % (public, self.recipient))
        self.ok("backup", "tree", "--recipients-file", rfile)
        obj = self.stored()
        self.assertEqual(self.encryption_of_latest(), "age-recipients")
        for identity in (key, self.key):
            out = self.age_decrypt_untar(obj, identity=identity)
            self.assertEqual(tree_digest(src), tree_digest(os.path.join(out, "tree")))
            shutil.rmtree(out)
        # age -> bakthat: age -R key.pub, restored with -i key
        d, tgz = self.make_tgz({"data.bin": os.urandom(100000), "a.txt": b"alpha\n"})
        enc = os.path.join(self.tmp, "from-age-ssh.tgz.enc")
        subprocess.run(["age", "-e", "-R", key + ".pub", "-o", enc, tgz], check=True)
        out = os.path.join(self.tmp, "from-age")
        self.ok("restore", "--from-file", enc, "-o", out, "-i", key)
        self.assertEqual(tree_digest(d), tree_digest(os.path.join(out, "d")))
        # another key of the same kind: refused, nothing written
        other = os.path.join(self.tmp, "other_" + kind)
        ssh_keygen(other, kind)
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        r = self.fails("restore", "--from-file", enc, "-o", empty, "-i", other)
        self.assertEqual(r.code, 5, repr(r))
        self.assert_clean_failure(r, empty)
        self.assertNotIn("PRIVATE", r.errtext)

    def encryption_of_latest(self):
        rows = json.loads(self.ok("show", "--json").text)
        return max(rows, key=lambda r: r["backup_date"])["metadata"]["encryption"]

    def test_ed25519(self):
        self.check_kind("ed25519")

    def test_rsa(self):
        self.check_kind("rsa")

    def test_bad_ssh_keys(self):
        key = os.path.join(self.tmp, "id_ed25519")
        ssh_keygen(key, "ed25519")
        src = os.path.join(self.work, "f.txt")
        write_bytes(src, b"x")
        # an unsupported type, a damaged key: usage errors before anything is stored
        r = self.fails("backup", "f.txt", "--recipient", "ssh-dss AAAAB3NzaC1kc3MAAACBAP me")
        self.assertIn("ssh-dss", r.errtext)
        r = self.fails("backup", "f.txt", "--recipient", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB me")
        self.assertEqual(r.code, 2, repr(r))
        self.assertFalse(glob.glob(os.path.join(self.store_dir(), "*")))
        # a passphrase-protected private key is named as such, not echoed
        locked = os.path.join(self.tmp, "locked")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret phrase", "-f", locked], check=True)
        with open(key + ".pub") as f:
            public = f.read().strip()
        self.ok("backup", "f.txt", "--recipient", public)
        r = self.fails("restore", "f.txt", "-o", os.path.join(self.tmp, "o"), "-i", locked)
        self.assertIn("passphrase-protected", r.errtext)
        self.assertNotIn("PRIVATE KEY", r.errtext)
        # the .pub given as an identity: says to give the private key
        r = self.fails("restore", "f.txt", "-o", os.path.join(self.tmp, "o"), "-i", key + ".pub")
        self.assertIn("private key", r.errtext)


class Failures(EncryptionCase):
    def test_wrong_password_writes_nothing(self):
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "tree", env={"BAKTHAT_PASSWORD": PASSWORD})
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        r = self.fails("restore", "tree", "-o", out, "--prompt", "no", env={"BAKTHAT_PASSWORD": "wrong"})
        self.assert_clean_failure(r, out)
        self.assertIn("wrong password", r.errtext)

    def test_wrong_identity_writes_nothing(self):
        other = os.path.join(self.tmp, "other.txt")
        age_keygen(other)
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "tree", "--recipient", self.recipient)
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        r = self.fails("restore", "tree", "-o", out, "--identity", other)
        self.assert_clean_failure(r, out)

    def test_flipped_bytes_fail_cleanly(self):
        src = os.path.join(self.work, "tree")
        make_tree(src)
        self.ok("backup", "tree", "--recipient", self.recipient)
        obj = self.stored()
        original = read_bytes(obj)
        header_end = original.index(b"\n--- ") + 5 + 43 + 1
        positions = [0, 25, header_end - 3,             # intro, stanza, MAC
                     header_end + 5,                    # payload nonce
                     header_end + 16 + 100,             # first chunk
                     header_end + 16 + 65552 + 7,       # second chunk
                     header_end + 16 + 65552 - 1,       # first chunk's tag
                     len(original) - 1]                 # last chunk's tag
        os.chmod(obj, 0o600)
        for pos in positions:
            with self.subTest(pos=pos):
                data = bytearray(original)
                data[pos] ^= 0x04
                write_bytes(obj, bytes(data))
                out = os.path.join(self.tmp, "out-%d" % pos)
                os.makedirs(out)
                r = self.fails("restore", "tree", "-o", out, "--identity", self.key)
                self.assert_clean_failure(r, out)
        write_bytes(obj, original)
        self.ok("restore", "tree", "-o", os.path.join(self.tmp, "fine"), "--identity", self.key)


if __name__ == "__main__":
    unittest.main()
