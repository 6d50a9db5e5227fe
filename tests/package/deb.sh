#!/usr/bin/env bash
# The Debian package as a user gets it, one step per ctest test:
#   deb.sh BUILD_DIR VERSION STEP
# unpack: builds the .deb (cmake --build --target deb, i.e. cpack) and
#   unpacks it with dpkg -x into BUILD_DIR/package-test/root;
# binary, man, bash_completion, zsh_completion, library, python: use what
#   was unpacked there.
# VERSION is project(VERSION): every place the package shows a version must
# say it. Exit 77: skipped, the reason on stdout.
set -euo pipefail
build=$1 version=$2 step=$3
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$build/package-test
root=$scratch/root
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
same() { [[ $2 == "$3" ]] || fail "$1: '$2', expected '$3'"; }

case $step in
unpack)
  cmake --build "$build" --target deb
  deb=$build/bakthat_${version}_$(dpkg --print-architecture).deb
  [[ -f $deb ]] || fail "cpack made no $deb"
  rm -rf "$scratch"
  mkdir -p "$root"
  dpkg -x "$deb" "$root"
  same "the package's Version" "$(dpkg-deb -f "$deb" Version)" "$version"
  same "the package's Package" "$(dpkg-deb -f "$deb" Package)" bakthat
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "Depends: $depends"
  for lib in libarchive libcurl libssl libsqlite3 python3; do
    [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib"
  done
  # A build with `bakthat mount` links libfuse3 and recommends fusermount3.
  if [[ $depends == *libfuse3* ]]; then
    [[ $(dpkg-deb -f "$deb" Recommends) == *fuse3* ]] || fail "Recommends lacks fuse3 (bakthat mount)"
  fi
  ;;
binary)
  bin=$root/usr/bin/bakthat
  same "bakthat --version" "$("$bin" --version)" "bakthat $version"
  [[ -x $root/usr/bin/bakthat-syncserver ]] || fail "no usr/bin/bakthat-syncserver"
  # A backup and a restore on the local store, HOME in a scratch directory.
  "$source_dir/scripts/demo.sh" "$bin"
  ;;
man)
  page=$root/usr/share/man/man1/bakthat.1.gz
  [[ -f $page ]] || fail "no $page"
  text=$(MANWIDTH=100 MANPAGER=cat man --warnings -l "$page" 2>"$scratch/man.err")
  [[ ! -s $scratch/man.err ]] || fail "man -l warns: $(cat "$scratch/man.err")"
  echo "$text" | grep -q "bakthat $version" || fail "the page does not say version $version"
  # Every command the installed binary lists has its section.
  commands=$("$root/usr/bin/bakthat" --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z_]*\).*/\1/p')
  [[ -n $commands ]] || fail "bakthat --help lists no commands"
  for c in $commands; do
    echo "$text" | grep -q "^   bakthat $c \[OPTIONS\]" || fail "the page has no section for '$c'"
  done
  echo "$text" | grep -q -- "--one-file-system" || fail "the page lacks backup's --one-file-system"
  ;;
bash_completion)
  file=$root/usr/share/bash-completion/completions/bakthat
  [[ -f $file ]] || fail "no $file"
  # Loads, and completes a command and an option of it.
  out=$(bash -c 'source "$1"
    COMP_WORDS=(bakthat rest); COMP_CWORD=1; _bakthat; echo "${COMPREPLY[*]}"
    COMP_WORDS=(bakthat restore --fo); COMP_CWORD=2; _bakthat; echo "${COMPREPLY[*]}"
    COMP_WORDS=(bakthat backup --prompt ""); COMP_CWORD=3; _bakthat; echo "${COMPREPLY[*]}"' _ "$file")
  same "bash completion of 'rest', 'restore --fo', 'backup --prompt '" "$out" $'restore\n--force\nyes no'
  ;;
zsh_completion)
  file=$root/usr/share/zsh/vendor-completions/_bakthat
  [[ -f $file ]] || fail "no $file"
  command -v zsh >/dev/null || skip "zsh is not installed (scripts/install-deps.sh --test installs it)"
  zsh -n "$file" || fail "zsh -n $file"
  # compinit takes the #compdef line: the function completes bakthat.
  got=$(HOME=$scratch zsh -fc 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2"
    print -r -- $_comps[bakthat]' _ "$(dirname "$file")" "$scratch/zcompdump")
  same "zsh's completion function for bakthat" "$got" _bakthat
  ;;
library)
  for f in usr/include/bakthat/bakthat.hpp usr/lib/libbakthat.a usr/lib/cmake/bakthat/bakthatConfig.cmake; do
    [[ -f $root/$f ]] || fail "no $f"
  done
  # Stripped of debug information (CPACK_STRIP_FILES), its symbols kept for linking.
  # Whole outputs taken first: under pipefail, grep -q closing the pipe early
  # would fail the listing command with SIGPIPE.
  sections=$(objdump -h "$root/usr/lib/libbakthat.a")
  ! grep -q '\.debug_' <<<"$sections" || fail "libbakthat.a carries debug information"
  symbols=$(nm "$root/usr/lib/libbakthat.a" 2>/dev/null)
  grep -q ' T .*bakthat.*backup' <<<"$symbols" || fail "libbakthat.a has no symbols"
  same "bakthat.pc's version" \
       "$(PKG_CONFIG_PATH=$root/usr/lib/pkgconfig pkg-config --modversion bakthat)" "$version"
  grep -q "set(PACKAGE_VERSION \"$version\")" "$root/usr/lib/cmake/bakthat/bakthatConfigVersion.cmake" ||
    fail "bakthatConfigVersion.cmake does not say $version"
  ;;
python)
  site=$root/usr/lib/python3/dist-packages
  [[ -d $site/bakthat ]] || skip "the package holds no Python package (this build does not make python/)"
  PYTHONPATH=$site /usr/bin/python3 -c 'import bakthat' || fail "import bakthat from the package"
  ;;
*) fail "unknown step $step" ;;
esac
echo "ok: $step"
