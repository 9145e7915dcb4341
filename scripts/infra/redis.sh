#!/usr/bin/env bash
# Redis for local runs and integration tests, on 127.0.0.1:$REDIS_PORT.
#   redis.sh up      start daemonized (no persistence: data is lost on down)
#   redis.sh down    shutdown (start/stop: the same as up/down)
#   redis.sh kill    SIGKILL, as a crash (fault injection)
#   redis.sh status  exit 0 when running and answering PING
# Config, pidfile and log: $INFRA_DIR/redis/.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
INFRA_COMPONENT=redis

REDIS_DIR="$INFRA_DIR/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

ping_ok() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

ours_alive() { infra_pid_alive "$REDIS_PID" redis-server; }

cmd_up() {
  if ours_alive && ping_ok; then
    infra_log "already running on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  infra_ensure_cmds redis-server=redis-server redis-cli=redis-tools
  if ours_alive; then
    # Started but not answering yet (e.g. a concurrent up): wait below.
    :
  elif infra_port_open "$REDIS_PORT"; then
    infra_die "127.0.0.1:$REDIS_PORT is already in use by another process"
  else
    mkdir -p "$REDIS_DIR"
    rm -f "$REDIS_PID"
    cat >"$REDIS_CONF" <<EOF
# Written by scripts/infra/redis.sh; test settings, NOT for production.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_PID
logfile $REDIS_LOG
dir $REDIS_DIR
save ""
appendonly no
loglevel notice
EOF
    infra_log "starting on 127.0.0.1:$REDIS_PORT"
    redis-server "$REDIS_CONF" </dev/null >>"$REDIS_LOG" 2>&1 9>&- || infra_die "redis-server failed to start" "$REDIS_LOG"
  fi
  local i
  for ((i = 0; i < 150; i++)); do
    ping_ok && { infra_log "up: $REDIS_URL"; return 0; }
    sleep 0.1
  done
  infra_die "not answering PING on 127.0.0.1:$REDIS_PORT after 15 s" "$REDIS_LOG"
}

cmd_down() {
  if ! ours_alive; then
    infra_log "not running"
    rm -f "$REDIS_PID"
    return 0
  fi
  local pid i
  pid="$(<"$REDIS_PID")"
  infra_log "stopping"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$REDIS_PID"; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$REDIS_PID"
}

# A crash, for fault injection: SIGKILL, no shutdown (nothing is kept anyway).
cmd_kill() {
  if ours_alive; then
    infra_log "killing (SIGKILL)"
    kill -KILL "$(<"$REDIS_PID")" 2>/dev/null || true
  fi
  rm -f "$REDIS_PID"
}

cmd_status() {
  if ours_alive && ping_ok; then
    infra_log "running on 127.0.0.1:$REDIS_PORT ($REDIS_URL)"
  else
    infra_log "not running"
    return 1
  fi
}

case "${1:-}" in
  up | start) infra_lock redis; cmd_up ;;
  down | stop) infra_lock redis; cmd_down ;;
  kill) infra_lock redis; cmd_kill ;;
  status) cmd_status ;;
  *) echo "usage: $0 {up|start|down|stop|kill|status}" >&2; exit 2 ;;
esac
