#!/usr/bin/env bash
# Builds tools/ferretdb (our embedding of FerretDB 1.24, a MongoDB wire-protocol server with a
# SQLite backend) from the Go module proxy into .cache/bin. Used when no MONGODB_URI or mongod.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/bin
(cd tools/ferretdb && GOFLAGS=-mod=mod go build -o ../../.cache/bin/ferretdb-embedded .)
echo ".cache/bin/ferretdb-embedded built"
