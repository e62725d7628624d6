# Sourced by the scripts that need a Python venv with pinned packages.
# specfuse_venv NAME REQUIREMENTS: prints the path of the venv $SPECFUSE_CACHE/NAME
# (default cache ~/.cache/specfuse), creating it, or re-creating it when REQUIREMENTS
# changed since it was made.
specfuse_venv() {
  local name=$1 requirements=$2
  local venv="${SPECFUSE_CACHE:-$HOME/.cache/specfuse}/$name"
  if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$requirements" "$venv/.requirements"; then
    echo "creating the Python venv $venv from $requirements" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
    cp "$requirements" "$venv/.requirements"
  fi
  echo "$venv"
}
