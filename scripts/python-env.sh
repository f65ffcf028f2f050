#!/usr/bin/env bash
# Prints the path of a Python interpreter that has the Python originals the interop tests
# run against (interop/python/requirements.txt), creating its venv on first use. The venv is
# cached under $HOME/.cache/mdp-python, one per version of the requirements, and built under
# a lock so that tests starting at once share one install.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$root/interop/python/requirements.txt"
digest="$(sha256sum "$requirements" | cut -c1-12)"
cache="${MDP_PYTHON_CACHE:-$HOME/.cache/mdp-python}"
venv="$cache/$digest"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
