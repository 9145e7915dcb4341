#!/usr/bin/env bash
# Stop PostgreSQL, Redis and Kafka (in parallel). PostgreSQL and Kafka data
# stay in $INFRA_DIR; Redis keeps nothing. Reset everything with:
#   scripts/infra/down.sh && rm -rf .data/infra
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
INFRA_COMPONENT=down

components=(postgres redis kafka)
mkdir -p "$INFRA_DIR/logs"
declare -A pids out
for c in "${components[@]}"; do
  # Per-call file (concurrent calls must not mix output), renamed to
  # logs/$c.down.log when done.
  out[$c]="$(mktemp "$INFRA_DIR/logs/$c.down.XXXXXX")"
  "$INFRA_SCRIPTS_DIR/$c.sh" down </dev/null >"${out[$c]}" 2>&1 &
  pids[$c]=$!
done

failed=()
for c in "${components[@]}"; do
  wait "${pids[$c]}" || failed+=("$c")
  cat "${out[$c]}" >&2
  mv -f "${out[$c]}" "$INFRA_DIR/logs/$c.down.log"
done
if ((${#failed[@]})); then
  printf '[infra:down] FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
