#!/usr/bin/env bash
# Builds scripts/tools/tfcheck (an offline Terraform module checker: HCL parse, module load,
# references, module-call arguments, backend) into <repo>/.data/bin/tfcheck when missing or when
# its sources changed, and prints its path. Fast when present.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="$ROOT/scripts/tools/tfcheck"
BIN_DIR="$ROOT/.data/bin"
BIN="$BIN_DIR/tfcheck"
STAMP="$BIN_DIR/.tfcheck-sum"
SUM="$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" | sha256sum | cut -d' ' -f1)"
if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$SUM" ]]; then
  echo "$BIN"; exit 0
fi
command -v go >/dev/null 2>&1 || { echo "tfcheck.sh: go is required" >&2; exit 1; }
mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.tfcheck.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$SUM" ]]; then
  echo "$BIN"; exit 0
fi
echo "tfcheck.sh: building tfcheck (one-off)" >&2
(cd "$SRC" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$BIN.tmp" . >&2)
mv -f "$BIN.tmp" "$BIN"
echo "$SUM" > "$STAMP"
echo "$BIN"
