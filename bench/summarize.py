#!/usr/bin/env python3
"""summarize.py OUT_DIR [MB] : the tables and target ratios of bench/run.sh.

Reads OUT_DIR/results.tsv (tool op MB run wall user sys maxrss_kB rc other_cpu,
one row per timed run), sizes.tsv (tool op MB bytes), verify.tsv (tool op
yes|no), speed.tsv (name op MB/s) and kdf.tsv (name bakthat-s OpenSSL-s).
Each column's median is taken on its own; a target comparing two timings is
the median of their ratios within each run.
MB = MiB. MB is the main data set's size (rows of other sizes, e.g. the
256 MB RSS runs, only feed the RSS target). Writes OUT_DIR/results.md, prints it.
"""
import os
import statistics as st
import sys
from collections import OrderedDict

out_dir = sys.argv[1]
main_mb = sys.argv[2] if len(sys.argv) > 2 else None


def rows(name):
    p = os.path.join(out_dir, name)
    return [l.rstrip("\n").split("\t") for l in open(p)] if os.path.exists(p) else []


runs = OrderedDict()
for r in rows("results.tsv"):
    tool, op, mb, _run, wall, u, s, rss, rc, other = r[:10]
    runs.setdefault((tool, op, mb), []).append(
        dict(run=_run, wall=float(wall), cpu=float(u) + float(s), rss=int(rss) / 1024, rc=int(rc),
             other=float(other)))
sizes = {(r[0], r[1], r[2]): int(r[3]) for r in rows("sizes.tsv") if len(r) > 3 and r[3].isdigit()}
verified = {}
for tool, op, ok in (r[:3] for r in rows("verify.tsv")):
    verified.setdefault((tool, op), []).append(ok == "yes")
speed = {(r[0], r[1]): float(r[2]) for r in rows("speed.tsv") if len(r) > 2 and r[2]}

LABEL = {
    ("bakthat", "backup"): "bakthat backup (gzip, local store)",
    ("bakthat", "restore"): "bakthat restore (gzip)",
    ("tar+pigz", "backup"): "tar -cf - \\| pigz -6 -p 2",
    ("tar+pigz", "restore"): "tar -xzf",
    ("restic", "backup"): "restic backup (local repo)",
    ("restic", "restore"): "restic restore",
    ("bakthat zstd", "backup"): "bakthat backup (compression: zstd)",
    ("bakthat zstd", "restore"): "bakthat restore (zstd)",
    ("tar+zstd", "backup"): "tar -cf - \\| zstd -3 -T2",
    ("bakthat agex", "backup"): "bakthat backup (gzip + age to a public key)",
    ("bakthat agex", "restore"): "bakthat restore (gzip + age, identity file)",
    ("bakthat age", "backup"): "bakthat backup (gzip + age, scrypt 2^18)",
    ("bakthat age", "restore"): "bakthat restore (gzip + age)",
    ("bakthat age10", "backup"): "bakthat backup (gzip + age, scrypt 2^10)",
    ("bakthat age10", "restore"): "bakthat restore (gzip + age, scrypt 2^10)",
    ("bakthat s3", "backup"): "bakthat backup to S3 (Swift S3 API)",
    ("bakthat s3", "restore"): "bakthat restore from S3",
    ("tar+pigz+aws", "backup"): "tar -cf - \\| pigz -6 -p 2 \\| aws s3 cp - (S3)",
    ("tar+pigz+aws", "restore"): "aws s3 cp - \\| pigz -d \\| tar -x (S3)",
    ("restic s3", "backup"): "restic backup (S3 repo)",
    ("restic s3", "restore"): "restic restore (S3 repo)",
}


def med(key, field):
    rs = runs.get(key)
    return st.median(r[field] for r in rs) if rs else None


out = ["| command | MB | runs | wall s, median (min–max) | MB/s | CPU s | max RSS MB | output MB | exact |",
       "|---|---|---|---|---|---|---|---|---|"]
for (tool, op, mb), rs in runs.items():
    walls = [r["wall"] for r in rs]
    wall = st.median(walls)
    failed = sum(1 for r in rs if r["rc"] != 0)
    label = LABEL.get((tool, op), f"{tool} {op}") + (f" ({failed} failed)" if failed else "")
    size = sizes.get((tool, op, mb))
    ok = verified.get((tool, op)) if mb == main_mb else None
    exact = "" if ok is None else ("yes" if all(ok) else f"NO ({ok.count(False)} of {len(ok)})")
    out.append(f"| {label} | {mb} | {len(rs)} | {wall:.2f} ({min(walls):.2f}–{max(walls):.2f}) | "
               f"{float(mb) / wall:.0f} | {med((tool, op, mb), 'cpu'):.1f} | {med((tool, op, mb), 'rss'):.0f} | "
               f"{'' if size is None else f'{size / 2**20:.1f}'} | {exact} |")
if speed:
    out += ["", "| stage alone (one core) | MB/s |", "|---|---|"]
    out += [f"| {'age encryptor (ChaCha20-Poly1305 STREAM)' if k[0] == 'crypto_bench' else k[0]} | {v:.0f} |"
            for k, v in speed.items()]
kdf = [r for r in rows("kdf.tsv") if len(r) > 2]
if kdf:
    out += ["", "| key derivation, median of the calls in one process (alternating) | bakthat s | OpenSSL s |", "|---|---|---|"]
    out += [f"| {r[0]} (median) | {r[1]} | {r[2]} |" for r in kdf]

# Targets: (description, value, passes) or None when a side was not measured.
M = main_mb
targets = []


def wall(tool, op, mb=None):
    """Wall time of each run, by run number (or None when not measured)."""
    rs = runs.get((tool, op, mb or M))
    return {r["run"]: r["wall"] for r in rs} if rs else None


def quotient(num, den):
    """num / den; for two timings, the median of the ratios within each run.
    Both sides of a run are timed back to back, so a stretch when the host
    is busy slows both: per-run ratios are far steadier on a shared machine
    than the ratio of two medians taken at different moments."""
    if isinstance(num, dict) and isinstance(den, dict):
        pairs = [num[k] / den[k] for k in num if k in den and den[k]]
        return st.median(pairs) if pairs else None
    if isinstance(num, dict):
        num = st.median(num.values())
    if isinstance(den, dict):
        den = st.median(den.values())
    return num / den if den else None


def ratio(desc, num, den, ok, fmt="{:.2f}×"):
    v = None if num is None or den is None else quotient(num, den)
    if v is None:
        targets.append((desc, "not measured", None))
    else:
        targets.append((desc, fmt.format(v), ok(v)))


ratio("backup speed vs tar | pigz -6 -p 2 (≥ 2×)", wall("tar+pigz", "backup"), wall("bakthat", "backup"), lambda v: v >= 2)
ratio("backup speed vs restic backup (≥ 1.0×)", wall("restic", "backup"), wall("bakthat", "backup"), lambda v: v >= 1)
ratio(".tgz size vs pigz -6 output (≤ 1.05×)", sizes.get(("bakthat", "backup", M)), sizes.get(("tar+pigz", "backup", M)),
      lambda v: v <= 1.05, "{:.3f}×")
ratio("restore speed vs tar -xzf (≥ 1.5×)", wall("tar+pigz", "restore"), wall("bakthat", "restore"), lambda v: v >= 1.5)
ratio("restore speed vs restic restore (≥ 1.0×)", wall("restic", "restore"), wall("bakthat", "restore"), lambda v: v >= 1)
rss_small, rss_big = med(("bakthat", "backup", "256"), "rss"), med(("bakthat", "backup", M), "rss")
if rss_small is None or rss_big is None:
    targets.append(("backup peak RSS at 256 and 1024 MB (≤ 150 MB, about the same)", "not measured", None))
else:
    targets.append((f"backup peak RSS at 256 / {M} MB (≤ 150 MB, within 25% of each other)",
                    f"{rss_small:.0f} / {rss_big:.0f} MB",
                    max(rss_small, rss_big) <= 150 and max(rss_small, rss_big) <= 1.25 * min(rss_small, rss_big)))
ratio("zstd backup speed vs tar | zstd -3 -T2 (≥ 0.9×)", wall("tar+zstd", "backup"), wall("bakthat zstd", "backup"), lambda v: v >= 0.9)
ratio("encrypted backup time vs unencrypted, to a public key (≤ 1.10×)", wall("bakthat agex", "backup"),
      wall("bakthat", "backup"), lambda v: v <= 1.10)
ratio("encrypted backup time vs unencrypted, password (≤ 1.10×; adds scrypt 2^18: 128 MB, ~0.6-1 s here)",
      wall("bakthat age", "backup"), wall("bakthat", "backup"), lambda v: v <= 1.10)
ratio("  the same with scrypt 2^10 (info)", wall("bakthat age10", "backup"), wall("bakthat", "backup"), lambda v: None)
# The password round less the scrypt 2^10 one, run by run: the 2^18
# derivation's own cost in wall time, which the ratio above mixes with the
# noise of every encrypted round.
age, age10 = wall("bakthat age", "backup"), wall("bakthat age10", "backup")
if isinstance(age, dict) and isinstance(age10, dict) and any(k in age10 for k in age):
    d = st.median(age[k] - age10[k] for k in age if k in age10)
    targets.append(("  password less scrypt 2^10, wall s (info: the 2^18 derivation's own cost)", f"{d:.2f} s", None))
ratio("encrypted restore time vs unencrypted (info)", wall("bakthat age", "restore"), wall("bakthat", "restore"), lambda v: None)
enc = speed.get(("crypto_bench", "encrypt"))
targets.append(("age encryptor alone, one core (≥ 1000 MB/s)", "not measured" if enc is None else f"{enc:.0f} MB/s",
                None if enc is None else enc >= 1000))
if ("bakthat python", "backup", M) in runs:
    ratio("bakthat.backup() from Python vs the CLI's backup, time (≤ 1.03×)", wall("bakthat python", "backup"),
          wall("bakthat cli", "backup"), lambda v: v <= 1.03)
    d = med(("bakthat python", "backup", M), "rss") - med(("bakthat cli", "backup", M), "rss")
    targets.append(("bakthat.backup() from Python vs the CLI, peak RSS (≤ +20 MB)", f"{d:+.0f} MB", d <= 20))
if ("bakthat s3", "backup", M) in runs:
    # The peers a user would run instead against the same server.
    for op, peer, name in (("backup", "tar+pigz+aws", "tar | pigz -6 -p 2 | aws s3 cp -"),
                           ("backup", "restic s3", "restic backup (S3 repo)"),
                           ("restore", "tar+pigz+aws", "aws s3 cp - | pigz -d | tar -x"),
                           ("restore", "restic s3", "restic restore (S3 repo)")):
        ratio(f"S3 {op} speed vs {name} (≥ 1.0×)", wall(peer, op), wall("bakthat s3", op), lambda v: v >= 1)
    r1, r2 = med(("bakthat s3", "backup", M), "rss"), med(("bakthat s3", "restore", M), "rss")
    targets.append(("S3 backup / restore peak RSS (≤ 200 MB)", f"{r1:.0f} / {r2:.0f} MB", max(r1, r2) <= 200))

out += ["", "| target | measured | |", "|---|---|---|"]
for desc, val, ok in targets:
    desc = desc.replace("|", "\\|")
    out.append(f"| {desc} | {val} | {'' if ok is None else ('PASS' if ok else 'FAIL')} |")
noisy = [(k, med(k, "other")) for k in runs if (med(k, "other") or 0) > 0.5 * (med(k, "wall") or 1)]
if noisy:
    out += ["", "Noise: other processes used the CPU during " +
            ", ".join(f"{t} {o} ({x:.1f} CPU s)" for (t, o, _), x in noisy) + "; rerun if a ratio looks off."]
txt = "\n".join(out) + "\n"
open(os.path.join(out_dir, "results.md"), "w").write(txt)
print(txt)
