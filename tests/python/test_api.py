"""The Python package's module API on the local store: the Python bakthat's
functions, arguments and dict results; exceptions; logging; events;
plugins; the catalog model; the GIL released and Ctrl-C during a backup."""
import base64
import hashlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

from pyharness import BIN, PackageTestCase, bakthat  # first: puts tests/e2e on the path
from harness import servers
from s3util import aws, backup_objects, new_bucket, open_uploads


def tree_bytes(root):
    out = {}
    for d, _, files in os.walk(root):
        for n in files:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def read_text(path):
    with open(path) as f:
        return f.read()


class LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append("%s:%s:%s" % (record.levelname, record.name, record.getMessage()))


class ModuleApi(PackageTestCase):
    def setUp(self):
        super().setUp()
        self.conf = self.local_conf()
        self.src = os.path.join(self.tmp, "mydir")
        self.write(os.path.join(self.src, "a.txt"), "alpha\n")
        self.write(os.path.join(self.src, "sub", "b.bin"), os.urandom(100000))

    def test_backup_show_restore_delete_on_the_local_store(self):
        rec = bakthat.backup(self.src, conf=self.conf, password="", tags=["t1", "t2"])
        self.assertIsInstance(rec, dict)
        self.assertEqual(rec["filename"], "mydir")
        self.assertEqual(rec["backend"], "local")
        self.assertEqual(rec["tags"], "t1 t2")
        self.assertTrue(rec["stored_filename"].startswith("mydir."))
        self.assertTrue(rec["stored_filename"].endswith(".tgz"))
        self.assertFalse(rec["metadata"]["is_enc"])
        self.assertTrue(os.path.isfile(os.path.join(self.conf["local_path"], rec["stored_filename"])))
        self.assertEqual(os.path.getsize(os.path.join(self.conf["local_path"], rec["stored_filename"])), rec["size"])

        shown = bakthat.show("mydir", conf=self.conf)
        self.assertEqual([b["stored_filename"] for b in shown], [rec["stored_filename"]])
        self.assertEqual(bakthat.show("nothing", conf=self.conf), [])
        self.assertEqual(len(bakthat.show(tags="t1", conf=self.conf)), 1)
        self.assertEqual(bakthat.show(tags=["t1", "nope"], conf=self.conf), [])
        self.assertEqual(bakthat.ls(conf=self.conf), [rec["stored_filename"]])

        # restore: into the current working directory
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        os.chdir(out)
        restored = bakthat.restore("mydir", conf=self.conf)
        self.assertEqual(restored["stored_filename"], rec["stored_filename"])
        self.assertEqual(restored["state"], "restored")
        self.assertEqual(tree_bytes(os.path.join(out, "mydir")), tree_bytes(self.src))

        deleted = bakthat.delete("mydir", conf=self.conf)
        self.assertEqual(deleted["stored_filename"], rec["stored_filename"])
        self.assertTrue(deleted["is_deleted"])
        self.assertEqual(bakthat.show("mydir", conf=self.conf), [])
        self.assertFalse(os.path.exists(os.path.join(self.conf["local_path"], rec["stored_filename"])))

    def test_incremental_backups_make_a_chain_that_restores_whole(self):
        full = bakthat.backup(self.src, conf=self.conf, prompt="no", incremental=True)
        self.assertEqual(full["metadata"]["level"], 0)
        self.write(os.path.join(self.src, "c.txt"), "gamma\n")
        os.unlink(os.path.join(self.src, "a.txt"))
        level = bakthat.backup(self.src, conf=self.conf, prompt="no", incremental=True)
        self.assertEqual((level["metadata"]["level"], level["metadata"]["parent"]), (1, full["stored_filename"]))
        self.assertEqual(level["metadata"]["files"], 1)
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        os.chdir(out)
        bakthat.restore(level["stored_filename"], conf=self.conf)
        self.assertEqual(tree_bytes(os.path.join(out, "mydir")), tree_bytes(self.src))

    def test_arguments(self):
        # custom_filename, key, s3_reduced_redundancy (ignored by local), compress
        rec = bakthat.backup(self.src, conf=self.conf, prompt="no", custom_filename="renamed", key="nightly",
                             s3_reduced_redundancy=True)
        self.assertEqual(rec["filename"], "renamed")
        self.assertEqual(rec["metadata"]["periodic_key"], "nightly")
        # tags as a space-separated str; exclude_file
        excl = self.write(os.path.join(self.tmp, "excl"), "*.bin\n")
        rec = bakthat.backup(self.src, conf=self.conf, prompt="no", tags="x y", exclude_file=excl)
        self.assertEqual(rec["tags"], "x y")
        os.chdir(self.tmp)
        os.rename(self.src, self.src + ".orig")
        bakthat.restore(rec["stored_filename"], conf=self.conf)
        self.assertEqual(sorted(tree_bytes(self.src)), ["a.txt"])
        # filename defaults to the current directory
        os.chdir(self.src)
        rec = bakthat.backup(conf=self.conf, prompt="no")
        self.assertEqual(rec["filename"], "mydir")
        # compress=False stores a file as it is
        f = self.write(os.path.join(self.tmp, "plain.txt"), "plain\n")
        rec = bakthat.backup(f, conf=self.conf, prompt="no", compress=False)
        self.assertFalse(rec["stored_filename"].endswith(".tgz"))
        # profile and config: a file instead of conf
        cfg = self.write(os.path.join(self.tmp, "cfg.yml"),
                         "other:\n  default_destination: local\n  local_path: %s\n  database: %s\n"
                         % (self.conf["local_path"], self.conf["database"]))
        rec = bakthat.backup(self.src, profile="other", config=cfg, prompt="no")
        self.assertEqual(rec["backend"], "local")
        self.assertIn(rec["stored_filename"], [b["stored_filename"] for b in bakthat.show(profile="other",
                                                                                          config=cfg)])
        # destination
        self.assertEqual(bakthat.backup(self.src, destination="local", conf=self.conf, prompt="no")["backend"],
                         "local")

    def test_password_and_environment(self):
        # scrypt at 2^10, not age's 2^18: five derivations here, and the
        # work factor is the engine's, tested with it (tests/e2e).
        self.conf["scrypt_work_factor"] = 10
        rec = bakthat.backup(self.src, conf=self.conf, password="s3cret")
        self.assertTrue(rec["stored_filename"].endswith(".enc"))
        self.assertTrue(rec["metadata"]["is_enc"])
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        os.chdir(out)
        with self.assertRaises(bakthat.CryptoError) as cm:
            bakthat.restore("mydir", conf=self.conf, password="wrong")
        self.assertIsInstance(cm.exception, bakthat.BakthatError)
        self.assertEqual(os.listdir(out), [])  # nothing left by the failed restore
        bakthat.restore("mydir", conf=self.conf, password="s3cret")
        self.assertEqual(tree_bytes(os.path.join(out, "mydir")), tree_bytes(self.src))
        # BAKTHAT_PASSWORD when no password is given
        os.environ["BAKTHAT_PASSWORD"] = "fromenv"
        rec = bakthat.backup(self.src, conf=self.conf)
        self.assertTrue(rec["metadata"]["is_enc"])
        self.assertEqual(bakthat.verify(rec["stored_filename"], conf=self.conf)["stored_filename"],
                         rec["stored_filename"])

    def test_exceptions_one_class_per_kind(self):
        with self.assertRaises(bakthat.NotFoundError) as cm:
            bakthat.restore("nothing-of-that-name", conf=self.conf)
        self.assertTrue(str(cm.exception).startswith("No file matched 'nothing-of-that-name'"),
                        str(cm.exception))  # the library's message
        with self.assertRaises(bakthat.NotFoundError):
            bakthat.backup(os.path.join(self.tmp, "absent"), conf=self.conf, prompt="no")
        with self.assertRaises(bakthat.ConfigError):
            bakthat.backup(self.src, conf={"default_destination": "nowhere"}, prompt="no")
        with self.assertRaises(bakthat.ConfigError):  # no rotation configured
            bakthat.rotate_backups("mydir", conf=self.conf)
        with self.assertRaises(bakthat.UsageError):
            bakthat.delete_older_than("mydir", "3 weeks", conf=self.conf)
        classes = [bakthat.UsageError, bakthat.ConfigError, bakthat.NotFoundError, bakthat.IoError,
                   bakthat.StorageError, bakthat.AuthError, bakthat.CryptoError, bakthat.CorruptError,
                   bakthat.ConflictError, bakthat.UnsafeError, bakthat.PartialError, bakthat.UnsupportedError,
                   bakthat.InterruptedError]
        self.assertEqual(len(set(classes)), 13)
        for c in classes:
            self.assertTrue(issubclass(c, bakthat.BakthatError), c)
        # each class carries the command line's exit status for its kind
        proc = subprocess.run([BIN, "restore", "nothing-of-that-name"], env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(proc.returncode, bakthat.NotFoundError.exit_status, proc.stderr)

    def test_retention_returns_the_deleted_records(self):
        conf = self.local_conf(rotation={"days": 1, "weeks": 0, "months": 0, "first_week_day": 5})
        first = bakthat.backup(self.src, conf=conf, prompt="no")
        second = bakthat.backup(self.src, conf=conf, prompt="no")
        db = sqlite3.connect(conf["database"])
        db.execute("UPDATE backups SET backup_date = backup_date - 3 * 86400 WHERE stored_filename = ?",
                   (first["stored_filename"],))
        db.commit()
        db.close()
        # dry_run: what would be deleted, nothing deleted
        self.assertEqual([d["stored_filename"] for d in bakthat.delete_older_than("mydir", "2D", conf=conf,
                                                                                  dry_run=True)],
                         [first["stored_filename"]])
        self.assertEqual(len(bakthat.show("mydir", conf=conf)), 2)
        deleted = bakthat.rotate_backups("mydir", conf=conf)
        self.assertEqual([d["stored_filename"] for d in deleted], [first["stored_filename"]])
        self.assertEqual([b["stored_filename"] for b in bakthat.show("mydir", conf=conf)],
                         [second["stored_filename"]])
        time.sleep(2.5)
        # The newest backup of a name is never deleted by age (safety over the
        # Python tool, which deleted it: README).
        self.assertEqual([d["stored_filename"] for d in bakthat.delete_older_than("mydir", "1s", conf=conf)], [])
        self.assertEqual([b["stored_filename"] for b in bakthat.show("mydir", conf=conf)],
                         [second["stored_filename"]])

    def test_logging_under_the_guides_loggers(self):
        cap = LogCapture()
        root = logging.getLogger()
        root.addHandler(cap)
        level = root.level
        root.setLevel(logging.INFO)
        try:
            stored = bakthat.backup(self.src, conf=self.conf, prompt="no")["stored_filename"]
            backed_up = list(cap.lines)
            del cap.lines[:]
            bakthat.restore("mydir", conf=self.conf)
        finally:
            root.removeHandler(cap)
            root.setLevel(level)
        self.assertEqual(backed_up, ["INFO:root:Backing up " + self.src, "INFO:root:Compressing...",
                                     "INFO:root:Uploading...", "INFO:bakthat.backends:Upload completion: 0%",
                                     "INFO:bakthat.backends:Upload completion: 100%"])
        # The Python bakthat's restore lines, though the engine says where it reads from.
        self.assertEqual(cap.lines[:3], ["INFO:root:Restoring " + stored, "INFO:root:Downloading...",
                                         "INFO:bakthat.backends:Download completion: 0%"])

    def test_help_says_what_the_header_says(self):
        self.assertIn("custom_filename", bakthat.backup.__doc__)
        self.assertIn("current working directory", bakthat.restore.__doc__)
        pyi = os.path.join(os.path.dirname(bakthat.__file__), "__init__.pyi")
        self.assertTrue(os.path.isfile(pyi), pyi)
        with open(pyi) as f:
            stub = f.read()
        for name in ("def backup(", "def restore(", "def show(", "def ls(", "def delete(", "def delete_older_than(",
                     "def rotate_backups(", "def sync(", "def reset_sync(", "def list_entries(", "def open_entry(",
                     "class BakthatError"):
            self.assertIn(name, stub)


class Events(PackageTestCase):
    def test_python_callables_get_the_events(self):
        conf = self.local_conf()
        src = self.write(os.path.join(self.tmp, "f.txt"), "x")
        seen = []

        def before(session_id):
            seen.append(("before_backup", session_id))

        def on(session_id, backup):
            seen.append(("on_backup", session_id, backup["stored_filename"]))

        def on_delete(session_id, backup):
            seen.append(("on_delete", backup["stored_filename"]))

        def failing(session_id):
            raise RuntimeError("plugin bug")

        bakthat.events.before_backup += before
        bakthat.events.on_backup += on
        bakthat.events.on_delete += on_delete
        bakthat.events.before_delete += failing
        try:
            rec = bakthat.backup(src, conf=conf, prompt="no")
            cap = LogCapture()
            logging.getLogger("bakthat").addHandler(cap)
            try:
                bakthat.delete(rec["stored_filename"], conf=conf)  # a failing handler does not fail it
            finally:
                logging.getLogger("bakthat").removeHandler(cap)
        finally:
            bakthat.events.before_backup -= before
            bakthat.events.on_backup -= on
            bakthat.events.on_delete -= on_delete
            bakthat.events.before_delete -= failing
        self.assertEqual(seen[0][0], "before_backup")
        self.assertEqual(seen[1], ("on_backup", seen[0][1], rec["stored_filename"]))
        self.assertEqual(len(seen[0][1]), 36)
        self.assertEqual(seen[2], ("on_delete", rec["stored_filename"]))
        self.assertTrue(any("plugin bug" in line for line in cap.lines), cap.lines)

    def test_python_plugins_from_plugins_dir(self):
        plugins = os.path.join(self.tmp, "plugins")
        self.write(os.path.join(plugins, "myplugins.py"), (
            "from bakthat.plugin import Plugin\n"
            "class Recorder(Plugin):\n"
            "    def activate(self):\n"
            "        self.on_backup += self.done\n"
            "    def done(self, session_id, backup):\n"
            "        with open(self.conf['marker'], 'a') as f:\n"
            "            f.write(backup['stored_filename'] + '\\n')\n"))
        marker = os.path.join(self.tmp, "marker")
        conf = self.local_conf(plugins_dir=plugins, plugins=["myplugins.Recorder"], marker=marker)
        src = self.write(os.path.join(self.tmp, "f.txt"), "x")
        code = ("import bakthat, json, sys\n"
                "conf = json.loads(sys.argv[1])\n"
                "a = bakthat.backup(%r, conf=conf, prompt='no')\n"
                "b = bakthat.backup(%r, conf=conf, prompt='no')\n"
                "print(a['stored_filename']); print(b['stored_filename'])\n" % (src, src))
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(conf)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=":".join(sys.path)))
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        with open(marker) as f:  # loaded once, called for each backup
            self.assertEqual(f.read().split(), proc.stdout.decode().split())
        # not a Plugin subclass: a ConfigError, nothing backed up
        self.write(os.path.join(plugins, "notplugin.py"), "class Thing:\n    pass\n")
        conf = self.local_conf(plugins_dir=plugins, plugins=["notplugin.Thing"])
        code = ("import bakthat, json, sys\n"
                "try:\n    bakthat.backup(%r, conf=json.loads(sys.argv[1]), prompt='no')\n"
                "except bakthat.ConfigError as e:\n    print('ConfigError', e)\n" % src)
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(conf)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=":".join(sys.path)))
        self.assertIn("ConfigError plugin 'notplugin.Thing' cannot be loaded", proc.stdout.decode(),
                      proc.stderr.decode())


class Models(PackageTestCase):
    def test_backups_model_over_the_catalog(self):
        try:
            import peewee  # noqa: F401
        except ImportError:
            self.skipTest("peewee is not installed (Debian: python3-peewee)")
        src = self.write(os.path.join(self.tmp, "f.txt"), "x")
        os.environ["BAKTHAT_DB"] = os.path.join(self.home, "catalog.sqlite")
        conf = self.local_conf()
        del conf["database"]
        rec = bakthat.backup(src, conf=conf, prompt="no", tags=["a", "b"])
        code = ("from bakthat.models import Backups\n"
                "rows = list(Backups.search('f.txt', 'local', tags='b'))\n"
                "print(rows[0].stored_filename, rows[0].size, rows[0].metadata['is_enc'], rows[0].is_encrypted())\n"
                "m = Backups.match_filename('f.t', 'local')\n"
                "m.set_deleted()\n"
                "print(Backups.select().where(Backups.is_deleted == False).count())\n")
        proc = self.python(code)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode().split(), [rec["stored_filename"], str(rec["size"]), "False", "False",
                                                        "0"])
        self.assertEqual(bakthat.show("f.txt", conf=conf), [])  # the engine sees the model's change


class Concurrency(PackageTestCase):
    def big_tree(self, mb):
        """mb MB of text that compresses about 4:3 (slower to compress than
        random bytes, so that a backup lasts)."""
        src = os.path.join(self.tmp, "big")
        os.makedirs(src)
        chunk = base64.b64encode(os.urandom(3 << 18))
        for i in range(mb):
            with open(os.path.join(src, "f%03d" % i), "wb") as f:
                f.write(chunk[i:] + chunk[:i])
        return src

    def test_the_gil_is_released_during_a_backup(self):
        src = self.big_tree(320)  # a backup long enough to see the thread run
        self.assert_runs_without_the_gil(lambda: bakthat.backup(src, conf=self.local_conf(), prompt="no"))

    def interrupt_backup(self, src, conf):
        """Runs bakthat.backup(src, conf=conf) in a Python subprocess and
        sends it SIGINT a tenth of the way in; checks that it raised
        KeyboardInterrupt within a second of the signal, before the end."""
        progress = os.path.join(self.tmp, "progress")
        # The child notes each "Upload completion" line in a file (written
        # through at once); the parent sends SIGINT a tenth of the way in.
        code = ("import bakthat, json, logging, os, sys\n"
                "conf = json.loads(sys.argv[1])\n"
                "class Note(logging.Handler):\n"
                "    def emit(self, record):\n"
                "        fd = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT)\n"
                "        os.write(fd, (record.getMessage() + '\\n').encode())\n"
                "        os.close(fd)\n"
                "logging.getLogger('bakthat.backends').addHandler(Note())\n"
                "logging.getLogger('bakthat.backends').setLevel(logging.INFO)\n"
                "try:\n"
                "    bakthat.backup(%r, conf=conf, prompt='no')\n"
                "    print('finished')\n"
                "except KeyboardInterrupt:\n"
                "    print('KeyboardInterrupt')\n"
                "    sys.exit(130)\n" % src)
        env = dict(os.environ, PYTHONPATH=":".join(sys.path))
        proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(conf), progress], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        deadline = time.time() + 120
        while True:
            self.assertIsNone(proc.poll(), "the backup ended before it was interrupted")
            self.assertLess(time.time(), deadline)
            if os.path.exists(progress) and "Upload completion: 10%" in read_text(progress):
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            self.fail("still running 10 s after SIGINT")
        finally:
            took = time.monotonic() - sent
            out, err = proc.communicate()
        self.assertEqual(out.decode(), "KeyboardInterrupt\n", err.decode())
        self.assertEqual(proc.returncode, 130)
        self.assertLess(took, 1.0, err.decode())
        self.assertNotIn("Upload completion: 100%", read_text(progress))

    def test_ctrl_c_stops_a_backup_cleanly(self):
        src = self.big_tree(200)
        conf = self.local_conf(compression_level=9)
        self.interrupt_backup(src, conf)
        store = conf["local_path"]
        # Nothing half-written (.bakthat holds the destination's catalog log).
        self.assertEqual([n for n in os.listdir(store) if n != ".bakthat"] if os.path.isdir(store) else [], [])
        self.assertEqual(bakthat.show(conf=conf), [])
        # the next operation in a process that survived an interrupt runs normally
        self.assertEqual(bakthat.backup(os.path.join(src, "f000"), conf=conf, prompt="no")["filename"], "f000")

    def test_ctrl_c_stops_an_upload_cleanly(self):
        # To the Swift test server's S3 API: no object, no multipart upload
        # left open, no row.
        bucket = new_bucket("pyint")
        conf = {"access_key": servers()["S3_ACCESS_KEY"], "secret_key": servers()["S3_SECRET_KEY"],
                "s3_bucket": bucket, "s3_endpoint": servers()["S3_ENDPOINT"], "region_name": servers()["S3_REGION"],
                "default_destination": "s3", "database": os.path.join(self.home, "catalog.sqlite"),
                "compression_level": 9, "part_size": 5242880}
        self.interrupt_backup(self.big_tree(100), conf)
        self.assertEqual(backup_objects(aws("swift", "s3api", "list-objects-v2", "--bucket", bucket)), [])
        self.assertEqual(open_uploads("swift", bucket), [])
        self.assertEqual(bakthat.show(conf=conf), [])

if __name__ == "__main__":
    unittest.main()
