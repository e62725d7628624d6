#!/usr/bin/env bash
# The levers of docs/EVALUATION.md: the default ensemble run over the evaluation set once
# per setting in eval/levers/*.toml (segment length, score variant, exit constants;
# Hedge weights are the default run's specfuse-hedge method), then one table of the
# overall score, its 95% interval, model calls, calls saved by exit and tokens.
# Resumable like scripts/eval.sh. Env: LIMIT (items per task type, default 0 = all),
# JOBS (settings evaluated at once, default 1; a GPU takes several), OUT_DIR (default
# eval/results/levers), SPECFUSE_BIN (default build/bin/specfuse). Extra arguments go to
# every `specfuse eval` (e.g. --gpu-layers 0).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${SPECFUSE_BIN:-$root/build/bin/specfuse}"
out="${OUT_DIR:-eval/results/levers}"
limit="${LIMIT:-0}"
jobs="${JOBS:-1}"
mkdir -p "$out"

methods_of() {
  case "$1" in
    default) echo "smollm2-135m,qwen2.5-coder-0.5b,specfuse,specfuse-noexit,specfuse-hedge" ;;
    *) echo "specfuse" ;;
  esac
}

run_one() {
  local name=$1
  shift
  "$bin" eval --config "eval/levers/$name.toml" --max-tokens 48 --temperature 0 --seed 42 --limit "$limit" \
    --data eval/data/arithmetic.jsonl --data eval/data/factual.jsonl \
    --data eval/data/choice.jsonl --data eval/data/instruction.jsonl \
    --methods "$(methods_of "$name")" --out "$out/$name.jsonl" "$@" >"$out/$name.log" 2>&1 \
    || { echo "eval_levers: $name failed; see $out/$name.log" >&2; return 1; }
  echo "done: $name"
}

names=()
for f in eval/levers/*.toml; do names+=("$(basename "$f" .toml)"); done
pids=()
status=0
for name in "${names[@]}"; do
  run_one "$name" "$@" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || status=1; done
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ $status = 0 ] || exit $status

python3 - "$out" "${names[@]}" <<'PY'
import json, sys
out, names = sys.argv[1], sys.argv[2:]
print(f"{'setting':<15} {'method':<27} {'overall':>6} {'95% CI':>15} {'calls':>6} {'saved':>6} {'tokens':>6} {'rounds':>6}")
for name in names:
    s = json.load(open(f"{out}/{name}.summary.json"))
    for method, m in s["tasks"]["overall"]["methods"].items():
        sc = m["score"]
        print(f"{name:<15} {method:<27} {sc['mean']:6.3f} [{sc['low']:.3f}, {sc['high']:.3f}] "
              f"{m['model_calls']:6.2f} {m.get('calls_saved_by_exit', 0):6.2f} {m['tokens']:6.1f} "
              f"{m.get('rounds', float('nan')):6.2f}")
PY
