#!/usr/bin/env bash
# Sets up everything specfuse needs, idempotently:
#   1. the Debian packages the build uses (skipped when all are installed),
#   2. the llama.cpp source, taken from the llama-cpp-python source distribution on PyPI,
#      pinned by version and sha256, built once per variant (cpu/cuda) into the cache,
#   3. the default models (models/manifest.tsv), pinned by sha256, into the cache,
#   4. the specfuse build itself (CMake + Ninja) in ./build (or ./build-cuda).
# A second run downloads and rebuilds nothing that is already there.
#
# Usage: scripts/setup.sh [--cuda] [--no-apt] [--no-models] [--no-build] [--build-type TYPE]
#                         [--model NAME]...   (also fetch an on-demand model of the manifest)
# Environment: SPECFUSE_CACHE (default ~/.cache/specfuse), SPECFUSE_JOBS (default nproc),
# SPECFUSE_CUDA_ARCHS (default 90), SPECFUSE_CMAKE_ARGS (extra -D options for specfuse).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SPECFUSE_CACHE:-$HOME/.cache/specfuse}
JOBS=${SPECFUSE_JOBS:-$(nproc)}

# shellcheck source=scripts/llama.env
. "$ROOT/scripts/llama.env"
LLAMA_PY_URL=https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-0.3.36.tar.gz
LLAMA_PY_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e

APT_PACKAGES=(build-essential cmake ninja-build curl unzip ca-certificates pkg-config
  nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libtomlplusplus-dev libspdlog-dev
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev python3 python3-venv chromium chromium-driver
  clang-14 libclang-rt-14-dev)

VARIANT=cpu
DO_APT=1
DO_MODELS=1
DO_BUILD=1
BUILD_TYPE=Release
EXTRA_MODELS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) VARIANT=cuda ;;
    --no-apt) DO_APT=0 ;;
    --no-models) DO_MODELS=0 ;;
    --no-build) DO_BUILD=0 ;;
    --build-type) BUILD_TYPE=$2; shift ;;
    --model) EXTRA_MODELS+=("$2"); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Where the llama.cpp build of this variant is installed (CMakeLists.txt computes the same).
llama_prefix() { echo "$CACHE/llama.cpp/$LLAMA_PY_VERSION/$VARIANT-$LLAMA_BUILD_REV"; }

# shellcheck source=scripts/fetch.sh
. "$ROOT/scripts/fetch.sh"

install_apt() {
  step "Debian packages"
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "all ${#APT_PACKAGES[@]} packages present"
    return 0
  fi
  note "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

build_llama() {
  step "llama.cpp (from llama-cpp-python $LLAMA_PY_VERSION, $VARIANT)"
  local src=$CACHE/llama.cpp/$LLAMA_PY_VERSION/src
  local prefix
  prefix=$(llama_prefix)
  local stamp=$prefix/.specfuse-built
  local tarball=$CACHE/downloads/llama_cpp_python-$LLAMA_PY_VERSION.tar.gz
  # A source tree already unpacked in the cache is used as it is (an offline machine can
  # be given one); otherwise the pinned source distribution is fetched and unpacked. The
  # source stays: specfuse compiles llama.cpp's JSON-schema-to-grammar converter from it.
  if [ ! -f "$src/common/json-schema-to-grammar.cpp" ]; then
    fetch "$LLAMA_PY_URL" "$LLAMA_PY_SHA256" "$tarball"
    note "unpacking vendor/llama.cpp"
    rm -rf "$src.tmp" && mkdir -p "$src.tmp"
    tar -xzf "$tarball" -C "$src.tmp" --strip-components=3 "llama_cpp_python-$LLAMA_PY_VERSION/vendor/llama.cpp"
    rm -rf "$src" && mv "$src.tmp" "$src"
  fi
  if [ -f "$stamp" ]; then
    note "cached: $prefix"
    return 0
  fi
  # Portable x86-64-v3 flags rather than -march=native: some machines advertise AMX
  # tiles that a sandboxed process may not use (SIGILL in ggml's AMX kernels).
  local extra=(-DGGML_NATIVE=OFF)
  if [ "$(uname -m)" = x86_64 ]; then
    extra+=(-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
  fi
  if [ "$VARIANT" = cuda ]; then
    extra+=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=${SPECFUSE_CUDA_ARCHS:-90}")
  fi
  note "building with $JOBS jobs (a few minutes, once)"
  cmake -S "$src" -B "$prefix/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DCMAKE_INSTALL_RPATH='$ORIGIN' "${extra[@]}" >"$prefix.configure.log" 2>&1 \
    || die "llama.cpp configure failed; see $prefix.configure.log"
  cmake --build "$prefix/build" -j "$JOBS" 2>&1 | tee "$prefix.build.log" \
    | awk '/^\[/ { if (++n % 25 == 0) print "    " $1 }' \
    || { tail -40 "$prefix.build.log" >&2; die "llama.cpp build failed; see $prefix.build.log"; }
  cmake --install "$prefix/build" >/dev/null
  touch "$stamp"
}

fetch_models() {
  step "default models (into $CACHE/models)"
  local manifest=$ROOT/models/manifest.tsv
  mkdir -p "$CACHE/models"
  local names ondemand
  names=$(awk -F'\t' '$1 == "model" { print $2 }' "$manifest")
  ondemand=$(awk -F'\t' '$1 == "ondemand" { print $2 }' "$manifest")
  for extra in "${EXTRA_MODELS[@]}"; do
    grep -qx "$extra" <<<"$names" || die "--model $extra: no such model in $manifest (known: $(echo $names))"
  done
  for name in $names; do
    if grep -qx "$name" <<<"$ondemand" && ! printf '%s\n' "${EXTRA_MODELS[@]}" | grep -qx "$name"; then
      continue
    fi
    local file sum size
    file=$(awk -F'\t' -v n="$name" '$1 == "model" && $2 == n { print $3 }' "$manifest")
    sum=$(awk -F'\t' -v n="$name" '$1 == "model" && $2 == n { print $4 }' "$manifest")
    size=$(awk -F'\t' -v n="$name" '$1 == "model" && $2 == n { print $5 }' "$manifest")
    local dest=$CACHE/models/$file
    # The size test keeps a second run from hashing every model; a wrong size means redo.
    if [ -f "$dest" ] && [ "$(stat -c %s "$dest")" = "$size" ]; then
      note "cached: $name ($file)"
      continue
    fi
    note "$name: assembling $file"
    local work=$CACHE/downloads/$name
    mkdir -p "$work"
    : >"$dest.tmp"
    while IFS=$'\t' read -r kind pname url psum inner; do
      [ "$kind" = part ] && [ "$pname" = "$name" ] || continue
      local whl=$work/$(basename "$url")
      fetch "$url" "$psum" "$whl"
      unzip -p "$whl" "$inner" >>"$dest.tmp" || die "$whl does not contain $inner"
    done <"$manifest"
    local got
    got=$(sha256_of "$dest.tmp")
    [ "$got" = "$sum" ] || { rm -f "$dest.tmp"; die "$name: assembled GGUF has sha256 $got, expected $sum"; }
    mv "$dest.tmp" "$dest"
    rm -rf "$work"
  done
}

build_specfuse() {
  local dir=$ROOT/build
  [ "$VARIANT" = cuda ] && dir=$ROOT/build-cuda
  step "specfuse ($BUILD_TYPE, $VARIANT) in $dir"
  local cuda=OFF
  [ "$VARIANT" = cuda ] && cuda=ON
  # shellcheck disable=SC2086 # SPECFUSE_CMAKE_ARGS is a list of extra -D options
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DSPECFUSE_CUDA=$cuda \
    -DSPECFUSE_LLAMA_PREFIX="$(llama_prefix)" ${SPECFUSE_CMAKE_ARGS:-} >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

[ $DO_APT = 1 ] && install_apt
build_llama
[ $DO_MODELS = 1 ] && fetch_models
[ $DO_BUILD = 1 ] && build_specfuse
step "done"
