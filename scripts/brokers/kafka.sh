# shellcheck shell=bash
# Kafka part of scripts/brokers.sh (sourced). A local broker is the released Apache Kafka from
# Maven Central (org.apache.kafka:kafka_2.13), run in KRaft combined mode as one node.

# Pinned: the version the test suite is proven against (see README). Override with KAFKA_VERSION
# (and KAFKA_LOG4J_VERSION when that Kafka depends on another log4j2).
KAFKA_VERSION=${KAFKA_VERSION:-4.1.2}
KAFKA_LOG4J_VERSION=${KAFKA_LOG4J_VERSION:-2.25.3}
KAFKA_BROKERS_LIST=${KAFKA_BROKERS:-127.0.0.1:9092}
KAFKA_FIRST=${KAFKA_BROKERS_LIST%%,*}
KAFKA_HOST=${KAFKA_FIRST%:*}
KAFKA_PORT=${KAFKA_FIRST##*:}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
# The jars live outside the work tree so clones and CI runs on the same machine share them.
KAFKA_CACHE_DIR=${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-mq-pool/kafka_2.13-$KAFKA_VERSION}
KAFKA_LIB="$KAFKA_CACHE_DIR/lib"
KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"
KAFKA_DOCKER_IMAGE="apache/kafka:4.1.2"

kafka_probe() { probe kafka "$KAFKA_BROKERS_LIST"; }

kafka_origin() {
  if pid_alive "$KAFKA_PID" "$KAFKA_DIR/server.properties"; then
    printf 'local process started by this script (pid %s, Apache Kafka %s, jars in %s, log %s)' \
      "$(cat "$KAFKA_PID")" "$(cat "$KAFKA_DIR/version" 2>/dev/null || echo '?')" "$KAFKA_LIB" "$KAFKA_LOG"
  elif [ -f "$STATE_DIR/docker-kafka.started" ]; then
    printf 'docker compose service "kafka" started by this script (image %s)' "$KAFKA_DOCKER_IMAGE"
  else
    printf 'external: not started by this script, "down" leaves it alone'
  fi
}

java_major() {
  java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ { print $2 }'
}

kafka_require_java() {
  if ! command -v java >/dev/null 2>&1; then
    if is_root; then apt_install openjdk-17-jre-headless; else
      die "java 17+ not found: run 'sudo apt-get install openjdk-17-jre-headless' (or put a JDK 17+ on PATH)"
    fi
  fi
  local major
  major=$(java_major)
  if [ -z "$major" ] || [ "${major%%.*}" -lt 17 ]; then
    die "java ${major:-?} found but Kafka $KAFKA_VERSION needs 17+: 'apt-get install openjdk-17-jre-headless' and put it first on PATH (or set JAVA_HOME/bin first)"
  fi
}

# Fetches kafka_2.13 and its runtime dependencies once into the cache.
kafka_resolve() {
  if [ -f "$KAFKA_LIB/.complete" ]; then
    say "kafka: using cached Apache Kafka $KAFKA_VERSION jars in $KAFKA_LIB"
    return
  fi
  maven_fetch "$BROKERS_DIR/kafka-pom.xml" "$KAFKA_LIB" "$KAFKA_DIR/resolve.log" \
    "org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies" "kafka_2.13-$KAFKA_VERSION.jar" \
    -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$KAFKA_LOG4J_VERSION"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/brokers.sh on every start: a single-node KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
# One node: every internal topic has a single replica, or coordinators never become available.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join groups constantly: no rebalance delay, and allow short session timeouts.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
auto.create.topics.enable=true
delete.topic.enable=true
EOF
}

# The JVM command line, shared by StorageTool and the broker.
kafka_java_cmd() {
  KAFKA_JAVA=(java -Xms128m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_DIR/logs"
    -Dlog4j2.configurationFile="$BROKERS_DIR/log4j2-broker.properties" -cp "$KAFKA_LIB/*")
}

kafka_java() {
  kafka_java_cmd
  "${KAFKA_JAVA[@]}" "$@"
}

kafka_format() {
  [ -f "$KAFKA_DIR/data/meta.properties" ] && return
  local log="$KAFKA_DIR/format.log" cluster_id
  # What 'StorageTool random-uuid' prints (16 random bytes, base64url), without a JVM start.
  cluster_id=$(node -e '
    const { randomBytes } = require("node:crypto");
    let id;
    do id = randomBytes(16).toString("base64url"); while (id.startsWith("-"));
    console.log(id);')
  echo "$cluster_id" >"$KAFKA_DIR/cluster.id"
  say "kafka: formatting storage $KAFKA_DIR/data (cluster id $cluster_id)"
  kafka_java kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$KAFKA_DIR/server.properties" >>"$log" 2>&1 || {
    log_tail "$log"
    die "kafka: StorageTool format failed; see $log"
  }
}

kafka_wait_ready() {
  local start=$1 deadline reason
  deadline=$(($(date +%s) + KAFKA_START_TIMEOUT))
  while :; do
    if ! pid_alive "$KAFKA_PID" "$KAFKA_DIR/server.properties"; then
      log_tail "$KAFKA_DIR/logs/stdout.log"
      log_tail "$KAFKA_LOG" 40
      rm -f "$KAFKA_PID"
      die "kafka: the broker process exited during start-up; see $KAFKA_LOG"
    fi
    if reason=$(kafka_probe 2>&1); then
      say "kafka: ready after $(elapsed "$start"): $reason"
      return
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log_tail "$KAFKA_LOG" 40
      die "kafka: no answer to a metadata request within ${KAFKA_START_TIMEOUT}s (last: $reason); the process (pid $(cat "$KAFKA_PID")) is still running, stop it with 'npm run brokers:down'"
    fi
    sleep 0.5
  done
}

kafka_local_up() {
  kafka_require_java
  kafka_resolve
  kafka_write_config
  kafka_format
  local start
  start=$(now_s)
  say "kafka: starting Apache Kafka $KAFKA_VERSION (KRaft, 127.0.0.1:$KAFKA_PORT, controller 127.0.0.1:$KAFKA_CONTROLLER_PORT, heap $KAFKA_HEAP, log $KAFKA_LOG)"
  echo "$KAFKA_VERSION" >"$KAFKA_DIR/version"
  # setsid: the broker outlives this script and is not hit by a Ctrl-C meant for the test run.
  # The inner shell writes its own pid, then becomes java (exec), so the pid file is java's.
  kafka_java_cmd
  # shellcheck disable=SC2016 # $$, $0 and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$KAFKA_PID" "${KAFKA_JAVA[@]}" \
    kafka.Kafka "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/logs/stdout.log" 2>&1 </dev/null 9>&- &
  for _ in $(seq 1 50); do
    [ -s "$KAFKA_PID" ] && break
    sleep 0.1
  done
  kafka_wait_ready "$start"
}

kafka_up() {
  local reason
  mkdir -p "$KAFKA_DIR"
  if reason=$(kafka_probe 2>&1); then
    say "kafka: already reachable at $KAFKA_BROKERS_LIST: $reason; $(kafka_origin). Nothing to do."
    return
  fi
  if pid_alive "$KAFKA_PID" "$KAFKA_DIR/server.properties"; then
    say "kafka: the broker this script started (pid $(cat "$KAFKA_PID")) is still starting; waiting"
    kafka_wait_ready "$(now_s)"
    return
  fi
  rm -f "$KAFKA_PID"
  is_loopback "$KAFKA_HOST" ||
    die "kafka: KAFKA_BROKERS=$KAFKA_BROKERS_LIST is not reachable ($reason). Start that cluster, or unset KAFKA_BROKERS to get a local broker on 127.0.0.1:9092."
  if probe tcp "$KAFKA_FIRST" >/dev/null 2>&1; then
    die "kafka: something listens on $KAFKA_FIRST but does not answer as Kafka ($reason). Free the port or point KAFKA_BROKERS at a working broker."
  fi
  if [ "$KAFKA_PORT" = 9092 ] && docker_usable; then
    docker_up kafka
    return
  fi
  kafka_local_up
}

kafka_down() {
  if pid_alive "$KAFKA_PID" "$KAFKA_DIR/server.properties"; then
    local pid
    pid=$(cat "$KAFKA_PID")
    say "kafka: stopping the local broker (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      warn "kafka: pid $pid did not stop within 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$KAFKA_PID"
    say "kafka: stopped (data kept in $KAFKA_DIR/data)"
  elif [ -f "$STATE_DIR/docker-kafka.started" ]; then
    docker_down kafka
  else
    rm -f "$KAFKA_PID"
    say "kafka: nothing started by this script is running; leaving any other broker alone"
  fi
}

kafka_status() {
  local reason
  if reason=$(kafka_probe 2>&1); then
    say "kafka: UP at $KAFKA_BROKERS_LIST: $reason"
    if pid_alive "$KAFKA_PID" "$KAFKA_DIR/server.properties"; then
      # The broker's own log names its exact version ("Kafka version: 4.1.2").
      local exact
      exact=$(grep -ho 'Kafka version: [^ ]*' "$KAFKA_DIR"/logs/server.log* 2>/dev/null | tail -n 1 || true)
      [ -n "$exact" ] || exact="Kafka version: $(cat "$KAFKA_DIR/version" 2>/dev/null)"
      say "kafka:   broker version: Apache Kafka ${exact#Kafka version: }"
    fi
    say "kafka:   from: $(kafka_origin)"
    return 0
  fi
  say "kafka: DOWN at $KAFKA_BROKERS_LIST ($reason)"
  return 1
}
