#!/usr/bin/env bash
# Reader throughput per test-result format on equal test populations (issue 19).
#   bench/results.sh [TESTS] [RUNS]
# Generates TESTS tests (default 100,000) in JUnit, TRX, NUnit 3, xUnit.net v2, go test -json,
# Dart JSON and Mocha JSON (bench/results_gen.py, into bench/work/results-TESTS/), then times each
# file through `ingest::results::parse` (bench/results_bench.rs, release build) and prints the
# table for bench/README.md: median of RUNS (default 5), ns per test and its ratio to JUnit's.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=${1:-100000}
runs=${2:-5}
work=$PWD/bench/work/results-$tests
if [ ! -f "$work/mocha.json" ]; then
  python3 bench/results_gen.py "$work" "$tests"
fi
cargo build --release --quiet --example results_bench
target=${CARGO_TARGET_DIR:-$PWD/target}
exec "$target/release/examples/results_bench" --runs "$runs" \
  "$work/junit.xml" "$work/trx.trx" "$work/nunit.xml" "$work/xunit.xml" \
  "$work/gotest.json" "$work/dart.json" "$work/mocha.json"
