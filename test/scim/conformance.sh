#!/usr/bin/env bash
# The SCIM conformance tester scim2-tester (through its CLI, `scim2 test`) against a `jitsync
# serve` started here, with every check (status codes and content types included). Exits non-zero
# on any failed check, and when the daemon logged an error or did not stop cleanly.
# scim2-cli and scim2-tester (PyPI) are installed once in a virtualenv cached in
# ${JITSYNC_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/jitsync}.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/support/serve-daemon.sh

cli_version=0.6.0
tester_version=0.5.2
cache="${JITSYNC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jitsync}"
venv="$cache/scim2-cli-$cli_version-tester-$tester_version"
install_venv "$venv" "scim2-cli $cli_version and scim2-tester $tester_version" "scim2-cli==$cli_version" "scim2-tester==$tester_version"

# Always built: a dist/ older than the SCIM routes would be tested instead of the tree.
npm run build --silent

new_scratch
export JITSYNC_SCIM_DB="$work/jitsync.db"
serve_daemon test/scim/jitsync.yaml

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

stop_daemon || status=1
exit "$status"
