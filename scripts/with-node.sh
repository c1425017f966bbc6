#!/usr/bin/env bash
# Runs a command on a given Node.js major, provisioned into the cache like `npm test` does
# (scripts/setup.sh), e.g. a bench on Node 24:
#
#   bash scripts/with-node.sh 24 npm run bench:http
set -euo pipefail

[ "$#" -ge 2 ] || {
  echo 'usage: bash scripts/with-node.sh <node major|system> <command> [args...]' >&2
  exit 2
}
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
LOG_TAG=with-node
MQ_POOL_NODE=$1
shift
setup_node >&2
exec "$@"
