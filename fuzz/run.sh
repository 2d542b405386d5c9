#!/usr/bin/env bash
# Time-boxed fuzzing of every parser, one target at a time on one core.
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Default 300 s per target. For the full campaign (issue 8: ≥10M executions or 30 min per
# target) run `fuzz/run.sh 1800`. The stable toolchain builds with RUSTC_BOOTSTRAP=1 so
# cargo-fuzz's `-Z` sanitizer flags are accepted. The working corpus (fuzz/corpus/<target>)
# starts from the committed seeds (fuzz/seeds/<target>); crashes land in fuzz/artifacts/.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(junit lcov cobertura jacoco diff config openapi har exchange_log)
export RUSTC_BOOTSTRAP=1
mkdir -p fuzz/logs
cargo fuzz build -O || exit 1
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  echo "== $t ($secs s)"
  cargo fuzz run -O "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=512 -timeout=5 -print_final_stats=1 \
    > "fuzz/logs/$t.log" 2>&1
  echo "exit $? — $(grep -E 'stat::number_of_executed_units' "fuzz/logs/$t.log")"
  grep -E '^(==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' "fuzz/logs/$t.log" | head -5 || true
done
