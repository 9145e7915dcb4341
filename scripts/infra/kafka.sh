#!/usr/bin/env bash
# Apache Kafka (KRaft, single combined broker+controller) for local runs and
# integration tests, on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT),
# from Maven Central jars (kafka/pom.xml), no distribution tarball, no container.
#   kafka.sh up                 resolve jars (once), format storage (once), start,
#                               wait until ready, create the topics of kafka/topics.txt
#   kafka.sh down               stop (data kept); start/stop: the same as up/down
#   kafka.sh status             exit 0 when running; lists the topics
#   kafka.sh topics             list topics ("name partitions")
#   kafka.sh run-class CLASS .. run a Kafka CLI class with the broker's classpath, e.g.
#       kafka.sh run-class org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:59092 --describe
# Layout under $INFRA_DIR/kafka: libs/ (jars), data/ (log.dirs), logs/
# (server.log, kafka.out), server.properties, kafka.pid.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
INFRA_COMPONENT=kafka

SRC_DIR="$INFRA_SCRIPTS_DIR/kafka"
KAFKA_HOME="$INFRA_DIR/kafka"
LIBS="$KAFKA_HOME/libs"
CLASSES="$KAFKA_HOME/classes"
DATA="$KAFKA_HOME/data"
LOGS="$KAFKA_HOME/logs"
CONF="$KAFKA_HOME/server.properties"
PIDFILE="$KAFKA_HOME/kafka.pid"
OUT="$LOGS/kafka.out"
SERVER_LOG="$LOGS/server.log"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"

# Short-lived admin JVMs: C1 only, serial GC, small heap -> faster start.
TOOL_JAVA_OPTS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms32m -Xmx256m -Xshare:auto
  "-Dlog4j2.configurationFile=$SRC_DIR/tools-log4j2.properties")

ours_alive() { infra_pid_alive "$PIDFILE" kafka.Kafka; }

ensure_libs() {
  local key
  key="$(sha256sum <"$SRC_DIR/pom.xml" | cut -d' ' -f1) ${KAFKA_VERSION:-default}"
  if [[ -f "$LIBS/.resolved" && "$(<"$LIBS/.resolved")" == "$key" ]]; then
    return 0
  fi
  mkdir -p "$KAFKA_HOME"
  infra_log "resolving Kafka jars with Maven into $LIBS"
  rm -rf "$LIBS.tmp"
  local mvn_args=(-q -B -f "$SRC_DIR/pom.xml" dependency:copy-dependencies
    -DincludeScope=runtime "-DoutputDirectory=$LIBS.tmp")
  [[ -z "$KAFKA_VERSION" ]] || mvn_args+=("-Dkafka.version=$KAFKA_VERSION")
  mvn "${mvn_args[@]}" >"$KAFKA_HOME/mvn.log" 2>&1 ||
    infra_die "mvn dependency:copy-dependencies failed" "$KAFKA_HOME/mvn.log"
  ls "$LIBS.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || infra_die "no kafka_2.13 jar resolved" "$KAFKA_HOME/mvn.log"
  rm -rf "$LIBS" "$CLASSES"
  mv "$LIBS.tmp" "$LIBS"
  echo "$key" >"$LIBS/.resolved"
}

ensure_classes() {
  if [[ -f "$CLASSES/InfraTopics.class" && ! "$SRC_DIR/InfraTopics.java" -nt "$CLASSES/InfraTopics.class" ]]; then
    return 0
  fi
  rm -rf "$CLASSES"
  mkdir -p "$CLASSES"
  javac --release 17 -nowarn -d "$CLASSES" -cp "$LIBS/*" "$SRC_DIR/InfraTopics.java" >"$KAFKA_HOME/javac.log" 2>&1 ||
    infra_die "javac InfraTopics.java failed" "$KAFKA_HOME/javac.log"
}

infra_topics() {
  java "${TOOL_JAVA_OPTS[@]}" -cp "$CLASSES:$LIBS/*" InfraTopics "$@"
}

write_config() {
  mkdir -p "$DATA" "$LOGS"
  cat >"$CONF.tmp" <<EOF
# Written by scripts/infra/kafka.sh; single-node test broker, NOT for production.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA

num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# Small machine (2 cores): fewer threads, smaller buffers.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
log.retention.hours=24
log.segment.bytes=104857600
EOF
  mv "$CONF.tmp" "$CONF"
}

format_storage() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  local cluster_id
  # A random Kafka Uuid: 16 bytes, base64url without padding (22 chars).
  # URL-safe base64 may begin with '-': given as --cluster-id=ID, never read as an option (1 run in 64 failed).
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  infra_log "formatting storage in $DATA (cluster id $cluster_id)"
  java "${TOOL_JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format \
    --cluster-id="$cluster_id" --config "$CONF" --ignore-formatted >"$KAFKA_HOME/format.log" 2>&1 ||
    infra_die "kafka.tools.StorageTool format failed" "$KAFKA_HOME/format.log"
}

start_broker() {
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    ! infra_port_open "$p" || infra_die "127.0.0.1:$p is already in use by another process"
  done
  rm -f "$PIDFILE"
  infra_log "starting broker on 127.0.0.1:$KAFKA_PORT"
  # The inner bash writes its own pid, then execs java (same pid), whatever
  # setsid does about forking.
  # shellcheck disable=SC2016,SC2086 # $$ is the inner shell's; KAFKA_HEAP_OPTS is a list of flags
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDFILE" \
    java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "-Dkafka.logs.dir=$LOGS" "-Dlog4j2.configurationFile=$SRC_DIR/log4j2.properties" \
    -cp "$LIBS/*" kafka.Kafka "$CONF" </dev/null >>"$OUT" 2>&1 9>&- &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s "$PIDFILE" ]] && break
    sleep 0.05
  done
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until infra_port_open "$KAFKA_PORT"; do
    ours_alive || infra_die "broker exited during startup" "$OUT" "$SERVER_LOG"
    ((SECONDS < deadline)) || infra_die "port $KAFKA_PORT not open after ${KAFKA_START_TIMEOUT}s" "$OUT" "$SERVER_LOG"
    sleep 0.2
  done
}

# ensure_topics [fresh]: wait for the broker, create topics, warm coordinators.
ensure_topics() {
  local out
  if ! out="$(infra_topics ensure "$KAFKA_BROKERS" "$SRC_DIR/topics.txt" 90 "${1:-}" 2>"$KAFKA_HOME/topics.err")"; then
    cat "$KAFKA_HOME/topics.err" >&2
    infra_die "broker not ready or topic creation failed" "$SERVER_LOG"
  fi
  [[ ! -s "$KAFKA_HOME/topics.err" ]] || cat "$KAFKA_HOME/topics.err" >&2
  infra_log "$out"
}

cmd_up() {
  if ours_alive && infra_port_open "$KAFKA_PORT"; then
    ensure_classes
    ensure_topics
    infra_log "already running on $KAFKA_BROKERS"
    return 0
  fi
  infra_ensure_cmds java=openjdk-17-jdk-headless javac=openjdk-17-jdk-headless mvn=maven setsid=util-linux
  ensure_libs
  ensure_classes
  write_config
  format_storage
  if ! ours_alive; then
    start_broker
  fi
  ensure_topics fresh
  infra_log "up: $KAFKA_BROKERS"
}

cmd_down() {
  if ! ours_alive; then
    infra_log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  local pid i
  pid="$(<"$PIDFILE")"
  infra_log "stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
    sleep 0.1
  done
  infra_log "still running after 60 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

cmd_status() {
  if ours_alive && infra_port_open "$KAFKA_PORT"; then
    infra_log "running on $KAFKA_BROKERS (pid $(<"$PIDFILE")), data $DATA"
    [[ -f "$CLASSES/InfraTopics.class" ]] && infra_topics list "$KAFKA_BROKERS"
    return 0
  fi
  infra_log "not running"
  return 1
}

case "${1:-}" in
  up | start) infra_lock kafka; cmd_up ;;
  down | stop) infra_lock kafka; cmd_down ;;
  status) cmd_status ;;
  topics) ensure_classes; infra_topics list "$KAFKA_BROKERS" ;;
  run-class)
    shift
    [[ $# -ge 1 ]] || { echo "usage: $0 run-class CLASS [ARGS...]" >&2; exit 2; }
    exec java "${TOOL_JAVA_OPTS[@]}" -cp "$LIBS/*" "$@"
    ;;
  *) echo "usage: $0 {up|start|down|stop|status|topics|run-class CLASS [ARGS...]}" >&2; exit 2 ;;
esac
