#!/usr/bin/env bash
# Runs the HTTP server tests against the real `specfuse serve` binary and real models.
# Creates the test venv (pinned pytest and openai SDK) under the specfuse cache if it is
# missing or out of date. Env: SPECFUSE_BIN (default build/bin/specfuse), SPECFUSE_CACHE.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
venv=$(specfuse_venv venv "$here/requirements.txt")

export SPECFUSE_BIN="${SPECFUSE_BIN:-$root/build/bin/specfuse}"
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
