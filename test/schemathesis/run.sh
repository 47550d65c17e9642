#!/usr/bin/env bash
# Schemathesis over the daemon's OpenAPI document: every check, every phase (examples, coverage,
# fuzzing, stateful links), a bounded number of examples per operation and a fixed seed, against a
# `jitsync serve` started here from the built CLI. Exits non-zero on any failure.
# Schemathesis (PyPI) is installed once in a virtualenv cached in ${JITSYNC_CACHE_DIR:-~/.cache/jitsync}.
# Options: SCHEMATHESIS_EXAMPLES (default 400), SCHEMATHESIS_SEED (default 13).
set -euo pipefail
cd "$(dirname "$0")/../.."

version=4.32.5
cache="${JITSYNC_CACHE_DIR:-$HOME/.cache/jitsync}"
venv="$cache/schemathesis-$version"
# A virtualenv cannot be moved, so it is built in place; the stamp marks a finished install.
if [ ! -f "$venv/.installed" ]; then
  echo "installing schemathesis $version in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
  touch "$venv/.installed"
fi

[ -f dist/daemon/cli.js ] || npm run build --silent

work="$(mktemp -d)"
daemon=""
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon" && wait "$daemon" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export JITSYNC_SCHEMATHESIS_DB="$work/jitsync.db"
node dist/daemon/cli.js serve --config test/schemathesis/jitsync.yaml >"$work/daemon.log" 2>&1 &
daemon=$!
address=""
for _ in $(seq 1 100); do
  address="$(sed -n 's/.*"address":"\(http:[^"]*\)".*"jitsync listening".*/\1/p' "$work/daemon.log" | head -n 1)"
  [ -n "$address" ] && break
  kill -0 "$daemon" 2>/dev/null || { cat "$work/daemon.log"; exit 1; }
  sleep 0.1
done
[ -n "$address" ] || { echo "the daemon did not start"; cat "$work/daemon.log"; exit 1; }
echo "daemon at $address"

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

# The daemon stops cleanly (exit 0) on SIGTERM.
kill -TERM "$daemon"
stopped=0
wait "$daemon" || stopped=$?
daemon=""
if [ "$stopped" -ne 0 ]; then
  echo "the daemon exited $stopped on SIGTERM"
  status=1
fi

# Whatever the daemon did, it must not have logged an error (a 5xx, a failed request).
if grep -q '"level":50' "$work/daemon.log"; then
  echo "the daemon logged errors:"
  grep '"level":50' "$work/daemon.log" | head -n 20
  status=1
fi
exit "$status"
