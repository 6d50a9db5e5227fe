#!/usr/bin/env python3
"""Crash campaign: kill -9 bakthat at random points of its commands, then
check that nothing it promised was lost.

    bench/crash-campaign.py [--bakthat BIN] [--trials 200] [--seed S]
                            [--ops backup,restore,delete,sync] [--tree-mb 24]
                            [--strict] [--keep]

Each trial runs one command of --ops (in turn) in a scratch HOME, backing up
to a new bucket on the loopback Swift's S3 API (tests/servers/up.sh; or
--destination local, without sync) and syncing with a sync server
(tools/bakthat-syncserver), and sends it
SIGKILL after a random delay between 0 and 1.2 times that command's
measured duration (so some kills come after the end). Then:

  - the catalog passes sqlite's integrity_check;
  - every live row's object is in the store;
  - a killed restore left its target's earlier content as it was;
  - after a killed sync, the next sync succeeds and the server holds the
    catalog's rows as they are;
  - the newest live backup restores, equal to the tree it was made of;
  - the next command of the campaign runs on that state.

Any failure of those is a violation: the script prints it and exits 1.
What is known to be still open (an object without a row, issue 18 items 2
and 3; temporary files in the store; staging directories in a restore
target; a live row whose object a killed delete had removed, which running
delete again finishes) is counted and printed; with --strict it is a
violation too.

To add a command or a destination: write an op (a method `op_<name>`
returning the argv to kill, optionally `after_<name>` for its own checks)
and add the name to OPS; a destination is a class in DESTINATIONS (its
profile, whether its rows travel by sync, bakthat's temporary files there);
its objects are what `bakthat ls` lists. The e2e test test_crash_campaign runs
a short campaign (20 trials)."""
import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))
from harness import scratch_home, tree_digest  # noqa: E402
from s3util import new_bucket, swift_profile  # noqa: E402
from syncserver import PASSWORD, SyncServer  # noqa: E402

OPS = ("backup", "restore", "delete", "sync")
TREE = "data"  # the backed-up directory's name, and so the backups' name


class LocalStore:
    """The local destination: a directory of objects. Its rows stay on this
    machine (a sync sends only rows of remote destinations)."""
    remote = False

    def __init__(self, home):
        self.dir = os.path.join(home, ".local", "share", "bakthat", "store")

    def config(self):
        return "default:\n  local_path: %s\n" % self.dir

    def temporary(self):
        """bakthat's temporary files."""
        if not os.path.isdir(self.dir):
            return set()
        return {n for n in os.listdir(self.dir) if n.startswith(".bakthat-")}


class SwiftS3:
    """A new bucket on the loopback Swift's S3 API (tests/servers/up.sh)."""
    remote = True

    def __init__(self, home):
        self.bucket = new_bucket("crash")

    def config(self):
        return swift_profile(self.bucket)

    def temporary(self):
        return set()


DESTINATIONS = {"s3": SwiftS3, "local": LocalStore}


class Campaign:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.tmp = tempfile.mkdtemp(prefix="bakthat-crash-")
        self.home, self.work, self.env = scratch_home(self.tmp)
        self.store = DESTINATIONS[args.destination](self.home)
        self.server = SyncServer(self.tmp)
        config = os.path.join(self.home, ".bakthat.yml")
        with open(config, "w") as f:
            f.write(self.store.config() + "sync:\n  url: %s\n  username: alice\n  password: \"%s\"\n  auto: false\n"
                    % (self.server.url, PASSWORD))
        os.chmod(config, 0o600)
        self.tree = os.path.join(self.work, TREE)
        self.digests = {}  # stored name -> digest of the tree it was made of
        self.durations = {}
        self.trial = 0
        self.counts = {"trials": 0, "killed": 0, "finished": 0}
        self.per_op = {op: 0 for op in args.ops}
        self.violations = []
        self.known = {"object without a live row": 0, "temporary file in the store": 0,
                      "staging left in a restore target": 0, "live row whose object a killed delete removed": 0}
        self.counted = set()  # what was counted above, once
        self.make_tree()

    # ---- helpers ----

    def run(self, *args, check=True, timeout=600):
        proc = subprocess.run([self.args.bakthat, *args], cwd=self.work, env=self.env, capture_output=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise Violation("`bakthat %s` failed (exit %d): %s" % (
                " ".join(args), proc.returncode, proc.stderr.decode("utf-8", "replace").strip()[-500:]))
        return proc

    def rows(self):
        """stored name -> is_deleted, from the catalog."""
        path = os.path.join(self.home, ".bakthat.sqlite")
        if not os.path.exists(path):
            return {}
        con = sqlite3.connect(path)
        try:
            return {r[0]: r[1] for r in con.execute("SELECT stored_filename, is_deleted FROM backups")}
        finally:
            con.close()

    def live(self):
        path = os.path.join(self.home, ".bakthat.sqlite")
        if not os.path.exists(path):
            return []
        con = sqlite3.connect(path)
        try:
            return [r[0] for r in con.execute(
                "SELECT stored_filename FROM backups WHERE is_deleted = 0 ORDER BY backup_date, id")]
        finally:
            con.close()

    def make_tree(self):
        """A tree of --tree-mb of incompressible files and a few small ones."""
        os.makedirs(os.path.join(self.tree, "sub"), exist_ok=True)
        per = 1 << 20
        for i in range(self.args.tree_mb):
            with open(os.path.join(self.tree, "sub" if i % 2 else "", "blob%d.bin" % i), "wb") as f:
                f.write(os.urandom(per))
        os.symlink("blob0.bin", os.path.join(self.tree, "link"))

    def change_tree(self):
        """Each backup is of a different tree, so a restore shows which."""
        with open(os.path.join(self.tree, "trial.txt"), "w") as f:
            f.write("trial %d\n" % self.trial)
        os.utime(os.path.join(self.tree, "trial.txt"), (1600000000 + self.trial,) * 2)

    # ---- the ops: each returns the argv to run and kill ----

    def op_backup(self):
        self.change_tree()
        self.expected = tree_digest(self.tree)
        self.before = set(self.rows())
        return ["backup", self.tree, "--prompt", "no"]

    def after_backup(self):
        for name in set(self.rows()) - self.before:
            self.digests[name] = self.expected

    def op_restore(self):
        self.ensure_live(1)
        self.target = os.path.join(self.work, "restore-%d" % self.trial)
        os.makedirs(os.path.join(self.target, "kept"))
        with open(os.path.join(self.target, "kept", "file"), "w") as f:
            f.write("earlier content\n")
        self.target_before = tree_digest(self.target)
        return ["restore", self.rng.choice(self.live()), "-o", self.target, "--prompt", "no"]

    def after_restore(self):
        now = tree_digest(self.target)
        kept = {k: v for k, v in now.items() if k == "kept" or k.startswith("kept/")}
        if kept != self.target_before:
            raise Violation("a killed restore changed its target's earlier content")
        if any(os.path.basename(k).startswith(".bakthat-") for k in now if "/" not in k):
            self.known["staging left in a restore target"] += 1
        shutil.rmtree(self.target)

    def op_delete(self):
        self.ensure_live(2)
        self.deleting = self.rng.choice(self.live()[:-1])
        return ["delete", self.deleting]

    def after_delete(self):
        # delete removes the object, then marks the row: a kill in between
        # leaves a live row without its object, which running delete again
        # finishes ("already gone from the store").
        if self.rows().get(self.deleting) == 0 and self.deleting not in self.objects():
            self.known["live row whose object a killed delete removed"] += 1
            self.run("delete", self.deleting)

    def op_sync(self):
        # Something to send: a row the server has not seen.
        self.ensure_live(1)
        if self.rng.random() < 0.5:
            self.run("delete", self.live()[0])
            self.ensure_live(1)
        return ["sync"]

    def after_sync(self):
        self.run("sync")
        server = {r["stored_filename"]: int(bool(r["is_deleted"])) for r in self.server.rows()}
        mine = {k: int(bool(v)) for k, v in self.rows().items()}
        if server != mine:
            raise Violation("after a sync the server's rows differ from the catalog's: %r vs %r" % (server, mine))

    def ensure_live(self, n):
        while len(self.live()) < n:
            argv = self.op_backup()
            self.run(*argv)
            self.after_backup()

    # ---- a trial ----

    def calibrate(self):
        """Each op's duration, run once without a kill."""
        for op in self.args.ops:
            argv = getattr(self, "op_" + op)()
            start = time.monotonic()
            self.run(*argv)
            self.durations[op] = time.monotonic() - start
            after = getattr(self, "after_" + op, None)
            if after:
                after()

    def one(self, op):
        self.trial += 1
        delay = 0.0
        try:
            argv = getattr(self, "op_" + op)()
            delay = self.rng.uniform(0, 1.2 * self.durations[op])
            proc = subprocess.Popen([self.args.bakthat, *argv], cwd=self.work, env=self.env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                self.counts["killed"] += 1
            else:
                self.counts["finished"] += 1
            proc.wait(timeout=600)
            self.counts["trials"] += 1
            self.per_op[op] += 1
            after = getattr(self, "after_" + op, None)
            if after:
                after()
            self.check()
        except Violation as v:
            self.violations.append("trial %d (%s, killed after %.3f s): %s" % (self.trial, op, delay, v))

    def check(self):
        path = os.path.join(self.home, ".bakthat.sqlite")
        con = sqlite3.connect(path)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()
        if result != "ok":
            raise Violation("catalog integrity_check: " + result)
        rows = self.rows()
        objects = self.objects()
        missing = sorted(n for n, deleted in rows.items() if not deleted and n not in objects)
        if missing:
            raise Violation("live rows without their object: %s" % missing)
        self.count("object without a live row", {n for n in objects if rows.get(n, 1)})
        self.count("temporary file in the store", self.store.temporary())
        live = self.live()
        if not live:
            return
        newest = live[-1]
        out = os.path.join(self.work, "check")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        self.run("restore", newest, "-o", out, "--prompt", "no")
        if newest in self.digests and tree_digest(os.path.join(out, TREE)) != self.digests[newest]:
            raise Violation("%s restored different from the tree it was made of" % newest)
        shutil.rmtree(out)

    def objects(self):
        return set(self.run("ls").stdout.decode().split())

    def count(self, what, names):
        new = {(what, n) for n in names} - self.counted
        self.known[what] += len(new)
        self.counted |= new

    def campaign(self):
        self.calibrate()
        for i in range(self.args.trials):
            self.one(self.args.ops[i % len(self.args.ops)])

    def report(self):
        c = self.counts
        print("crash campaign: %d trials (%s), %d killed mid-command, %d finished before the kill" % (
            c["trials"], ", ".join("%s %d" % kv for kv in self.per_op.items()), c["killed"], c["finished"]))
        print("  command durations: " + ", ".join("%s %.2f s" % kv for kv in self.durations.items()))
        print("  violations: %d" % len(self.violations))
        for v in self.violations:
            print("    " + v)
        print("  known open: " + ", ".join("%s %d" % kv for kv in self.known.items()))
        failed = bool(self.violations) or (self.args.strict and any(self.known.values()))
        return 1 if failed else 0

    def close(self):
        self.server.stop()
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("  kept: " + self.tmp)


class Violation(Exception):
    pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bakthat", default=os.environ.get("BAKTHAT_BIN") or os.path.join(SOURCE_DIR, "build", "bakthat"))
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--ops", default=",".join(OPS))
    p.add_argument("--tree-mb", type=int, default=24)
    p.add_argument("--destination", choices=sorted(DESTINATIONS), default="s3",
                   help="s3: a bucket on the loopback Swift (the default; sync needs a remote destination)")
    p.add_argument("--strict", action="store_true", help="what is known to be open is a violation too")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = p.parse_args()
    args.ops = [o for o in args.ops.split(",") if o]
    for op in args.ops:
        if op not in OPS:
            p.error("unknown op %s (%s)" % (op, ", ".join(OPS)))
    if "sync" in args.ops and not DESTINATIONS[args.destination].remote:
        p.error("sync sends only rows of remote destinations: drop it from --ops or use --destination s3")
    if args.seed is None:
        args.seed = random.randrange(1 << 32)
    print("crash campaign: seed %d, %s" % (args.seed, args.bakthat), flush=True)
    c = Campaign(args)
    try:
        c.campaign()
        return c.report()
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
