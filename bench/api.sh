#!/usr/bin/env bash
# API coverage benchmark: GitHub's OpenAPI description (npm @octokit/openapi, ~1,000
# operations) read and matched against a generated 100,000-exchange log, release build.
# Installs the npm package into a scratch folder outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${BENCH_DIR:-/tmp/controlgate-bench-api}
n=${N:-100000}
mkdir -p "$scratch"
spec="$scratch/node_modules/@octokit/openapi/generated/api.github.com.json"
if [ ! -f "$spec" ]; then
  (cd "$scratch" && npm install --no-audit --no-fund --silent @octokit/openapi@23.0.2)
fi
cargo build --release --example bench_api
bin=target/release/examples/bench_api
[ -f "$scratch/log-$n.jsonl" ] || "$bin" generate "$spec" "$n" "$scratch/log-$n.jsonl"
ls -l "$spec" "$scratch/log-$n.jsonl"
for i in 1 2 3; do "$bin" run "$spec" "$scratch/log-$n.jsonl"; done
