"""A multipart upload whose abort failed is said on stderr, and a later
backup to that bucket aborts bakthat's own incomplete uploads once a day old
(BAKTHAT_STALE_UPLOAD_SECONDS shortens the day here); uploads of names
bakthat does not make, and young ones, are left alone."""
import os
import unittest
import time

from faultproxy import FaultProxy
from harness import BakthatTestCase, servers
from s3util import aws, moto_profile, new_bucket, open_uploads, swift_profile

# Initiated is whole seconds, and Swift's S3 API rounds it up (S3Timestamp
# .s3xmlformat takes the ceiling); bakthat's clock is whole seconds rounded
# down. An upload is older than BAKTHAT_STALE_UPLOAD_SECONDS=0 to bakthat
# only once both roundings are behind it: 1.1 s after it was created is not
# enough when it was created late in a second.
PAST_ROUNDING = 2.1


class StaleUploadsTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("stale")
        self.target = servers()["S3_ENDPOINT"].split("://", 1)[1]
        self.data = os.path.join(self.work, "data.bin")
        with open(self.data, "wb") as f:
            f.write(os.urandom(16 << 20))

    def keys_open(self):
        return sorted(u["Key"] for u in open_uploads("swift", self.bucket))

    def test_a_failed_abort_is_said_and_the_next_backup_aborts_it(self):
        with FaultProxy(self.target, always_fail=r"(partNumber=3&|^DELETE .*uploadId=)") as proxy:
            self.write_config(swift_profile(self.bucket, s3_endpoint=proxy.endpoint,
                                            part_size=5242880, compress="false"))
            r = self.fails("backup", self.data, "-d", "s3",
                           env={"BAKTHAT_RETRY_DELAY_MS": "20", "BAKTHAT_RETRY_ATTEMPTS": "2"})
        self.assertIn("could not be aborted", r.errtext)
        [left] = self.keys_open()
        self.assertTrue(left.startswith("data.bin."), left)

        # Not a day old yet: the next backup leaves it (it may be a backup in progress).
        self.write_config(swift_profile(self.bucket, part_size=5242880, compress="false"))
        self.ok("backup", self.data, "-d", "s3")
        self.assertEqual(self.keys_open(), [left])

        time.sleep(PAST_ROUNDING)
        r = self.ok("backup", self.data, "-d", "s3", env={"BAKTHAT_STALE_UPLOAD_SECONDS": "0"})
        self.assertIn("Aborted the incomplete upload of " + left, r.errtext)
        self.assertEqual(self.keys_open(), [])

    def test_only_names_bakthat_makes_are_aborted(self):
        only_names_bakthat_makes_are_aborted(self, "swift", swift_profile)


class MotoStaleUploadsTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("stale")
        self.data = os.path.join(self.work, "data.bin")
        with open(self.data, "wb") as f:
            f.write(os.urandom(16 << 20))

    def test_only_names_bakthat_makes_are_aborted(self):
        only_names_bakthat_makes_are_aborted(self, "moto", moto_profile)


def only_names_bakthat_makes_are_aborted(test, server, profile):
    test.write_config(profile(test.bucket, compress="false"))
    test.ok("backup", test.data, "-d", "s3")  # makes the bucket
    for key in ("notes.txt", "db.20200101000000.gz.enc"):
        aws(server, "s3api", "create-multipart-upload", "--bucket", test.bucket, "--key", key)
    time.sleep(PAST_ROUNDING)
    r = test.ok("backup", test.data, "-d", "s3", env={"BAKTHAT_STALE_UPLOAD_SECONDS": "0"})
    test.assertIn("Aborted the incomplete upload of db.20200101000000.gz.enc", r.errtext)
    test.assertNotIn("notes.txt", r.errtext)
    test.assertEqual(sorted(u["Key"] for u in open_uploads(server, test.bucket)), ["notes.txt"])


if __name__ == "__main__":
    import unittest
    unittest.main()
