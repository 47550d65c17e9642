#!/usr/bin/env bash
# The SCIM conformance tester scim2-tester (through its CLI, `scim2 test`) against a `jitsync
# serve` started here, with every check (status codes and content types included). Exits non-zero
# on any failed check, and when the daemon logged an error or did not stop cleanly.
# scim2-cli and scim2-tester (PyPI) are installed once in a virtualenv cached in
# ${JITSYNC_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/jitsync}.
set -euo pipefail
cd "$(dirname "$0")/../.."

cli_version=0.6.0
tester_version=0.5.2
cache="${JITSYNC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jitsync}"
venv="$cache/scim2-cli-$cli_version-tester-$tester_version"
# A virtualenv cannot be moved, so it is built in place; the stamp marks a finished install.
if [ ! -f "$venv/.installed" ]; then
  echo "installing scim2-cli $cli_version and scim2-tester $tester_version in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "scim2-cli==$cli_version" "scim2-tester==$tester_version"
  touch "$venv/.installed"
fi

# Always built: a dist/ older than the SCIM routes would be tested instead of the tree.
npm run build --silent

work="$(mktemp -d)"
daemon=""
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon" && wait "$daemon" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export JITSYNC_SCIM_DB="$work/jitsync.db"
node dist/daemon/cli.js serve --config test/scim/jitsync.yaml >"$work/daemon.log" 2>&1 &
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
# The token through the environment, not the command line (other users can read that).
export SCIM_CLI_HEADERS="Authorization: Bearer conformance-scim-token-0123"
"$venv/bin/scim2" --url "$address/scim/v2/idp" test --check-status-code --check-content-type >"$work/report.txt" 2>&1 || status=$?
cat "$work/report.txt"
# The CLI lists every check with its status (SUCCESS, ERROR, …); anything but SUCCESS fails the run.
if grep -Eq '^[A-Z]+ ' "$work/report.txt" && grep -E '^[A-Z]+ ' "$work/report.txt" | grep -vq '^SUCCESS '; then status=1; fi
checks="$(grep -Ec '^[A-Z]+ ' "$work/report.txt" || true)"
echo "scim2-tester: $checks checks, $(grep -Ec '^SUCCESS ' "$work/report.txt" || true) passed"
[ "$checks" -gt 0 ] || { echo "scim2-tester ran no check"; status=1; }

kill -TERM "$daemon"
stopped=0
wait "$daemon" || stopped=$?
daemon=""
if [ "$stopped" -ne 0 ]; then
  echo "the daemon exited $stopped on SIGTERM"
  status=1
fi
if grep -q '"level":50' "$work/daemon.log"; then
  echo "the daemon logged errors:"
  grep '"level":50' "$work/daemon.log" | head -n 20
  status=1
fi
exit "$status"
