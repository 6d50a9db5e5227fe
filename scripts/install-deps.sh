#!/usr/bin/env bash
# Installs the Debian 12 packages bakthat needs to build, test and benchmark,
# only those missing. Uses sudo when not root.
set -euo pipefail
PKGS=(build-essential cmake pkg-config git curl ca-certificates
      libarchive-dev libdeflate-dev libisal-dev zlib1g-dev libzstd-dev libssl-dev
      libcurl4-openssl-dev libsqlite3-dev sqlite3 libyaml-cpp-dev nlohmann-json3-dev
      libgtest-dev googletest libcli11-dev libpugixml-dev python3 tar gzip age pigz zstd help2man
      python3-dev pybind11-dev python3-pybind11 libfuse3-dev)
if [[ "${1:-}" == "--test" || "${1:-}" == "--bench" ]]; then
  # python3-peewee, python3-sh, python3-yaml and MariaDB: the Python
  # package's tests (the developer guide's examples); man-db and zsh: the
  # package tests read the man page and load the completions.
  # fuse3 (fusermount3): tests/e2e/test_mount.py.
  PKGS+=(python3-pexpect openssh-client python3-peewee python3-sh python3-yaml mariadb-server mariadb-client
         man-db zsh fuse3)
fi
if [[ "${1:-}" == "--test" ]]; then
  # The sanitized trees and the fuzzers (scripts/test-sanitized.sh).
  PKGS+=(clang libclang-rt-14-dev llvm)
fi
if [[ "${1:-}" == "--bench" ]]; then
  PKGS+=(restic time socat)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
SUDO=""
[[ $(id -u) == 0 ]] || SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/bakthat-apt.log 2>&1; then
  $SUDO apt-get update -q >>/tmp/bakthat-apt.log 2>&1
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/bakthat-apt.log 2>&1 ||
    { echo "install-deps: apt-get failed, see /tmp/bakthat-apt.log" >&2; tail -5 /tmp/bakthat-apt.log >&2; exit 1; }
fi
