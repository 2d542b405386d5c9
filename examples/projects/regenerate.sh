#!/usr/bin/env bash
# Regenerates examples/junit/*.xml by running the real test tools on the sample
# projects. Needs python3, node/npm and cargo + cargo-nextest; installs pytest in
# a throwaway venv and jest/jest-junit in a gitignored node_modules.
# The pytest run has one failing test on purpose, so its exit code is ignored.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../junit" && pwd)
venv=${VENV:-/tmp/exvenv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/ex-target}

# --- pytest (xunit2, the default junit_family) -------------------------------
[ -x "$venv/bin/pytest" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q pytest; }
(
  cd "$here/python"
  "$venv/bin/python" -m pytest -p no:cacheprovider \
    -o junit_logging=system-out --junitxml="$out/pytest.xml" || true
  find . -name __pycache__ -type d -prune -exec rm -rf {} +
)
# pytest writes absolute paths into <skipped> bodies, and the machine's hostname.
sed -i -e "s#$here/python/##g" -e 's/hostname="[^"]*"/hostname="ci-runner"/' "$out/pytest.xml"

# --- jest + jest-junit (options in package.json "jest-junit") ----------------
(
  cd "$here/js"
  npm ci --no-audit --no-fund
  npx jest --ci --reporters=default --reporters=jest-junit
)

# --- cargo-nextest (profile "ci" in .config/nextest.toml) --------------------
(
  cd "$here/rust"
  RUST_BACKTRACE=0 cargo nextest run --profile ci
  cp target/nextest/ci/junit.xml "$out/nextest.xml"
  rm -rf target   # nextest keeps its store under <workspace>/target/nextest
)

# --- checks -------------------------------------------------------------------
for f in "$out"/*.xml; do
  python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$f"
done
if grep -nE '/(tmp|work|root|home|Users)/' "$out"/*.xml; then
  echo "absolute path leaked into the XML above" >&2
  exit 1
fi
echo "regenerated: $(ls "$out")"
