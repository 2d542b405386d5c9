#!/usr/bin/env bash
# Stages the container image's root filesystem from binaries built on the host, so the image
# build (Dockerfile) only packages: no compiler, no network.
#
#   scripts/image-rootfs.sh OUT CONTROLGATE_BINARY
#
# OUT/ receives:
#   usr/local/bin/controlgate      the static (musl) binary given
#   etc/ssl/certs/ca-certificates.crt
#   tmp/                           world-writable: temp files (report.json, redacted input copies,
#                                  the git store's work tree) are created there
#   git, git-remote-https and every shared library they load (from the host's git, found on
#   PATH): changed lines are read from `git diff`, and the `git` evidence store fetches and
#   pushes with it. git's helper programs (upload-pack, receive-pack for local remotes,
#   remote-http(s)) are linked into its exec path.
#   bin/sh (the host's dash): git starts upload-pack and receive-pack of a local remote through
#   the shell. Nothing else in the image uses it.
set -euo pipefail

out=${1:?usage: image-rootfs.sh OUT CONTROLGATE_BINARY}
bin=${2:?usage: image-rootfs.sh OUT CONTROLGATE_BINARY}

rm -rf "$out"
mkdir -p "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/tmp"
chmod 1777 "$out/tmp"
install -m 0755 "$bin" "$out/usr/local/bin/controlgate"
cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"

# Copies a file to the same absolute path under OUT (following links).
put() {
  mkdir -p "$out$(dirname "$1")"
  cp -L "$1" "$out$1"
}

# A program and the shared libraries (and loader) it needs.
with_libs() {
  put "$1"
  ldd "$1" | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]*ld-linux/{print $1}' | sort -u |
    while read -r lib; do put "$lib"; done
}

git=$(command -v git)
git=$(readlink -f "$git")
exec_path=$(git --exec-path)
with_libs "$git"
with_libs "$exec_path/git-remote-https"
mkdir -p "$out$exec_path"
for helper in git-upload-pack git-receive-pack git-upload-archive; do
  ln -sf "$git" "$out$exec_path/$helper"
done
ln -sf git-remote-https "$out$exec_path/git-remote-http"
sh=$(readlink -f /bin/sh)
with_libs "$sh"
mkdir -p "$out/bin"
[ "$sh" = /bin/sh ] || ln -sf "$sh" "$out/bin/sh"
# The image's PATH (Dockerfile ENV) finds git at /usr/bin/git whatever the host's layout.
if [ "$git" != /usr/bin/git ]; then
  mkdir -p "$out/usr/bin"
  ln -sf "$git" "$out/usr/bin/git"
fi
