#!/usr/bin/env bash
# Coverage stage benchmark (not a test): patch + project coverage end to end on
# `bench/gen.py --preset big` (5,000-file repo), LCOV and Cobertura, release build, measured with
# /usr/bin/time -v. Also times diff-cover on the same input when .venv has it.
#   bench/coverage.sh            # generates bench/work/big once (≈1.5 min), then measures
set -euo pipefail
cd "$(dirname "$0")/.."
work=bench/work/big
if [ ! -f "$work/reports/coverage.xml" ]; then
  python3 bench/gen.py --preset big --no-junit --repo "$work/repo" --reports "$work/reports" --force >/dev/null
fi
cargo build --release --example coverage >/dev/null
bin=target/release/examples/coverage
measure() { # label, command...
  local label=$1; shift
  local best=""
  for _ in 1 2 3; do
    /usr/bin/time -v "$@" >/tmp/cg-bench.out 2>/tmp/cg-bench.time
    local wall rss
    wall=$(grep "Elapsed (wall clock)" /tmp/cg-bench.time | awk '{print $NF}')
    rss=$(grep "Maximum resident set size" /tmp/cg-bench.time | awk '{print $NF}')
    best="$best $wall/${rss}KB"
  done
  printf '%-28s %s   %s\n' "$label" "$best" "$(head -c 200 /tmp/cg-bench.out | head -1)"
}
repo=$work/repo; rep=$PWD/$work/reports
ls -la "$rep"/lcov.info "$rep"/coverage.xml | awk '{print $5, $NF}'
measure "controlgate lcov" $bin --repo $repo --base main --coverage $rep/lcov.info --quiet
measure "controlgate cobertura" $bin --repo $repo --base main --coverage $rep/coverage.xml --quiet
measure "controlgate cobertura+base" $bin --repo $repo --base main --coverage $rep/coverage.xml --base-coverage $rep/coverage-base.xml --quiet
if [ -x .venv/bin/diff-cover ]; then
  (cd $repo && measure "diff-cover lcov" ../../../../.venv/bin/diff-cover $rep/lcov.info --compare-branch=main -q)
  (cd $repo && measure "diff-cover cobertura" ../../../../.venv/bin/diff-cover $rep/coverage.xml --compare-branch=main -q)
fi
