#!/usr/bin/env bash
# Speed of the shipped binary against the peers, in one run (bench/speed.py; issue 18).
#   bench/speed.sh [RUNS]
# Builds the static musl binary exactly as the image ships it (mimalloc, musl-gcc) and the glibc
# build, generates the big inputs once (bench/work/), installs the peers into bench/work/venv
# (junitparser, lxml, diff-cover from PyPI), and prints the table for bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
work=$PWD/bench/work
. bench/shipped.sh
cargo build --release --quiet --bin controlgate
musl=$shipped
glibc=$target/release/controlgate
if [ ! -f "$work/junit-big/junit.xml" ]; then
  python3 bench/gen.py --preset big --no-repo --no-coverage --reports "$work/junit-big" >/dev/null
fi
if [ ! -f "$work/big/reports/coverage.xml" ]; then
  python3 bench/gen.py --preset big --no-junit --repo "$work/big/repo" --reports "$work/big/reports" --force >/dev/null
fi
# gen.py commits file by file, leaving thousands of loose objects: each is an open() for `git
# diff` (half its time). A clone, as actions/checkout makes, has them in a pack; so does this
# repository once packed (diff-cover diffs the same repository).
if [ -n "$(git -C "$work/big/repo" count-objects | grep -v '^0 objects')" ]; then
  git -C "$work/big/repo" repack -adq
fi
tiny=$work/tiny-junit.xml
echo '<testsuite name="t"><testcase classname="c" name="t"/></testsuite>' >"$tiny"
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet --disable-pip-version-check junitparser lxml diff-cover==10.5.0
fi
xmllint=$(command -v xmllint || true)
ls -la "$work/junit-big/junit.xml" "$work/big/reports/coverage.xml" "$work/big/reports/lcov.info" \
  | awk '{printf "%s %.1f MB\n", $NF, $5/1e6}' >&2
exec python3 bench/speed.py "$(cat <<JSON
{"runs": $runs,
 "builds": [["musl, shipped", "$musl"], ["glibc", "$glibc"]],
 "junit": "$work/junit-big/junit.xml", "tiny_junit": "$tiny",
 "cobertura": "$work/big/reports/coverage.xml", "lcov": "$work/big/reports/lcov.info",
 "repo": "$work/big/repo", "python": "$work/venv/bin/python", "peers": "$PWD/bench/peers",
 "diff_cover": "$work/venv/bin/diff-cover", "xmllint": "$xmllint",
 "labels": {"junit": "JUnit 200k cases", "cobertura": "Cobertura patch", "lcov": "LCOV patch"}}
JSON
)"
