#!/usr/bin/env bash
# Brings what a specfuse build and evaluation need onto a machine without network (a GPU
# machine reached only through a file-copying tool with a per-transfer size limit), in
# checksummed parts that can arrive in any order, one or several per transfer, and be
# resent after a broken transfer.
#
# On the machine with network (after scripts/setup.sh and, for benchmarks,
# scripts/fetch_benchmarks.sh):
#   scripts/offline_bundle.sh pack NAME ITEM...   make bundle NAME in .offline/ (git-ignored)
#     ITEM: llama          the pinned llama.cpp source distribution
#           debs           the Debian packages the CLI builds against (headers and libraries)
#           model:NAME     a model of models/manifest.tsv (already fetched)
#           benchmarks     the converted standard benchmarks
#   It writes .offline/NAME.index (parts and their sha256; send it with every part) and
#   .offline/NAME.part-NNN (PART_MIB MiB each, default 40, so that one part and the
#   repository's files, about 16 MB, fit a 64 MiB transfer).
# On the offline machine (the repository copied there, the parts in its .offline/):
#   scripts/offline_bundle.sh receive NAME   checks each part present in .offline/ against the
#                                            index and moves it into $CACHE/offline/NAME/;
#                                            prints how many parts are in and which are missing
#   scripts/offline_bundle.sh unpack NAME    once all are in: extracts the files into the cache
#                                            ($SPECFUSE_CACHE, default ~/.cache/specfuse) and
#                                            checks every file's sha256; Debian packages are
#                                            unpacked into $CACHE/sysroot
#   scripts/offline_bundle.sh env            prints the exports that build and run against
#                                            $CACHE/sysroot (eval "$(... env)")
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SPECFUSE_CACHE:-$HOME/.cache/specfuse}
STAGE=${OFFLINE_STAGE:-$ROOT/.offline}
PART_MIB=${PART_MIB:-40}
DEBS=(nlohmann-json3-dev libcpp-httplib-dev libcpp-httplib0.11 libbrotli1 libcli11-dev
  libtomlplusplus-dev libtomlplusplus3)

die() { printf 'offline_bundle: error: %s\n' "$*" >&2; exit 1; }
note() { printf '    %s\n' "$*" >&2; }

# The cache-relative paths of one ITEM.
item_paths() {
  local item=$1
  case "$item" in
    llama)
      # shellcheck source=scripts/llama.env
      . "$ROOT/scripts/llama.env"
      echo "downloads/llama_cpp_python-$LLAMA_PY_VERSION.tar.gz" ;;
    debs)
      mkdir -p "$CACHE/debs"
      (cd "$CACHE/debs" && apt-get download "${DEBS[@]}" >/dev/null 2>&1) || die "apt-get download failed"
      (cd "$CACHE" && ls debs/*.deb) ;;
    model:*)
      local name=${item#model:} file
      file=$(awk -F'\t' -v n="$name" '$1 == "model" && $2 == n { print $3 }' "$ROOT/models/manifest.tsv")
      [ -n "$file" ] || die "no model '$name' in models/manifest.tsv"
      echo "models/$file" ;;
    benchmarks)
      local dir
      dir=$("$ROOT/scripts/fetch_benchmarks.sh")
      (cd "$CACHE" && find "${dir#"$CACHE"/}" -type f | sort) ;;
    *) die "unknown item '$item' (llama, debs, model:NAME, benchmarks)" ;;
  esac
}

pack() {
  local name=$1; shift
  [ $# -gt 0 ] || die "pack NAME ITEM...: name at least one item"
  mkdir -p "$STAGE"
  rm -f "$STAGE/$name".part-* "$STAGE/$name.index"
  local list=$STAGE/$name.files
  : >"$list"
  for item in "$@"; do item_paths "$item" >>"$list"; done
  while read -r f; do [ -f "$CACHE/$f" ] || die "$CACHE/$f is missing (run setup first)"; done <"$list"
  note "checksumming $(wc -l <"$list") files"
  (cd "$CACHE" && xargs -a "$list" -d '\n' sha256sum) >"$STAGE/$name.sha256"
  cp "$STAGE/$name.sha256" "$CACHE/.bundle-$name.sha256"
  echo ".bundle-$name.sha256" >>"$list"
  note "writing parts of $PART_MIB MiB"
  tar -C "$CACHE" -cf - -T "$list" | split -d -a 3 -b "${PART_MIB}M" - "$STAGE/$name.part-"
  (cd "$STAGE" && sha256sum "$name".part-*) >"$STAGE/$name.index"
  rm -f "$list" "$STAGE/$name.sha256" "$CACHE/.bundle-$name.sha256"
  note "$(wc -l <"$STAGE/$name.index") parts in $STAGE (index: $STAGE/$name.index)"
}

receive() {
  local name=$1 index=$STAGE/$1.index
  [ -f "$index" ] || die "$index is missing: send the index with the parts"
  local into=$CACHE/offline/$name
  mkdir -p "$into"
  cp "$index" "$into/index"
  local part sum
  while read -r sum part; do
    [ -f "$STAGE/$part" ] || continue
    if [ "$(sha256sum "$STAGE/$part" | cut -d' ' -f1)" = "$sum" ]; then
      mv "$STAGE/$part" "$into/$part"
    else
      note "$part: sha256 differs from the index (a broken transfer): send it again"
      rm -f "$STAGE/$part"
    fi
  done <"$index"
  status "$name"
}

# Prints "NAME: K/N parts in", and the missing ones; returns 1 while some are missing.
status() {
  local name=$1 into=$CACHE/offline/$1
  local total=0 have=0 missing=()
  while read -r _ part; do
    total=$((total + 1))
    if [ -f "$into/$part" ]; then have=$((have + 1)); else missing+=("$part"); fi
  done <"$into/index"
  echo "$name: $have/$total parts in${missing[*]:+; missing: ${missing[*]}}"
  [ "$have" = "$total" ]
}

unpack() {
  local name=$1 into=$CACHE/offline/$1
  [ -f "$into/index" ] || die "nothing received for bundle '$name'"
  status "$name" >/dev/null || die "$(status "$name")"
  (cd "$into" && sha256sum --quiet -c index) || die "a received part changed on disk"
  cat "$into/$name".part-* | tar -C "$CACHE" -xf -
  (cd "$CACHE" && sha256sum --quiet -c ".bundle-$name.sha256") || die "an unpacked file has the wrong sha256"
  local deb
  for deb in $(cd "$CACHE" && awk '{ print $2 }' ".bundle-$name.sha256" | grep '^debs/.*\.deb$' || true); do
    mkdir -p "$CACHE/sysroot"
    dpkg-deb -x "$CACHE/$deb" "$CACHE/sysroot" 2>/dev/null || dpkg -x "$CACHE/$deb" "$CACHE/sysroot"
  done
  rm -rf "$into"
  echo "$name: unpacked into $CACHE ($(wc -l <"$CACHE/.bundle-$name.sha256") files, sha256 checked)"
}

env_exports() {
  local sys=$CACHE/sysroot/usr
  echo "export CMAKE_PREFIX_PATH=$sys\${CMAKE_PREFIX_PATH:+:\$CMAKE_PREFIX_PATH}"
  echo "export CPATH=$sys/include\${CPATH:+:\$CPATH}"
  echo "export LIBRARY_PATH=$sys/lib/x86_64-linux-gnu\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
  echo "export LD_LIBRARY_PATH=$sys/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
}

cmd=${1:-}
shift || true
case "$cmd" in
  pack) pack "$@" ;;
  receive) [ $# = 1 ] || die "receive NAME"; receive "$1" ;;
  unpack) [ $# = 1 ] || die "unpack NAME"; unpack "$1" ;;
  status) [ $# = 1 ] || die "status NAME"; status "$1" ;;
  env) env_exports ;;
  *) sed -n '2,27p' "$0"; [ -z "$cmd" ] || exit 2 ;;
esac
