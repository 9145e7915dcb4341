#!/usr/bin/env bash
# Installs helm (built from its Go module) into <repo>/.data/bin/helm when missing and prints its path.
# Idempotent and fast when present: the version is checked from a stamp file, not by running helm.
# Overrides: HELM_VERSION (default v3.22.0), HELM_BIN (use this helm instead, e.g. a system one).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
# Default Kubernetes version helm assumes offline (helm's Makefile derives it from its client-go:
# v3.22.0 builds against k8s.io/client-go v0.37 -> 1.37). Without it `go install` leaves 1.20.
HELM_KUBE_MINOR="${HELM_KUBE_MINOR:-37}"
STAMP_VALUE="$HELM_VERSION+k8s1.$HELM_KUBE_MINOR"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="$ROOT/.data/bin"
HELM="$BIN_DIR/helm"
STAMP="$BIN_DIR/.helm-version"

if [[ -n "${HELM_BIN:-}" ]]; then
  echo "$HELM_BIN"
  exit 0
fi

if [[ -x "$HELM" && -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_VALUE" ]]; then
  echo "$HELM"
  exit 0
fi

command -v go >/dev/null 2>&1 || { echo "helm.sh: go is required to build helm $HELM_VERSION" >&2; exit 1; }
mkdir -p "$BIN_DIR"

# Serialise concurrent installs (several jest workers may call this at once).
LOCK="$BIN_DIR/.helm.lock"
exec 9>"$LOCK"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -x "$HELM" && -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_VALUE" ]]; then
  echo "$HELM"
  exit 0
fi

echo "helm.sh: building helm $HELM_VERSION from its Go module (one-off, a few minutes)" >&2
# Build into a temporary GOBIN, then move into place atomically.
TMP_BIN="$(mktemp -d "$BIN_DIR/.helm-build.XXXXXX")"
trap 'rm -rf "$TMP_BIN"' EXIT
GOBIN="$TMP_BIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_KUBE_MINOR \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_KUBE_MINOR" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
mv -f "$TMP_BIN/helm" "$HELM"
echo "$STAMP_VALUE" > "$STAMP"
echo "$HELM"
