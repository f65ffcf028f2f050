#!/usr/bin/env bash
# Installs what the browser tests of `mdp orchestrator`'s page need and prints, on stdout,
# the directory that holds node_modules with playwright-core (for NODE_PATH, as
# <dir>/node_modules). Chromium comes from Debian's package chromium when /usr/bin/chromium
# is missing ($MDP_CHROMIUM names another one); playwright-core, at the exact version that
# crates/mdp/tests/browser/package.json pins, is installed from the npm registry into
# $HOME/.cache/mdp-browser/<version> on first use, under a lock so that tests starting at
# once share one install. No browser is downloaded. Every message goes to stderr; the exit
# status is non-zero when something could not be installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
manifest="$root/crates/mdp/tests/browser/package.json"
chromium="${MDP_CHROMIUM:-/usr/bin/chromium}"

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "browser-env: installing node and npm (Debian packages nodejs, npm)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends nodejs npm >&2 \
      || { apt-get update -q >&2 \
           && apt-get install -y -q --no-install-recommends nodejs npm >&2; } \
      || { echo "browser-env: node and npm could not be installed" >&2; exit 1; }
  else
    echo "browser-env: node and npm are missing" >&2
    exit 1
  fi
fi

version="$(node -p "require(process.argv[1]).dependencies['playwright-core']" "$manifest")"

if [ ! -x "$chromium" ]; then
  if [ "$chromium" = /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
    echo "browser-env: installing chromium (Debian package chromium)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends chromium >&2 \
      || { apt-get update -q >&2 \
           && apt-get install -y -q --no-install-recommends chromium >&2; } \
      || { echo "browser-env: chromium could not be installed" >&2; exit 1; }
  fi
  if [ ! -x "$chromium" ]; then
    echo "browser-env: no chromium at $chromium" >&2
    exit 1
  fi
fi

cache="${MDP_BROWSER_CACHE:-$HOME/.cache/mdp-browser}"
prefix="$cache/$version"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$prefix/.complete" ] \
  || [ ! -f "$prefix/node_modules/playwright-core/package.json" ]; then
  rm -rf "$prefix"
  mkdir -p "$prefix"
  echo "browser-env: installing playwright-core $version" >&2
  cp "$manifest" "$prefix/package.json"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --prefix "$prefix" >&2 \
    || { echo "browser-env: playwright-core $version could not be installed" >&2; exit 1; }
  installed="$(node -p "require(process.argv[1]).version" "$prefix/node_modules/playwright-core/package.json")"
  if [ "$installed" != "$version" ]; then
    echo "browser-env: installed playwright-core $installed, wanted $version" >&2
    exit 1
  fi
  touch "$prefix/.complete"
fi
echo "$prefix"
