#!/usr/bin/env bash
# Builds the library and its tests with AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included) in ./build-asan and runs the core, backend (with the decode
# batcher) and engine suites there.
# Any sanitizer report fails the run. Expects scripts/setup.sh to have run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=${SPECFUSE_JOBS:-$(nproc)}
printf '\n\033[1m==> sanitizer build (ASan + UBSan) in build-asan\033[0m\n'
cmake -S "$ROOT" -B "$ROOT/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSPECFUSE_SANITIZE=ON >/dev/null
cmake --build "$ROOT/build-asan" -j "$JOBS" --target core_test llama_backend_test decode_batcher_test engine_test
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
printf '\n\033[1m==> sanitizer tests\033[0m\n'
"$ROOT/build-asan/bin/core_test" --gtest_brief=1
"$ROOT/build-asan/bin/llama_backend_test" --gtest_brief=1
"$ROOT/build-asan/bin/decode_batcher_test" --gtest_brief=1
"$ROOT/build-asan/bin/engine_test" --gtest_brief=1
