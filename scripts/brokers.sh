#!/usr/bin/env bash
# Brings up, stops and reports the RabbitMQ and Kafka brokers that the tests and the demo use.
#
#   bash scripts/brokers.sh up     [rabbitmq|kafka]   (npm run brokers:up)
#   bash scripts/brokers.sh down   [rabbitmq|kafka]   (npm run brokers:down)
#   bash scripts/brokers.sh status [rabbitmq|kafka]   (npm run brokers:status; exit 1 if one is down)
#
# For each broker, in this order (DESIGN.md section 5):
#   1. already reachable (AMQP_URL / KAFKA_BROKERS, defaults amqp://guest:guest@127.0.0.1:5672 and
#      127.0.0.1:9092), checked with a real AMQP handshake / Kafka metadata request: used as it is;
#   2. a Docker engine answers: docker compose (docker-compose.yml) starts it;
#   3. local processes: Debian's rabbitmq-server (installed when missing, as root) and the released
#      Apache Kafka from Maven Central in KRaft mode (jars cached in ~/.cache/nestjs-mq-pool).
# Everything listens on 127.0.0.1. State and logs: .brokers/ (git-ignored). 'down' stops only what
# this script started. Environment knobs: KAFKA_VERSION, KAFKA_HEAP, KAFKA_CACHE_DIR,
# KAFKA_START_TIMEOUT, RABBITMQ_START_TIMEOUT, BROKERS_NO_DOCKER=1, BROKERS_STATE_DIR, BROKERS_MVN_ARGS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BROKERS_DIR="$ROOT/scripts/brokers"
STATE_DIR="${BROKERS_STATE_DIR:-$ROOT/.brokers}"

# shellcheck source=scripts/brokers/common.sh
source "$BROKERS_DIR/common.sh"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh" # setup_deps: the probes need amqplib and kafkajs
# shellcheck source=scripts/brokers/rabbitmq.sh
source "$BROKERS_DIR/rabbitmq.sh"
# shellcheck source=scripts/brokers/kafka.sh
source "$BROKERS_DIR/kafka.sh"

usage() {
  echo "usage: bash scripts/brokers.sh up|down|status [rabbitmq|kafka]" >&2
  exit 2
}

command=${1:-}
case $command in up | down | status) ;; *) usage ;; esac
case ${2:-all} in
  all) brokers=(rabbitmq kafka) ;;
  rabbitmq | kafka) brokers=("$2") ;;
  *) usage ;;
esac

mkdir -p "$STATE_DIR"
require_node_clients

# One 'up'/'down' at a time (parallel test projects may call 'up' together).
if [ "$command" != status ]; then
  exec 9>"$STATE_DIR/.lock"
  if ! flock -w 600 9; then die "another scripts/brokers.sh has held $STATE_DIR/.lock for 10 minutes"; fi
fi

started=$(now_s)
failed=0
for broker in "${brokers[@]}"; do
  if [ "$command" = status ]; then
    "${broker}_status" || failed=1
  else
    "${broker}_${command}" # set -e stays in force inside: any unexpected failure stops here
  fi
done
[ "$command" = status ] || say "$command done in $(elapsed "$started")"
exit "$failed"
