#!/usr/bin/env bash
# Bounded-memory benchmark (issue 8, not a test): `controlgate report` streams a generated
# 2,000,000-testcase JUnit file (≈340 MB, 20,000 suites, ~1% failures with stack traces,
# system-out, properties) and must keep peak RSS under 128 MB. The shipped binary (release, static
# musl, as in the image: `bench/shipped.sh`), measured with /usr/bin/time -v. The
# report is generated once into bench/work/junit-TESTS (≈ a few minutes).
#   bench/junit-2m.sh [TESTS]      # default 2000000
set -euo pipefail
cd "$(dirname "$0")/.."
tests=${1:-2000000}
work=bench/work/junit-$tests
if [ ! -f "$work/junit.xml" ]; then
  mkdir -p "$work"
  python3 bench/gen.py --tests "$tests" --suites $((tests / 100)) --no-repo --no-coverage \
    --reports "$work" --force >/dev/null
fi
. bench/shipped.sh
bin=$shipped
ls -la "$work/junit.xml" | awk '{printf "input: %s bytes (%s)\n", $5, $NF}'
out=$(mktemp -d)
set +e
/usr/bin/time -v "$bin" report --junit "$work/junit.xml" --out "$out" \
  --format json >"$out/stdout.json" 2>"$out/time.txt"
code=$?
set -e
rss=$(grep "Maximum resident set size" "$out/time.txt" | awk '{print $NF}')
wall=$(grep "Elapsed (wall clock)" "$out/time.txt" | awk '{print $NF}')
python3 - "$out/stdout.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["tests"]
print("tests: total %(total)d passed %(passed)d failed %(failed)d errored %(errored)d skipped %(skipped)d" % t)
PY
echo "exit: $code  wall: $wall  peak RSS: $((rss / 1024)) MB"
rm -rf "$out"
if [ "$rss" -ge $((128 * 1024)) ]; then
  echo "FAIL: peak RSS ${rss} KB >= 128 MB" >&2
  exit 1
fi
