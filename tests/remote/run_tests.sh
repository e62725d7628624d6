#!/usr/bin/env bash
# Runs the remote-member tests: real `specfuse serve` processes on loopback ports serve
# the members of a third `specfuse run`. Reuses the server tests' venv (same pinned
# requirements, same place), creating it if it is missing or out of date.
# Env: SPECFUSE_BIN (default build/bin/specfuse), SPECFUSE_CACHE.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
venv=$(specfuse_venv venv "$root/tests/server/requirements.txt")

export SPECFUSE_BIN="${SPECFUSE_BIN:-$root/build/bin/specfuse}"
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
