#!/usr/bin/env bash
# Sets up (idempotently: packages, llama.cpp, default models, build) and runs every test.
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
printf '\n\033[1m==> tests\033[0m\n'
# Test binaries load several models in one process: idle OpenMP threads must sleep, not
# spin (the specfuse binary sets this itself; docs/BENCHMARKS.md).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
cd "$ROOT/build"
ctest --output-on-failure --timeout 900 "$@"
