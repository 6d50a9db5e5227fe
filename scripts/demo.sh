#!/usr/bin/env bash
# The quick start's main job: back up a sample directory to the embedded
# local store, show it, restore it into a new directory and compare.
# Runs in a scratch HOME so it never touches your own ~/.bakthat.yml.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
demo=$(mktemp -d /tmp/bakthat-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
export HOME="$demo/home" XDG_DATA_HOME="$demo/home/.local/share"
mkdir -p "$HOME" "$demo/sample/docs/empty" "$demo/restored"
cd "$demo"
printf 'hello from bakthat\n' > sample/hello.txt
seq 1 20000 > sample/docs/numbers.txt
head -c 300000 /dev/urandom > sample/docs/random.bin
ln -s hello.txt sample/link-to-hello
chmod 0600 sample/docs/random.bin

echo "== bakthat backup sample"
"$BIN" backup sample --prompt no -t "demo sample"
echo "== bakthat show"
"$BIN" show
echo "== bakthat ls (the local store: $XDG_DATA_HOME/bakthat/store)"
"$BIN" ls
echo "== bakthat restore sample -o restored"
"$BIN" restore sample -o restored
echo "== diff -r sample restored/sample"
diff -r --no-dereference sample restored/sample
echo "== the stored object is a plain .tgz:"
tar -tzf "$XDG_DATA_HOME"/bakthat/store/sample.*.tgz | sed -n 1,5p
echo "demo: backup and restore are identical"
