#!/usr/bin/env bash
# PostgreSQL for local runs and integration tests, on 127.0.0.1:$PG_PORT.
#   postgres.sh up      initdb (first time), start, create role/db cryptocare
#   postgres.sh down    fast shutdown (data kept); start/stop: the same as up/down
#   postgres.sh status  exit 0 when running and accepting connections
# Data: $INFRA_DIR/postgres/data (unix socket there too), log:
# $INFRA_DIR/postgres/postgres.log. Runs as the $PG_OS_USER system user.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
INFRA_COMPONENT=postgres

PG_DIR="$INFRA_DIR/postgres"
PGDATA_DIR="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"
PG_MARKER="$PG_DIR/.bootstrapped"

as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }

pg_bin() {
  PG_BIN="$(infra_pg_bin_guess)"
  [[ -x "$PG_BIN/pg_ctl" ]] || infra_die "no PostgreSQL server binaries in $PG_BIN (set PG_BIN)"
}

pg_running() {
  [[ -f "$PGDATA_DIR/postmaster.pid" ]] || return 1
  as_pg "$PG_BIN/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1
}

# Client tools come from Debian's postgresql-client (PATH): the embedded server ships none.
pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t "${1:-5}"; }

# psql as the superuser over the unix socket in the data dir. The socket is
# only reachable by $PG_OS_USER and root (the data dir is mode 0700), so it
# uses trust auth; TCP (127.0.0.1) requires a password (scram-sha-256).
pg_admin_psql() {
  as_pg "$(command -v psql)" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA_DIR" -p "$PG_PORT" -U postgres "$@"
}

ensure_os_user() {
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    infra_log "creating system user $PG_OS_USER"
    useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
      --shell /bin/bash "$PG_OS_USER"
  fi
}

init_cluster() {
  mkdir -p "$PG_DIR"
  chown "$PG_OS_USER:" "$PG_DIR"
  chmod 700 "$PG_DIR"
  as_pg test -w "$PG_DIR" ||
    infra_die "user $PG_OS_USER cannot write $PG_DIR (a parent directory is not traversable?); set INFRA_DIR elsewhere"
  # Test data only: a cluster of another major (the server was upgraded) is made anew.
  local major
  major="$("$PG_BIN/postgres" --version | sed -n 's/^[^0-9]*\([0-9][0-9]*\).*/\1/p')"
  if [[ -s "$PGDATA_DIR/PG_VERSION" && "$(<"$PGDATA_DIR/PG_VERSION")" != "$major" ]]; then
    infra_log "data directory is PostgreSQL $(<"$PGDATA_DIR/PG_VERSION"), the server is $major: starting a new test cluster"
    rm -rf "$PGDATA_DIR"
  fi
  if [[ ! -s "$PGDATA_DIR/PG_VERSION" ]]; then
    infra_log "initdb $PGDATA_DIR"
    rm -rf "$PGDATA_DIR.tmp"
    as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR.tmp" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 --no-instructions \
      >"$PG_DIR/initdb.log" 2>&1 || infra_die "initdb failed" "$PG_DIR/initdb.log"
    echo "include_if_exists = 'cryptocare.conf'" >>"$PGDATA_DIR.tmp/postgresql.conf"
    mv "$PGDATA_DIR.tmp" "$PGDATA_DIR"
    rm -f "$PG_MARKER"
  fi
  # Rewritten on every cold start so port changes apply.
  as_pg tee "$PGDATA_DIR/cryptocare.conf" >/dev/null <<EOF
# Written by scripts/infra/postgres.sh; test settings, NOT for production.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA_DIR'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

bootstrap() {
  pg_admin_psql -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_APP_USER') THEN
    CREATE ROLE $PG_APP_USER LOGIN CREATEDB PASSWORD '$PG_APP_PASSWORD';
  ELSE
    ALTER ROLE $PG_APP_USER LOGIN CREATEDB PASSWORD '$PG_APP_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PG_APP_DB OWNER $PG_APP_USER'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_APP_DB')\gexec
ALTER DATABASE $PG_APP_DB OWNER TO $PG_APP_USER;
GRANT ALL ON DATABASE $PG_APP_DB TO $PG_APP_USER;
SQL
  # The app role may create schemas and use/own public in its database.
  pg_admin_psql -d "$PG_APP_DB" -c "ALTER SCHEMA public OWNER TO $PG_APP_USER"
  psql -X -q -At "$DATABASE_URL" -c 'select 1' >/dev/null ||
    infra_die "cannot log in as $PG_APP_USER over TCP" "$PG_LOG"
  touch "$PG_MARKER"
}

cmd_up() {
  pg_bin
  if pg_running; then
    pg_ready 5 || infra_die "running but not accepting connections on 127.0.0.1:$PG_PORT" "$PG_LOG"
    [[ -f "$PG_MARKER" ]] || bootstrap
    infra_log "already running on 127.0.0.1:$PG_PORT"
    return 0
  fi
  infra_ensure_cmds psql=postgresql-client pg_isready=postgresql-client
  pg_bin
  ensure_os_user
  init_cluster
  if infra_port_open "$PG_PORT"; then
    infra_die "127.0.0.1:$PG_PORT is already in use by another process"
  fi
  infra_log "starting on 127.0.0.1:$PG_PORT"
  as_pg "$PG_BIN/pg_ctl" start -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 -s </dev/null 9>&- ||
    infra_die "pg_ctl start failed" "$PG_LOG"
  pg_ready 30 || infra_die "not accepting connections on 127.0.0.1:$PG_PORT" "$PG_LOG"
  bootstrap
  infra_log "up: $DATABASE_URL"
}

cmd_down() {
  pg_bin
  if pg_running; then
    infra_log "stopping"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 60 -s ||
      infra_die "pg_ctl stop failed" "$PG_LOG"
  else
    infra_log "not running"
  fi
}

cmd_status() {
  pg_bin
  if pg_running && pg_ready 2; then
    infra_log "running on 127.0.0.1:$PG_PORT ($DATABASE_URL), data $PGDATA_DIR"
  else
    infra_log "not running"
    return 1
  fi
}

case "${1:-}" in
  up | start) infra_lock postgres; cmd_up ;;
  down | stop) infra_lock postgres; cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 {up|start|down|stop|status}" >&2; exit 2 ;;
esac
