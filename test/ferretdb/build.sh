#!/usr/bin/env bash
# Builds the FerretDB test server once into a cache outside the clone and prints its path.
# A no-op when the binary for these exact sources (go.mod, go.sum, main.go) already exists.
# Needs Go and the Go module proxy. Usage: bash test/ferretdb/build.sh
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${JITSYNC_CACHE_DIR:-$HOME/.cache/jitsync}/ferretdb"
hash="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
out_dir="$cache_root/$hash"
bin="$out_dir/ferretdb"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed; it is needed to build FerretDB for the MongoDB store tests" >&2
  exit 1
fi

mkdir -p "$out_dir"
tmp="$(mktemp "$out_dir/ferretdb.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

echo "build.sh: building FerretDB test server into $out_dir (first run only)" >&2
# ferretdb_no_postgresql: only the SQLite backend is used; leaving PostgreSQL out builds faster.
# -mod=readonly: go.sum pins every module; never rewrite it during a build. -buildvcs=false:
# the binary needs no git stamp (and a clone owned by another user would fail to give one).
(cd "$src" && GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -tags ferretdb_no_postgresql -o "$tmp" .)
# Rename last so a concurrent or interrupted build never leaves a half-written binary in place.
mv -f "$tmp" "$bin"
trap - EXIT
echo "$bin"
