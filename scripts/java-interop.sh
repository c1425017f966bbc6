#!/usr/bin/env bash
# The RabbitMQ Java client of the interoperability test (test/integration/rabbitmq/java-interop.spec.ts,
# which runs this script itself, so a fresh `npm test` needs nothing else):
#
#   bash scripts/java-interop.sh classpath
#
# fetches com.rabbitmq:amqp-client (test/interop/java/pom.xml) from Maven Central once into
# ~/.cache/nestjs-mq-pool/amqp-client-<version>/lib, compiles test/interop/java/AmqpInterop.java
# against it (again only when the source or the client changes), and prints on stdout the classpath
# to run it with: `java -cp <classpath> AmqpInterop call|serve|publish ...`. Progress goes to stderr.
# Needs a JDK 17+ (javac) and, for the first fetch, Maven: installed with apt-get as root, otherwise
# the script fails saying what to install. Knobs: AMQP_CLIENT_VERSION, SLF4J_VERSION,
# MQ_POOL_CACHE_DIR, BROKERS_MVN_ARGS (extra mvn flags).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${BROKERS_STATE_DIR:-$ROOT/.brokers}"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh" # common.sh (say, die, apt_install, maven_fetch), java_17_ok
LOG_TAG=java-interop

AMQP_CLIENT_VERSION=${AMQP_CLIENT_VERSION:-5.38.0}
SLF4J_VERSION=${SLF4J_VERSION:-2.0.20}
INTEROP_DIR="$ROOT/test/interop/java"
CACHE_DIR="$MQ_POOL_CACHE_DIR/amqp-client-$AMQP_CLIENT_VERSION"

[ "${1:-}" = classpath ] || {
  echo "usage: bash scripts/java-interop.sh classpath" >&2
  exit 2
}
# Everything but the classpath goes to stderr: callers read stdout.
exec 3>&1 1>&2

if ! java_17_ok || ! command -v javac >/dev/null 2>&1; then
  if is_root && command -v apt-get >/dev/null 2>&1; then apt_install openjdk-17-jdk-headless; else
    die "a JDK 17+ (java and javac) is needed to compile the Java client: run 'sudo apt-get install openjdk-17-jdk-headless' (or put a JDK 17+ first on PATH)"
  fi
  java_17_ok && command -v javac >/dev/null 2>&1 || die "java/javac 17+ still not found on PATH after installing openjdk-17-jdk-headless"
fi

mkdir -p "$CACHE_DIR" "$STATE_DIR"
# One fetch and compile at a time per cache (test runs of several checkouts share it).
exec 8>"$CACHE_DIR.lock"
flock -w 600 8 || die "another scripts/java-interop.sh has held $CACHE_DIR.lock for 10 minutes"

maven_fetch "$INTEROP_DIR/pom.xml" "$CACHE_DIR/lib" "$STATE_DIR/java-interop-resolve.log" \
  "com.rabbitmq:amqp-client:$AMQP_CLIENT_VERSION" "amqp-client-$AMQP_CLIENT_VERSION.jar" \
  -Damqp-client.version="$AMQP_CLIENT_VERSION" -Dslf4j.version="$SLF4J_VERSION"

# The classes are cached per source, client version and compiler.
key=$({
  cat "$INTEROP_DIR/AmqpInterop.java"
  echo "$AMQP_CLIENT_VERSION $SLF4J_VERSION"
  javac -version 2>&1
} | sha256sum | cut -c1-16)
classes="$CACHE_DIR/classes-$key"
if [ ! -f "$classes/AmqpInterop.class" ]; then
  tmp="$classes.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  say "compiling AmqpInterop.java against amqp-client $AMQP_CLIENT_VERSION into $classes"
  javac --release 17 -Xlint:all -Werror -d "$tmp" -cp "$CACHE_DIR/lib/*" "$INTEROP_DIR/AmqpInterop.java" ||
    die "javac failed on $INTEROP_DIR/AmqpInterop.java (messages above)"
  rm -rf "$classes"
  mv "$tmp" "$classes"
fi

printf '%s\n' "$classes:$CACHE_DIR/lib/*" >&3
