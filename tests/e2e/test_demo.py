"""The README's quick start: `make demo` runs scripts/demo.sh, which backs up
a sample to the embedded local store, restores it and compares. Run here on
the binary under test so the quick start cannot silently rot."""
import os
import subprocess
import unittest

from harness import BIN, SOURCE_DIR


class DemoTest(unittest.TestCase):
    def test_demo_backs_up_and_restores_identically(self):
        # The demo makes its own scratch HOME; the caller's must not matter.
        env = dict(os.environ, HOME="/nonexistent")
        for var in ("BAKTHAT_PASSWORD", "BAKTHAT_DB", "XDG_DATA_HOME", "AWS_ENDPOINT_URL"):
            env.pop(var, None)
        r = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "demo.sh"), BIN], env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("== bakthat restore sample -o restored", r.stdout)
        self.assertIn("sample/docs/numbers.txt", r.stdout)  # listed by tar -tzf
        self.assertTrue(r.stdout.rstrip().endswith("demo: backup and restore are identical"), r.stdout)


if __name__ == "__main__":
    unittest.main()
