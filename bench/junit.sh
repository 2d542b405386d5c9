#!/usr/bin/env bash
# JUnit benchmark (not a test): parse + map + aggregate + render end to end with the release
# binary on the generator's big JUnit (33.7 MB, 200,000 testcases), as a user runs it.
#   bench/junit.sh [RUNS]     # generates bench/work/junit-big once, then measures RUNS times
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
work=bench/work/junit-big
if [ ! -f "$work/junit.xml" ]; then
  python3 bench/gen.py --preset big --no-repo --no-coverage --reports "$work" >/dev/null
fi
cargo build --release --quiet
ls -la "$work/junit.xml" | awk '{print "input:", $5, "bytes"}'
for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e s wall  %U s user  %S s sys  %M KB peak RSS" \
    target/release/controlgate report --junit "$work/junit.xml" --out "$work/out" >/dev/null || true
done 2>&1 | grep -v "exited with non-zero status"
