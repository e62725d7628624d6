#!/usr/bin/env bash
# scripts/offline_bundle.sh end to end on this machine: a bundle of a (stand-in) model and
# the llama.cpp source is packed from one cache in 1 MiB parts, the parts travel one at a
# time in shuffled order to a second cache, one arrives corrupted and is refused, is sent
# again, and the unpacked files equal the originals.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tool=$root/scripts/offline_bundle.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The source cache: the model file of the manifest's smollm2-135m (3.5 MB of random bytes
# standing in for it) and the llama.cpp source distribution's name (1.2 MB).
. "$root/scripts/llama.env"
model=$(awk -F'\t' '$1 == "model" && $2 == "smollm2-135m" { print $3 }' "$root/models/manifest.tsv")
mkdir -p "$work/a/models" "$work/a/downloads"
head -c 3500000 /dev/urandom >"$work/a/models/$model"
head -c 1200000 /dev/urandom >"$work/a/downloads/llama_cpp_python-$LLAMA_PY_VERSION.tar.gz"
SPECFUSE_CACHE=$work/a OFFLINE_STAGE=$work/stage-a PART_MIB=1 "$tool" pack t llama model:smollm2-135m 2>/dev/null
parts=$(wc -l <"$work/stage-a/t.index")
[ "$parts" = 5 ] || fail "expected 5 parts of 1 MiB for 4.7 MB, got $parts"

# Transfers, one part each, in shuffled order; the third arrives with one byte changed.
mkdir -p "$work/stage-b"
n=0
for part in $(cd "$work/stage-a" && ls t.part-* | shuf); do
  n=$((n + 1))
  cp "$work/stage-a/t.index" "$work/stage-b/"
  cp "$work/stage-a/$part" "$work/stage-b/"
  if [ $n = 3 ]; then
    printf 'X' | dd of="$work/stage-b/$part" bs=1 seek=100 conv=notrunc 2>/dev/null
    out=$(SPECFUSE_CACHE=$work/b OFFLINE_STAGE=$work/stage-b "$tool" receive t 2>&1) || true
    grep -q "$part: sha256 differs" <<<"$out" || fail "the corrupted part was not named: $out"
    [ ! -f "$work/stage-b/$part" ] || fail "the corrupted part was left behind"
    cp "$work/stage-a/$part" "$work/stage-b/"
  fi
  out=$(SPECFUSE_CACHE=$work/b OFFLINE_STAGE=$work/stage-b "$tool" receive t 2>&1) || true
  grep -q "^t: $n/$parts parts in" <<<"$out" || fail "after $n transfers: $out"
done
SPECFUSE_CACHE=$work/b "$tool" status t | grep -qx "t: $parts/$parts parts in" || fail "status"

out=$(SPECFUSE_CACHE=$work/b OFFLINE_STAGE=$work/stage-b "$tool" unpack t)
grep -q "t: unpacked into $work/b (2 files, sha256 checked)" <<<"$out" || fail "unpack: $out"
cmp "$work/a/models/$model" "$work/b/models/$model" || fail "the model differs"
cmp "$work/a/downloads/llama_cpp_python-$LLAMA_PY_VERSION.tar.gz" \
  "$work/b/downloads/llama_cpp_python-$LLAMA_PY_VERSION.tar.gz" || fail "the source differs"
echo "offline_bundle_test: ok ($parts parts, one resent)"
