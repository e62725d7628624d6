#!/usr/bin/env bash
# The GPU benchmarks behind docs/BENCHMARKS.md, on a machine with an NVIDIA GPU and CUDA:
# builds the CUDA variant (scripts/setup.sh --cuda, into build-cuda/), then, all members on
# the one GPU, writes to OUTDIR (default bench-gpu/):
#   gpu.txt          the card, driver and commit
#   bench.txt        specfuse bench: each member alone, the ensemble with exit off and on
#   micro.txt        the Google Benchmark micro-benchmarks (when built)
#   concurrency.*    scripts/bench_concurrency.py: server throughput at 1, 4, 8, 16 requests
# Usage: scripts/bench_gpu.sh [OUTDIR]. Arguments for setup.sh go in SETUP_ARGS (e.g.
# --no-apt on a machine without network whose cache already holds the sources and models).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-bench-gpu}"
mkdir -p "$out"
# shellcheck disable=SC2086
scripts/setup.sh --cuda ${SETUP_ARGS:-}
bin=build-cuda/bin/specfuse
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} | tee "$out/gpu.txt"
export OMP_WAIT_POLICY=PASSIVE
"$bin" bench --prompts bench/prompts.txt --max-tokens 64 | tee "$out/bench.txt"
if [ -x build-cuda/bin/specfuse_micro_bench ]; then
  build-cuda/bin/specfuse_micro_bench --benchmark_min_time=0.2 2>&1 | tee "$out/micro.txt"
fi
SPECFUSE_BIN="$root/$bin" python3 scripts/bench_concurrency.py --levels 1,4,8,16 --rounds 3 \
  --json "$out/concurrency.json" | tee "$out/concurrency.txt"
