#!/usr/bin/env bash
# Debian's Chromium for the browser tests (playwright-core drives it; no tool downloads a browser
# of its own). Installs it when missing; quick when present.
set -euo pipefail
. "$(dirname "$0")/env.sh"
INFRA_COMPONENT=browser
infra_ensure_cmds chromium=chromium
command -v chromium >/dev/null || infra_die "chromium did not install"
