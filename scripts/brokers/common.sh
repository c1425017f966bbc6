# shellcheck shell=bash
# Shared helpers of scripts/brokers.sh and scripts/setup.sh (sourced, not run). The caller sets
# ROOT and STATE_DIR (apt's log goes there), and LOG_TAG to name itself in messages.

say() { printf '[%s] %s\n' "${LOG_TAG:-brokers}" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "${LOG_TAG:-brokers}" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "${LOG_TAG:-brokers}" "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f s", b - a }'; }

# Prints the last lines of a log file, indented, for failure messages.
log_tail() {
  local file=$1 lines=${2:-30}
  if [ -s "$file" ]; then
    printf '[%s] --- last %s lines of %s ---\n' "${LOG_TAG:-brokers}" "$lines" "$file" >&2
    tail -n "$lines" "$file" | sed 's/^/    /' >&2
    printf '[%s] --- end of %s ---\n' "${LOG_TAG:-brokers}" "$file" >&2
  fi
}

# pid_alive FILE [MARK]: the pid in FILE runs, and (where /proc exists) its command line or
# environment contains MARK, so a stale pid file whose pid was reused never names another process.
pid_alive() {
  local file=$1 mark=${2:-} pid
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -n "$mark" ] && [ -r "/proc/$pid/cmdline" ]; then
    # Read first, then match: 'grep -q' closing a pipe early would fail it under pipefail.
    local info
    info=$({ tr '\0' '\n' <"/proc/$pid/cmdline" && tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null || true)
    grep -qxF -e "$mark" <<<"$info" || return 1
  fi
}

is_loopback() {
  case $1 in
    127.* | localhost | ::1 | '[::1]') return 0 ;;
    *) return 1 ;;
  esac
}

# Node and the client libraries do the protocol-level checks (see probe.mjs): the npm
# dependencies are installed first when missing or stale (scripts/setup.sh).
require_node_clients() {
  command -v node >/dev/null 2>&1 || die "node not found: install Node.js 22 or 24 (see README)"
  LOG_TAG=setup setup_deps
}

probe() { node "$BROKERS_DIR/probe.mjs" "$@"; }

APT_UPDATED=0
# apt-get install as root, with 'apt-get update' once first; the output goes to a log file.
apt_install() {
  is_root || die "need root to install $*: run 'sudo apt-get install $*' yourself, then retry"
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with your system's package manager"
  local log="$STATE_DIR/apt.log"
  mkdir -p "$STATE_DIR"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update (log: $log)"
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 || {
      log_tail "$log"
      die "apt-get update failed; see $log"
    }
    APT_UPDATED=1
  fi
  say "apt-get install $* (log: $log)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 || {
    log_tail "$log"
    die "apt-get install $* failed; see $log"
  }
}

# maven_fetch POM DEST LOG WHAT EXPECTED_JAR [mvn flags...]: the runtime dependencies POM declares,
# fetched from Maven Central once into DEST (a `.complete` marker says it is whole). They land in a
# temporary folder renamed into place only when EXPECTED_JAR is there, so an interrupted fetch is
# never taken for a good one. Callers that may run in parallel hold a lock around it.
maven_fetch() {
  local pom=$1 dest=$2 log=$3 what=$4 expected=$5 tmp start
  shift 5
  [ -f "$dest/.complete" ] && return 0
  if ! command -v mvn >/dev/null 2>&1; then
    if is_root; then apt_install maven; else
      die "mvn not found (needed once to fetch $what from Maven Central): run 'sudo apt-get install maven'"
    fi
  fi
  tmp="$dest.tmp.$$"
  start=$(now_s)
  mkdir -p "$(dirname "$dest")" "$(dirname "$log")"
  rm -rf "$tmp"
  say "fetching $what from Maven Central (log: $log)"
  # shellcheck disable=SC2086 # BROKERS_MVN_ARGS is a list of extra flags on purpose
  if ! mvn -B -f "$pom" ${BROKERS_MVN_ARGS:-} "$@" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
    log_tail "$log" 40
    rm -rf "$tmp"
    die "mvn could not resolve $what (see $log). It needs Maven Central (a proxy goes in ~/.m2/settings.xml)."
  fi
  [ -f "$tmp/$expected" ] || die "mvn finished but $expected is missing in $tmp"
  touch "$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  say "$(find "$dest" -name '*.jar' | wc -l) jars of $what cached in $dest after $(elapsed "$start")"
}

# Docker Compose is used only when an engine really answers (the CLI alone is not enough).
docker_usable() {
  [ "${BROKERS_NO_DOCKER:-0}" != 1 ] || return 1
  command -v docker >/dev/null 2>&1 || return 1
  timeout 10 docker info >/dev/null 2>&1 || return 1
  docker compose version >/dev/null 2>&1 || return 1
}

compose() { docker compose -f "$ROOT/docker-compose.yml" -p nestjs-mq-pool "$@"; }

# Starts one compose service and waits for its healthcheck; remembers that this script started it.
docker_up() {
  local service=$1 log="$STATE_DIR/docker-compose.log" start
  start=$(now_s)
  say "$service: starting with docker compose (log: $log)"
  if ! compose up -d --wait "$service" >>"$log" 2>&1; then
    log_tail "$log"
    compose logs --tail 40 "$service" >&2 || true
    die "$service: 'docker compose up $service' failed; see $log"
  fi
  touch "$STATE_DIR/docker-$service.started"
  say "$service: healthy in docker compose after $(elapsed "$start")"
}

docker_down() {
  local service=$1
  say "$service: stopping the docker compose service this script started"
  compose rm --stop --force "$service" >>"$STATE_DIR/docker-compose.log" 2>&1 ||
    warn "$service: 'docker compose rm --stop $service' failed; see $STATE_DIR/docker-compose.log"
  rm -f "$STATE_DIR/docker-$service.started"
}
