"""Two writers, one name: an S3 object is stored only if its name is still
free when the upload completes (If-None-Match: *), against moto, which
honours the condition. Swift's S3 API turns the condition down (501); every
test of test_s3.py goes through that fallback."""
import json
import os
import subprocess
import time

from harness import BIN, BakthatTestCase
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
        proc = subprocess.Popen([BIN, "backup", "-", "--name", "race", "--prompt", "no"], cwd=self.work,
                                env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            # Past the first part the multipart upload starts and shows its
            # key (the pipeline's buffers hold a few MiB before it).
            keys, sent = [], 0
            while not keys and sent < 64 * MiB:
                proc.stdin.write(os.urandom(MiB))
                proc.stdin.flush()
                sent += MiB
                if sent >= 5 * MiB:
                    time.sleep(0.1)
                    keys = self.uploads_in_progress()
            self.assertEqual(len(keys), 1, "no multipart upload appeared")
            key = keys[0]
            # Another machine stores the same name meanwhile.
            theirs = os.path.join(self.work, "theirs")
            with open(theirs, "wb") as f:
                f.write(b"another machine's backup\n")
            aws("moto", "s3api", "put-object", "--bucket", self.bucket, "--key", key, "--body", theirs)
            out, err = proc.communicate(input=os.urandom(MiB), timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        err = err.decode()
        self.assertNotEqual(proc.returncode, 0, err)
        self.assertIn("already exists", err)
        self.assertNotIn("terminate called", err)
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
