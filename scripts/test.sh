#!/usr/bin/env bash
# Runs Parley's whole test suite the way CI does, on a fresh Debian machine
# with only Go installed:
#   1. installs what is missing (PostgreSQL server, Chromium, Node and npm)
#      from Debian,
#   2. builds the dashboard islands when they exist (npm),
#   3. checks the modernc.org/libc pin (go-stack.md, risk 4),
#   4. starts a throwaway PostgreSQL and exports PARLEY_TEST_POSTGRES_URL,
#   5. runs go vet, a gofmt check and `go test ./...`, printing go test's
#      own output so CI sees the "ok" lines.
# Any failure exits non-zero. Under CI=true no test may skip for a missing
# dependency: dbtest and the browser harness fail instead.
#
# Usage: scripts/test.sh [packages...]   (default ./...; `make test` runs all)
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=("$@")
((${#pkgs[@]})) || pkgs=(./...)

log() { printf '==> %s\n' "$*" >&2; }

have_initdb() {
  command -v initdb >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

have_chromium() {
  local b
  for b in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$b" >/dev/null 2>&1 && return 0
  done
  return 1
}

# --- 1. system packages, only when missing (apt-get update at most once) ---
missing=()
have_initdb || missing+=(postgresql)
have_chromium || missing+=(chromium)
# Node and npm build the dashboard's islands (the flow editor), which the
# browser tests drive.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { log "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 2. front-end islands (the flow editor), built with npm ---
make --no-print-directory islands

# --- 3. the SQLite driver must run on exactly the libc it was built for ---
# modernc.org/sqlite is generated against one modernc.org/libc version; any
# other one can corrupt memory silently. go.mod pins it with a replace; this
# catches a dependency bump that drifts past the pin.
go mod download modernc.org/sqlite
sqlite_gomod="$(go list -m -f '{{.GoMod}}' modernc.org/sqlite)"
want_libc="$(awk '$1 == "modernc.org/libc" { print $2 }' "$sqlite_gomod")"
got_libc="$(go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' modernc.org/libc)"
if [ -z "$want_libc" ] || [ "$got_libc" != "$want_libc" ]; then
  log "modernc.org/libc resolves to ${got_libc:-nothing}, but $(go list -m modernc.org/sqlite) needs ${want_libc:-?}"
  log "keep 'replace modernc.org/libc => modernc.org/libc $want_libc' in go.mod"
  exit 1
fi
log "modernc.org/libc $got_libc matches modernc.org/sqlite"

# --- 4. throwaway PostgreSQL; stopped at exit only if this run started it ---
pg_port="${PARLEY_PG_PORT:-55432}"
if ! (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; then
  trap 'bash scripts/postgres.sh stop' EXIT
fi
eval "$(bash scripts/postgres.sh start)"
export PARLEY_TEST_POSTGRES_URL
log "PostgreSQL at 127.0.0.1:$pg_port"

# --- 5. static checks, then the suite ---
log "go vet"
go vet "${pkgs[@]}"

unformatted="$(gofmt -l $(ls -d cmd internal bench 2>/dev/null))"
if [ -n "$unformatted" ]; then
  log "these files need gofmt (run: make fmt):"
  printf '%s\n' "$unformatted" >&2
  exit 1
fi

# Two packages at a time suits a 2-core machine: browser and PostgreSQL tests
# are mostly waiting, and more parallelism only adds contention.
log "go test"
go test -count=1 -p 2 -timeout 15m "${pkgs[@]}"
