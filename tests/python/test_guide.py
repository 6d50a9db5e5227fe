"""The developer guide's examples (tests/python/developer_guide.rst, the
product's guide) run verbatim on the C++ engine: every Python code block is
extracted and run as a script by /usr/bin/python3, with only the credential
and bucket values of bakthat_conf replaced and the endpoint given the AWS
way (AWS_ENDPOINT_URL), against the loopback servers (moto for S3 and
Glacier, Swift's S3 API where signatures and expiry matter). Each test then
checks what the guide promises. The MySQL block runs in test_mysql.py."""
import gzip
import json
import os
import re
import sqlite3
import subprocess
import textwrap
import time
import unittest
import uuid

from pyharness import BIN, HERE, PackageTestCase

GUIDE = os.path.join(HERE, "developer_guide.rst")


def guide_blocks():
    """Every `.. code-block:: python` block's code, and every literal (`::`)
    block's text, in order, as (kind, text)."""
    with open(GUIDE) as f:
        lines = f.read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        kind = "python" if line.strip() == ".. code-block:: python" else ("literal" if line.rstrip().endswith("::")
                                                                          and not line.startswith("..") else None)
        if kind is None:
            i += 1
            continue
        i += 1
        body = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
            body.append(lines[i])
            i += 1
        blocks.append((kind, textwrap.dedent("\n".join(body)).strip("\n") + "\n"))
    return blocks


def python_blocks():
    return [text for kind, text in guide_blocks() if kind == "python"]


def block_with(marker):
    [block] = [b for b in python_blocks() if marker in b]
    return block


def substitute(code, access_key, secret_key, bucket, vault="yourvault"):
    """Only the credential and bucket values of bakthat_conf change."""
    for old, new in (("'YOURACCESSKEY'", repr(access_key)), ("'YOURSECRETKEY'", repr(secret_key)),
                     ("'yours3bucket'", repr(bucket)), ("'yourvault'", repr(vault))):
        code = code.replace(old, new)
    return code


class GuideTestCase(PackageTestCase):
    def setUp(self):
        super().setUp()
        from harness import servers
        self.servers = servers()
        self.bucket = "bk-py-%s" % uuid.uuid4().hex[:10]
        self.vault = "bk-py-vault-%s" % uuid.uuid4().hex[:10]

    def run_block(self, code, endpoint, extra_env=None):
        script = os.path.join(self.tmp, "script.py")
        with open(script, "w") as f:
            f.write(code)
        env = dict(os.environ, HOME=self.home, AWS_ENDPOINT_URL=endpoint, PYTHONPATH=self.pythonpath())
        env.update(extra_env or {})
        proc = subprocess.run(["/usr/bin/python3", script], cwd=self.work, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        self.assertEqual(proc.returncode, 0, "%s\nstdout: %s\nstderr: %s" % (code, proc.stdout.decode(),
                                                                             proc.stderr.decode()))
        return proc

    def pythonpath(self):
        from pyharness import PYTHONPATH
        return PYTHONPATH

    def rows(self):
        with sqlite3.connect(os.path.join(self.home, ".bakthat.sqlite")) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM backups ORDER BY id")]

    def cli(self, *args, endpoint):
        env = dict(os.environ, HOME=self.home, AWS_ENDPOINT_URL=endpoint)
        proc = subprocess.run([BIN, *args], cwd=self.work, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc

    def moto_config(self, **extra):
        keys = {"access_key": "testing", "secret_key": "testing", "s3_bucket": self.bucket,
                "region_name": "us-east-1"}
        keys.update(extra)
        with open(os.path.join(self.home, ".bakthat.yml"), "w") as f:
            f.write(json.dumps({"default": keys}))  # JSON is YAML
        os.chmod(os.path.join(self.home, ".bakthat.yml"), 0o600)


class GuideBlocks(unittest.TestCase):
    def test_the_guide_has_the_blocks_the_tests_run(self):
        blocks = python_blocks()
        self.assertEqual(len(blocks), 5)
        for marker in ("bakthat.backup(\"/dir/i/wanto/bak\"", "from bakthat.helper import KeyValue",
                       "with BakHelper(\"mybackup\"", "bh = BakHelper(conf=bakthat_conf)", "sh.mysqldump"):
            self.assertEqual(sum(marker in b for b in blocks), 1, marker)


class LowLevelApi(GuideTestCase):
    SOURCE = "/dir/i/wanto/bak"

    def need_source(self):
        """The guide backs up /dir/i/wanto/bak: made when absent (and left,
        as another run may be using it)."""
        try:
            if not os.path.isdir(self.SOURCE):
                os.makedirs(os.path.join(self.SOURCE, "sub"), exist_ok=True)
                with open(os.path.join(self.SOURCE, "notes.txt"), "w") as f:
                    f.write("what the guide backs up\n")
                with open(os.path.join(self.SOURCE, "sub", "data.bin"), "wb") as f:
                    f.write(os.urandom(200000))
        except PermissionError as e:
            self.skipTest("the guide's %s cannot be made here: %s" % (self.SOURCE, e))

    def test_low_level_api_on_moto_s3_and_glacier(self):
        self.need_source()
        moto = self.servers["MOTO_ENDPOINT"]
        self.moto_config()
        code = substitute(block_with('bakthat.backup("/dir/i/wanto/bak"'), "testing", "testing", self.bucket,
                          self.vault)
        # No password given and none to type: BAKTHAT_PASSWORD="" says no
        # encryption, as it does for the command line.
        proc = self.run_block(code, moto, {"BAKTHAT_PASSWORD": ""})
        rows = self.rows()
        self.assertEqual([(r["filename"], r["backend"]) for r in rows],
                         [("bak", "s3"), ("bak", "glacier"), ("bak", "s3")], rows)
        # In the store: the bucket holds the two s3 backups (the guide's ls()
        # lists them), the vault's inventory the glacier one.
        from s3util import aws, backup_objects
        keys = [o["Key"] for o in backup_objects(aws("moto", "s3api", "list-objects-v2", "--bucket", self.bucket))]
        # (and the Glacier inventory's copy, kept in the bucket as the Python bakthat did)
        self.assertEqual(sorted(keys), sorted([r["stored_filename"] for r in rows if r["backend"] == "s3"] +
                                              ["bakthat_glacier_inventory"]))
        vaults = aws("moto", "glacier", "list-vaults", "--account-id", "-", "--region", "eu-west-1")["VaultList"]
        self.assertIn(self.vault, [v["VaultName"] for v in vaults])
        with sqlite3.connect(os.path.join(self.home, ".bakthat.sqlite")) as db:
            self.assertEqual([r[0] for r in db.execute("SELECT filename FROM inventory")],
                             [rows[1]["stored_filename"]])
        # restore: in the current working directory, the same bytes
        restored = os.path.join(self.work, "bak")
        for d, _, files in os.walk(self.SOURCE):
            for n in files:
                p = os.path.join(d, n)
                with open(p, "rb") as a, open(os.path.join(restored, os.path.relpath(p, self.SOURCE)), "rb") as b:
                    self.assertEqual(a.read(), b.read(), p)
        self.assertEqual(proc.stderr.decode(), "")  # no logging configured: nothing said


class KeyValueExample(GuideTestCase):
    def curl(self, url):
        """(body bytes, HTTP status) of a GET by the real curl."""
        proc = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", url], stdout=subprocess.PIPE,
                              timeout=60)
        body, status = proc.stdout.rsplit(b"\n", 1)
        return body, status.decode()

    def test_key_value(self):
        # On moto: the guide's region_name (es-east-1) is not one a stricter
        # S3 accepts, and only the credentials and bucket are replaced.
        moto = self.servers["MOTO_ENDPOINT"]
        code = substitute(block_with("from bakthat.helper import KeyValue"), "testing", "testing", self.bucket)
        # The block verbatim, then what the guide promises, printed as JSON.
        code += textwrap.dedent("""
            import json as _json
            print(_json.dumps({"restored": mydata_restored, "url": data_url,
                               "mykey": kv.get_key("mykey"),
                               "encrypted": kv.get_key("my_encrypted_key", password="mypassword"),
                               "plain": kv.get_key("my_non_compressed_key"),
                               "plain_url": kv.get_key_url("my_non_compressed_key", 60)}))
            """)
        proc = self.run_block(code, moto)
        out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(out["restored"], {"some": "data"})
        self.assertIsNone(out["mykey"])  # deleted
        self.assertEqual(out["encrypted"], "myvalue")
        self.assertEqual(out["plain"], {"my": "data"})
        self.assertIn("X-Amz-Expires=60", out["url"])
        self.assertTrue(out["url"].startswith(moto), out["url"])
        self.assertEqual(self.curl(out["url"])[1], "404")  # its key was deleted
        body, status = self.curl(out["plain_url"])
        self.assertEqual((status, json.loads(body)), ("200", {"my": "data"}))  # compress=False: the JSON itself
        # Values set from Python are catalog backups the command line reads.
        self.moto_config(region_name="es-east-1")
        got = self.cli("restore", "my_non_compressed_key", "--stdout", endpoint=moto).stdout
        self.assertEqual(json.loads(got), {"my": "data"})
        got = subprocess.run([BIN, "restore", "my_encrypted_key", "--stdout"], cwd=self.work,
                             env=dict(os.environ, HOME=self.home, AWS_ENDPOINT_URL=moto,
                                      BAKTHAT_PASSWORD="mypassword"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        self.assertEqual(json.loads(got.stdout), "myvalue", got.stderr)

    def test_presigned_url_expires(self):
        # Swift's S3 API checks signatures and expiry (moto does not).
        s = self.servers
        code = textwrap.dedent("""
            from bakthat.helper import KeyValue
            kv = KeyValue(conf={"access_key": %r, "secret_key": %r, "s3_bucket": %r, "region_name": %r})
            kv.set_key("mykey", {"some": "data"})
            print(kv.get_key_url("mykey", 3))
            """ % (s["S3_ACCESS_KEY"], s["S3_SECRET_KEY"], self.bucket, s["S3_REGION"]))
        url = self.run_block(code, s["S3_ENDPOINT"]).stdout.decode().strip()
        body, status = self.curl(url)
        self.assertEqual(status, "200", body)
        self.assertEqual(json.loads(gzip.decompress(body)), {"some": "data"})  # gzip-compressed JSON
        time.sleep(4)
        self.assertEqual(self.curl(url)[1], "403")  # expired


class BakHelperExamples(GuideTestCase):
    ROTATION = {"days": 7, "first_week_day": 5, "months": 6, "weeks": 6}

    def sample_output(self):
        """The guide's sample output of the minimal script, as regexes."""
        literal = [t for k, t in guide_blocks() if k == "literal" and "python mybackupscript.py" in t]
        [text] = literal
        lines = [line.strip() for line in text.splitlines()[1:] if line.strip()]
        return [re.escape(line).replace(r"/tmp/mybackup_JVTGOM", r"/tmp/mybackup_\w+") for line in lines]

    def test_minimal_script_logs_the_guides_lines(self):
        moto = self.servers["MOTO_ENDPOINT"]
        self.moto_config(rotation=self.ROTATION)
        proc = self.run_block(block_with('with BakHelper("mybackup"'), moto, {"TMPDIR": "/tmp"})
        err = proc.stderr.decode().splitlines()
        expected = self.sample_output()
        self.assertEqual(len(expected), 5)
        self.assertEqual(len(err), len(expected), err)
        for pattern, line in zip(expected, err):
            self.assertRegex(line, "^" + pattern + "$")
        tmpd = err[0].split()[-1]
        self.assertFalse(os.path.exists(tmpd))  # removed on exit
        [row] = self.rows()
        self.assertEqual((row["filename"], row["tags"], row["backend"]), ("mybackup", "mybackup", "s3"))
        self.cli("restore", "mybackup", endpoint=moto)
        with open(os.path.join(self.work, os.path.basename(tmpd), "myfile.txt")) as f:
            self.assertEqual(f.read(), "mydata")

    def test_context_manager_removes_its_directory_on_an_exception(self):
        code = ("from bakthat.helper import BakHelper\nimport os\n"
                "try:\n"
                "    with BakHelper('boom') as bh:\n"
                "        d = os.getcwd()\n"
                "        open('f', 'w').write('x')\n"
                "        raise ValueError('x')\n"
                "except ValueError:\n"
                "    print(d, os.path.exists(d), os.getcwd())\n")
        proc = self.run_block(code, "http://127.0.0.1:9")
        d, exists, cwd = proc.stdout.decode().split()
        self.assertTrue(os.path.basename(d).startswith("boom_"), d)
        self.assertEqual((exists, cwd), ("False", self.work))

    def test_class_use(self):
        moto = self.servers["MOTO_ENDPOINT"]
        code = substitute(block_with("bh = BakHelper(conf=bakthat_conf)"), "testing", "testing", self.bucket)
        self.run_block(code, moto)
        [row] = self.rows()
        self.assertEqual((row["filename"], row["backend"], row["is_deleted"]), ("myfile.txt", "s3", 0))
        os.remove(os.path.join(self.work, "myfile.txt"))
        self.moto_config()
        self.cli("restore", "myfile.txt", endpoint=moto)
        with open(os.path.join(self.work, "myfile.txt")) as f:
            self.assertEqual(f.read(), "mydata")


if __name__ == "__main__":
    unittest.main()
