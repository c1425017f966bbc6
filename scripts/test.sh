#!/usr/bin/env bash
# `npm test [-- <vitest arguments>]`: everything from a fresh machine to the test results.
#
#   1. Node.js 22+ (an older Node makes it run on Node 24, provisioned into the cache; MQ_POOL_NODE=22
#      or 24 picks one), see scripts/setup.sh;
#   2. the system tools the suites use (apt-get as root) and the npm dependencies when missing or stale;
#   3. without arguments: type-check, lint, the layering rule (dependency-cruiser);
#   4. `vitest run` with the arguments given (all four projects by default). The brokers come up
#      in Vitest's globalSetup when none answer (scripts/brokers.sh). A summary of skipped tests with
#      their reasons closes the run (test/support/skip-summary.reporter.ts).
#
# With arguments (e.g. `npm test -- --project unit`) only those tests run, without step 3
# (MQ_POOL_STATIC_CHECKS=1 keeps it; =0 drops it without arguments too).
# This is a shell script, not a Node one, because it must run before node_modules exists.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
LOG_TAG='test'

setup_node
setup_tools
setup_deps

# MQ_POOL_STATIC_CHECKS=0 skips step 3 (CI's second Node version), =1 forces it.
if [ "${MQ_POOL_STATIC_CHECKS:-$([ "$#" = 0 ] && echo 1 || echo 0)}" = 1 ]; then
  for check in typecheck lint depcheck; do
    say "npm run $check"
    npm run --silent "$check"
  done
fi
say "vitest run $*"
exec "$ROOT/node_modules/.bin/vitest" run "$@"
