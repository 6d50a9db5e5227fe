"""The C++ library as a user gets it: `cmake --install` into a scratch
prefix, the examples built against it with find_package(bakthat) and with
pkg-config, then KeyValue, BakHelper, events, hooks and plugins checked
through a small driver program (library/driver.cpp) and the real CLI."""
import glob
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from harness import BIN, BakthatTestCase
from s3util import new_bucket, swift_profile
from syncserver import PASSWORD, SyncServer

BUILD_DIR = os.environ.get("BAKTHAT_BUILD_DIR") or os.path.dirname(os.path.abspath(BIN))
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

_built = {}


def run(cmd, **kw):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=1200, **kw)
    if proc.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), proc.returncode,
                                                        proc.stdout.decode()[-3000:], proc.stderr.decode()[-6000:]))
    return proc.stdout.decode()


def pkg_config(prefix, *args):
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
    return run(["pkg-config", *args, "bakthat"], env=env).split()


def built():
    """Installs once per run and builds the examples, the driver and the
    plugins against the installed copy only (never the source tree)."""
    if _built:
        return _built
    root = tempfile.mkdtemp(prefix="bakthat-lib-")
    prefix = os.path.join(root, "prefix")
    run(["cmake", "--install", BUILD_DIR, "--prefix", prefix])
    # find_package(bakthat): the examples' own CMake project.
    ex_build = os.path.join(root, "examples")
    run(["cmake", "-S", os.path.join(SOURCE_DIR, "examples"), "-B", ex_build,
         "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_BUILD_TYPE=Release"])
    run(["cmake", "--build", ex_build, "-j2"])
    # pkg-config: the driver, and the plugins (headers only).
    cflags = pkg_config(prefix, "--cflags")
    libs = pkg_config(prefix, "--libs")
    driver = os.path.join(root, "driver")
    run(["c++", "-std=c++20", "-O1", *cflags, os.path.join(HERE, "library", "driver.cpp"), "-o", driver, *libs])
    plugins = os.path.join(root, "plugins")
    os.makedirs(plugins)
    run(["c++", "-std=c++20", "-shared", "-fPIC", *cflags, os.path.join(HERE, "library", "plugin.cpp"),
         "-o", os.path.join(plugins, "logger.so")])
    nosym = os.path.join(root, "nosym.cpp")
    with open(nosym, "w") as f:
        f.write('extern "C" int something_else() { return 1; }\n')
    run(["c++", "-shared", "-fPIC", nosym, "-o", os.path.join(plugins, "nosym.so")])
    _built.update(root=root, prefix=prefix, examples=ex_build, driver=driver, plugins=plugins)
    return _built


def tearDownModule():
    if _built:
        shutil.rmtree(_built["root"], ignore_errors=True)


class LibraryTestCase(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.b = built()

    def local_config(self, extra=""):
        self.write_config("default:\n  default_destination: local\n" + extra)

    def driver(self, *args, env=None, cwd=None):
        e = dict(self.env)
        if env:
            e.update(env)
        proc = subprocess.run([self.b["driver"], *args], cwd=cwd or self.work, env=e,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def driver_ok(self, *args, **kw):
        code, out, err = self.driver(*args, **kw)
        self.assertEqual(code, 0, "driver %s: %s %s" % (args, out, err))
        return out

    def rows(self, where="1=1", args=()):
        if not os.path.exists(self.catalog_path()):
            return []
        db = sqlite3.connect(self.catalog_path())
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM backups WHERE %s ORDER BY id" % where, args)]
        finally:
            db.close()


class Install(LibraryTestCase):
    def test_installed_layout(self):
        p = self.b["prefix"]
        self.assertTrue(os.path.isfile(os.path.join(p, "lib", "libbakthat.a")))
        self.assertTrue(os.access(os.path.join(p, "bin", "bakthat"), os.X_OK))
        headers = sorted(os.path.basename(h) for h in glob.glob(os.path.join(p, "include", "bakthat", "*.hpp")))
        self.assertEqual(headers, sorted(os.path.basename(h) for h in
                                         glob.glob(os.path.join(SOURCE_DIR, "include", "bakthat", "*.hpp"))))
        for name in ("key_value.hpp", "bak_helper.hpp", "events.hpp"):
            self.assertIn(name, headers)
        self.assertTrue(os.path.isfile(os.path.join(p, "lib", "cmake", "bakthat", "bakthatConfig.cmake")))
        # No source-tree path leaks into what was installed.
        for f in glob.glob(os.path.join(p, "lib", "cmake", "bakthat", "*")) + \
                [os.path.join(p, "lib", "pkgconfig", "bakthat.pc")]:
            with open(f) as fh:
                self.assertNotIn(SOURCE_DIR + "/src", fh.read(), f)
        self.assertIn("-lbakthat", pkg_config(p, "--libs"))

    def test_umbrella_header_alone(self):
        src = os.path.join(self.work, "one.cpp")
        with open(src, "w") as f:
            f.write("#include <bakthat/bakthat.hpp>\n"
                    "int main() { bakthat::KeyValue kv; (void)kv; return bakthat::version().empty(); }\n")
        exe = os.path.join(self.work, "one")
        p = self.b["prefix"]
        run(["c++", "-std=c++20", *pkg_config(p, "--cflags"), src, "-o", exe, *pkg_config(p, "--libs")])
        run([exe])

    def test_pkg_config_builds_an_example(self):
        p = self.b["prefix"]
        exe = os.path.join(self.work, "key_value_pc")
        run(["c++", "-std=c++20", *pkg_config(p, "--cflags"), os.path.join(SOURCE_DIR, "examples", "key_value.cpp"),
             "-o", exe, *pkg_config(p, "--libs")])
        out = run([exe, os.path.join(self.work, "w")], env=self.env)
        self.assertIn('mykey = {"some":"data"}', out)


class Examples(LibraryTestCase):
    def example(self, name):
        work = os.path.join(self.work, name)
        os.makedirs(work)
        proc = subprocess.run([os.path.join(self.b["examples"], name), work], cwd=self.work, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stdout.decode() + proc.stderr.decode())
        # The CLI sees what the example stored, through the same store and catalog.
        self.write_config("default:\n  default_destination: local\n  local_path: %s\n  database: %s\n"
                          % (os.path.join(work, "store"), os.path.join(work, "catalog.sqlite")))
        return proc.stdout.decode(), proc.stderr.decode(), work

    def test_backup_restore(self):
        out, _, work = self.example("backup_restore")
        self.assertRegex(out, r"stored bak\.\d{14}\.tgz \(\d+ bytes, tags: example\)")
        self.assertRegex(out, r"ls: bak\.\d{14}\.tgz")
        self.assertIn("restored bak.", out)
        r = self.ok("show", "bak", "--json")
        self.assertEqual(json.loads(r.text)[0]["tags"], "example")

    def test_key_value(self):
        out, _, work = self.example("key_value")
        self.assertIn('mykey = {"some":"data"}', out)
        self.assertIn("no URL: ", out)
        self.assertIn("after delete_key: null", out)
        self.assertIn('my_encrypted_key = "myvalue"', out)
        m = re.search(r"my_non_compressed_key stored as (\S+)", out)
        self.assertRegex(m.group(1), r"^my_non_compressed_key\.\d{14}$")
        with open(os.path.join(work, "store", m.group(1))) as f:
            self.assertEqual(json.load(f), {"my": "data"})
        r = self.ok("restore", "my_encrypted_key", "--stdout", env={"BAKTHAT_PASSWORD": "mypassword"})
        self.assertEqual(json.loads(r.out), "myvalue")

    def test_bak_helper(self):
        out, _, work = self.example("bak_helper")
        self.assertIn("temporary directory removed: yes", out)
        self.assertRegex(out, r"working in /\S+/mybackup_\w{6}\n")
        self.assertRegex(out, r"stored mybackup\.\d{14}\.tgz as mybackup\n")
        self.assertRegex(out, r"kept mybackup\.\d{14}\.tgz")
        dest = os.path.join(self.work, "out")
        self.ok("restore", "mybackup", "-o", dest)
        [top] = os.listdir(dest)
        self.assertTrue(top.startswith("mybackup_"))
        with open(os.path.join(dest, top, "myfile.txt")) as f:
            self.assertEqual(f.read(), "mydata")

    def test_mysql_like(self):
        out, _, work = self.example("mysql_like")
        self.assertIn("dump.sql: %d bytes" % len("".join("%d\n" % i for i in range(1, 100001))), out)
        self.assertRegex(out, r"stored myhost_mysql\.\d{14}\.tgz\.enc \(encrypted: true\)")
        self.assertIn("failed as expected: 'sh' failed (exit status 3)", out)
        dest = os.path.join(self.work, "out")
        self.ok("restore", "myhost_mysql", "-o", dest, env={"BAKTHAT_PASSWORD": "mypassword"})
        [top] = os.listdir(dest)
        with open(os.path.join(dest, top, "dump.sql")) as f:
            self.assertEqual(f.read(), "".join("%d\n" % i for i in range(1, 100001)))

    def test_events(self):
        out, err, work = self.example("events")
        lines = out.splitlines()
        names = [l.split()[0] for l in lines]
        self.assertEqual(names, ["before_backup", "on_backup", "before_delete", "on_delete"])
        self.assertRegex(lines[1], r"-> notes\.txt\.\d{14}\.tgz$")
        self.assertIn("hook: on_backup %s" % os.path.join(work, "notes.txt"), err)


class KeyValueTest(LibraryTestCase):
    def setUp(self):
        super().setUp()
        self.local_config()

    def test_set_get_and_cli_interop(self):
        stored = self.driver_ok("kv-set", "mykey", '{"a": [1, 2, "x"]}').strip()
        self.assertRegex(stored, r"^mykey\.\d{14}\.gz$")
        self.assertEqual(json.loads(self.driver_ok("kv-get", "mykey")), {"a": [1, 2, "x"]})
        [row] = self.rows("filename = 'mykey'")
        meta = json.loads(row["metadata"])
        self.assertIs(meta["KeyValue"], True)
        self.assertIs(meta["is_gzipped"], True)
        self.assertIs(meta["is_enc"], False)
        with gzip.open(os.path.join(self.store_dir(), stored)) as f:
            self.assertEqual(json.load(f), {"a": [1, 2, "x"]})
        shown = json.loads(self.ok("show", "mykey", "--json").text)
        self.assertEqual([r["stored_filename"] for r in shown], [stored])
        self.assertEqual(json.loads(self.ok("restore", "mykey", "--stdout").out), {"a": [1, 2, "x"]})

    def python_key(self, key, value, compress=True, encrypted=None):
        """A value as Python's KeyValue.set_key left it: the object under the
        bare key name, gzipped JSON, and a row that says so only in its
        metadata (no extension, no .gz). `encrypted`: the object's bytes as
        beefish made them from a value set with a password."""
        if not self.rows("filename = 'other'"):
            self.driver_ok("kv-set", "other", "0")  # the catalog, and this store's backend_hash
        ours = self.rows("filename = 'other'")[0]
        data = json.dumps(value).encode()
        if compress:
            data = gzip.compress(data)
        if encrypted is not None:
            data = encrypted
        with open(os.path.join(self.store_dir(), key), "wb") as f:
            f.write(data)
        meta = {"KeyValue": True, "is_enc": encrypted is not None, "is_gzipped": compress}
        db = sqlite3.connect(self.catalog_path())
        with db:
            db.execute("INSERT INTO backups (backend, backend_hash, backup_date, filename, is_deleted, last_updated,"
                       " metadata, size, stored_filename, tags) VALUES (?, ?, 1370000000, ?, 0, 1370000000, ?, ?, ?, '')",
                       (ours["backend"], ours["backend_hash"], key, json.dumps(meta), len(data), key))
        db.close()

    def test_python_written_values(self):
        self.python_key("pykey", {"some": "data", "n": [1, 2]})
        self.assertEqual(json.loads(self.driver_ok("kv-get", "pykey")), {"some": "data", "n": [1, 2]})
        self.assertEqual(json.loads(self.ok("restore", "pykey", "--stdout").out), {"some": "data", "n": [1, 2]})
        self.python_key("pyraw", "plain", compress=False)
        self.assertEqual(json.loads(self.driver_ok("kv-get", "pyraw")), "plain")
        # Replacing a Python-written value leaves one value, ours.
        stored = self.driver_ok("kv-set", "pykey", "3").strip()
        self.assertEqual(self.driver_ok("kv-get", "pykey").strip(), "3")
        self.assertEqual([r["stored_filename"] for r in self.rows("filename = 'pykey' AND is_deleted = 0")], [stored])

    def test_python_encrypted_values_without_gzip(self):
        """set_key(compress=False, password=...): beefish over the bare JSON,
        made by the real beefish 0.1.1 (ECB) and 0.1.2 (CBC)."""
        beefish = os.path.join(SOURCE_DIR, "tests", "data", "beefish")
        with open(os.path.join(beefish, "kv.json")) as f:
            value = json.load(f)
        for variant in ("ecb", "cbc"):
            with self.subTest(variant=variant):
                with open(os.path.join(beefish, "mykey.20140301120001.%s.enc" % variant), "rb") as f:
                    self.python_key("py" + variant, None, compress=False, encrypted=f.read())
                password = "kv-" + variant
                self.assertEqual(json.loads(self.driver_ok("kv-get", "py" + variant, "--password", password)), value)
                r = self.ok("restore", "py" + variant, "--stdout", env={"BAKTHAT_PASSWORD": password})
                self.assertEqual(json.loads(r.out), value)
                code, out, err = self.driver("kv-get", "py" + variant, "--password", "kv-wrong")
                self.assertNotEqual(code, 0)
                self.assertIn("wrong password", err)

    def test_replacing_keeps_one_value(self):
        first = self.driver_ok("kv-set", "counter", "1").strip()
        second = self.driver_ok("kv-set", "counter", "2").strip()
        self.assertNotEqual(first, second)
        self.assertEqual(self.driver_ok("kv-get", "counter").strip(), "2")
        live = self.rows("filename = 'counter' AND is_deleted = 0")
        self.assertEqual([r["stored_filename"] for r in live], [second])
        self.assertEqual(sorted(self.store_objects()), [second])

    def test_prefix_keys_and_plain_backups_are_distinct(self):
        self.driver_ok("kv-set", "ab", '"long"')
        self.driver_ok("kv-set", "a", '"short"')
        with open(os.path.join(self.work, "a"), "w") as f:
            f.write("not a key")
        self.ok("backup", "a")  # a plain backup with the key's filename
        self.assertEqual(json.loads(self.driver_ok("kv-get", "a")), "short")
        self.assertEqual(json.loads(self.driver_ok("kv-get", "ab")), "long")
        self.driver_ok("kv-set", "a", '"again"')
        self.assertEqual(json.loads(self.driver_ok("kv-get", "ab")), "long")
        self.assertEqual(len(self.rows("filename = 'a' AND is_deleted = 0")), 2)  # the key + the plain backup

    def test_no_compression(self):
        stored = self.driver_ok("kv-set", "raw", '{"my": "data"}', "--no-compress").strip()
        self.assertRegex(stored, r"^raw\.\d{14}$")
        with open(os.path.join(self.store_dir(), stored)) as f:
            self.assertEqual(json.load(f), {"my": "data"})
        meta = json.loads(self.rows("filename = 'raw'")[0]["metadata"])
        self.assertIs(meta["is_gzipped"], False)
        self.assertEqual(json.loads(self.driver_ok("kv-get", "raw")), {"my": "data"})
        self.assertEqual(json.loads(self.ok("restore", "raw", "--stdout").out), {"my": "data"})

    def test_encrypted(self):
        stored = self.driver_ok("kv-set", "secret", '"myvalue"', "--password", "mypassword").strip()
        self.assertRegex(stored, r"^secret\.\d{14}\.gz\.enc$")
        with open(os.path.join(self.store_dir(), stored), "rb") as f:
            self.assertTrue(f.read().startswith(b"age-encryption.org/v1\n"))
        self.assertEqual(json.loads(self.driver_ok("kv-get", "secret", "--password", "mypassword")), "myvalue")
        code, out, err = self.driver("kv-get", "secret")
        self.assertNotEqual(code, 0)
        self.assertIn("password", err)
        code, out, err = self.driver("kv-get", "secret", "--password", "wrong")
        self.assertNotEqual(code, 0)
        self.assertNotIn("myvalue", out + err)
        r = self.ok("restore", "secret", "--stdout", env={"BAKTHAT_PASSWORD": "mypassword"})
        self.assertEqual(json.loads(r.out), "myvalue")

    def test_missing_key_default_and_delete(self):
        code, out, err = self.driver("kv-get", "nothing")
        self.assertNotEqual(code, 0)
        self.assertIn("no key 'nothing'", err)
        self.assertEqual(json.loads(self.driver_ok("kv-get", "nothing", "--default", '{"d": 1}')), {"d": 1})
        self.assertEqual(self.driver_ok("kv-delete", "nothing").strip(), "missing")
        self.driver_ok("kv-set", "k", "true")
        self.assertEqual(self.driver_ok("kv-delete", "k").strip(), "deleted")
        self.assertEqual(self.store_objects(), [])
        self.assertEqual(self.ok("show", "k", "--json").text.strip(), "[]")
        code, out, err = self.driver("kv-get", "k")
        self.assertNotEqual(code, 0)

    def test_bad_key(self):
        code, out, err = self.driver("kv-set", "a/b", "1")
        self.assertNotEqual(code, 0)
        self.assertIn("without '/'", err)

    def test_url_on_local_is_a_clear_error(self):
        self.driver_ok("kv-set", "k", "1")
        code, out, err = self.driver("kv-url", "k", "60")
        self.assertNotEqual(code, 0)
        self.assertTrue(err.startswith("error: "), err)
        self.assertEqual(len(err.strip().splitlines()), 1)


class PasswordFromEnvironment(LibraryTestCase):
    """BAKTHAT_PASSWORD is read by the library, as Python's backup() read it:
    the driver passes no password of its own."""
    def setUp(self):
        super().setUp()
        self.local_config()
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("secret data\n")

    def test_backup_and_restore_take_the_variable(self):
        pw = {"BAKTHAT_PASSWORD": "from-env"}
        stored = self.driver_ok("backup", "f.txt", env=pw).strip()
        self.assertTrue(stored.endswith(".enc"), stored)
        with open(os.path.join(self.store_dir(), stored), "rb") as f:
            self.assertTrue(f.read().startswith(b"age-encryption.org/v1\n"))
        self.assertIs(json.loads(self.rows()[0]["metadata"])["is_enc"], True)
        self.assertEqual(self.ok("restore", "f.txt", "--stdout", env=pw).out, b"secret data\n")
        self.fails("restore", "f.txt", "--stdout", "--prompt", "no")
        # KeyValue goes through the same backup() and restore().
        self.assertTrue(self.driver_ok("kv-set", "k", '"v"', env=pw).strip().endswith(".gz.enc"))
        self.assertEqual(json.loads(self.driver_ok("kv-get", "k", env=pw)), "v")
        code, out, err = self.driver("kv-get", "k")
        self.assertNotEqual(code, 0)
        self.assertIn("BAKTHAT_PASSWORD", err)

    def test_an_explicit_empty_password_still_disables_encryption(self):
        stored = self.driver_ok("backup", "f.txt", "--password", "", env={"BAKTHAT_PASSWORD": "from-env"}).strip()
        self.assertFalse(stored.endswith(".enc"), stored)
        self.assertEqual(self.ok("restore", "f.txt", "--stdout", "--prompt", "no").out, b"secret data\n")


class ConfigWarnings(LibraryTestCase):
    """A library writes nothing on its caller's stderr: what the config
    reader noticed reaches the Reporter, or nowhere without one."""
    def setUp(self):
        super().setUp()
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("data\n")

    def test_config_warnings_go_to_the_reporter_only(self):
        self.local_config("  s3-bucket: b\n")
        code, out, err = self.driver("backup", "f.txt")
        self.assertEqual(code, 0, err)
        self.assertEqual(err, "")
        self.assertNotIn("warning", out)
        out = self.driver_ok("backup", "f.txt", "--report")
        self.assertEqual(out.count("warning: "), 1, out)
        self.assertIn("unknown key 's3-bucket' (did you mean 's3_bucket'?)", out)


class KeyValueS3(LibraryTestCase):
    """get_key_url on S3 (moto): the presigned URL gives the stored bytes to
    a client without credentials."""

    def test_presigned_url(self):
        import urllib.request
        from s3util import moto_profile, new_bucket
        self.write_config(moto_profile(new_bucket("kv")))
        self.driver_ok("kv-set", "shared", '{"url": "works"}')
        self.assertEqual(json.loads(self.driver_ok("kv-get", "shared")), {"url": "works"})
        url = self.driver_ok("kv-url", "shared", "120").strip()
        self.assertTrue(url.startswith("http://127.0.0.1:"), url)
        self.assertIn("X-Amz-Expires=120", url)
        with urllib.request.urlopen(url, timeout=60) as resp:
            self.assertEqual(json.loads(gzip.decompress(resp.read())), {"url": "works"})
        self.assertEqual(self.driver_ok("kv-delete", "shared").strip(), "deleted")
        code, out, err = self.driver("kv-url", "shared", "120")
        self.assertNotEqual(code, 0)
        self.assertIn("no key 'shared'", err)


class BakHelperTest(LibraryTestCase):
    def setUp(self):
        super().setUp()
        self.local_config()

    def test_run_to_file_backup_and_cleanup(self):
        out = self.driver_ok("helper", "dbdump", "dump.sql", "seq", "1", "5")
        info = dict(l.split(" ", 1) for l in out.splitlines())
        self.assertRegex(os.path.basename(info["dir"]), r"^dbdump_\w{6}$")
        self.assertEqual(info["cwd"], info["dir"])
        self.assertEqual(info["after"], os.path.realpath(self.work))
        self.assertEqual(info["exists"], "0")
        self.assertFalse(os.path.exists(info["dir"]))
        self.assertRegex(info["stored"], r"^dbdump\.\d{14}\.tgz$")
        [row] = self.rows()
        self.assertEqual(row["filename"], "dbdump")
        self.assertEqual(row["tags"], "helper test")
        dest = os.path.join(self.work, "out")
        self.ok("restore", "dbdump", "-o", dest)
        path = os.path.join(dest, os.path.basename(info["dir"]), "dump.sql")
        with open(path) as f:
            self.assertEqual(f.read(), "1\n2\n3\n4\n5\n")

    def test_failing_command(self):
        code, out, err = self.driver("helper", "bad", "out.txt", "sh", "-c", "echo some; echo oops >&2; exit 7")
        self.assertNotEqual(code, 0)
        self.assertIn("oops", err)  # stderr inherited
        self.assertIn("'sh' failed (exit status 7)", err)
        self.assertEqual(self.rows(), [])
        self.assertEqual(glob.glob(os.path.join(tempfile.gettempdir(), "bad_*")), [])

    def test_missing_program(self):
        code, out, err = self.driver("helper", "nop", "out.txt", "no-such-program-xyz")
        self.assertNotEqual(code, 0)
        self.assertIn("cannot run 'no-such-program-xyz'", err)

    def test_removal_never_follows_links(self):
        outside = os.path.join(self.work, "precious")
        os.makedirs(os.path.join(outside, "sub"))
        with open(os.path.join(outside, "keep.txt"), "w") as f:
            f.write("keep")
        self.assertEqual(self.driver_ok("helper-link", "links", outside).strip(), "exists 0")
        self.assertTrue(os.path.isdir(os.path.join(outside, "sub")))
        with open(os.path.join(outside, "keep.txt")) as f:
            self.assertEqual(f.read(), "keep")


class Events(LibraryTestCase):
    def events(self, out):
        return [json.loads(l) for l in out.splitlines() if l.startswith("{")]

    def test_callbacks_with_session_ids_and_results(self):
        self.local_config()
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("data\n")
        evs = self.events(self.driver_ok("events", "f.txt"))
        self.assertEqual([e["name"] for e in evs], ["before_backup", "on_backup", "before_restore", "on_restore",
                                                   "before_delete", "on_delete"])
        for before, on in zip(evs[::2], evs[1::2]):
            self.assertRegex(before["session_id"], UUID4)
            self.assertEqual(before["session_id"], on["session_id"])
            self.assertIsNone(before["result"])
            self.assertEqual(before["profile"], "default")
            self.assertEqual(before["destination"], "local")
        self.assertEqual(len({e["session_id"] for e in evs}), 3)
        stored = evs[1]["result"]["stored_filename"]
        self.assertEqual(evs[1]["target"], "f.txt")
        [first, second] = self.rows()
        self.assertEqual(first["stored_filename"], stored)
        self.assertEqual(evs[1]["result"]["id"], first["id"])
        self.assertEqual(evs[3]["result"]["state"], "restored")
        self.assertEqual(evs[3]["result"]["record"]["stored_filename"], stored)
        self.assertIs(evs[5]["result"]["is_deleted"], True)

    def hook_config(self, hooks, extra=""):
        text = "default:\n  default_destination: local\n  hooks:\n"
        for k, v in hooks.items():
            text += "    %s: %s\n" % (k, json.dumps(v))
        self.write_config(text + extra)

    def test_cli_hooks_get_the_event_not_the_password(self):
        log = os.path.join(self.work, "hooks")
        os.makedirs(log)
        self.hook_config({
            "before_backup": 'env > "%s/before.env"' % log,
            "on_backup": 'env > "%s/on.env"; printf "%%s" "$BAKTHAT_RESULT" > "%s/on.json"' % (log, log),
            "on_rotate_backups": 'echo "$BAKTHAT_EVENT" > "%s/rotate"' % log,
        }, "  rotation:\n    days: 3\n")
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("data\n")
        self.ok("backup", "f.txt", env={"BAKTHAT_PASSWORD": "hunter2-secret"})

        def env_of(name):
            with open(os.path.join(log, name)) as f:
                return dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
        before, on = env_of("before.env"), env_of("on.env")
        for e in (before, on):
            self.assertNotIn("BAKTHAT_PASSWORD", e)
            self.assertNotIn("hunter2-secret", "".join(e.values()))
        self.assertEqual(before["BAKTHAT_EVENT"], "before_backup")
        self.assertEqual(on["BAKTHAT_EVENT"], "on_backup")
        self.assertEqual(before["BAKTHAT_SESSION_ID"], on["BAKTHAT_SESSION_ID"])
        self.assertRegex(on["BAKTHAT_SESSION_ID"], UUID4)
        self.assertEqual(on["BAKTHAT_NAME"], "f.txt")
        self.assertEqual(before["BAKTHAT_RESULT"], "null")
        with open(os.path.join(log, "on.json")) as f:
            result = json.load(f)
        [row] = self.rows()
        self.assertEqual(result["stored_filename"], row["stored_filename"])
        self.assertTrue(result["stored_filename"].endswith(".enc"))
        self.ok("rotate_backups", "f.txt")
        with open(os.path.join(log, "rotate")) as f:
            self.assertEqual(f.read(), "on_rotate_backups\n")

    def test_failing_hook_is_a_warning(self):
        self.hook_config({"before_backup": "exit 4", "on_backup": "echo from-hook; exit 5"})
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("data\n")
        r = self.ok("backup", "f.txt")
        self.assertIn("hook before_backup failed: exit status 4", r.errtext)
        self.assertIn("hook on_backup failed: exit status 5", r.errtext)
        self.assertEqual(len(self.rows()), 1)

    def test_hook_output_stays_out_of_restore_stdout(self):
        self.hook_config({"before_restore": "echo noise", "on_restore": "echo more noise"})
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("exact content\n")
        self.ok("backup", "f.txt")
        r = self.ok("restore", "f.txt", "--stdout")
        self.assertEqual(r.out, b"exact content\n")
        self.assertIn("noise", r.errtext)

    def test_plugin_receives_events(self):
        log = os.path.join(self.work, "plugin.log")
        self.write_config("default:\n  default_destination: local\n  plugins_dir: %s\n  plugins: [logger]\n"
                          % self.b["plugins"])
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("data\n")
        self.ok("backup", "f.txt", env={"BAKTHAT_TEST_PLUGIN_LOG": log})
        with open(log) as f:
            lines = [json.loads(l) for l in f]
        self.assertEqual(lines[0]["loaded"], os.path.join(self.b["plugins"], "logger.so"))
        self.assertEqual([l["name"] for l in lines[1:]], ["before_backup", "on_backup"])
        self.assertEqual(lines[1]["session_id"], lines[2]["session_id"])
        [row] = self.rows()
        self.assertEqual(lines[2]["result"]["stored_filename"], row["stored_filename"])

    def test_missing_plugin_fails_before_anything_is_stored(self):
        self.write_config("default:\n  default_destination: local\n  plugins_dir: %s\n  plugins: [absent]\n"
                          % self.b["plugins"])
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("data\n")
        r = self.fails("backup", "f.txt")
        self.assertIn("plugin 'absent' not found", r.errtext)
        self.assertFalse(os.path.exists(self.catalog_path()) and self.rows())

    def test_plugin_without_init_symbol(self):
        self.write_config("default:\n  default_destination: local\n  plugins_dir: %s\n  plugins: [nosym.so]\n"
                          % self.b["plugins"])
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("data\n")
        r = self.fails("backup", "f.txt")
        self.assertIn("does not export bakthat_plugin_init", r.errtext)


if __name__ == "__main__":
    unittest.main()


class Sync(LibraryTestCase):
    def test_sync_catalog_with_settings_from_the_program(self):
        # No sync: block in the file: the program names the server itself.
        server = SyncServer(self.tmp)
        self.addCleanup(server.stop)
        self.write_config(swift_profile(new_bucket("libsync")))
        self.ok("backup", "-", "--name", "lib", input=b"from the library test")
        out = self.driver_ok("sync", server.url, "alice", PASSWORD)
        self.assertEqual(out.strip(), "sent 1 received 0 inserted 0 updated 0")
        [row] = server.rows()
        self.assertEqual(row["filename"], "lib")
        code, out, err = self.driver("sync", server.url, "alice", "not it")
        self.assertEqual(code, 9, err)  # Auth
        self.assertIn("refused username 'alice'", err)
        self.assertNotIn("not it", err)
