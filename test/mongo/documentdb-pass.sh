#!/usr/bin/env bash
# CI's second MongoDB pass: every test file that uses the MongoDB-wire server, run again on
# FerretDB 2 over PostgreSQL with DocumentDB (the store's `atomic` path, which production runs on
# MongoDB or Azure Cosmos DB for MongoDB vCore). `npm test` runs them on FerretDB 1.24 (`guarded`).
#
# Usage: bash test/mongo/documentdb-pass.sh [PATH/TO/documentdb]   (default ../shared/documentdb)
# The folder holds install.sh and start.sh (see test/mongo/server.ts). Needs root: PostgreSQL runs
# as the `postgres` user. install.sh builds once (2-4 minutes) and is a no-op after.
set -euo pipefail
cd "$(dirname "$0")/../.."

documentdb="$(cd "${1:-../shared/documentdb}" && pwd)"
log() { printf '\n== documentdb-pass: %s (%ss)\n' "$1" "$SECONDS"; }

log "installing the DocumentDB server (cached)"
bash "$documentdb/install.sh" >/dev/null

# Every file that uses the run's MongoDB-wire server (inject('mongoUri'), freshDatabaseUrl,
# openMongoStore), found rather than listed so that a new one is not left out; and the MongoDB
# store's unit tests.
mapfile -t files < <({ grep -rlE "mongoUri|freshDatabaseUrl|openMongoStore|mongoServerKind" \
  --include='*.test.ts' test store daemon connectors; ls store/mongo/*.test.ts; } | sort -u)
if [ "${#files[@]}" -eq 0 ]; then
  echo "documentdb-pass: no MongoDB test files found" >&2
  exit 1
fi
log "running ${#files[@]} files on DocumentDB: ${files[*]}"
# MONGODB_URI would name another server; the global setup prints which one runs.
env -u MONGODB_URI JITSYNC_TEST_DOCUMENTDB="$documentdb/start.sh" npx vitest run "${files[@]}"

log "done"
