#!/usr/bin/env bash
# Every library crate builds on its own with no default features, with each of its features
# alone, and with all of them: the equivalent of `cargo hack check --each-feature`, read from
# `cargo metadata` so that a new feature is checked without editing this script.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mdp-target}"
crates=(core-contracts pulse store pipeline)
metadata="$(cargo metadata --no-deps --format-version 1 --locked)"
for crate in "${crates[@]}"; do
  features="$(python3 -c '
import json, sys
meta = json.loads(sys.stdin.read())
pkg = next(p for p in meta["packages"] if p["name"] == sys.argv[1])
print(" ".join(sorted(f for f in pkg["features"] if f != "default")))
' "$crate" <<<"$metadata")"
  echo "== features: $crate (no default features)"
  cargo check -q -p "$crate" --locked --no-default-features
  for feature in $features; do
    echo "== features: $crate --features $feature"
    cargo check -q -p "$crate" --locked --no-default-features --features "$feature"
  done
  echo "== features: $crate --all-features"
  cargo check -q -p "$crate" --locked --all-features
done
# A pipeline or a pulse without the `redis` feature pulls neither Redis nor rustls.
for crate in pulse pipeline; do
  tree="$(cargo tree -q -p "$crate" --no-default-features -e normal --locked)"
  if grep -E ' (redis|rustls) v' <<<"$tree"; then
    echo "features: $crate without default features still depends on redis or rustls" >&2
    exit 1
  fi
done
