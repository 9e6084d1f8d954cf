#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that read what others wrote
# (fuzz/fuzz_targets/*.rs), each target for a bounded time.
#
# Usage: scripts/fuzz.sh [TARGET...]      (default: every target)
#   FUZZ_SECONDS   seconds per target (default 20)
#   FUZZ_SANITIZER address (default, catches memory errors in C-derived
#                  dependencies) or none (faster build and runs)
#
# Each target starts from its committed seeds (fuzz/seeds/<target>/) and
# the corpus it grew before (fuzz/corpus/<target>/, not committed). A crash,
# a failed assertion or an input slower than 10 s stops that target; the
# input lands in fuzz/artifacts/<target>/ and the script exits non-zero after
# running the rest. Needs the nightly toolchain; installs cargo-fuzz if missing.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

CARGO_FUZZ_VERSION=0.13.2
seconds="${FUZZ_SECONDS:-20}"
sanitizer="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

start=$SECONDS
if [ "$#" -gt 0 ]; then
  for t in "${targets[@]}"; do cargo +nightly fuzz build --sanitizer "$sanitizer" "$t"; done
else
  cargo +nightly fuzz build --sanitizer "$sanitizer"
fi
echo "built ${#targets[@]} targets in $((SECONDS - start)) s"

failed=()
printf '%-16s %12s %8s %8s %8s  %s\n' target executions exec/s cov corpus result
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  # Every target but unzip reads text: JSON's words and the integer edges.
  dict=(); [ "$t" = unzip ] || dict=(-dict=json.dict)
  status=0
  cargo +nightly fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "${dict[@]}" >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
  corpus="$(find "corpus/$t" -type f | wc -l)"
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $status)"
    failed+=("$t")
    # The panic or sanitizer report, and the command that reproduces it.
    grep -E -A12 "panicked at|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY" "$log" | head -40 >&2 || true
    grep -A1 -E "^Reproduce with:" "$log" >&2 || true
  fi
  printf '%-16s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus" "$result"
  rm -f "$log"
done
echo "fuzzing took $((SECONDS - start)) s in all"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing found inputs that fail: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
