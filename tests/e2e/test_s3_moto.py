"""The s3 destination's storage classes and the archive-class restore flow,
against moto (the only local server with S3 storage classes and
RestoreObject); `aws s3api` is the witness."""
import os

from harness import BakthatTestCase
from s3util import aws, backup_objects, moto_profile, new_bucket


class S3MotoTest(BakthatTestCase):
    def setUp(self):
        super().setUp()
        self.bucket = new_bucket("moto")
        with open(os.path.join(self.work, "f.txt"), "w") as f:
            f.write("cold data\n" * 100)

    def storage_class(self):
        [obj] = backup_objects(aws("moto", "s3api", "list-objects-v2", "--bucket", self.bucket))
        head = aws("moto", "s3api", "head-object", "--bucket", self.bucket, "--key", obj["Key"])
        return head.get("StorageClass", "STANDARD")

    def test_configured_storage_class(self):
        self.write_config(moto_profile(self.bucket, s3_storage_class="STANDARD_IA"))
        self.ok("backup", "f.txt", "-d", "s3")
        self.assertEqual(self.storage_class(), "STANDARD_IA")

    def test_reduced_redundancy_flag(self):
        self.write_config(moto_profile(self.bucket))
        self.ok("backup", "f.txt", "-d", "s3", "--s3-reduced-redundancy")
        self.assertEqual(self.storage_class(), "REDUCED_REDUNDANCY")

    def test_reduced_redundancy_flag_leaves_the_glacier_class(self):
        # Without a vault, glacier is the bucket in its archive class: the
        # S3 flag must not turn the object into a REDUCED_REDUNDANCY one the
        # catalog calls glacier.
        self.write_config(moto_profile(self.bucket))
        r = self.ok("backup", "f.txt", "-d", "glacier", "--s3-reduced-redundancy")
        self.assertEqual(self.storage_class(), "GLACIER")
        self.assertIn("s3 destination only", r.errtext)

    def test_standard_sends_no_class(self):
        self.write_config(moto_profile(self.bucket))
        self.ok("backup", "f.txt", "-d", "s3")
        self.assertEqual(self.storage_class(), "STANDARD")

    def test_glacier_object_needs_a_restore_first(self):
        self.write_config(moto_profile(self.bucket, s3_storage_class="GLACIER"))
        self.ok("backup", "f.txt", "-d", "s3")
        self.assertEqual(self.storage_class(), "GLACIER")
        out = os.path.join(self.work, "out")
        r = self.ok("restore", "f.txt", "-d", "s3", "-o", out)
        self.assertIn("retrieval was started", r.errtext + r.text)
        self.assertFalse(os.path.exists(os.path.join(out, "f.txt")))
        # moto finishes a restore at once: the second run downloads.
        self.ok("restore", "f.txt", "-d", "s3", "-o", out)
        with open(os.path.join(out, "f.txt")) as f:
            self.assertEqual(f.read(), "cold data\n" * 100)


if __name__ == "__main__":
    import unittest
    unittest.main()
