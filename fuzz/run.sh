#!/usr/bin/env bash
# Fuzz every parser, each target in one libFuzzer process on one core.
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# A target stops after RUNS executions (default 10,000,000) or SECONDS_PER_TARGET
# (default 300), whichever comes first; JOBS targets (default 1) run side by side.
# The full campaign of issue 8 (≥10M executions or 30 min per target) is
#   JOBS=2 fuzz/run.sh 1800
# The stable toolchain builds with RUSTC_BOOTSTRAP=1 so cargo-fuzz's `-Z` sanitizer flags are
# accepted. The working corpus (fuzz/corpus/<target>) starts from the committed seeds
# (fuzz/seeds/<target>); crashes land in fuzz/artifacts/, logs in fuzz/logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(junit trx nunit xunit gotest dart mocha lcov cobertura jacoco clover diff config openapi har exchange_log)
runs=${RUNS:-10000000}
jobs=${JOBS:-1}
export RUSTC_BOOTSTRAP=1
mkdir -p fuzz/logs
cargo fuzz build -O || exit 1

fuzz_one() {
  local t=$1
  mkdir -p "fuzz/corpus/$t"
  local start=$SECONDS
  cargo fuzz run -O "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -runs="$runs" -max_total_time="$secs" -rss_limit_mb=512 -timeout=5 -print_final_stats=1 \
    > "fuzz/logs/$t.log" 2>&1
  local rc=$?
  echo "== $t: exit $rc after $((SECONDS - start)) s —" \
    "$(grep -E 'stat::number_of_executed_units' "fuzz/logs/$t.log")" \
    "$(grep -E 'stat::peak_rss_mb' "fuzz/logs/$t.log")"
  grep -E '^(==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' "fuzz/logs/$t.log" | head -5 || true
}

# Simple job pool: start up to $jobs targets, wait for any to finish before starting the next.
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  fuzz_one "$t" &
done
wait
