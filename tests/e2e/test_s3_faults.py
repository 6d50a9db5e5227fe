"""The s3 destination behind tests/e2e/faultproxy.py (in front of Swift):
injected 500/503 replies, stalls and dropped connections are retried and
backups and restores still come out byte for byte; a permanent failure
gives one clear error, no catalog row and no multipart upload left open;
neither does Ctrl-C while a multipart upload is being created."""
import os
import signal
import subprocess
import time

from faultproxy import FaultProxy
from harness import BIN, BakthatTestCase, servers
from s3util import aws, backup_objects, new_bucket, open_uploads, swift_profile

FAST_RETRIES = {"BAKTHAT_RETRY_DELAY_MS": "50", "BAKTHAT_HTTP_TIMEOUT": "2"}
# A quarter of the requests meet a fault: with ten attempts a request fails for
# good about once in a million, so a loaded CI machine does not make it flaky.
PATIENT_RETRIES = dict(FAST_RETRIES, BAKTHAT_RETRY_ATTEMPTS="10", BAKTHAT_HTTP_TIMEOUT="4")


class S3FaultsTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("faults")
        self.target = servers()["S3_ENDPOINT"].split("://", 1)[1]
        self.data = os.path.join(self.work, "data.bin")
        with open(self.data, "wb") as f:
            for i in range(24):
                f.write(os.urandom(1 << 20))

    def test_transient_faults_are_survived(self):
        with FaultProxy(self.target, seed=11, fail=0.15, stall=0.05, stall_seconds=3, drop=0.05,
                        drop_body=0.1) as proxy:
            self.write_config(swift_profile(self.bucket, s3_endpoint=proxy.endpoint,
                                            part_size=5242880, compress="false"))
            self.ok("backup", self.data, "-d", "s3", env=PATIENT_RETRIES)
            out = os.path.join(self.work, "out")
            self.ok("restore", "data.bin", "-d", "s3", "-o", out, env=PATIENT_RETRIES)
            self.ok("verify", "data.bin", "-d", "s3", env=PATIENT_RETRIES)
            self.assertGreater(proxy.faults(), 3, proxy.stats)
        with open(self.data, "rb") as a, open(os.path.join(out, "data.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(open_uploads("swift", self.bucket), [])

    def test_permanent_failure_is_clear_and_leaves_nothing(self):
        with FaultProxy(self.target, always_fail=r"partNumber=3&") as proxy:
            self.write_config(swift_profile(self.bucket, s3_endpoint=proxy.endpoint,
                                            part_size=5242880, compress="false"))
            r = self.fails("backup", self.data, "-d", "s3", env=dict(FAST_RETRIES, BAKTHAT_RETRY_ATTEMPTS="3"))
            self.assertGreaterEqual(proxy.stats["always_fail"], 3)
        err = r.errtext.strip().splitlines()
        self.assertTrue(any("S3:" in l and "InternalError" in l for l in err), r.errtext)
        self.assertEqual(self.ok("show").text.strip(), "")
        self.assertEqual(open_uploads("swift", self.bucket), [])
        self.assertEqual(backup_objects(aws("swift", "s3api", "list-objects-v2", "--bucket", self.bucket)), [])

    def ctrl_c_backup_once(self, proxy, ready, why, settle=0.0):
        """Runs a backup through proxy, sends it SIGINT once ready() holds,
        waits settle seconds for the proxy's late requests, and checks it
        left no open upload, no catalog row, and exited 130."""
        self.write_config(swift_profile(self.bucket, s3_endpoint=proxy.endpoint,
                                        part_size=5242880, compress="false"))
        proc = subprocess.Popen([BIN, "backup", self.data, "-d", "s3", "--prompt", "no"], cwd=self.work,
                                env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not ready():
                self.assertIsNone(proc.poll(), "the backup ended before " + why)
                self.assertLess(time.monotonic(), deadline, "never: " + why)
                time.sleep(0.01)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        time.sleep(settle)
        self.assertEqual(proc.returncode, 130, err)
        self.assertEqual(open_uploads("swift", self.bucket), [])
        self.assertEqual(self.ok("show").text.strip(), "")

    def test_ctrl_c_while_the_upload_is_created_leaves_none_open(self):
        # The reply to CreateMultipartUpload is held back: Ctrl-C comes once
        # the server has made the upload, before its id reaches bakthat.
        with FaultProxy(self.target, hold=r"^POST [^ ]*\?uploads", stall_seconds=60) as proxy:
            self.ctrl_c_backup_once(proxy, lambda: open_uploads("swift", self.bucket), "its upload was made")
            self.assertEqual(proxy.stats["hold"], 1, proxy.stats)

    def test_ctrl_c_before_the_server_makes_the_upload_leaves_none_open(self):
        # CreateMultipartUpload reaches the server 1 s late: Ctrl-C comes
        # before the upload exists, so no listing can find it yet; bakthat
        # waits for the reply (a short grace) and aborts the upload it names.
        with FaultProxy(self.target, delay=r"^POST [^ ]*\?uploads", delay_seconds=1.0) as proxy:
            # settle: the delayed request has reached the server by then
            self.ctrl_c_backup_once(proxy, lambda: proxy.stats["delay"], "it asked for its upload", settle=1.5)

if __name__ == "__main__":
    import unittest
    unittest.main()
