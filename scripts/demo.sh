#!/usr/bin/env bash
# `npm run demo [-- --once]`: Node.js and the npm dependencies set up when missing (scripts/setup.sh),
# brokers up if none are reachable, the library and the sample app built, the app started, and a
# short tour of publish/consume, /health and /metrics.
# Without --once the app keeps running; Ctrl-C drains it and shows the drain report.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
LOG_TAG=demo

setup_node
setup_deps

bash scripts/brokers.sh up
echo '[demo] building the library and the sample app…'
npm run --silent build
npm run --silent build:sample
exec node --import tsx scripts/demo-tour.ts "$@"
