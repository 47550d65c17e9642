#!/usr/bin/env bash
# Schemathesis over the daemon's OpenAPI document: every check, every phase (examples, coverage,
# fuzzing, stateful links), a bounded number of examples per operation and a fixed seed, against a
# `jitsync serve` started here from the built CLI. Exits non-zero on any failure.
# Schemathesis (PyPI) is installed once in a virtualenv cached in ${JITSYNC_CACHE_DIR:-~/.cache/jitsync}.
# Options: SCHEMATHESIS_EXAMPLES (default 400), SCHEMATHESIS_SEED (default 13).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/support/serve-daemon.sh

version=4.32.5
cache="${JITSYNC_CACHE_DIR:-$HOME/.cache/jitsync}"
venv="$cache/schemathesis-$version"
install_venv "$venv" "schemathesis $version" "schemathesis==$version"

[ -f dist/daemon/cli.js ] || npm run build --silent

new_scratch
export JITSYNC_SCHEMATHESIS_DB="$work/jitsync.db"
serve_daemon test/schemathesis/jitsync.yaml

status=0
config="$PWD/test/schemathesis/schemathesis.toml"
# From the scratch folder: Schemathesis keeps a cache (.schemathesis/) in its working directory.
(cd "$work" && "$venv/bin/schemathesis" --config-file "$config" run "$address/openapi.json" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-400}" \
  --seed "${SCHEMATHESIS_SEED:-13}" \
  --generation-database none \
  --workers 2 \
  --no-color) || status=$?

# The daemon stops cleanly (exit 0) on SIGTERM and, whatever it did, logged no error.
stop_daemon || status=1
exit "$status"
