#!/usr/bin/env bash
# PostgreSQL restore drill: base backup + WAL archive -> point-in-time recovery, checked.
# The procedure it rehearses is docs/operations/postgres-backup-restore.md.
#
#   scripts/ops/restore-drill.sh                   restore to a point in time (a "bad write" undone)
#   scripts/ops/restore-drill.sh --target latest   restore everything the archive holds (primary lost)
#
# What it does, on a throwaway PostgreSQL of its own (own data directory, 127.0.0.1 and a unix socket
# in its work directory, the binaries of scripts/infra: infra_pg_bin_guess), with no container:
#   1. initdb with wal_level=replica, archive_mode=on and an archive_command that copies each WAL
#      segment to a local archive directory (what barman-cloud does to object storage);
#   2. applies payment's checked-in migrations (the SQL files `prisma migrate deploy` runs) and
#      writes invoices with their outbox events, plus consumer effects with their processed_events;
#   3. takes a base backup with pg_basebackup (-X none: like the production backups, it needs the
#      archive to be restorable) and verifies it (pg_verifybackup);
#   4. writes more (in the WAL only), notes the target time, then writes what must NOT survive a
#      restore to that time (inserts, updates, an accidental DELETE), and switches WAL so all of it
#      is archived; stops the primary and deletes its data directory;
#   5. restores the base backup into a new data directory with restore_command (from the archive),
#      recovery_target_time and recovery.signal (recovery_target_action=promote), starts it, waits
#      for the promotion;
#   6. checks the restored data against what was committed at the target, and prints a report (RPO
#      achieved, time to restore). Exit 0 only when every check passed.
# Everything (servers, directories) is removed on exit, also on failure or Ctrl-C.
#
# Environment: PG_BIN and PG_OS_USER as in scripts/infra/env.sh; RESTORE_DRILL_PORT (first port
# tried, default 56500 + a per-process offset), RESTORE_DRILL_TIMEOUT (seconds, default 300),
# RESTORE_DRILL_KEEP=1 (keep the work directory for inspection), RESTORE_DRILL_REPORT_JSON=<file>
# (also write the report as JSON there), RESTORE_DRILL_TARGET (time | latest, like --target).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../infra/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/../infra/env.sh"
REPO_ROOT="$INFRA_REPO_ROOT"

TARGET_MODE="${RESTORE_DRILL_TARGET:-time}"
while (($#)); do
  case "$1" in
    --target) TARGET_MODE="${2:-}"; shift 2 ;;
    --target=*) TARGET_MODE="${1#*=}"; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "restore-drill: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$TARGET_MODE" == time || "$TARGET_MODE" == latest ]] || { echo "restore-drill: --target must be time or latest" >&2; exit 2; }

SERVICE=payment                       # whose migrations and tables the drill uses
MIGRATIONS="$REPO_ROOT/services/$SERVICE/prisma/migrations"
DB=cryptocare
DEADLINE=$((SECONDS + ${RESTORE_DRILL_TIMEOUT:-300}))

log() { printf '[restore-drill] %s\n' "$*" >&2; }
die() {
  log "ERROR: $1"; shift
  local f
  for f in "$@"; do [[ -s "$f" ]] && { printf -- '----- tail of %s -----\n' "$f" >&2; tail -n 40 "$f" >&2; }; done
  exit 1
}
# Seconds left before the drill's deadline (at least 1), and one bounded step of a wait loop.
left() { local s=$((DEADLINE - SECONDS)); echo $((s > 0 ? s : 1)); }
tick() { ((SECONDS < DEADLINE)) || die "time is up (RESTORE_DRILL_TIMEOUT=${RESTORE_DRILL_TIMEOUT:-300}s): $1" "${@:2}"; sleep 0.2; }
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ------------------------------------------------------------ binaries, user --

# The packages scripts/infra installs (a no-op when they are there; apt-get as root otherwise).
infra_ensure_cmds "$(infra_pg_full_bin_guess)/initdb=postgresql" psql=postgresql-client pg_basebackup=postgresql-client \
  runuser=util-linux
# A complete installation, not the test server of scripts/infra: the drill needs pg_basebackup,
# pg_verifybackup and pg_waldump of the server's own major, which the embedded package (the tests'
# server, PostgreSQL 18) does not ship and no registry reachable here offers for 18. So the drill
# runs on Debian's full PostgreSQL; the mechanism it proves (base backup + archived WAL + recovery
# to a target time) is the same in every major since 12.
PG_BIN="${PG_BIN:-$(infra_pg_full_bin_guess)}"
# A tool from the same installation as the server when it ships it, else from PATH (client tools
# read older servers; pg_basebackup refuses a newer one, which then fails loudly below).
pg_tool() {
  if [[ -x "$PG_BIN/$1" ]]; then echo "$PG_BIN/$1"; return; fi
  command -v "$1" 2>/dev/null || die "no $1 in $PG_BIN or on PATH (set PG_BIN to a full PostgreSQL installation)"
}
INITDB="$(pg_tool initdb)"; PG_CTL="$(pg_tool pg_ctl)"; PSQL="$(pg_tool psql)"
BASEBACKUP="$(pg_tool pg_basebackup)"; VERIFYBACKUP="$(pg_tool pg_verifybackup)"; WALDUMP="$(pg_tool pg_waldump)"
PG_VERSION_LINE="$("$(pg_tool postgres)" --version)"

# PostgreSQL refuses to run as root: as root, everything runs as $PG_OS_USER (like scripts/infra).
if [[ "$(id -u)" == 0 ]]; then
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    log "creating system user $PG_OS_USER"
    useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql --shell /bin/bash "$PG_OS_USER"
  fi
  as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
else
  as_pg() { "$@"; }
fi

# ------------------------------------------------------------- work directory --

W="$(mktemp -d "${TMPDIR:-/tmp}/cryptocare-restore-drill.XXXXXX")"
PRIMARY="$W/primary"          # the database that will be lost
ARCHIVE="$W/wal-archive"      # continuous WAL archive (object storage in production)
BASE="$W/base-backup"         # the base backup (object storage in production)
RESTORED="$W/restored"        # the restore
ARCHIVE2="$W/wal-archive-restored"  # the restored cluster archives to a new place, never over the source's
SOCK="$W/socket"
# Servers stopped and everything removed on any exit (success, failure, Ctrl-C, SIGTERM).
cleanup() {
  local rc=$? d
  trap - EXIT INT TERM
  for d in "$PRIMARY" "$RESTORED"; do
    if [[ -f "$d/postmaster.pid" ]]; then
      as_pg "$PG_CTL" stop -D "$d" -m immediate -w -t 30 -s >/dev/null 2>&1 || true
    fi
  done
  if [[ "${RESTORE_DRILL_KEEP:-}" == 1 ]]; then
    log "work directory kept: $W"
  else
    rm -rf "$W"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[[ "$(id -u)" == 0 ]] && chown "$PG_OS_USER:" "$W"
chmod 700 "$W"
as_pg mkdir -p "$ARCHIVE" "$ARCHIVE2" "$SOCK" "$W/logs"

# A free loopback port (PostgreSQL also listens on its unix socket in $SOCK, which is what we use).
PORT="${RESTORE_DRILL_PORT:-$((56500 + $$ % 400))}"
for _ in $(seq 1 100); do infra_port_open "$PORT" || break; PORT=$((PORT + 1)); done
infra_port_open "$PORT" && die "no free port near ${RESTORE_DRILL_PORT:-56500}"

# psql as the superuser over the drill's unix socket: sql [psql args...] (SQL on stdin or -c).
sql() { as_pg "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d "$DB" "$@"; }

# write_conf DATADIR ARCHIVE_DIR: the drill's settings, included from postgresql.conf.
write_conf() {
  as_pg tee "$1/drill.conf" >/dev/null <<EOF
# Written by scripts/ops/restore-drill.sh
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = 20
shared_buffers = 16MB
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $2/%f && cp %p $2/%f.part && mv $2/%f.part $2/%f'
archive_timeout = 60
track_commit_timestamp = on
# No background transaction may commit between the drill's own (the first commit after the target
# must be the drill's first "late" transaction).
autovacuum = off
log_line_prefix = '%m [%p] '
EOF
}

start_server() { # DATADIR LOG
  as_pg "$PG_CTL" start -D "$1" -l "$2" -w -t "$(left)" -s </dev/null || die "pg_ctl start $1 failed" "$2"
}

# ------------------------------------------------------------------- primary --

log "PostgreSQL: $PG_VERSION_LINE ($PG_BIN), port $PORT, work directory $W"
as_pg "$INITDB" -D "$PRIMARY" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
  --no-instructions --no-sync >"$W/logs/initdb.log" 2>&1 || die "initdb failed" "$W/logs/initdb.log"
echo "include_if_exists = 'drill.conf'" | as_pg tee -a "$PRIMARY/postgresql.conf" >/dev/null
write_conf "$PRIMARY" "$ARCHIVE"
start_server "$PRIMARY" "$W/logs/primary.log"
as_pg "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d postgres -c "CREATE DATABASE $DB" >/dev/null

# The service's schema, from its checked-in migrations, in order (each file in one transaction).
sql -c "CREATE SCHEMA $SERVICE"
n_migrations=0
for f in "$MIGRATIONS"/*/migration.sql; do
  PGOPTIONS="-c search_path=$SERVICE -c client_min_messages=warning" sql --single-transaction <"$f" >/dev/null || die "migration $f failed"
  n_migrations=$((n_migrations + 1))
done
((n_migrations > 0)) || die "no migrations in $MIGRATIONS"
log "applied $n_migrations migrations of $SERVICE"

# The workload. Invoices are created with their outbox event in one transaction (as the service
# does); the "relay" deletes published outbox rows; a consumer writes its effect (a refund) and
# its processed_events row in one transaction. Each phase tags its invoices in provider_invoice_id.
create_invoices() { # PHASE COUNT -> one transaction; prints its transaction id
  sql <<SQL
BEGIN;
SELECT txid_current();
WITH inv AS (
  INSERT INTO $SERVICE.invoices (id, appointment_id, provider, provider_invoice_id, status, amount, currency, sats,
                                 lightning_invoice, payment_uri, checkout_url, expires_at, updated_at)
  SELECT gen_random_uuid(), gen_random_uuid(), 'swiss-bitcoin-pay', 'drill-$1-' || g || '-' || txid_current(), 'open',
         120.00, 'CHF', 150000, 'lnbc1500u1drill', 'bitcoin:drill?amount=0.0015', 'https://checkout.invalid/' || g,
         now() + interval '1 hour', now()
  FROM generate_series(1, $2) g
  RETURNING id)
INSERT INTO $SERVICE.outbox (id, topic, key, type, payload)
SELECT gen_random_uuid(), 'payment.events.v1', id::text, 'payment.invoice_created', '\x00'::bytea FROM inv;
COMMIT;
SQL
}
relay_publishes() { sql -c "DELETE FROM $SERVICE.outbox"; }
# A consumer handles `appointment.cancelled` for COUNT paid invoices of PHASE: refund + processed_events.
consume_cancellations() { # PHASE COUNT
  sql <<SQL
BEGIN;
WITH picked AS (
  SELECT id, appointment_id FROM $SERVICE.invoices
  WHERE provider_invoice_id LIKE 'drill-$1-%' AND status = 'paid' ORDER BY id LIMIT $2 FOR UPDATE),
upd AS (UPDATE $SERVICE.invoices i SET status = 'refund_due', updated_at = now() FROM picked p WHERE i.id = p.id RETURNING i.id),
ref AS (INSERT INTO $SERVICE.refunds (id, invoice_id, appointment_id, sats, reason, status)
        SELECT gen_random_uuid(), p.id, p.appointment_id, 150000, 'cancelled by the patient', 'due' FROM picked p RETURNING id)
INSERT INTO $SERVICE.processed_events (consumer, event_id)
SELECT 'drill', p.appointment_id FROM picked p;
COMMIT;
SQL
}
mark_paid() { # PHASE COUNT
  sql -c "UPDATE $SERVICE.invoices SET status = 'paid', provider_state = 'paid', paid_at = now(), updated_at = now()
          WHERE id IN (SELECT id FROM $SERVICE.invoices WHERE provider_invoice_id LIKE 'drill-$1-%' AND status = 'open'
                       ORDER BY id LIMIT $2)"
}
count_paid() { sql -c "SELECT count(*) FROM $SERVICE.invoices WHERE provider_invoice_id LIKE 'drill-$1-%' AND status = 'paid'"; }
count_phase() { sql -c "SELECT count(*) FROM $SERVICE.invoices WHERE provider_invoice_id LIKE 'drill-$1-%'"; }
# Row count and md5 of the full contents of each table, in a stable order.
fingerprint() {
  sql <<SQL
SELECT string_agg(t || '=' || n || ':' || h, ' ' ORDER BY t) FROM (
  SELECT 'invoices' t, count(*) n, md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) h FROM $SERVICE.invoices x
  UNION ALL SELECT 'outbox', count(*), md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM $SERVICE.outbox x
  UNION ALL SELECT 'processed_events', count(*), md5(coalesce(string_agg(x::text, ',' ORDER BY x.consumer, x.event_id), ''))
            FROM $SERVICE.processed_events x
  UNION ALL SELECT 'refunds', count(*), md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM $SERVICE.refunds x
) s
SQL
}
last_commit_time() { sql -c "SELECT timestamp FROM pg_last_committed_xact()"; }

# Phase 1: in the base backup.
for _ in 1 2 3 4; do create_invoices base 10 >/dev/null; done
relay_publishes
mark_paid base 15
consume_cancellations base 5

# ---------------------------------------------------------------- base backup --

t_backup=$(now_s)
as_pg "$BASEBACKUP" -h "$SOCK" -p "$PORT" -U postgres -D "$BASE" -X none --checkpoint=fast --no-sync \
  >"$W/logs/basebackup.log" 2>&1 || die "pg_basebackup failed" "$W/logs/basebackup.log"
backup_seconds=$(elapsed "$t_backup" "$(now_s)")
backup_bytes=$(du -sb "$BASE" | cut -f1)
check_verify=fail
as_pg "$VERIFYBACKUP" --no-parse-wal "$BASE" >"$W/logs/verifybackup.log" 2>&1 && check_verify=ok
start_wal=$(sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]\{24\}\))$/\1/p' "$BASE/backup_label")
[[ -n "$start_wal" ]] || die "no START WAL LOCATION in the base backup's backup_label" "$BASE/backup_label"
log "base backup: $((backup_bytes / 1024)) KiB in ${backup_seconds}s, starts at WAL $start_wal, pg_verifybackup $check_verify"

# Phase 2: after the base backup, before the target: only the archived WAL has it.
for _ in 1 2 3; do create_invoices wal 10 >/dev/null; done   # events left unpublished at the target
mark_paid base 10
mark_paid wal 8
consume_cancellations wal 3
last_commit_before_target=$(last_commit_time)
sql -c "SELECT pg_sleep(0.2)" >/dev/null
target_time=$(sql -c "SELECT clock_timestamp()")
target_fingerprint=$(fingerprint)
paid_at_target=$(count_paid wal)
sql -c "SELECT pg_sleep(0.2)" >/dev/null
log "target time: $target_time"

# Phase 3: after the target. A restore to the target must not have any of it.
first_after_xid=$(create_invoices late 20 | head -n 1)
mark_paid wal 10                                             # updates after the target
doomed=$(sql -c "SELECT count(*) FROM $SERVICE.invoices WHERE provider_invoice_id LIKE 'drill-base-%' AND status = 'open'")
sql -c "DELETE FROM $SERVICE.invoices WHERE provider_invoice_id LIKE 'drill-base-%' AND status = 'open'"   # the accident
relay_publishes
consume_cancellations wal 2
last_commit_on_primary=$(last_commit_time)
latest_fingerprint=$(fingerprint)
expected_base=40 expected_wal=30 expected_late=20

# Everything is archived before the "disaster": switch to a new segment, wait for the archiver.
last_segment=$(sql -c "SELECT pg_walfile_name(pg_switch_wal())")
while :; do
  archived=$(sql -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
  [[ -n "$archived" && ! "$archived" < "$last_segment" ]] && break
  tick "waiting for the archiver to archive $last_segment" "$W/logs/primary.log"
done
[[ -f "$ARCHIVE/$last_segment" ]] || die "segment $last_segment is not in the archive"
as_pg "$PG_CTL" stop -D "$PRIMARY" -m fast -w -t "$(left)" -s || die "pg_ctl stop failed" "$W/logs/primary.log"
rm -rf "$PRIMARY"
archived_segments=$(ls "$ARCHIVE" | grep -Ec '^[0-9A-F]{24}$' || true)
archive_listing=$(ls -l --time-style=+%s "$ARCHIVE" | md5sum)
log "primary stopped and deleted; archive: $archived_segments WAL segments up to $last_segment"

# Control: the first transaction after the target is in the archive, so its absence after the
# restore is the target's doing, not a gap in the archive.
check_after_target_archived=fail
if as_pg "$WALDUMP" -p "$ARCHIVE" --rmgr=Transaction "$start_wal" "$last_segment" 2>/dev/null |
  grep -Eq "tx: +$first_after_xid, .*desc: COMMIT"; then
  check_after_target_archived=ok
fi

# ------------------------------------------------------------------- restore --

t_restore=$(now_s)
as_pg cp -a "$BASE" "$RESTORED"
as_pg chmod 700 "$RESTORED"
write_conf "$RESTORED" "$ARCHIVE2"
{
  echo "restore_command = 'cp $ARCHIVE/%f %p'"
  if [[ "$TARGET_MODE" == time ]]; then
    echo "recovery_target_time = '$target_time'"
    echo "recovery_target_action = 'promote'"
  fi
} | as_pg tee -a "$RESTORED/drill.conf" >/dev/null
as_pg touch "$RESTORED/recovery.signal"
start_server "$RESTORED" "$W/logs/restored.log"
# pg_ctl returns once the server accepts (read-only) connections; the restore is done at promotion.
until [[ "$(sql -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" == f ]]; do
  as_pg "$PG_CTL" status -D "$RESTORED" >/dev/null 2>&1 || die "the restored server stopped during recovery" "$W/logs/restored.log"
  tick "waiting for the end of recovery" "$W/logs/restored.log"
done
restore_seconds=$(elapsed "$t_restore" "$(now_s)")
replayed_segments=$(grep -c 'restored log file' "$W/logs/restored.log" || true)
log "restored and promoted in ${restore_seconds}s ($replayed_segments WAL segments replayed)"

# --------------------------------------------------------------------- checks --

got_fingerprint=$(fingerprint)
got_base=$(count_phase base) got_wal=$(count_phase wal) got_late=$(count_phase late) got_paid=$(count_paid wal)
recovered_until=$(sql -c "SELECT pg_last_xact_replay_timestamp()")
# The timeline of the WAL the restored server now writes (2 after promoting the restore of timeline 1).
timeline=$(sql -c "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")
orphan_events=$(sql -c "SELECT count(*) FROM $SERVICE.outbox o LEFT JOIN $SERVICE.invoices i ON i.id::text = o.key WHERE i.id IS NULL")
wal_invoices_without_event=$(sql -c "SELECT count(*) FROM $SERVICE.invoices i WHERE i.provider_invoice_id LIKE 'drill-wal-%'
                                      AND NOT EXISTS (SELECT 1 FROM $SERVICE.outbox o WHERE o.key = i.id::text)")
unmatched_effects=$(sql -c "SELECT count(*) FROM $SERVICE.processed_events e FULL JOIN $SERVICE.refunds r ON r.appointment_id = e.event_id
                            WHERE e.event_id IS NULL OR r.id IS NULL")
pending_events=$(sql -c "SELECT count(*) FROM $SERVICE.outbox")
writable=fail
sql -c "CREATE TABLE drill_after_restore (ok boolean); DROP TABLE drill_after_restore" && writable=ok
stop_line=$(grep -m1 -o 'recovery stopping before commit of transaction [0-9]*' "$W/logs/restored.log" || true)
# The restored server archives its own WAL (new timeline) to its own place from the start; the
# source's archive is read, never written.
for _ in $(seq 1 50); do [[ -f "$ARCHIVE2/00000002.history" ]] && break; sleep 0.2; done
archive_listing_after=$(ls -l --time-style=+%s "$ARCHIVE" | md5sum)

if [[ "$TARGET_MODE" == time ]]; then
  wanted_commit="$last_commit_before_target"; wanted_fingerprint="$target_fingerprint"
  want_base=$expected_base want_late=0
else
  wanted_commit="$last_commit_on_primary"; wanted_fingerprint="$latest_fingerprint"
  want_base=$((expected_base - doomed)) want_late=$expected_late
fi
# RPO achieved: how much committed work, in time, lies between the last transaction the restore
# recovered and the last one committed before the point asked for (the target, or the end).
rpo_seconds=$(sql -c "SELECT round(extract(epoch FROM '$wanted_commit'::timestamptz - '$recovered_until'::timestamptz)::numeric, 3)")

ok_if() { if eval "$1"; then echo ok; else echo fail; fi; }
declare -A check detail
check[base_backup_verified]=$check_verify
detail[base_backup_verified]="pg_verifybackup: every file of the base backup matches its manifest"
check[after_target_commit_archived]=$check_after_target_archived
detail[after_target_commit_archived]="control: the COMMIT of the first transaction after the target (xid $first_after_xid) is in the archived WAL"
check[rows_from_base_backup_present]=$(ok_if "[[ $got_base == $want_base ]]")
detail[rows_from_base_backup_present]="$got_base of $want_base invoices written before the base backup"
check[rows_from_wal_present]=$(ok_if "[[ $got_wal == $expected_wal ]]")
detail[rows_from_wal_present]="$got_wal of $expected_wal invoices written after the base backup (replayed from the archive)"
check[last_commit_recovered]=$(ok_if "[[ '$recovered_until' == '$wanted_commit' ]]")
detail[last_commit_recovered]="last recovered commit $recovered_until"
check[state_equals_target]=$(ok_if "[[ '$got_fingerprint' == '$wanted_fingerprint' ]]")
detail[state_equals_target]="row counts and content md5 of invoices, outbox, processed_events, refunds equal the source's at the restore point"
if [[ "$TARGET_MODE" == time ]]; then
  check[after_target_absent]=$(ok_if "[[ $got_late == 0 && $got_paid == $paid_at_target && $got_base == $expected_base ]]")
  detail[after_target_absent]="$got_late of $expected_late invoices inserted after the target present; $got_paid paid as at the target ($paid_at_target, 10 more marked paid after it); $got_base of $expected_base invoices of the base backup present ($doomed deleted after the target)"
  check[stopped_at_target]=$(ok_if "[[ '$stop_line' == 'recovery stopping before commit of transaction $first_after_xid' ]]")
  detail[stopped_at_target]="server log: ${stop_line:-no 'recovery stopping' line}"
else
  check[late_writes_present]=$(ok_if "[[ $got_late == $want_late && -z '$stop_line' ]]")
  detail[late_writes_present]="$got_late of $want_late late invoices present, the $doomed deleted invoices gone: replay ran to the end of the archive"
fi
check[outbox_consistent]=$(ok_if "[[ $orphan_events == 0 && $unmatched_effects == 0 && ( $TARGET_MODE == latest || $wal_invoices_without_event == 0 ) ]]")
detail[outbox_consistent]="events without their invoice: $orphan_events;$([[ $TARGET_MODE == latest ]] || echo " invoices left unpublished at the target without their event: $wal_invoices_without_event;") processed_events rows and consumer effects unmatched: $unmatched_effects"
check[restored_writable]=$(ok_if "[[ $writable == ok && $timeline == 2 ]]")
detail[restored_writable]="promoted, writes on timeline $timeline"
check[source_archive_untouched]=$(ok_if "[[ '$archive_listing' == '$archive_listing_after' && -f '$ARCHIVE2/00000002.history' ]]")
detail[source_archive_untouched]="the restore read the source archive and archives its own timeline elsewhere"

result=pass
for c in "${!check[@]}"; do [[ "${check[$c]}" == ok ]] || result=fail; done

# --------------------------------------------------------------------- report --

order=(base_backup_verified after_target_commit_archived rows_from_base_backup_present rows_from_wal_present
  last_commit_recovered state_equals_target after_target_absent stopped_at_target late_writes_present
  outbox_consistent restored_writable source_archive_untouched)
{
  echo "PostgreSQL restore drill (--target $TARGET_MODE): $PG_VERSION_LINE"
  echo "  base backup      ${backup_seconds}s, $((backup_bytes / 1024)) KiB; WAL archive: $archived_segments segments"
  if [[ "$TARGET_MODE" == time ]]; then
    echo "  restore point    $target_time (target time; last commit before it $last_commit_before_target)"
  else
    echo "  restore point    end of the archive (the lost primary's last commit $last_commit_on_primary)"
  fi
  if [[ "$rpo_seconds" == -* ]]; then
    echo "  RPO achieved     none: recovered ${rpo_seconds#-}s PAST the restore point"
  else
    echo "  RPO achieved     ${rpo_seconds}s of committed work before the restore point not recovered"
  fi
  echo "  time to restore  ${restore_seconds}s (copy the base backup, replay $replayed_segments WAL segments, promote)"
  echo "  outbox           $pending_events events unpublished at the restore point (the relay publishes them)"
  for c in "${order[@]}"; do
    [[ -n "${check[$c]:-}" ]] || continue
    printf '  %-4s %-29s %s\n' "${check[$c]}" "$c" "${detail[$c]}"
  done
  echo "result: $result"
}

if [[ -n "${RESTORE_DRILL_REPORT_JSON:-}" ]]; then
  {
    printf '{"result":"%s","target":"%s","postgres":"%s","restorePoint":"%s","lastCommitWanted":"%s","recoveredUntil":"%s",' \
      "$result" "$TARGET_MODE" "$PG_VERSION_LINE" "$([[ $TARGET_MODE == time ]] && echo "$target_time" || echo end)" "$wanted_commit" "$recovered_until"
    printf '"rpoSeconds":%s,"restoreSeconds":%s,"backupSeconds":%s,"replayedSegments":%s,"timeline":%s,' \
      "$rpo_seconds" "$restore_seconds" "$backup_seconds" "$replayed_segments" "$timeline"
    printf '"rows":{"base":%s,"wal":%s,"late":%s,"deletedAfterTarget":%s},"checks":{' "$got_base" "$got_wal" "$got_late" "$doomed"
    sep=''
    for c in "${order[@]}"; do
      [[ -n "${check[$c]:-}" ]] || continue
      printf '%s"%s":"%s"' "$sep" "$c" "${check[$c]}"; sep=','
    done
    printf '}}\n'
  } >"$RESTORE_DRILL_REPORT_JSON"
fi

[[ "$result" == pass ]]
