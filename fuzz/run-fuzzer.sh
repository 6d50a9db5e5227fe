#!/bin/sh
# Fuzzes one harness for a bounded time, as the ctest test fuzz_run_<target>
# of a BAKTHAT_FUZZ build: the committed corpus is read, never written (new
# inputs go to WORKDIR/new), and a crash, sanitizer report, timeout or
# out-of-memory fails the test with the input left in WORKDIR.
#   run-fuzzer.sh FUZZER CORPUS SECONDS WORKDIR
set -eu
fuzzer=$1 corpus=$2 seconds=$3 workdir=$4
rm -rf "$workdir"
mkdir -p "$workdir/new"
if "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
     -artifact_prefix="$workdir/" "$workdir/new" "$corpus"; then
  exit 0
fi
echo "run-fuzzer: $(basename "$fuzzer") failed; the input is in $workdir (fuzz/README.md: replay and keep it)" >&2
exit 1
