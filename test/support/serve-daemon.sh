# Sourced (not run) by the scripts that test a running `jitsync serve` with an outside tool
# (test/schemathesis/run.sh, test/scim/conformance.sh): the tool's virtualenv, a scratch folder,
# and the daemon's start and clean stop. Run from the repository's root.

# Installs the PyPI packages `$3…` once in the virtualenv `$1` (`$2` names them in the message).
# A virtualenv cannot be moved, so it is built in place; the stamp marks a finished install.
install_venv() {
  local venv="$1" what="$2"
  shift 2
  if [ ! -f "$venv/.installed" ]; then
    echo "installing $what in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
    touch "$venv/.installed"
  fi
}

# A scratch folder in `work`, removed on exit together with a daemon still running.
new_scratch() {
  work="$(mktemp -d)"
  daemon=""
  trap remove_scratch EXIT
}

remove_scratch() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon" && wait "$daemon" || true
  fi
  rm -rf "$work"
}

# Starts `jitsync serve --config $1` from the built CLI, logging to $work/daemon.log, and waits
# for it to listen: sets `daemon` (its process) and `address`. Exits when it does not start.
serve_daemon() {
  node dist/daemon/cli.js serve --config "$1" >"$work/daemon.log" 2>&1 &
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
}

# Stops the daemon with SIGTERM. Fails when it did not exit 0, or logged an error at any time
# (a 5xx, a failed request), showing why.
stop_daemon() {
  local stopped=0 failed=0
  kill -TERM "$daemon"
  wait "$daemon" || stopped=$?
  daemon=""
  if [ "$stopped" -ne 0 ]; then
    echo "the daemon exited $stopped on SIGTERM"
    failed=1
  fi
  if grep -q '"level":50' "$work/daemon.log"; then
    echo "the daemon logged errors:"
    grep '"level":50' "$work/daemon.log" | head -n 20
    failed=1
  fi
  return "$failed"
}
