#!/usr/bin/env bash
# shellcheck shell=bash
# The set-up behind `npm test` and `npm run demo`, so that on a fresh machine those two commands
# are all a user types. Sourced by scripts/test.sh, scripts/demo.sh and scripts/brokers.sh; also
# runnable on its own:
#
#   bash scripts/setup.sh [node] [deps] [tools]   (default: all three, in that order)
#
#   setup_node   Node.js: the one on PATH when it is 22 or newer; otherwise (or when MQ_POOL_NODE
#                names another major) that major's binary from the npm registry's node-<os>-<arch>
#                package, installed once into ~/.cache/nestjs-mq-pool/node-v<major>/ and put first
#                on PATH, so npm, Vitest and every child process (process.execPath) run on it.
#   setup_deps   `npm ci` when node_modules is missing or was installed from another package.json /
#                package-lock.json (a hash of both is kept in node_modules/.nestjs-mq-pool-deps).
#   setup_tools  what the test suites run besides Node (Debian packages, installed with apt-get as
#                root): Java 17 and Maven (local Kafka), javac (the RabbitMQ Java client interop
#                test), rabbitmq-server (disposable nodes), prometheus + promtool (the dashboard e2e
#                and the metrics lint), openssl (TLS test). Without root a missing tool is reported,
#                and the tests that need it say in the run's skip summary why they were skipped (the
#                Java interop test fails instead: interoperability is part of the contract).
#
# Knobs: MQ_POOL_NODE (22, 24, ... or 'system'), MQ_POOL_CACHE_DIR (default
# ${XDG_CACHE_HOME:-~/.cache}/nestjs-mq-pool), MQ_POOL_SKIP_TOOLS=1 (no apt-get).

SETUP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT=${ROOT:-$SETUP_ROOT}
STATE_DIR=${STATE_DIR:-${BROKERS_STATE_DIR:-$ROOT/.brokers}}
if ! declare -F apt_install >/dev/null; then
  # shellcheck source=scripts/brokers/common.sh
  source "$SETUP_ROOT/scripts/brokers/common.sh"
fi

# The Node major that `npm test` runs on when the one on PATH is older than MIN_NODE_MAJOR.
DEFAULT_NODE_MAJOR=24
MIN_NODE_MAJOR=22
MQ_POOL_CACHE_DIR=${MQ_POOL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-mq-pool}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# The npm registry's package that carries the Node binary for this machine.
node_package() {
  local os arch
  case $(uname -s) in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "no Node.js binary package for $(uname -s): install Node.js $DEFAULT_NODE_MAJOR yourself" ;;
  esac
  case $(uname -m) in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Node.js binary package for $(uname -m): install Node.js $DEFAULT_NODE_MAJOR yourself" ;;
  esac
  echo "node-$os-$arch"
}

# Installs Node <major> into the cache once (under a lock, into a temporary folder renamed into place
# only when its binary runs, so an interrupted install is never taken for a good one); prints its bin/.
provision_node() {
  local major=$1 pkg dir bin tmp
  pkg=$(node_package)
  dir="$MQ_POOL_CACHE_DIR/node-v$major"
  bin="$dir/node_modules/$pkg/bin"
  if [ ! -x "$bin/node" ]; then
    mkdir -p "$MQ_POOL_CACHE_DIR"
    (
      exec 8>"$dir.lock"
      flock -w 600 8 || die "another install of Node $major has held $dir.lock for 10 minutes"
      [ ! -x "$bin/node" ] || exit 0
      tmp=$(mktemp -d "$dir.tmp.XXXXXX")
      say "installing Node.js $major ($pkg@$major from the npm registry) into $dir" >&2
      if ! npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund \
        --loglevel=error "$pkg@$major" >&2; then
        rm -rf "$tmp"
        die "npm install $pkg@$major failed"
      fi
      "$tmp/node_modules/$pkg/bin/node" --version >/dev/null || {
        rm -rf "$tmp"
        die "$pkg@$major installed, but its node does not run on this machine"
      }
      rm -rf "$dir"
      mv "$tmp" "$dir"
    ) || exit 1
  fi
  echo "$bin"
}

# Puts the chosen Node first on PATH (see the header). Idempotent.
setup_node() {
  command -v node >/dev/null 2>&1 || command -v npm >/dev/null 2>&1 ||
    die "node and npm not found: install Node.js 22 or 24 (with npm), or any Node.js with npm, from which the scripts provision Node $DEFAULT_NODE_MAJOR"
  local want=${MQ_POOL_NODE:-} have bin
  have=$(node_major)
  if [ -z "$want" ]; then
    if [ "$have" -ge "$MIN_NODE_MAJOR" ]; then want=$have; else want=$DEFAULT_NODE_MAJOR; fi
  fi
  if [ "$want" != system ] && [ "$want" != "$have" ]; then
    case $want in '' | *[!0-9]*) die "MQ_POOL_NODE=$want: give a Node major (22, 24) or 'system'" ;; esac
    [ "$have" = 0 ] || [ "$have" -ge "$MIN_NODE_MAJOR" ] || [ -n "${MQ_POOL_NODE:-}" ] ||
      say "Node $(node --version) is older than $MIN_NODE_MAJOR (Node 20 is past its end of life): using Node $want"
    bin=$(provision_node "$want")
    export PATH="$bin:$PATH"
    hash -r
    # npm exports the path of the node that started it; tools that re-use it must get this one.
    npm_node_execpath="$bin/node"
    export npm_node_execpath
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found: it comes with Node.js (Debian: apt-get install npm)"
  say "node $(node --version) ($(command -v node)), npm $(npm --version)"
}

deps_hash() { cat "$ROOT/package.json" "$ROOT/package-lock.json" | sha256sum | cut -d' ' -f1; }

# `npm ci` when node_modules is missing or stale; one at a time per checkout.
setup_deps() {
  local stamp="$ROOT/node_modules/.nestjs-mq-pool-deps" want
  want=$(deps_hash)
  [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || return 0
  mkdir -p "$STATE_DIR"
  (
    exec 7>"$STATE_DIR/.deps.lock"
    flock -w 900 7 || die "another npm ci has held $STATE_DIR/.deps.lock for 15 minutes"
    [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || exit 0
    if [ -d "$ROOT/node_modules" ]; then
      say "node_modules was installed from another package-lock.json (or not by these scripts): npm ci"
    else
      say "node_modules missing: npm ci"
    fi
    local start
    start=$(now_s)
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    echo "$want" >"$stamp"
    say "npm ci done in $(elapsed "$start")"
  ) || exit 1
}

java_17_ok() {
  command -v java >/dev/null 2>&1 || return 1
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ { split($2, v, "."); print v[1] }')
  [ "${major:-0}" -ge 17 ]
}
tool_ok() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

# The system tools the suites use. Installs what is missing in one apt-get as root; otherwise says
# which tests will skip (they name the reason again in the run's skip summary).
setup_tools() {
  [ "${MQ_POOL_SKIP_TOOLS:-0}" != 1 ] || return 0
  local -a packages=() missing=()
  java_17_ok || {
    packages+=(openjdk-17-jre-headless)
    missing+=('java 17+ (local Kafka broker, disposable Kafka in reliability tests)')
  }
  command -v javac >/dev/null 2>&1 || {
    packages+=(openjdk-17-jdk-headless)
    missing+=('javac 17+ (compiles the Java client of the RabbitMQ interoperability test)')
  }
  tool_ok mvn || {
    packages+=(maven)
    missing+=('mvn (fetches the Kafka broker and the RabbitMQ Java client from Maven Central once)')
  }
  tool_ok rabbitmq-server || {
    packages+=(rabbitmq-server)
    missing+=('rabbitmq-server (disposable RabbitMQ nodes: reliability tests)')
  }
  { tool_ok prometheus && tool_ok promtool; } || {
    packages+=(prometheus)
    missing+=('prometheus, promtool (Grafana dashboard e2e, promtool check metrics)')
  }
  tool_ok openssl || {
    packages+=(openssl)
    missing+=('openssl (certificates of the TLS reliability test)')
  }
  [ "${#packages[@]}" -gt 0 ] || return 0
  if is_root && command -v apt-get >/dev/null 2>&1; then
    apt_install "${packages[@]}"
    # Debian's prometheus package starts a system-wide Prometheus where systemd runs; the e2e
    # test starts its own on a free port, so the service is left alone either way.
  else
    warn "missing, and not installed (needs root and apt-get: sudo apt-get install ${packages[*]}):"
    printf '  - %s\n' "${missing[@]}" >&2
  fi
}

setup_main() {
  set -euo pipefail
  [ "$#" -gt 0 ] || set -- node deps tools
  LOG_TAG=setup
  local step
  for step in "$@"; do
    case $step in
      node) setup_node ;;
      deps) setup_deps ;;
      tools) setup_tools ;;
      *)
        echo "usage: bash scripts/setup.sh [node] [deps] [tools]" >&2
        exit 2
        ;;
    esac
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then setup_main "$@"; fi
