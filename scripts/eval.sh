#!/usr/bin/env bash
# The evaluation behind docs/EVALUATION.md: the default ensemble (smollm2-135m +
# qwen2.5-coder-0.5b), every method, the first LIMIT items of each task type of
# eval/data/, greedy answers of at most 48 tokens; then the report. Resumable: an interrupted
# run continues where it stopped. Env: LIMIT (items per task type; default 0 = all 152),
# OUT (default eval/results/default-ensemble.jsonl), SPECFUSE_BIN (default
# build/bin/specfuse, else build/ is brought up to date first). With the results file
# already complete it only redoes the report; remove it to measure again. Extra arguments
# go to `specfuse eval` (they change the settings, so give another OUT).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -z "${SPECFUSE_BIN:-}" ]]; then
  [[ -f build/build.ninja || -f build/Makefile ]] || { echo "eval.sh: no build/; run scripts/setup.sh first" >&2; exit 1; }
  cmake --build build --target specfuse_cli -j "$(nproc)" >&2
fi
bin="${SPECFUSE_BIN:-$root/build/bin/specfuse}"
limit="${LIMIT:-0}"
out="${OUT:-eval/results/default-ensemble.jsonl}"
out_summary="${out%.jsonl}.summary.json"
mkdir -p "$(dirname "$out")"
"$bin" eval --max-tokens 48 --temperature 0 --seed 42 --limit "$limit" \
  --data eval/data/arithmetic.jsonl --data eval/data/factual.jsonl \
  --data eval/data/choice.jsonl --data eval/data/instruction.jsonl \
  --out "$out" "$@"
command="scripts/eval.sh"
if [[ "$limit" != 0 ]]; then command="LIMIT=$limit $command"; fi
command="rm -f $out $out_summary && $command"
scripts/eval_report.sh "$out" --command "$command" --notes eval/notes.md
