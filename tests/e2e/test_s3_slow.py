"""Retries are budgeted by attempts and progress, not wall time: a part that
a slow uplink carried for over a minute before the connection broke is sent
again (a wall-time budget of 60 s gave up on it), and a server that fails
fast is given up on within the profile's retry_time."""
import os
import time

from faultproxy import FaultProxy
from harness import BakthatTestCase, servers
from s3util import new_bucket, open_uploads, swift_profile


class SlowUplinkTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("slow")
        self.target = servers()["S3_ENDPOINT"].split("://", 1)[1]
        self.data = os.path.join(self.work, "data.bin")
        with open(self.data, "wb") as f:
            f.write(os.urandom(12 << 20))

    def test_a_part_broken_after_a_long_slow_transfer_is_sent_again(self):
        with FaultProxy(self.target, slow_drop=r"^PUT .*partNumber=1&", slow_seconds=65) as proxy:
            self.write_config(swift_profile(self.bucket, s3_endpoint=proxy.endpoint,
                                            part_size=5242880, compress="false"))
            r = self.run_bakthat("backup", self.data, "-d", "s3", timeout=600)
            self.assertEqual(proxy.stats["slow_drop"], 1, proxy.stats)
        self.assertEqual(r.code, 0, repr(r))
        self.write_config(swift_profile(self.bucket))
        out = os.path.join(self.work, "out")
        self.ok("restore", "data.bin", "-d", "s3", "-o", out)
        with open(self.data, "rb") as a, open(os.path.join(out, "data.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(open_uploads("swift", self.bucket), [])

    def test_retry_time_bounds_a_server_that_always_fails(self):
        with FaultProxy(self.target, always_fail=r"partNumber=2&") as proxy:
            self.write_config(swift_profile(self.bucket, s3_endpoint=proxy.endpoint, part_size=5242880,
                                            compress="false", retry_time=2))
            start = time.monotonic()
            r = self.fails("backup", self.data, "-d", "s3",
                           env={"BAKTHAT_RETRY_ATTEMPTS": "1000", "BAKTHAT_RETRY_DELAY_MS": "300"})
            took = time.monotonic() - start
        self.assertEqual(r.code, 10, repr(r))
        self.assertLess(took, 30, repr(r))
        self.assertLess(proxy.stats["always_fail"], 50, proxy.stats)
        self.assertEqual(open_uploads("swift", self.bucket), [])


if __name__ == "__main__":
    import unittest
    unittest.main()
