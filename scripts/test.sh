#!/usr/bin/env bash
# Sets up (idempotently: packages, llama.cpp, default models, build) and runs every test.
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
# The standard benchmarks (cached after the first run), read back by benchmark_data_test.
"$ROOT/scripts/fetch_benchmarks.sh" >/dev/null
printf '\n\033[1m==> tests\033[0m\n'
# Test binaries load several models in one process: idle OpenMP threads must sleep, not
# spin (the specfuse binary sets this itself; docs/BENCHMARKS.md).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
cd "$ROOT/build"
ctest --output-on-failure --timeout 900 "$@"
