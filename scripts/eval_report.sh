#!/usr/bin/env bash
# Turns `specfuse eval` results into docs/EVALUATION.md and the plots in docs/.
# Creates the report venv (eval/requirements.txt, pinned) under the specfuse cache when it
# is missing or out of date. Arguments go to eval/report.py (RESULTS.jsonl [--command ...]).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
venv=$(specfuse_venv venv-eval "$root/eval/requirements.txt")
cd "$root"
exec "$venv/bin/python" eval/report.py "$@"
