#!/usr/bin/env bash
# Runs the whole service locally without Docker: installs, builds, then starts Redis, a MongoDB
# wire server, the api, a worker and (when UPSTREAM_BASE_URL is unset) the mock upstream.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
npm run build --silent && npm run build:tools --silent
exec node dist-tools/dev/run-local.js
