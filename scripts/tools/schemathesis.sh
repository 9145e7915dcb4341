#!/usr/bin/env bash
# Installs Schemathesis (the OpenAPI-driven fuzzer the API test uses) into a venv of the
# repository's own, from PyPI, once; prints the path of its command. Idempotent and quiet.
set -euo pipefail
VERSION=4.32.5
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.data/tools/schemathesis-$VERSION"
if [[ ! -x "$VENV/bin/schemathesis" ]]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    # Debian's python3 comes without venv; root installs it, as scripts/infra does for its servers.
    [[ "$(id -u)" == 0 ]] || { echo "schemathesis: python3 with venv is needed (Debian: python3 python3-venv)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2; }
  fi
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2
fi
echo "$VENV/bin/schemathesis"
