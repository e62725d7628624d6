#!/usr/bin/env bash
# Runs the HTTP server tests against the real `specfuse serve` binary and real models.
# Creates the test venv (pinned pytest and openai SDK) under the specfuse cache if it is
# missing or out of date. Env: SPECFUSE_BIN (default build/bin/specfuse), SPECFUSE_CACHE.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${SPECFUSE_CACHE:-$HOME/.cache/specfuse}"
venv="$cache/venv"
stamp="$venv/.requirements"

if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$here/requirements.txt" "$stamp"; then
  echo "run_tests.sh: creating the test venv in $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$stamp"
fi

export SPECFUSE_BIN="${SPECFUSE_BIN:-$root/build/bin/specfuse}"
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
