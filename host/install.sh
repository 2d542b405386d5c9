#!/usr/bin/env bash
# Installs the controlgate release binary for this runner (host mode, every runner OS): picks
# the asset for RUNNER_OS/RUNNER_ARCH, downloads it and the release's SHA256SUMS, refuses it
# unless its SHA-256 is the one listed, and keeps it in the runner's tool cache, so later jobs
# on the same runner download nothing. Writes the binary's directory to GITHUB_PATH and its
# path to the step output `path`.
#
# Environment: CONTROLGATE_VERSION (e.g. 0.1.0), CONTROLGATE_RELEASE_URL (default the GitHub
# release of CONTROLGATE_REPOSITORY, tag v<version>), RUNNER_OS, RUNNER_ARCH,
# RUNNER_TOOL_CACHE, GITHUB_PATH, GITHUB_OUTPUT. CONTROLGATE_BINARY: use this binary instead
# (a build of the checkout; nothing is downloaded).
set -euo pipefail

fail() {
  echo "::error title=controlgate::$1"
  exit 1
}

if [ -n "${CONTROLGATE_BINARY:-}" ]; then
  [ -x "$CONTROLGATE_BINARY" ] || fail "CONTROLGATE_BINARY $CONTROLGATE_BINARY is not an executable file"
  dir=$(cd "$(dirname "$CONTROLGATE_BINARY")" && pwd)
  echo "$dir" >>"$GITHUB_PATH"
  echo "path=$dir/$(basename "$CONTROLGATE_BINARY")" >>"$GITHUB_OUTPUT"
  exit 0
fi

version=${CONTROLGATE_VERSION:?CONTROLGATE_VERSION is not set}
case "$version" in
  *[!0-9A-Za-z.+-]* | "") fail "CONTROLGATE_VERSION $version is not a version" ;;
esac
base=${CONTROLGATE_RELEASE_URL:-https://github.com/${CONTROLGATE_REPOSITORY:?}/releases/download/v$version}

exe=controlgate
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64)
    target=x86_64-pc-windows-msvc
    exe=controlgate.exe
    ;;
  *) fail "no controlgate release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}" ;;
esac

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | awk '{print $1}'
  else
    shasum -a 256 "$1" | awk '{print $1}'
  fi
}

asset="controlgate-$version-$target.tar.gz"
dir="${RUNNER_TOOL_CACHE:?}/controlgate/$version/$target"
if [ -x "$dir/$exe" ] && [ -f "$dir.complete" ]; then
  echo "controlgate $version ($target) from the tool cache"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -fsSL --retry 3 --proto '=https,http' -o "$tmp/$asset" "$base/$asset" ||
    fail "cannot download $base/$asset"
  curl -fsSL --retry 3 --proto '=https,http' -o "$tmp/SHA256SUMS" "$base/SHA256SUMS" ||
    fail "cannot download $base/SHA256SUMS"
  want=$(awk -v a="$asset" '$2 == a || $2 == "*" a {print $1}' "$tmp/SHA256SUMS")
  [ -n "$want" ] || fail "SHA256SUMS lists no $asset"
  got=$(sha256 "$tmp/$asset")
  [ "$got" = "$want" ] || fail "$asset has SHA-256 $got, SHA256SUMS says $want: refusing it"
  mkdir -p "$tmp/x"
  tar -xzf "$tmp/$asset" -C "$tmp/x"
  [ -f "$tmp/x/$exe" ] || fail "$asset holds no $exe"
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$tmp/x/$exe" "$dir/$exe"
  chmod +x "$dir/$exe"
  touch "$dir.complete"
  echo "controlgate $version ($target) installed, SHA-256 $got"
fi
echo "$dir" >>"$GITHUB_PATH"
echo "path=$dir/$exe" >>"$GITHUB_OUTPUT"
