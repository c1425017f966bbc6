# shellcheck shell=bash
# RabbitMQ part of scripts/brokers.sh (sourced). A local broker is Debian's rabbitmq-server,
# run as its own node with its data under .brokers/rabbitmq, listening on loopback only.

AMQP_URL_EFFECTIVE=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}
RABBITMQ_DIR="$STATE_DIR/rabbitmq"
RABBITMQ_PID="$RABBITMQ_DIR/rabbitmq.pid"
RABBITMQ_START_TIMEOUT=${RABBITMQ_START_TIMEOUT:-120}

# host and port of the AMQP URL (credentials and vhost stripped; never printed with them).
rabbitmq_parse_url() {
  local rest=${AMQP_URL_EFFECTIVE#*://} default_port=5672
  case $AMQP_URL_EFFECTIVE in amqps://*) default_port=5671 ;; esac
  rest=${rest##*@}
  rest=${rest%%/*}
  rest=${rest%%\?*}
  if [[ $rest == *:* ]]; then
    RABBITMQ_HOST=${rest%:*}
    RABBITMQ_PORT=${rest##*:}
  else
    RABBITMQ_HOST=$rest
    RABBITMQ_PORT=$default_port
  fi
  RABBITMQ_SHOWN="amqp://$RABBITMQ_HOST:$RABBITMQ_PORT"
  # A node name per port, so a local node never clashes with the machine's own 'rabbit' node.
  RABBITMQ_NODE="mqpool-$RABBITMQ_PORT@localhost"
}
rabbitmq_parse_url

rabbitmq_probe() { probe amqp "$AMQP_URL_EFFECTIVE"; }

rabbitmq_origin() {
  if pid_alive "$RABBITMQ_PID" "RABBITMQ_NODENAME=$RABBITMQ_NODE"; then
    printf 'local node %s started by this script (pid %s, data and logs in %s)' \
      "$RABBITMQ_NODE" "$(cat "$RABBITMQ_PID")" "$RABBITMQ_DIR"
  elif [ -f "$STATE_DIR/docker-rabbitmq.started" ]; then
    printf 'docker compose service "rabbitmq" started by this script'
  else
    printf 'external: not started by this script, "down" leaves it alone'
  fi
}

rabbitmq_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; elif [ -x "/usr/sbin/$name" ]; then
    echo "/usr/sbin/$name"
  fi
}

# The environment that keeps every port (AMQP, distribution, epmd) on loopback and all state here.
rabbitmq_env() {
  RABBITMQ_ENV=(
    RABBITMQ_NODENAME="$RABBITMQ_NODE"
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$RABBITMQ_PORT"
    RABBITMQ_DIST_PORT="$((RABBITMQ_PORT + 20010))"
    ERL_EPMD_ADDRESS=127.0.0.1
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    RABBITMQ_MNESIA_BASE="$RABBITMQ_DIR/mnesia"
    RABBITMQ_LOG_BASE="$RABBITMQ_DIR/log"
    RABBITMQ_PID_FILE="$RABBITMQ_PID"
    RABBITMQ_ENABLED_PLUGINS_FILE="$RABBITMQ_DIR/enabled_plugins"
    RABBITMQ_CONFIG_FILE="$RABBITMQ_DIR/rabbitmq.conf"
  )
}

rabbitmqctl_local() {
  rabbitmq_env
  env "${RABBITMQ_ENV[@]}" "$(rabbitmq_bin rabbitmqctl)" -n "$RABBITMQ_NODE" "$@"
}

rabbitmq_local_up() {
  if [ -z "$(rabbitmq_bin rabbitmq-server)" ]; then
    if is_root; then
      apt_install rabbitmq-server
    else
      die "rabbitmq: rabbitmq-server is not installed and this is not root: run 'sudo apt-get install rabbitmq-server' and retry, or start any RabbitMQ and set AMQP_URL"
    fi
  fi
  if ! is_root && [ "$(id -un)" != rabbitmq ]; then
    die "rabbitmq: Debian's rabbitmq-server runs only as root or rabbitmq: run 'sudo npm run brokers:up', or start a broker yourself and set AMQP_URL"
  fi
  local start log="$RABBITMQ_DIR/start.log"
  start=$(now_s)
  mkdir -p "$RABBITMQ_DIR/mnesia" "$RABBITMQ_DIR/log"
  echo '[].' >"$RABBITMQ_DIR/enabled_plugins"
  cat >"$RABBITMQ_DIR/rabbitmq.conf" <<EOF
# Written by scripts/brokers.sh: a local node for tests, on loopback only.
listeners.tcp.default = 127.0.0.1:$RABBITMQ_PORT
loopback_users.guest = true
EOF
  # Run as root, Debian's wrapper re-runs the node as the rabbitmq user, who must own its files.
  if is_root && id rabbitmq >/dev/null 2>&1; then chown -R rabbitmq:rabbitmq "$RABBITMQ_DIR"; fi
  say "rabbitmq: starting local node $RABBITMQ_NODE on 127.0.0.1:$RABBITMQ_PORT (logs in $RABBITMQ_DIR/log)"
  rabbitmq_env
  # -detached forks the Erlang VM away; fd 9 (our lock) must not leak into it.
  if ! (cd "$RABBITMQ_DIR" && env "${RABBITMQ_ENV[@]}" "$(rabbitmq_bin rabbitmq-server)" -detached) \
    >"$log" 2>&1 </dev/null 9>&-; then
    log_tail "$log"
    die "rabbitmq: 'rabbitmq-server -detached' failed; see $log"
  fi
  rabbitmq_await "$log"
  say "rabbitmq: ready after $(elapsed "$start"): $(rabbitmq_probe 2>&1)"
}

rabbitmq_await() {
  local log=$1 reason
  # The AMQP listener opens last in the boot; 'await_startup' then confirms the boot finished.
  # (Called earlier, await_startup fails while the VM is not yet registered with epmd, and once
  # connected it re-checks only every 10 s.) Give up early if the VM has died.
  local deadline=$(($(date +%s) + RABBITMQ_START_TIMEOUT))
  until reason=$(rabbitmq_probe 2>&1) && rabbitmqctl_local await_startup --timeout 30 >>"$log" 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ] || { [ -s "$RABBITMQ_PID" ] && ! pid_alive "$RABBITMQ_PID" "RABBITMQ_NODENAME=$RABBITMQ_NODE"; }; then
      log_tail "$log"
      # shellcheck disable=SC2012 # newest log file; names are our own
      log_tail "$(ls -t "$RABBITMQ_DIR"/log/*.log 2>/dev/null | head -n 1)" 40
      die "rabbitmq: node $RABBITMQ_NODE did not come up (timeout ${RABBITMQ_START_TIMEOUT}s, or its VM exited; last: $reason); see $RABBITMQ_DIR/log"
    fi
    sleep 0.5
  done
}

rabbitmq_up() {
  local reason
  mkdir -p "$RABBITMQ_DIR"
  if reason=$(rabbitmq_probe 2>&1); then
    say "rabbitmq: already reachable at $RABBITMQ_SHOWN: $reason; $(rabbitmq_origin). Nothing to do."
    return
  fi
  if pid_alive "$RABBITMQ_PID" "RABBITMQ_NODENAME=$RABBITMQ_NODE"; then
    say "rabbitmq: the node this script started (pid $(cat "$RABBITMQ_PID")) does not answer yet; waiting"
    rabbitmq_await "$RABBITMQ_DIR/start.log"
    return
  fi
  rm -f "$RABBITMQ_PID"
  is_loopback "$RABBITMQ_HOST" ||
    die "rabbitmq: AMQP_URL points at $RABBITMQ_SHOWN, which does not answer ($reason). Start that broker, or unset AMQP_URL to get a local one on 127.0.0.1:5672."
  if probe tcp "$RABBITMQ_HOST:$RABBITMQ_PORT" >/dev/null 2>&1; then
    die "rabbitmq: something listens on $RABBITMQ_HOST:$RABBITMQ_PORT but the AMQP handshake fails ($reason). Check the user/password in AMQP_URL, or free the port."
  fi
  if [ "$RABBITMQ_PORT" = 5672 ] && docker_usable; then
    docker_up rabbitmq
    return
  fi
  rabbitmq_local_up
}

rabbitmq_down() {
  if pid_alive "$RABBITMQ_PID" "RABBITMQ_NODENAME=$RABBITMQ_NODE"; then
    local pid
    pid=$(cat "$RABBITMQ_PID")
    say "rabbitmq: stopping local node $RABBITMQ_NODE (pid $pid)"
    rabbitmqctl_local stop "$RABBITMQ_PID" >>"$RABBITMQ_DIR/start.log" 2>&1 || {
      warn "rabbitmq: 'rabbitmqctl stop' failed; sending TERM to $pid"
      kill -TERM "$pid" 2>/dev/null || true
    }
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    rm -f "$RABBITMQ_PID"
    say "rabbitmq: stopped"
  elif [ -f "$STATE_DIR/docker-rabbitmq.started" ]; then
    docker_down rabbitmq
  else
    say "rabbitmq: nothing started by this script is running; leaving the broker at $RABBITMQ_SHOWN alone"
  fi
}

rabbitmq_status() {
  local reason
  if reason=$(rabbitmq_probe 2>&1); then
    say "rabbitmq: UP at $RABBITMQ_SHOWN: $reason"
    say "rabbitmq:   from: $(rabbitmq_origin)"
    return 0
  fi
  say "rabbitmq: DOWN at $RABBITMQ_SHOWN ($reason)"
  return 1
}
