#!/usr/bin/env bash
# Runs a plan of standard-benchmark evaluations (eval/benchmarks/plan-*.txt): one
# `specfuse eval` per line, each into its own results file, resumable (a killed or
# interrupted run continues where it stopped), within a time budget, then prints one
# table of every finished summary and packs the results into one archive.
#
# Usage: scripts/eval_benchmarks.sh PLAN [NAME...]   (NAMEs: only those plan lines)
# Env: BENCHMARKS (default: scripts/fetch_benchmarks.sh's directory), OUT_DIR (default
# eval/results/benchmarks), SPECFUSE_BIN (default build/bin/specfuse), JOBS (items at once,
# default 8), SECONDS_BUDGET (stop starting or continuing runs after this long, default
# unlimited), ARCHIVE (write OUT_DIR's results as this .tar.gz), SAMPLE_SEED (default 1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plan=${1:?usage: eval_benchmarks.sh PLAN [NAME...]}
shift
only=("$@")
bin="${SPECFUSE_BIN:-$root/build/bin/specfuse}"
out="${OUT_DIR:-$root/eval/results/benchmarks}"
jobs="${JOBS:-8}"
budget="${SECONDS_BUDGET:-0}"
seed="${SAMPLE_SEED:-1}"
data="${BENCHMARKS:-$("$root/scripts/fetch_benchmarks.sh")}"
mkdir -p "$out"
start=$SECONDS
# A binary that cannot run (a shared library not found: status 127) fails here, at once,
# not as a run that "stopped" on every plan line.
"$bin" --version >/dev/null 2>"$out/.preflight.log" || {
  echo "eval_benchmarks: $bin does not run:" >&2; cat "$out/.preflight.log" >&2; exit 1; }
rm -f "$out/.preflight.log"

wanted() {
  [ ${#only[@]} = 0 ] && return 0
  local n
  for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

while read -r name config file items methods; do
  case "$name" in ''|'#'*) continue ;; esac
  wanted "$name" || continue
  limit=()
  [ "$items" != 0 ] && limit=(--limit "$items" --sample-seed "$seed")
  left=0
  if [ "$budget" != 0 ]; then
    left=$((budget - (SECONDS - start)))
    if [ $left -le 5 ]; then echo "eval_benchmarks: budget spent; $name and later lines not run" >&2; break; fi
  fi
  echo "==> $name ($config, $file, ${items/#0/all} items)" >&2
  cmd=("$bin" eval --config "$root/eval/benchmarks/configs/$config.toml" --data "$data/$file"
    --out "$out/$name.jsonl" --methods "$methods" --jobs "$jobs" "${limit[@]}")
  if [ $left -gt 0 ]; then
    status=0
    timeout --signal=INT --kill-after=20 "$left" "${cmd[@]}" >"$out/$name.log" 2>&1 || status=$?
    if [ $status = 124 ] || [ $status = 137 ]; then
      echo "eval_benchmarks: $name stopped at the budget; rerun to continue; log $out/$name.log" >&2
      break
    elif [ $status != 0 ]; then
      echo "eval_benchmarks: $name failed (status $status); the end of $out/$name.log:" >&2
      tail -n 5 "$out/$name.log" >&2
      exit 1
    fi
  else
    "${cmd[@]}" >"$out/$name.log" 2>&1 || { echo "eval_benchmarks: $name failed; see $out/$name.log" >&2; exit 1; }
  fi
done <"$plan"

python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
print(f"{'run':<22} {'method':<22} {'n':>4} {'score':>6} {'95% CI':>15} {'vs best member':>22} {'tokens':>7} {'calls':>6} {'wall s':>7}")
for path in sorted(glob.glob(os.path.join(out, "*.summary.json"))):
    s = json.load(open(path))
    g = s["tasks"]["overall"]
    for method, m in g["methods"].items():
        sc, d = m["score"], m.get("vs_reference", {})
        diff = f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]" if d else ""
        print(f"{os.path.basename(path)[:-13]:<22} {method:<22} {g['n']:>4} {sc['mean']:6.3f} "
              f"[{sc['low']:.3f}, {sc['high']:.3f}] {diff:>22} {m['tokens']:7.1f} {m['model_calls']:6.1f} {m['wall_s']:7.2f}")
PY
if [ -n "${ARCHIVE:-}" ]; then
  tar -C "$out" -czf "$ARCHIVE" $(cd "$out" && ls)
  echo "archive: $ARCHIVE" >&2
fi
