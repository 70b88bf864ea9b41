#!/usr/bin/env bash
# `npm test`: installs if needed, builds (the e2e tier runs the built api and worker), runs jest; then a second pass
# runs the responses, streaming and limits end-to-end suites on a local three-master Redis Cluster (TEST_REDIS=cluster).
# Redis and MongoDB come from REDIS_URL / MONGODB_URI, or are started by the tests themselves.
# Given test paths (`npm test -- test/e2e/chat`), only those run, once; SKIP_CLUSTER_PASS=1 skips the second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
npm run build --silent && npm run build:tools --silent

CLUSTER_SUITES=(test/e2e/responses test/e2e/streaming test/e2e/keys-limits test/e2e/trust-limits)
options=()
paths=0
for arg in "$@"; do
  if [[ "$arg" == -* ]]; then options+=("$arg"); else paths=1; fi
done
if [[ $paths == 1 || "${SKIP_CLUSTER_PASS:-}" == 1 ]]; then exec npx jest "$@"; fi

# Both passes run whatever the first one gives; the script fails if either failed.
status=0
npx jest "$@" || status=$?
echo "== the same suites on a Redis Cluster (TEST_REDIS=cluster): ${CLUSTER_SUITES[*]}"
TEST_REDIS=cluster npx jest "${options[@]}" "${CLUSTER_SUITES[@]}" || status=$?
exit $status
