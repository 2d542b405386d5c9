#!/usr/bin/env bash
# Ledger growth and comparison time (issue 16): a 200,000-test run (gen.py's big JUnit) retained
# on `main`, then the same suite on `feature` compared with it. Prints the bytes the `tests`
# record adds to a ledger entry and the times of both runs (release build, as a user runs it).
#   bench/history.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=bench/work
if [ ! -f "$work/junit-big/junit.xml" ]; then
  python3 bench/gen.py --preset big --no-repo --no-coverage --reports "$work/junit-big" >/dev/null
fi
if [ ! -d "$work/big/repo" ]; then
  python3 bench/gen.py --preset big --repo "$work/big/repo" --reports "$work/big/reports" >/dev/null
fi
cargo build --release --quiet
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
bin=$target/release/controlgate
repo=$PWD/$work/big/repo
junit=$PWD/$work/junit-big/junit.xml
ev=$(mktemp -d)
trap 'rm -rf "$ev"; git -C "$repo" checkout -q feature' EXIT
run() {
  /usr/bin/time -f "  %e s wall, %M KB peak RSS" \
    "$bin" report --junit "$junit" --repo "$repo" --base main --evidence "$ev/store" \
    --out "$ev/out" >/dev/null || true
}
git -C "$repo" checkout -q main
echo "base run on main (retained):"
run 2>&1 | grep -v "exited with non-zero"
git -C "$repo" checkout -q feature
echo "PR run on feature (compared with it, retained):"
run 2>&1 | grep -v "exited with non-zero"
python3 - "$ev/store/ledger" "$ev/out/report.json" <<'PY'
import json, os, sys
ledger, report = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(ledger)):
    raw = open(os.path.join(ledger, name), "rb").read()
    entry = json.loads(raw)
    t = entry.get("tests")
    rec = len(json.dumps(t, separators=(",", ":"))) if t else 0
    print(f"{name}: {len(raw)} bytes, of which the tests record {rec} "
          f"({t['ids']['n']} tests, {len(t['controls'])} controls)")
ch = json.load(open(report)).get("changes", {})
print("PR run compared with:", ch.get("base") or ch.get("base_unavailable"))
PY
