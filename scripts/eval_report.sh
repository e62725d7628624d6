#!/usr/bin/env bash
# Turns `specfuse eval` results into docs/EVALUATION.md and the plots in docs/.
# Creates the report venv (eval/requirements.txt, pinned) under the specfuse cache when it
# is missing or out of date. Arguments go to eval/report.py (RESULTS.jsonl [--command ...]).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${SPECFUSE_CACHE:-$HOME/.cache/specfuse}"
venv="$cache/venv-eval"
stamp="$venv/.requirements"
if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$root/eval/requirements.txt" "$stamp"; then
  echo "eval_report.sh: creating the report venv in $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/eval/requirements.txt"
  cp "$root/eval/requirements.txt" "$stamp"
fi
cd "$root"
exec "$venv/bin/python" eval/report.py "$@"
