#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan in ./build-fuzz and runs
# each for a bounded time, starting from its seeds in fuzz/corpus/<target>/. New inputs go
# to build-fuzz/corpus/<target>/ (the repository's corpus is only read); a crash stops the
# run and leaves its reproducer in build-fuzz/artifacts/<target>/: fix it, then copy the
# reproducer into fuzz/corpus/<target>/ so that the CTest replay keeps it as a regression.
# The gguf target runs in fork mode: a llama.cpp abort on a malformed file that the
# loader's metadata check does not catch yet is counted, not fatal; any other crash
# fails the run.
# Usage: scripts/fuzz.sh [TARGET...]   (default: all)
# Environment: FUZZ_SECONDS (per target, default 60), SPECFUSE_JOBS (default nproc),
# CC/CXX (default clang-14/clang++-14). Expects scripts/setup.sh to have run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=${SPECFUSE_JOBS:-$(nproc)}
SECONDS_EACH=${FUZZ_SECONDS:-60}
BUILD=$ROOT/build-fuzz
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(config request segment_cut dataset gguf echo_tail)

printf '\n\033[1m==> fuzz build (clang, libFuzzer + ASan + UBSan) in build-fuzz\033[0m\n'
CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPECFUSE_FUZZ=ON -DSPECFUSE_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]/#/fuzz_}"

# Leaks are checked per input by libFuzzer; llama.cpp's one-time backend state is not a leak.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
summary=()
status=0
for t in "${TARGETS[@]}"; do
  printf '\n\033[1m==> fuzz %s (%ss)\033[0m\n' "$t" "$SECONDS_EACH"
  rm -rf "$BUILD/artifacts/$t"
  mkdir -p "$BUILD/corpus/$t" "$BUILD/artifacts/$t"
  log=$BUILD/fuzz-$t.log
  # -max_len: the largest seed decides libFuzzer's default; the GGUF seed is 16 KB.
  opts=(-max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
        -artifact_prefix="$BUILD/artifacts/$t/")
  if [ "$t" = gguf ]; then
    # llama.cpp aborts (GGML_ASSERT) on some malformed files (docs/RELIABILITY.md): keep
    # fuzzing past them in fork mode and sort the crashes afterwards.
    opts+=(-max_len=32768 -fork=1 -ignore_crashes=1)
  else
    opts+=(-max_len=4096)
  fi
  rc=0
  "$BUILD/bin/fuzz_$t" "${opts[@]}" "$BUILD/corpus/$t" "$ROOT/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
  [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  # Each crash, replayed alone: an abort inside llama.cpp is a known finding; anything
  # else (a sanitizer report, a broken invariant, a crash in our code) fails the run.
  known=0 new=0 aborts=""
  for a in "$BUILD/artifacts/$t"/crash-* "$BUILD/artifacts/$t"/oom-* "$BUILD/artifacts/$t"/timeout-*; do
    [ -f "$a" ] || continue
    out=$(ASAN_OPTIONS=detect_leaks=0 timeout 60 "$BUILD/bin/fuzz_$t" "$a" 2>&1 || true)
    if [ "$t" = gguf ] && grep -q 'GGML_ASSERT' <<<"$out" && grep -q 'in ggml_abort' <<<"$out" &&
        ! grep -q 'ERROR: AddressSanitizer\|runtime error\|invariant broken' <<<"$out"; then
      known=$((known + 1))
      aborts+="$(grep -o '[a-z_-]*\.cpp:[0-9]*: GGML_ASSERT.*' <<<"$out" | head -1)"$'\n'
    else
      new=$((new + 1))
      grep -m1 'ERROR: \|runtime error\|invariant broken\|deadly signal\|GGML_ASSERT' <<<"$out" >&2 || true
      printf '    CRASH: %s\n' "$a" >&2
    fi
  done
  [ -z "$aborts" ] || sort <<<"${aborts%$'\n'}" | uniq -c | sed 's/^ */    llama.cpp abort x/'
  if [ $new -gt 0 ] || { [ $rc -ne 0 ] && [ "$t" != gguf ]; }; then
    tail -60 "$log" >&2
    printf 'fuzz: %s crashed; reproducers in %s (log: %s)\n' "$t" "$BUILD/artifacts/$t" "$log" >&2
    status=1
    summary+=("$t: CRASH")
    continue
  fi
  printf '    %s executions in %ss, coverage %s edges, corpus %s files, %s\n' \
    "${runs:-?}" "$SECONDS_EACH" "${cov:-?}" "$(ls "$BUILD/corpus/$t" | wc -l)" \
    "$([ $known -gt 0 ] && echo "$known known llama.cpp aborts" || echo "no crash")"
  summary+=("$t: ${runs:-?} runs")
done
joined=$(printf '%s; ' "${summary[@]}")
joined=${joined%; }
if [ $status -ne 0 ]; then
  printf '\nfuzz: FAILED (%s)\n' "$joined" >&2
  exit 1
fi
printf '\nfuzz: no crash in our code (%s)\n' "$joined"
