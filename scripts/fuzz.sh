#!/bin/sh
# Coverage-guided fuzzing of every parser (tests/fuzz): builds the targets with clang, libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer into build-fuzz, then runs each for --runs
# inputs (default 1,000,000) from its committed seeds and regressions. A crash, sanitizer report,
# timeout (10 s an input) or allocation over 2 GB stops the target: the input is written to
# tests/fuzz/regressions/<target>/ to be fixed and kept, and the script exits non-zero.
# Usage: scripts/fuzz.sh [--runs N] [--only TARGET]
set -eu
cd "$(dirname "$0")/.."
runs=1000000
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "fuzz.sh: unknown argument $1 (use --runs N, --only TARGET)" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh --fuzz
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DEM_FUZZ=ON >/dev/null
targets=""
for f in tests/fuzz/*_fuzz.cpp; do
  t=$(basename "$f" _fuzz.cpp)
  [ -z "$only" ] || [ "$t" = "$only" ] || continue
  targets="$targets $t"
done
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc)" --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done)
status=0
for t in $targets; do
  work=build-fuzz/fuzz-work/$t
  mkdir -p "$work/corpus" "tests/fuzz/regressions/$t"
  cp tests/fuzz/corpus/$t/* "$work/corpus/" 2>/dev/null || true
  cp tests/fuzz/regressions/$t/* "$work/corpus/" 2>/dev/null || true
  echo "fuzz $t: $runs runs"
  if ! build-fuzz/tests/fuzz/fuzz_$t -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="tests/fuzz/regressions/$t/" "$work/corpus" \
      >"$work/log.txt" 2>&1; then
    echo "fuzz $t: FAILED, see $work/log.txt; the input is in tests/fuzz/regressions/$t/" >&2
    tail -30 "$work/log.txt" >&2
    status=1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$work/log.txt" | tr '\n' ' '
  echo
done
exit $status
