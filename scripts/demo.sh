#!/usr/bin/env bash
# `npm run demo [-- --once]`: brokers up if none are reachable, the library and the sample app
# built, the app started, and a short tour of publish/consume, /health and /metrics.
# Without --once the app keeps running; Ctrl-C drains it and shows the drain report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/brokers.sh up
echo '[demo] building the library and the sample app…'
npm run --silent build
npm run --silent build:sample
exec node --import tsx scripts/demo-tour.ts "$@"
