#!/usr/bin/env bash
# Report PostgreSQL, Redis and Kafka state; exit 0 only when all three run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

rc=0
for c in postgres redis kafka; do
  "$INFRA_SCRIPTS_DIR/$c.sh" status || rc=1
done
exit "$rc"
