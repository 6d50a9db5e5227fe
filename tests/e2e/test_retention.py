"""Retention through the real binary on the local store: rotate_backups and
delete_older_than decide exactly what an independent reference (below) says,
and the catalog (sqlite3) and the store directory agree with them."""
import datetime
import os
import random
import re
import shutil
import sqlite3
import time
import unittest

import yaml

from harness import BakthatTestCase

DAY = 86400
ROTATION = {"days": 7, "weeks": 4, "months": 6, "first_week_day": 5}


def reference_keep(dates, now, days=0, weeks=0, months=0, first_week_day=5):
    """grandfatherson (1.2+) to_keep on Unix seconds, UTC, written with period
    numbers instead of grandfatherson's masks: for a unit with count N keep
    the oldest date of each of the N periods ending with now's; future dates
    are always kept. Dates must be distinct."""
    def periods(t):
        d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
        ordinal = d.toordinal()  # 0001-01-01, a Monday, is 1
        return {"days": ordinal, "weeks": (ordinal - 1 - first_week_day) // 7,
                "months": d.year * 12 + d.month - 1}
    counts = {"days": days, "weeks": weeks, "months": months}
    keep = {t for t in dates if t > now}
    pnow = periods(now)
    for unit, n in counts.items():
        if n <= 0:
            continue
        oldest = {}
        for t in dates:
            p = periods(t)[unit]
            if t <= now and pnow[unit] - n < p <= pnow[unit]:
                oldest[p] = min(t, oldest.get(p, t))
        keep |= set(oldest.values())
    return keep


class Retention(BakthatTestCase):
    NAME = "daily.txt"

    def setUp(self):
        super().setUp()
        for name in (self.NAME, "other.txt"):
            with open(os.path.join(self.work, name), "w") as f:
                f.write(name * 100)

    def configure(self, rotation=ROTATION):
        text = "default:\n  default_destination: local\n"
        if rotation:
            text += "  rotation:\n" + "".join("    %s: %s\n" % kv for kv in rotation.items())
        self.write_config(text)

    def db(self):
        return sqlite3.connect(self.catalog_path())

    def rows(self):
        """stored_filename -> (backup_date, is_deleted) of every row."""
        if not os.path.exists(self.catalog_path()):
            return {}
        with self.db() as c:
            return {s: (d, bool(x)) for s, d, x in
                    c.execute("SELECT stored_filename, backup_date, is_deleted FROM backups")}

    def stored_objects(self):
        return set(self.store_objects())

    def make_backups(self, offsets, name=None):
        """One backup of `name` per offset (seconds before now; negative: in
        the future), then its catalog date rewritten to now - offset. Returns
        stored_filename -> backup_date."""
        name = name or self.NAME
        now = int(time.time())
        made = {}
        for off in offsets:
            before = set(self.rows())
            self.ok("backup", name, "--prompt", "no")
            (stored,) = set(self.rows()) - before
            # Named after its new date too, as a backup made then would be
            # (this also frees the current second's name for the next one).
            when = datetime.datetime.fromtimestamp(now - off, datetime.timezone.utc)
            renamed, n = re.subn(r"\.\d{14}\.", "." + when.strftime("%Y%m%d%H%M%S") + ".", stored)
            self.assertEqual(n, 1, stored)
            os.rename(os.path.join(self.store_dir(), stored), os.path.join(self.store_dir(), renamed))
            with self.db() as c:
                c.execute("UPDATE backups SET backup_date = ?, stored_filename = ? WHERE stored_filename = ?",
                          (now - off, renamed, stored))
            made[renamed] = now - off
        return made

    def spread_over_a_year(self, seed=7):
        """Distinct dates: dense in the last ten days, sparser back to 400 days,
        a couple in the future."""
        rnd = random.Random(seed)
        offs = set()
        offs.update(rnd.randrange(0, 10 * DAY) for _ in range(14))
        offs.update(rnd.randrange(10 * DAY, 70 * DAY) for _ in range(14))
        offs.update(rnd.randrange(70 * DAY, 400 * DAY) for _ in range(14))
        offs.update([-2 * DAY, -3600])
        return sorted(offs)

    def assert_state(self, made, keep, untouched):
        rows = self.rows()
        objects = self.stored_objects()
        for stored in made:
            self.assertEqual(rows[stored][1], stored not in keep,
                             "%s (%s) is_deleted" % (stored, datetime.datetime.utcfromtimestamp(made[stored])))
            self.assertEqual(stored in objects, stored in keep, "%s in the store" % stored)
        for stored in untouched:
            self.assertFalse(rows[stored][1])
            self.assertIn(stored, objects)

    def run_with_expectation(self, args, expect):
        """Runs bakthat and returns (result, expected kept set), where the
        expectation is computed for the clock before and after the run (they
        differ only when a period boundary passed during it; then either is
        right)."""
        before = int(time.time())
        r = self.ok(*args)
        after = int(time.time())
        first, second = expect(before), expect(after)
        actual = {s for s, (d, deleted) in self.rows().items() if not deleted}
        return r, (second if actual == second else first)

    def test_rotate_backups(self):
        self.configure()
        made = self.make_backups(self.spread_over_a_year())
        other = self.make_backups([5 * 400 * DAY // 4, 3 * DAY], name="other.txt")
        all_objects = self.stored_objects()
        self.assertEqual(all_objects, set(made) | set(other))
        dates = {d: s for s, d in made.items()}
        expect = lambda now: {dates[t] for t in reference_keep(set(dates), now, **ROTATION)} | set(other)

        # A dry run touches nothing but says what it would do.
        rows = self.rows()
        r = self.ok("rotate_backups", self.NAME, "--dry-run")
        self.assertEqual(self.rows(), rows)
        self.assertEqual(self.stored_objects(), all_objects)
        self.assertNotIn("Deleting", r.errtext)
        keep_now = expect(int(time.time()))
        for stored in made:
            line = [l for l in r.text.splitlines() if stored in l]
            self.assertEqual(len(line), 1, r.text)
            self.assertTrue(line[0].startswith("keep" if stored in keep_now else "would delete"), line[0])

        r, keep = self.run_with_expectation(["rotate_backups", self.NAME], expect)
        self.assertTrue(7 < len(keep) - len(other) < len(made) - 5, keep)  # the data exercise both sides
        self.assert_state(made, keep, other)
        deleted = set(made) - keep
        for stored in deleted:
            self.assertIn("Deleting " + stored, r.errtext)
        # Kept lines carry their reasons.
        for l in r.text.splitlines():
            if l.startswith("keep"):
                self.assertRegex(l, r"\((future|daily|weekly|monthly)[^)]*\)$")

        # Nothing left to do.
        rows = self.rows()
        r = self.ok("rotate_backups", self.NAME)
        self.assertNotIn("Deleting", r.errtext)
        self.assertEqual(self.rows(), rows)

    def test_rotation_with_monday_weeks_from_configure(self):
        self.configure(rotation=None)
        r = self.ok("configure_backups_rotation", "--days", "3", "--weeks", "5", "--months", "2",
                    "--first-week-day", "monday")
        with open(os.path.join(self.home, ".bakthat.yml")) as f:
            conf = yaml.safe_load(f)
        self.assertEqual(conf["default"]["rotation"],
                         {"days": 3, "weeks": 5, "months": 2, "first_week_day": "monday"})
        self.assertEqual(conf["default"]["default_destination"], "local")  # the rest kept
        self.assertEqual(os.stat(os.path.join(self.home, ".bakthat.yml")).st_mode & 0o077, 0)
        rot = dict(days=3, weeks=5, months=2, first_week_day=0)
        made = self.make_backups(self.spread_over_a_year(seed=11))
        dates = {d: s for s, d in made.items()}
        r, keep = self.run_with_expectation(
            ["rotate_backups", self.NAME],
            lambda now: {dates[t] for t in reference_keep(set(dates), now, **rot)})
        self.assertLess(len(keep), len(made))
        self.assert_state(made, keep, [])

    def test_rotation_flags_change_only_what_they_name(self):
        self.write_config("default:\n  default_destination: local\n  rotation:\n    days: 7\n    weeks: 4\n"
                          "    months: 6\n    years: 2\n    first_week_day: sunday\n")
        self.ok("configure_backups_rotation", "--days", "5")
        with open(os.path.join(self.home, ".bakthat.yml")) as f:
            conf = yaml.safe_load(f)
        self.assertEqual(conf["default"]["rotation"],
                         {"days": 5, "weeks": 4, "months": 6, "years": 2, "first_week_day": "sunday"})
        self.fails("configure_backups_rotation", "--weeks", "-1")
        self.ok("configure_backups_rotation", "--first-week-day", "2")
        with open(os.path.join(self.home, ".bakthat.yml")) as f:
            conf = yaml.safe_load(f)
        self.assertEqual(conf["default"]["rotation"],
                         {"days": 5, "weeks": 4, "months": 6, "years": 2, "first_week_day": 2})

    def test_delete_older_than(self):
        self.configure()
        offsets = [o for o in self.spread_over_a_year(seed=3) if abs(o - 30 * DAY) > 600]
        made = self.make_backups(offsets)
        other = self.make_backups([300 * DAY], name="other.txt")
        # Another backup whose name starts with NAME: backups named exactly
        # NAME exist, so it is not one of NAME's.
        with open(os.path.join(self.work, self.NAME + ".old"), "w") as f:
            f.write("older")
        other.update(self.make_backups([300 * DAY], name=self.NAME + ".old"))
        rows = self.rows()
        self.fails("delete_older_than", self.NAME, "30x")
        r = self.fails("delete_older_than", self.NAME, "0D")
        self.assertIn("0D", r.errtext)
        self.ok("delete_older_than", self.NAME, "30D", "--dry-run")
        self.assertEqual(self.rows(), rows)
        self.assertEqual(self.stored_objects(), set(made) | set(other))

        now = int(time.time())
        self.ok("delete_older_than", self.NAME, "30D")
        keep = {s for s, d in made.items() if d >= now - 30 * DAY}
        self.assertTrue(0 < len(keep) < len(made))
        self.assert_state(made, keep, other)
        self.ok("delete_older_than", self.NAME, "4W2D")  # the same cut: nothing more
        self.assert_state(made, keep, other)

    def test_delete_older_than_keeps_the_newest_and_says_minutes(self):
        # `6m` is 6 minutes, as in the Python tool: every backup here is
        # older, yet the newest stays unless --all, and the unit is spelt out.
        self.configure()
        made = self.make_backups([DAY, 2 * DAY, 40 * DAY])
        newest = max(made, key=made.get)
        r = self.ok("delete_older_than", self.NAME, "6m")
        self.assertIn("6m = 6 minutes", r.errtext)
        self.assertIn("keep   " + newest + "  (newest)", r.text)
        self.assert_state(made, {newest}, [])
        self.ok("delete_older_than", self.NAME, "6m", "--all")
        self.assert_state(made, set(), [])

    def test_delete_older_than_lowercase_units(self):
        self.configure()
        made = self.make_backups([DAY, 10 * DAY, 40 * DAY])
        r = self.ok("delete_older_than", self.NAME, "2w")
        self.assertNotIn("minutes", r.errtext)
        self.assert_state(made, {s for s, d in made.items() if d >= time.time() - 14 * DAY}, [])
        self.ok("delete_older_than", self.NAME, "5d")
        self.ok("delete_older_than", self.NAME, "1y")

    def test_ambiguous_prefix_is_refused_by_destructive_commands(self):
        self.configure()
        for name in ("web", "webapp"):
            with open(os.path.join(self.work, name), "w") as f:
                f.write(name)
        made = self.make_backups([DAY, 300 * DAY], name="web")
        made.update(self.make_backups([DAY, 300 * DAY], name="webapp"))
        for args in (["delete", "we"], ["rotate_backups", "we"], ["delete_older_than", "we", "30D"]):
            r = self.fails(*args)
            self.assertEqual(r.code, 2, repr(r))
            self.assertIn("web, webapp", r.errtext)
            self.assertEqual(len(r.errtext.strip().splitlines()), 1, r.errtext)
            self.assert_state(made, set(made), [])
        # The whole name, or the exact name of one of them, still works.
        self.ok("delete_older_than", "webapp", "30D")
        self.assertEqual(sum(1 for s, (d, x) in self.rows().items() if x), 1)
        # Reading commands still take the latest of a prefix.
        self.ok("restore", "we", "-o", os.path.join(self.tmp, "out"))

    def test_retention_matching_nothing_fails_and_names_what_contains_it(self):
        # The Python tool matched *NAME*: a cron job relying on it must not
        # go quiet while storage grows.
        self.configure()
        made = self.make_backups([DAY, 300 * DAY])
        for args in (["rotate_backups", "aily"], ["delete_older_than", "aily", "30D"], ["delete", "aily"]):
            r = self.fails(*args)
            self.assertEqual(r.code, 4, repr(r))
            self.assertIn("'aily'", r.errtext)
            self.assertIn(self.NAME, r.errtext)
        r = self.fails("rotate_backups", "nothing-like-it")
        self.assertEqual(r.code, 4, repr(r))
        self.assertIn("bakthat show", r.errtext)
        self.assert_state(made, set(made), [])

    def test_no_rotation_configured(self):
        self.configure(rotation=None)
        made = self.make_backups([DAY, 100 * DAY])
        r = self.fails("rotate_backups", self.NAME)
        self.assertIn("no rotation configured", r.errtext)
        self.assertIn("configure_backups_rotation", r.errtext)
        self.assertEqual(len(r.errtext.strip().splitlines()), 1, r.errtext)
        self.assert_state(made, set(made), [])

    def test_object_already_gone_and_store_failure(self):
        self.configure()
        made = self.make_backups([DAY * 300, DAY * 301, DAY])
        keep = {s for s in made if made[s] in reference_keep(set(made.values()), int(time.time()), **ROTATION)}
        doomed = sorted(set(made) - keep)
        self.assertEqual(len(doomed), 2)
        gone, stuck = doomed
        os.unlink(os.path.join(self.store_dir(), gone))
        # A directory in the object's place cannot be unlinked (even by root).
        os.unlink(os.path.join(self.store_dir(), stuck))
        os.makedirs(os.path.join(self.store_dir(), stuck, "x"))

        r = self.fails("rotate_backups", self.NAME)
        self.assertIn("already gone", r.errtext)
        self.assertIn(stuck + " is deleted from the catalog; the next `bakthat sync` removes it", r.errtext)
        # The row goes before the object: never a row without its object.
        rows = self.rows()
        self.assertTrue(rows[gone][1])
        self.assertTrue(rows[stuck][1])
        for s in keep:
            self.assertFalse(rows[s][1])

        # Once the store works again, the next sync finishes the job (the
        # destination holds the deletion's tombstone).
        shutil.rmtree(os.path.join(self.store_dir(), stuck))
        with open(os.path.join(self.store_dir(), stuck), "w") as f:
            f.write("x")
        r = self.ok("sync")
        self.assertIn("Deleted " + stuck, r.errtext)
        self.assert_state(made, keep, [])


if __name__ == "__main__":
    unittest.main()
