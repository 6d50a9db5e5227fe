"""Two writers, one name: an S3 object is stored only if its name is still
free when the upload completes (If-None-Match: *), against moto, which
honours the condition. Swift's S3 API turns the condition down (501); every
test of test_s3.py goes through that fallback."""
import json
import os
import subprocess

from harness import BakthatTestCase
from s3util import aws, moto_profile, new_bucket

MiB = 1 << 20


class S3ConditionalWrite(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("cond")
        self.write_config(moto_profile(self.bucket, part_size=5 * MiB))

    def uploads_in_progress(self):
        r = aws("moto", "s3api", "list-multipart-uploads", "--bucket", self.bucket)
        return [u["Key"] for u in (r or {}).get("Uploads", [])]

    def test_name_taken_during_the_upload(self):
        def upload_seen():
            keys = self.uploads_in_progress()
            return keys[0] if keys else None

        def store_theirs(key):
            theirs = os.path.join(self.work, "theirs")
            with open(theirs, "wb") as f:
                f.write(b"another machine's backup\n")
            aws("moto", "s3api", "put-object", "--bucket", self.bucket, "--key", key, "--body", theirs)

        key, r = self.backup_stream_raced(["--name", "race", "--prompt", "no"], upload_seen, store_theirs)
        self.assertNotEqual(r.code, 0, r.errtext)
        self.assertIn("already exists", r.errtext)
        self.assertNotIn("terminate called", r.errtext)
        # Theirs is intact, ours was aborted, and the catalog has no row.
        got = os.path.join(self.work, "got")
        aws("moto", "s3api", "get-object", "--bucket", self.bucket, "--key", key, got)
        with open(got, "rb") as f:
            self.assertEqual(f.read(), b"another machine's backup\n")
        self.assertEqual(self.uploads_in_progress(), [])
        self.assertEqual(json.loads(self.ok("show", "--json").out), [])

    def test_free_name_is_stored(self):
        # Both paths with the condition: one PUT, and a multipart upload.
        with open(os.path.join(self.work, "small.txt"), "w") as f:
            f.write("small\n")
        self.ok("backup", "small.txt", "--prompt", "no")
        big = os.urandom(11 * MiB)
        self.ok("backup", "-", "--name", "big", "--prompt", "no", input=big)
        r = self.ok("restore", "big", "--stdout", stdout=subprocess.PIPE)
        self.assertEqual(r.out, big)


if __name__ == "__main__":
    import unittest
    unittest.main()
