#!/usr/bin/env bash
# Runs the remote-member tests: real `specfuse serve` processes on loopback ports serve
# the members of a third `specfuse run`. Reuses the server tests' venv (same pinned
# requirements, same place), creating it if it is missing or out of date.
# Env: SPECFUSE_BIN (default build/bin/specfuse), SPECFUSE_CACHE.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
requirements="$root/tests/server/requirements.txt"
cache="${SPECFUSE_CACHE:-$HOME/.cache/specfuse}"
venv="$cache/venv"
stamp="$venv/.requirements"

if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$requirements" "$stamp"; then
  echo "run_tests.sh: creating the test venv in $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

export SPECFUSE_BIN="${SPECFUSE_BIN:-$root/build/bin/specfuse}"
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
