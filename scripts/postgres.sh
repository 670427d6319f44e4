#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and
# prints the export line for PARLEY_TEST_POSTGRES_URL. Usage:
#   eval "$(scripts/postgres.sh start)"   # start (idempotent)
#   scripts/postgres.sh stop
# initdb refuses to run as root, so the cluster belongs to the postgres user
# when we are root.
set -euo pipefail
dir="${PARLEY_PG_DIR:-/tmp/parley-test-pg}"
port="${PARLEY_PG_PORT:-55432}"
bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bin="$d"; done
[ -n "$bin" ] || { echo "postgres.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "${1:-start}" in
start)
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_owner "'$bin/initdb' -D '$dir' -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null"
    cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 128MB
CONF
  fi
  if ! as_owner "'$bin/pg_ctl' -D '$dir' status" >/dev/null 2>&1; then
    as_owner "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -t 60 start" >/dev/null
  fi
  as_owner "'$bin/psql' -h 127.0.0.1 -p $port -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='parley_test'\"" | grep -q 1 ||
    as_owner "'$bin/psql' -h 127.0.0.1 -p $port -U postgres -qc 'CREATE DATABASE parley_test'"
  echo "export PARLEY_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/parley_test?sslmode=disable'"
  ;;
stop)
  as_owner "'$bin/pg_ctl' -D '$dir' -m fast stop" >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
