#!/usr/bin/env bash
# Builds the release binary of an earlier commit, for `bench/run --baseline
# BIN`: the same publishes by that build beside today's. Prints its path.
# Usage: bench/baseline.sh COMMIT
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse --short "${1:?usage: bench/baseline.sh COMMIT}")
out="bench/.cache/baseline-$commit/allure-host"
if [ ! -x "$out" ]; then
  tree=$(mktemp -d)
  trap 'git worktree remove --force "$tree"' EXIT
  git worktree add -q --detach "$tree" "$commit"
  # The shared target folder reuses every dependency already built; the
  # binary is copied out before today's build takes its place again.
  cargo build --release --locked -q --manifest-path "$tree/Cargo.toml" --target-dir target
  mkdir -p "$(dirname "$out")"
  cp target/release/allure-host "$out"
fi
echo "$out"
