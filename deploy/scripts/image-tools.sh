#!/usr/bin/env bash
# Prints the path of a pinned supply-chain tool (syft | cosign | trivy), installing it first into
# <repo>/.data/bin from its Go module when it is missing or of another version. The versions are
# deploy/image-tools.env's. A tool already on PATH at exactly that version is used as is (CI images).
#   deploy/scripts/image-tools.sh syft
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../image-tools.env
source "$ROOT/deploy/image-tools.env"
TOOL="${1:?usage: image-tools.sh syft|cosign|trivy}"
case "$TOOL" in
  syft) VERSION=$SYFT_VERSION; MODULE=github.com/anchore/syft/cmd/syft ;;
  cosign) VERSION=$COSIGN_VERSION; MODULE=github.com/sigstore/cosign/v3/cmd/cosign ;;
  trivy) VERSION=$TRIVY_VERSION; MODULE=github.com/aquasecurity/trivy/cmd/trivy ;;
  *) echo "image-tools.sh: unknown tool $TOOL (syft, cosign, trivy)" >&2; exit 2 ;;
esac

# `<tool> version` prints the version in each tool's own format; the bare number is enough to match.
has_version() { "$1" version 2>/dev/null | grep -Fq "${VERSION#v}"; }

if command -v "$TOOL" >/dev/null 2>&1 && has_version "$(command -v "$TOOL")"; then command -v "$TOOL"; exit 0; fi
BIN_DIR="$ROOT/.data/bin"
STAMP="$BIN_DIR/.$TOOL-version"
if [[ -x "$BIN_DIR/$TOOL" && -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" ]]; then echo "$BIN_DIR/$TOOL"; exit 0; fi

command -v go >/dev/null 2>&1 || { echo "image-tools.sh: go is required to install $TOOL $VERSION" >&2; exit 1; }
mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.$TOOL.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
echo "image-tools.sh: installing $TOOL $VERSION from $MODULE (one-off)" >&2
TMP_BIN="$(mktemp -d "$BIN_DIR/.$TOOL-build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT
GOBIN="$TMP_BIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" go install "$MODULE@$VERSION" >&2
mv -f "$TMP_BIN/$TOOL" "$BIN_DIR/$TOOL"
echo "$VERSION" > "$STAMP"
echo "$BIN_DIR/$TOOL"
