#!/usr/bin/python3
"""Sync through the destination at scale (issue: restore from any machine).

Fills a fresh bucket of the loopback S3 server (Swift's S3 API) with COUNT
tiny backups and their row entries (make_rows_bench: the product's own
code), then times `bakthat sync` from empty catalogs through a counting
proxy (tests/e2e/faultproxy.py, no faults):

  1. machine A, the log unpacked: reads every entry, then packs them;
  2. machine B, packed: reads the pack;
  3. machine B again: nothing new.

Targets: (1) <= 30 s; (2) <= 100 requests; (3) <= 10 requests.

With --data DIR (a data set of bench/make-dataset.sh), it also sets what the
rows add to a backup against the backup itself, in one run: in each round,
a `bakthat backup DIR` to a bucket of its own, then the entries of 20
backups written one after another as a backup writes them (make_rows_bench
--row-cost, the product's ops::note_pending and note_row); the ratio is the
time per backup's entries over the backup's time (target <= 2%).

  bench/destination-sync.py [--count 10000 (0: none)] [--build build] [--data DIR [--rounds 3]]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from faultproxy import FaultProxy  # noqa: E402
from harness import servers  # noqa: E402


def config(bucket, endpoint):
    s = servers()
    return ("default:\n  access_key: \"%s\"\n  secret_key: %s\n  s3_bucket: %s\n  s3_endpoint: %s\n"
            "  region_name: %s\n  default_destination: s3\n"
            % (s["S3_ACCESS_KEY"], s["S3_SECRET_KEY"], bucket, endpoint, s["S3_REGION"]))


def home(root, name, bucket, endpoint):
    h = os.path.join(root, name)
    os.makedirs(h)
    path = os.path.join(h, ".bakthat.yml")
    with open(path, "w") as f:
        f.write(config(bucket, endpoint))
    os.chmod(path, 0o600)
    return {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, "HOME": h}


def backup_overhead(bakthat, maker, data, rounds, root):
    """Median over rounds of (row entries of one backup) / (one backup's time)."""
    env = home(root, "overhead", "bk-bench-overhead-%s" % uuid.uuid4().hex[:8], servers()["S3_ENDPOINT"])
    ratios = []
    for n in range(rounds):
        t = time.time()
        r = subprocess.run([bakthat, "backup", data], env=env, capture_output=True, text=True)
        took = time.time() - t
        if r.returncode != 0:
            sys.exit("backup failed (%d): %s" % (r.returncode, r.stderr.strip()))
        per_backup = float(subprocess.run([maker, "--row-cost", "20"], env=env, check=True, capture_output=True,
                                          text=True).stdout)
        ratios.append(per_backup / took)
        print("round %d: backup %.1f s, its row entries %.3f s (%.2f%%)" % (n + 1, took, per_backup,
                                                                        100 * per_backup / took))
    return sorted(ratios)[len(ratios) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--data")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    bakthat = os.path.join(a.build, "bakthat")
    maker = os.path.join(a.build, "bench", "make_rows_bench")
    if a.data:
        with tempfile.TemporaryDirectory(prefix="bakthat-rows-bench-") as root:
            ratio = backup_overhead(bakthat, maker, a.data, a.rounds, root)
        print("a backup's row entries: %.2f%% of its time, median of %d rounds (target <= 2%%)"
              % (100 * ratio, a.rounds))
    if not a.count:  # --count 0: the backup overhead alone
        return
    bucket = "bk-bench-rows-%s" % uuid.uuid4().hex[:8]
    direct = servers()["S3_ENDPOINT"]
    with tempfile.TemporaryDirectory(prefix="bakthat-rows-bench-") as root:
        env = home(root, "maker", bucket, direct)
        t = time.time()
        subprocess.run([maker, str(a.count)], env=env, check=True)
        print("made %d backups and rows in %.1f s" % (a.count, time.time() - t))
        with FaultProxy(direct.split("//")[1]) as proxy:
            endpoint = "http://127.0.0.1:%d" % proxy.port
            machines = {n: home(root, n, bucket, endpoint) for n in ("a", "b")}
            results = []
            for label, who, target in (("empty catalog, log unpacked (then packed)", "a", "<= 30 s"),
                                       ("empty catalog, packed", "b", "<= 100 requests"),
                                       ("nothing new", "b", "<= 10 requests")):
                before = proxy.stats["requests"]
                t = time.time()
                r = subprocess.run([bakthat, "sync"], env=machines[who], capture_output=True, text=True)
                took = time.time() - t
                if r.returncode != 0:
                    sys.exit("sync failed: " + r.stderr)
                results.append((label, took, proxy.stats["requests"] - before, target, r.stderr.strip()))
            shown = subprocess.run([bakthat, "show"], env=machines["b"], capture_output=True, text=True).stdout
            print("machine B's catalog: %d backups" % len(shown.splitlines()))
    for label, took, requests, target, said in results:
        print("%-45s %6.1f s %7d requests   (target %s)\n    %s" % (label, took, requests, target, said))


if __name__ == "__main__":
    main()
