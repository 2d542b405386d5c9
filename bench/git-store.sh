#!/usr/bin/env bash
# The `git` evidence store on a long ledger (default 10,000 entries): time, objects and bytes
# fetched for the first append against the 10,000th, a PR run's base lookup, and the full fetch
# that `verify` does (what every run did before). Release build; a bare remote on local disk.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example git_store_bench -- "${1:-10000}"
