#!/usr/bin/env bash
# Times `verify` and `audit` over a generated ledger of N entries (default 10,000: a busy
# repository's year) in a local `dir` store, release build. Targets: audit <= 2 s, verify of
# the chain <= 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example ledger_bench -- "${1:-10000}"
