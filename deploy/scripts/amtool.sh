#!/usr/bin/env bash
# Installs amtool (Alertmanager's CLI, built from its Go module) into <repo>/.data/bin/amtool when
# missing and prints its path. deploy/test uses it to check the Alertmanager configuration of
# k8s/operators/values/kube-prometheus-stack.yaml and to test its routes.
# ALERTMANAGER_VERSION: the Alertmanager the pinned kube-prometheus-stack runs (77.x ships v0.28.1).
set -euo pipefail

ALERTMANAGER_VERSION="${ALERTMANAGER_VERSION:-v0.28.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="$ROOT/.data/bin"
AMTOOL="$BIN_DIR/amtool"
STAMP="$BIN_DIR/.amtool-version"

fresh() { [[ -x "$AMTOOL" && -f "$STAMP" && "$(cat "$STAMP")" == "$ALERTMANAGER_VERSION" ]]; }
if fresh; then echo "$AMTOOL"; exit 0; fi

command -v go >/dev/null 2>&1 || { echo "amtool.sh: go is required to build amtool $ALERTMANAGER_VERSION" >&2; exit 1; }
mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.amtool.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if fresh; then echo "$AMTOOL"; exit 0; fi

echo "amtool.sh: building amtool $ALERTMANAGER_VERSION from its Go module (one-off, a minute or two)" >&2
TMP_BIN="$(mktemp -d "$BIN_DIR/.amtool-build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT
GOBIN="$TMP_BIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install -ldflags "-s -w" "github.com/prometheus/alertmanager/cmd/amtool@$ALERTMANAGER_VERSION" >&2
mv -f "$TMP_BIN/amtool" "$AMTOOL"
echo "$ALERTMANAGER_VERSION" > "$STAMP"
echo "$AMTOOL"
