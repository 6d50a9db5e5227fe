#!/usr/bin/env bash
# bench/run.sh [--size MB] [--runs N] [BAKTHAT] [SECTION ...]
#
# Times bakthat against the tools it is measured by, in the same run, on the
# same data set, page cache warm, and prints a markdown table and the ratios
# of the performance targets with PASS/FAIL (medians of N runs, default 3).
#
# BAKTHAT: the CLI binary (default $BAKTHAT, else build/bakthat); bench
# programs are taken from its build directory (bench/crypto_bench).
# Sections (default: all but s3; `make bench` runs them all but s3):
#   gzip    bakthat backup/restore (local store) vs tar|pigz -6 -p 2, tar -xzf
#   restic  restic backup/restore to a local repository
#   zstd    bakthat with compression: zstd vs tar|zstd -3 -T2
#   enc     bakthat backup/restore encrypted with age: to a public key (the
#           encryption stage alone), with a password (scrypt 2^18, the default,
#           a fixed cost of 128 MB and ~0.6-1 s here, by design) and with
#           scrypt 2^10
#   rss     peak RSS of bakthat backup of a 256 MB set (the 1024 MB one comes
#           from `gzip`, or is measured here if gzip is not run)
#   crypto  bench/crypto_bench: the age encryptor alone, one core, and
#           scrypt 2^18 (age's password KDF), bakthat's next to OpenSSL's
#   s3      bakthat backup/restore to the Swift S3 API (tests/servers/up.sh)
#           vs tar | pigz -6 -p 2 | aws s3 cp - (streaming; restore aws s3 cp -
#           | pigz -d | tar -x) and restic with a repository on the same server
#   python  bakthat.backup() from Python (the package in BUILD/python, run by
#           /usr/bin/python3) vs the CLI's backup, alternating in each run
#
# The data set is made by bench/make-dataset.sh into $BENCH_DIR/data-<MB>
# (BENCH_DIR defaults to /tmp/bakthat-bench) and reused while its digest
# matches the one recorded when it was made. Every restore is checked exact
# with bench/tree-digest.py. Results: $BENCH_DIR/out/ (results.tsv, per-run
# logs, results.md). Env: TMO (1800 s bound on each timed command).
# Every timed command runs as: sync; /usr/bin/time nice -n $NICE timeout $TMO
# CMD (wall, user+sys CPU of the whole pipeline, max RSS of its largest
# process; NICE is BENCH_NICE, 0 by default).
# On a journal-less ext4 (the project's box) files created within minutes of
# thousands being deleted cost seconds of kernel time in inode allocation:
# leave ~5 minutes after a previous run's cleanup (or any large rm -rf), or
# its restores come out slow (tar -x's and restic's too).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SIZE=1024
RUNS=3
BAK=${BAKTHAT:-}
WHAT=()
usage() { sed -n '2,3p' "$0" | sed 's/^# //' >&2; exit 2; }
while (($#)); do
  case $1 in
    --size) SIZE=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    gzip|restic|zstd|enc|rss|crypto|s3|python) WHAT+=("$1"); shift ;;
    *) if [ -x "$1" ] && [ -f "$1" ]; then BAK=$1; shift; else echo "run.sh: unknown argument $1" >&2; usage; fi ;;
  esac
done
((${#WHAT[@]})) || WHAT=(gzip restic zstd enc rss crypto)
BAK=$(realpath "${BAK:-$ROOT/build/bakthat}") || exit 1
[ -x "$BAK" ] || { echo "run.sh: no bakthat binary at $BAK (make build)" >&2; exit 1; }
BUILD=$(dirname "$BAK")
B=${BENCH_DIR:-/tmp/bakthat-bench}
O=$B/out          # results of this run
W=$B/work         # scratch: outputs, homes, restore targets
TMO=${TMO:-1800}
# BENCH_NICE=-10 (as root) runs every timed command at a higher priority, for
# a box shared with compilers. Off by default: on the project's box it did not
# make the ratios steadier (other CPU use stayed as high), and it slows others.
NICE=${BENCH_NICE:-0}
has() { local s; for s in "${WHAT[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
need() { command -v "$1" >/dev/null || { echo "run.sh: $1 is missing (scripts/install-deps.sh --bench)" >&2; exit 1; }; }
need /usr/bin/time; need python3; need pigz; need zstd
has restic && need restic
mkdir -p "$B"
rm -rf "$O" "$W"; mkdir -p "$O/logs" "$W/trash"
TRASHED=0
trap 'rm -rf "$W"' EXIT

# dataset SIZE_MB: path of the data set, made (or remade) unless its digest
# still matches.
dataset() {
  local mb=$1 d=$B/data-$1 dg=$B/data-$1.digest
  if [ -d "$d" ] && [ -s "$dg" ]; then
    if [ "$(python3 "$HERE/tree-digest.py" "$d")" = "$(tail -3 "$dg")" ]; then echo "$d"; return; fi
    echo "run.sh: $d does not match its digest, making it again" >&2
  fi
  rm -rf "$d" "$dg"
  echo "run.sh: making the $mb MB data set in $d (a few minutes)" >&2
  "$HERE/make-dataset.sh" "$d" "$mb" >"$dg.tmp" 2>"$O/logs/make-dataset-$mb.log" || { cat "$O/logs/make-dataset-$mb.log" >&2; exit 1; }
  mv "$dg.tmp" "$dg"
  echo "$d"
}
DATA=$(dataset "$SIZE") || exit 1
DNAME=$(basename "$DATA"); DPARENT=$(dirname "$DATA")
MB=$(du -sm --apparent-size "$DATA" | cut -f1)
MANIFEST=$(awk '/^manifest/{print $2}' "$B/data-$SIZE.digest")
warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }
warm "$DATA"

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }   # USER_HZ=100
# measure TOOL OP MB CMD...: one timed run of CMD, a row of results.tsv
RUN=0
measure() {
  local tool=$1 op=$2 mb=$3; shift 3
  local log="$O/logs/${tool// /_}.$op.$mb.$RUN.log"
  sync
  local b0 b1 rc
  b0=$(busy)
  /usr/bin/time -f '%e %U %S %M' -o "$W/time.out" nice -n "$NICE" timeout "$TMO" "$@" >"$log" 2>&1
  rc=$?
  b1=$(busy)
  read -r wall u s rss < <(tail -1 "$W/time.out")
  local other; other=$(awk -v b="$((b1 - b0))" -v u="$u" -v s="$s" 'BEGIN{printf "%.1f", b / 100 - u - s}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$op" "$mb" "$RUN" "$wall" "$u" "$s" "$rss" "$rc" "$other" >>"$O/results.tsv"
  printf '  %-14s %-8s %5s MB run %s: %6ss  cpu %ss  rss %s MB  rc %s  other-cpu %ss\n' \
    "$tool" "$op" "$mb" "$RUN" "$wall" "$(awk -v u="$u" -v s="$s" 'BEGIN{print u + s}')" "$((rss / 1024))" "$rc" "$other"
  [ "$rc" = 0 ] || { echo "    failed, see $log:" >&2; tail -3 "$log" >&2; }
}
size() { [ -e "$4" ] || return 0; printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(du -sb "$4" | cut -f1)" >>"$O/sizes.tsv"; }
# verify TOOL OP DIR: is DIR an exact copy of the data set? It is then moved
# aside and only deleted at the end: this disk's ext4 has no journal, and on
# such a file system creating files soon after deleting thousands costs the
# next restore seconds of kernel time (ext4 skips recently freed inodes).
verify() {
  local got; got=$(python3 "$HERE/tree-digest.py" "$3" | awk '/^manifest/{print $2}')
  local ok=no; [ "$got" = "$MANIFEST" ] && ok=yes
  printf '%s\t%s\t%s\n' "$1" "$2" "$ok" >>"$O/verify.tsv"
  [ $ok = yes ] || echo "    $1 $2: restore NOT exact (manifest $got)" >&2
  mv "$3" "$W/trash/$((++TRASHED))"
  # Large sets fill the disk this way (the 4096 MB one did, 10 restores in):
  # with room for less than three more copies (the store's and the next
  # restore's), the trash goes now, and the log says the next restore may
  # be slower for it.
  if (($(df -Pm "$W" | awk 'NR == 2 {print $4}') < 3 * MB)); then
    echo "    (disk nearly full: the restored copies are deleted now; the next restore may be slower)" >&2
    rm -rf "${W:?}/trash"; mkdir -p "$W/trash"
  fi
}

# A bakthat with its own HOME (catalog, config, local store) per variant.
home() {  # home NAME [CONFIG-LINES]: fresh scratch HOME, path printed
  local h=$W/home-$1
  rm -rf "$h"; mkdir -p "$h/store"
  { echo "default:"; echo "  local_path: $h/store"; [ -n "${2:-}" ] && echo "$2"; } >"$h/.bakthat.yml"
  echo "$h"
}
bakcmd() {  # bakcmd HOME PASSWORD|- ARGS...: sets BAKCMD to run the CLI in that HOME
  local h=$1 pw=$2; shift 2
  BAKCMD=(env -u BAKTHAT_PASSWORD -u BAKTHAT_DB -u XDG_DATA_HOME -u AWS_ENDPOINT_URL HOME="$h")
  [ "$pw" = - ] || BAKCMD+=(BAKTHAT_PASSWORD="$pw")
  BAKCMD+=("$BAK" "$@")
}
stored() { find "$1/store" -type f -name "$DNAME.*" | head -1; }
# bakthat_round TOOL HOME PASSWORD: a backup and a restore, timed and checked
bakthat_round() {
  local tool=$1 h=$2 pw=$3
  rm -rf "$h/store"/* "$h/.bakthat.sqlite"*; mkdir -p "$W/restore"
  bakcmd "$h" "$pw" backup "$DATA" --prompt no
  measure "$tool" backup "$MB" "${BAKCMD[@]}"
  [ "$RUN" = 1 ] && size "$tool" backup "$MB" "$(stored "$h")"
  bakcmd "$h" "$pw" restore "$DNAME" -o "$W/restore" --prompt no
  measure "$tool" restore "$MB" "${BAKCMD[@]}"
  verify "$tool" restore "$W/restore/$DNAME"
}

if has crypto; then
  echo "== crypto: the age encryptor alone"
  CB=$BUILD/bench/crypto_bench
  if [ -x "$CB" ]; then
    "$CB" --mb 1024 --runs "$RUNS" | tee "$O/logs/crypto_bench.log" |
      awk '/median/{print $4}' | sed 's/^/crypto_bench\tencrypt\t/' >>"$O/speed.tsv"
    # age's password KDF: bakthat's scrypt next to OpenSSL's, seconds each
    "$CB" --scrypt 18 --runs "$RUNS" | tee "$O/logs/crypto_bench-scrypt.log" |
      awk '/median/{print "scrypt 2^18\t" $6 "\t" $8}' >>"$O/kdf.tsv"
  else
    echo "  no $CB: cmake --build $(dirname "$BAK") --target crypto_bench" >&2
  fi
fi

{ has gzip || has enc; } && HG=$(home gzip)
has zstd && HZ=$(home zstd "  compression: zstd")
if has enc; then
  HE=$(home enc); HE10=$(home enc10 "  scrypt_work_factor: 10")
  need age-keygen
  age-keygen -o "$W/bench.key" 2>/dev/null
  HEX=$(home encx "  recipients: [$(age-keygen -y "$W/bench.key")]
  identity_file: $W/bench.key")
fi
PW=bench-password-not-secret
export RESTIC_PASSWORD=bench RESTIC_REPOSITORY=$W/restic-repo
# The encrypted rounds, beside their unencrypted baseline.
enc_rounds() {
  bakthat_round "bakthat agex" "$HEX" -       # to a public key: the encryption stage's own cost
  bakthat_round "bakthat age" "$HE" "$PW"      # password: the stage plus age's scrypt (2^18, 128 MB here)
  bakthat_round "bakthat age10" "$HE10" "$PW"  # the same with a cheap KDF
}
for RUN in $(seq "$RUNS"); do
  echo "== run $RUN of $RUNS ($MB MB, $DATA, nice $NICE)"
  # Even runs put the encrypted rounds before the baseline: what a round
  # leaves behind (a restored GB in the page cache, blocks being freed)
  # weighs on the next one, so each side takes each place in turn.
  if has enc && ((RUN % 2 == 0)); then
    enc_rounds
    has gzip || bakthat_round bakthat "$HG" -   # the unencrypted baseline, in the same run
  fi
  if has gzip; then
    measure "tar+pigz" backup "$MB" bash -c "tar -C '$DPARENT' -cf - '$DNAME' | pigz -6 -p 2 > '$W/out.tgz'"
    [ "$RUN" = 1 ] && size "tar+pigz" backup "$MB" "$W/out.tgz"
    mkdir -p "$W/restore"
    measure "tar+pigz" restore "$MB" tar -xzf "$W/out.tgz" -C "$W/restore"
    verify "tar+pigz" restore "$W/restore/$DNAME"; rm -f "$W/out.tgz"
    bakthat_round bakthat "$HG" -
  fi
  if has restic; then
    rm -rf "$RESTIC_REPOSITORY" "$W/restic-cache"
    restic --cache-dir "$W/restic-cache" init >"$O/logs/restic-init.log" 2>&1 || { echo "restic init failed" >&2; exit 1; }
    measure restic backup "$MB" restic --cache-dir "$W/restic-cache" backup "$DATA"
    [ "$RUN" = 1 ] && size restic backup "$MB" "$RESTIC_REPOSITORY"
    measure restic restore "$MB" restic --cache-dir "$W/restic-cache" restore latest --target "$W/restore"
    verify restic restore "$W/restore$DATA"; rm -rf "$RESTIC_REPOSITORY" "$W/restic-cache"
  fi
  if has zstd; then
    measure "tar+zstd" backup "$MB" bash -c "tar -C '$DPARENT' -cf - '$DNAME' | zstd -q -3 -T2 > '$W/out.tar.zst'"
    [ "$RUN" = 1 ] && size "tar+zstd" backup "$MB" "$W/out.tar.zst"
    rm -f "$W/out.tar.zst"
    bakthat_round "bakthat zstd" "$HZ" -
  fi
  if has enc && ((RUN % 2 == 1)); then
    has gzip || bakthat_round bakthat "$HG" -   # the unencrypted baseline, in the same run
    enc_rounds
  fi
done

if has rss; then
  D256=$(dataset 256) || exit 1
  warm "$D256"
  H=$(home rss)
  for RUN in $(seq "$RUNS"); do
    rm -rf "$H/store"/* "$H/.bakthat.sqlite"*
    bakcmd "$H" - backup "$D256" --prompt no
    measure bakthat backup 256 "${BAKCMD[@]}"
    if ! has gzip; then
      rm -rf "$H/store"/* "$H/.bakthat.sqlite"*
      bakcmd "$H" - backup "$DATA" --prompt no
      measure bakthat backup "$MB" "${BAKCMD[@]}"
    fi
  done
fi

if has python; then
  # The same backup through the Python package and through the CLI, one
  # after the other in each run (which goes first alternates), same HOME.
  [ -f "$BUILD/python/bakthat/__init__.py" ] || { echo "run.sh: no Python package in $BUILD/python" >&2; exit 1; }
  H=$(home python)
  PYBAK=(env -u BAKTHAT_PASSWORD -u BAKTHAT_DB -u XDG_DATA_HOME -u AWS_ENDPOINT_URL HOME="$H"
         PYTHONPATH="$BUILD/python" /usr/bin/python3 -c "import bakthat, sys; bakthat.backup(sys.argv[1], prompt='no')" "$DATA")
  for RUN in $(seq "$RUNS"); do
    echo "== python run $RUN of $RUNS"
    for side in $( ((RUN % 2)) && echo "cli python" || echo "python cli"); do
      rm -rf "$H/store"/* "$H/.bakthat.sqlite"*
      if [ "$side" = cli ]; then
        bakcmd "$H" - backup "$DATA" --prompt no
        measure "bakthat cli" backup "$MB" "${BAKCMD[@]}"
      else
        measure "bakthat python" backup "$MB" "${PYBAK[@]}"
      fi
    done
  done
fi

if has s3; then
  # The Swift S3 API of tests/servers (loopback): bakthat backup/restore next
  # to what a user would run instead against the same server: a streaming
  # tar | pigz -6 -p 2 | aws s3 cp - (and back: aws s3 cp - | pigz -d | tar -x),
  # and restic with an S3 repository. Each run starts restic from an empty
  # repository (init untimed), as the restic section does: a second backup
  # into the same one would only measure its deduplication.
  # restic reaches Swift through a TLS relay (socat, loopback): over plain
  # HTTP its S3 client signs uploads in aws-chunked streaming form, which
  # Swift's S3 API rejects ("aws-chunked is not supported"); over TLS it
  # sends them UNSIGNED-PAYLOAD. The relay's CPU is logged per run.
  need aws; need restic; need socat; need openssl
  "$ROOT/tests/servers/up.sh" >"$O/logs/servers.log" 2>&1 || { echo "run.sh: test servers did not start" >&2; exit 1; }
  # shellcheck source=/dev/null
  . "${BAKTHAT_SERVERS_ENV:-/tmp/bakthat-servers.env}"
  BUCKET=bakthat-bench-$$
  H=$(home s3 "  default_destination: s3
  s3_endpoint: $S3_ENDPOINT
  region_name: $S3_REGION
  s3_bucket: $BUCKET
  access_key: $S3_ACCESS_KEY
  secret_key: $S3_SECRET_KEY")
  chmod 600 "$H/.bakthat.yml"
  S3ENV=(env AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" AWS_DEFAULT_REGION="$S3_REGION"
         AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null)
  AWS=("${S3ENV[@]}" aws --endpoint-url "$S3_ENDPOINT")
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$W/tls.key" -out "$W/tls.crt" >"$O/logs/s3-tls.log" 2>&1 ||
    { echo "run.sh: openssl could not make the relay's certificate" >&2; exit 1; }
  TLSPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  socat "OPENSSL-LISTEN:$TLSPORT,bind=127.0.0.1,reuseaddr,fork,cert=$W/tls.crt,key=$W/tls.key,verify=0" \
    "TCP:${S3_ENDPOINT#http://}" 2>"$O/logs/s3-tls-relay.log" &
  RELAY=$!
  trap 'kill "$RELAY" 2>/dev/null; rm -rf "$W"' EXIT
  # relay_cpu: CPU seconds of the relay and its reaped connections so far
  relay_cpu() { awk '{printf "%.2f", ($14 + $15 + $16 + $17) / 100}' "/proc/$RELAY/stat"; }
  RESTIC=("${S3ENV[@]}" restic -r "s3:https://127.0.0.1:$TLSPORT/$BUCKET-restic" --cacert "$W/tls.crt" --cache-dir "$W/restic-cache")
  "${AWS[@]}" s3 mb "s3://$BUCKET" >"$O/logs/s3-mb.log" 2>&1 || { echo "run.sh: cannot create bucket $BUCKET" >&2; cat "$O/logs/s3-mb.log" >&2; exit 1; }
  # aws reads a stream in 8 MiB parts (10,000 at most: 80 GB), without
  # --expected-size, which it needs only beyond that.
  TARUP="tar -C '$DPARENT' -cf - '$DNAME' | pigz -6 -p 2 | aws --endpoint-url $S3_ENDPOINT s3 cp --quiet - 's3://$BUCKET/x.tgz'"
  TARDOWN="aws --endpoint-url $S3_ENDPOINT s3 cp --quiet 's3://$BUCKET/x.tgz' - | pigz -d | tar -x -C '$W/restore'"
  for RUN in $(seq "$RUNS"); do
    echo "== s3 run $RUN of $RUNS"
    rm -f "$H/.bakthat.sqlite"*; mkdir -p "$W/restore"
    bakcmd "$H" - backup "$DATA" --prompt no
    measure "bakthat s3" backup "$MB" "${BAKCMD[@]}"
    bakcmd "$H" - restore "$DNAME" -o "$W/restore" --prompt no
    measure "bakthat s3" restore "$MB" "${BAKCMD[@]}"
    verify "bakthat s3" restore "$W/restore/$DNAME"
    mkdir -p "$W/restore"
    measure "tar+pigz+aws" backup "$MB" "${S3ENV[@]}" bash -o pipefail -c "$TARUP"
    measure "tar+pigz+aws" restore "$MB" "${S3ENV[@]}" bash -o pipefail -c "$TARDOWN"
    verify "tar+pigz+aws" restore "$W/restore/$DNAME"
    "${AWS[@]}" s3 rb --force "s3://$BUCKET-restic" >"$O/logs/s3-restic-rb.log" 2>&1
    rm -rf "$W/restic-cache"
    "${RESTIC[@]}" init >"$O/logs/s3-restic-init.log" 2>&1 || { echo "run.sh: restic init on S3 failed" >&2; cat "$O/logs/s3-restic-init.log" >&2; exit 1; }
    c0=$(relay_cpu)
    measure "restic s3" backup "$MB" "${RESTIC[@]}" backup "$DATA"
    c1=$(relay_cpu)
    mkdir -p "$W/restore"
    measure "restic s3" restore "$MB" "${RESTIC[@]}" restore latest --target "$W/restore"
    c2=$(relay_cpu)
    printf '    TLS relay CPU: backup %ss, restore %ss\n' "$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b - a}')" "$(awk -v a="$c1" -v b="$c2" 'BEGIN{print b - a}')"
    verify "restic s3" restore "$W/restore$DATA"; rm -rf "$W/restore"   # the empty parents of $DATA
  done
  "${AWS[@]}" s3 rb --force "s3://$BUCKET" >"$O/logs/s3-rb.log" 2>&1
  "${AWS[@]}" s3 rb --force "s3://$BUCKET-restic" >"$O/logs/s3-restic-rb.log" 2>&1
  kill "$RELAY"; wait "$RELAY" 2>/dev/null; trap 'rm -rf "$W"' EXIT
fi

# Deleted before the summary, so that a next run does not start while this
# one's trees are still being deleted (minutes on this disk, and noise).
echo "== deleting the scratch trees in $W"
rm -rf "$W"; trap - EXIT
python3 "$HERE/summarize.py" "$O" "$MB"
