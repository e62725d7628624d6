#!/usr/bin/env bash
# Runs the playground test: the real `specfuse serve` on real models, driven through its
# page by headless Chromium (Debian's chromium and chromium-driver, installed here when
# missing). Creates the test venv (pinned pytest and selenium) under the specfuse cache
# if it is missing or out of date. Env: SPECFUSE_BIN (default build/bin/specfuse),
# SPECFUSE_CACHE, CHROMIUM (default /usr/bin/chromium), CHROMEDRIVER (default
# /usr/bin/chromedriver).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
if [[ ! -x "$CHROMIUM" || ! -x "$CHROMEDRIVER" ]]; then
  echo "run_tests.sh: installing chromium and chromium-driver (apt-get)" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
venv=$(specfuse_venv venv-playground "$here/requirements.txt")

export SPECFUSE_BIN="${SPECFUSE_BIN:-$root/build/bin/specfuse}"
# Selenium must use Debian's driver, never fetch one.
export SE_OFFLINE=true
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
