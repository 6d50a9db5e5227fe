"""Ctrl-C and SIGTERM end any command within a second, with the status a
shell reports for a process a signal ended (130, 143), and leave neither a
catalog row nor a stored object; configuration files that are no regular
file are refused at once instead of read forever."""
import os
import resource
import signal
import sqlite3
import subprocess
import time
import unittest

from harness import BIN, BakthatTestCase


class InterruptTest(BakthatTestCase):
    def rows(self):
        if not os.path.exists(self.catalog_path()):
            return 0
        with sqlite3.connect(self.catalog_path()) as db:
            return db.execute("SELECT count(*) FROM backups").fetchone()[0]

    def stored(self):
        """Backup objects in the local store (not the store's own .bakthat/
        rows, which record sessions, not backups)."""
        out = []
        for dirpath, dirs, files in os.walk(self.store_dir()):
            if dirpath == self.store_dir() and ".bakthat" in dirs:
                dirs.remove(".bakthat")
            out += [os.path.join(dirpath, f) for f in files]
        return out

    def interrupt(self, args, signo, after=0.5, stdin=subprocess.DEVNULL):
        """Starts bakthat ARGS, sends signo after `after` seconds; returns
        (exit status, seconds from the signal to the exit, stderr)."""
        proc = subprocess.Popen([BIN, *args], cwd=self.work, env=self.env, stdin=stdin,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(after)
            self.assertIsNone(proc.poll(), "the command ended before the signal")
            sent = time.monotonic()
            proc.send_signal(signo)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.fail("still running 10 s after the signal")
            took = time.monotonic() - sent
            return proc.returncode, took, proc.stderr.read().decode("utf-8", "replace")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()

    def test_ctrl_c_ends_a_backup_of_usr_within_a_second(self):
        code, took, err = self.interrupt(["backup", "/usr"], signal.SIGINT)
        self.assertEqual(code, 130, err)
        self.assertLess(took, 1.0, err)
        self.assertIn("interrupted", err)
        self.assertEqual(self.rows(), 0)
        self.assertEqual(self.stored(), [])

    def test_sigterm_exits_143(self):
        code, took, err = self.interrupt(["backup", "/usr"], signal.SIGTERM)
        self.assertEqual(code, 143, err)
        self.assertLess(took, 1.0, err)
        self.assertEqual(self.rows(), 0)
        self.assertEqual(self.stored(), [])

    def test_stream_backup_waiting_on_an_empty_pipe(self):
        for signo in (signal.SIGINT, signal.SIGTERM):
            r, w = os.pipe()  # the writer stays open and silent
            try:
                code, took, err = self.interrupt(["backup", "-", "--name", "db", "--prompt", "no"], signo, stdin=r)
            finally:
                os.close(r)
                os.close(w)
            self.assertEqual(code, 128 + signo, err)
            self.assertLess(took, 1.0, err)
            self.assertEqual(self.rows(), 0)
            self.assertEqual(self.stored(), [])


def limit_memory():
    # Were /dev/zero read whole, this stops it at 1 GiB instead of the machine's OOM killer.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


class ConfigFileTest(BakthatTestCase):
    def test_a_device_is_no_configuration(self):
        r = self.fails("-c", "/dev/zero", "show", timeout=30, preexec_fn=limit_memory)
        self.assertEqual(r.code, 3, repr(r))
        self.assertIn("/dev/zero is not a regular file", r.errtext)

    def test_a_fifo_is_refused_without_waiting_for_a_writer(self):
        fifo = os.path.join(self.work, "config.fifo")
        os.mkfifo(fifo)
        start = time.monotonic()
        r = self.fails("-c", fifo, "show", timeout=30)
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(r.code, 3, repr(r))
        self.assertIn("not a regular file", r.errtext)

    def test_a_huge_file_is_refused(self):
        path = os.path.join(self.work, "big.yml")
        with open(path, "w") as f:
            f.write("default:\n  s3_bucket: b\n" + "#" * (2 << 20) + "\n")
        r = self.fails("-c", path, "show", timeout=30)
        self.assertEqual(r.code, 3, repr(r))
        self.assertIn("too large", r.errtext)

    def test_a_usual_configuration_still_reads(self):
        path = self.write_config("default:\n  compression: zstd\n")
        self.ok("-c", path, "show")


if __name__ == "__main__":
    unittest.main()
