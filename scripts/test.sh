#!/usr/bin/env bash
# `npm test`: installs if needed, builds (the e2e tier runs the built api and worker), runs jest.
# Redis and MongoDB come from REDIS_URL / MONGODB_URI, or are started by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
npm run build --silent && npm run build:tools --silent
exec npx jest "$@"
