#!/usr/bin/env bash
# Keeps every reference to the release version in step with the tag:
#   Cargo.toml          version = "X.Y.Z"
#   action.yml          image: docker://ghcr.io/controlgate/controlgate:X.Y.Z
#   host/action.yml     CONTROLGATE_VERSION: "X.Y.Z"
#
#   scripts/release-version.sh X.Y.Z           sets them (then commit, tag vX.Y.Z, push)
#   scripts/release-version.sh --check X.Y.Z   fails unless they all say X.Y.Z (the release
#                                              workflow's first step)
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
if [ "${1:-}" = --check ]; then
  check=true
  shift
fi
v=${1:?usage: release-version.sh [--check] X.Y.Z}
case "$v" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "not a version: $v" >&2; exit 2 ;;
esac

cargo_v=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
image_v=$(sed -n 's#^  image: docker://ghcr.io/controlgate/controlgate:\(.*\)$#\1#p' action.yml)
host_v=$(sed -n 's/^        CONTROLGATE_VERSION: "\(.*\)"$/\1/p' host/action.yml)

if $check; then
  bad=0
  for pair in "Cargo.toml:$cargo_v" "action.yml:$image_v" "host/action.yml:$host_v"; do
    if [ "${pair#*:}" != "$v" ]; then
      echo "${pair%%:*} says ${pair#*:}, the tag says $v: run scripts/release-version.sh $v" >&2
      bad=1
    fi
  done
  exit "$bad"
fi

sed -i "0,/^version = \".*\"$/s//version = \"$v\"/" Cargo.toml
sed -i "s#^  image: docker://ghcr.io/controlgate/controlgate:.*#  image: docker://ghcr.io/controlgate/controlgate:$v#" action.yml
sed -i "s/^        CONTROLGATE_VERSION: \".*\"$/        CONTROLGATE_VERSION: \"$v\"/" host/action.yml
cargo update -q -p controlgate --precise "$v" 2>/dev/null || cargo generate-lockfile -q
echo "version $v in Cargo.toml, action.yml and host/action.yml"
