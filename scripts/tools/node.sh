#!/usr/bin/env bash
# The one Node.js the repository runs on (make dev, make test, CI, make bench; the images use the
# same major): the version in .node-version, installed from the npm registry (package
# node-linux-<arch>, the official binaries) into .data/tools when missing, whatever node the
# machine has. Prints the directory of its `node`, for PATH. Idempotent and quiet.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION="$(tr -d ' v\n\r' <"$ROOT/.node-version")"
case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "node.sh: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
DIR="$ROOT/.data/tools/node-v$VERSION-linux-$ARCH"
if [[ ! -x "$DIR/bin/node" ]] || [[ "$("$DIR/bin/node" --version 2>/dev/null)" != "v$VERSION" ]]; then
  command -v npm >/dev/null || { echo "node.sh: npm is needed once, to fetch Node $VERSION from the npm registry" >&2; exit 1; }
  echo "node.sh: installing Node $VERSION (npm package node-linux-$ARCH) into $DIR" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$ARCH@$VERSION" >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar xzf "$tmp"/node-linux-"$ARCH"-*.tgz -C "$tmp/unpacked" --strip-components=1
  [[ "$("$tmp/unpacked/bin/node" --version)" == "v$VERSION" ]] || { echo "node.sh: the package did not hold Node $VERSION" >&2; exit 1; }
  mkdir -p "$(dirname "$DIR")"
  rm -rf "$DIR"
  mv "$tmp/unpacked" "$DIR"
fi
echo "$DIR/bin"
