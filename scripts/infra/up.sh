#!/usr/bin/env bash
# Start PostgreSQL, Redis and Kafka on loopback (installing what is missing),
# in parallel. Progress goes to stderr; stdout gets only the export lines, so
#   eval "$(scripts/infra/up.sh)"
# sets DATABASE_URL, REDIS_URL and KAFKA_BROKERS in the calling shell.
# Exits non-zero naming each component that failed, with the tail of its log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
INFRA_COMPONENT=up

components=(postgres redis kafka)
t0=$(date +%s%N)

# Install missing apt packages once, up front, so the parallel starts below
# never race on dpkg.
infra_ensure_all_packages

mkdir -p "$INFRA_DIR/logs"
declare -A pids out text
for c in "${components[@]}"; do
  # Per-call file (concurrent calls must not mix output), renamed to
  # logs/$c.up.log when done.
  out[$c]="$(mktemp "$INFRA_DIR/logs/$c.up.XXXXXX")"
  "$INFRA_SCRIPTS_DIR/$c.sh" up </dev/null >"${out[$c]}" 2>&1 &
  pids[$c]=$!
done

failed=()
for c in "${components[@]}"; do
  if ! wait "${pids[$c]}"; then
    failed+=("$c")
  fi
  text[$c]="$(<"${out[$c]}")"
  mv -f "${out[$c]}" "$INFRA_DIR/logs/$c.up.log"
done

for c in "${components[@]}"; do
  [[ " ${failed[*]} " == *" $c "* || -z "${text[$c]}" ]] || printf '%s\n' "${text[$c]}" >&2
done
if ((${#failed[@]})); then
  for c in "${failed[@]}"; do
    printf '\n[infra:up] FAILED: %s (output of scripts/infra/%s.sh up, also in %s):\n' \
      "$c" "$c" "$INFRA_DIR/logs/$c.up.log" >&2
    printf '%s\n' "${text[$c]}" >&2
  done
  printf '[infra:up] FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi

elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
infra_log "all up in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000)))s (data in $INFRA_DIR)"
infra_export_lines
