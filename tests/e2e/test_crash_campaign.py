"""A short crash campaign (bench/crash-campaign.py): 20 kill -9 at random
points of backup, restore, delete and sync, each followed by the campaign's
consistency check of catalog and store and a restore."""
import os
import subprocess
import sys
import unittest

import harness


class CrashCampaignTest(unittest.TestCase):
    def test_twenty_kills_lose_nothing(self):
        script = os.path.join(harness.SOURCE_DIR, "bench", "crash-campaign.py")
        proc = subprocess.run([sys.executable, script, "--bakthat", harness.BIN, "--trials", "20", "--tree-mb", "8"],
                              capture_output=True, text=True, timeout=900)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(": 20 trials (backup 5, restore 5, delete 5, sync 5)", proc.stdout)
        self.assertIn("violations: 0", proc.stdout)


if __name__ == "__main__":
    unittest.main()
