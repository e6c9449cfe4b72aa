#!/usr/bin/env bash
# Throwaway PostgreSQL server for the test suite (adapted from the team's pg_ci.sh).
# Usage:  pg_test_server.sh start DIR PORT   -> prints a postgresql:// URL on stdout
#         pg_test_server.sh stop  DIR
# Installs Debian's postgresql package if no server binaries exist. initdb/postgres refuse to
# run as root, so when run as root the cluster belongs to the 'postgres' system user.
# fsync, full_page_writes and synchronous_commit are off: fast, NOT crash-safe (tests only).
# PG_DURABLE=1 keeps PostgreSQL's durable defaults (benchmarks that should pay for fsync).
set -euo pipefail
cmd=${1:-}; DIR=${2:-}; PORT=${3:-55432}
[ -n "$cmd" ] && [ -n "$DIR" ] || { echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2; }

find_pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true; }
PGBIN=$(find_pgbin)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "postgresql binaries missing; installing Debian postgresql" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  PGBIN=$(find_pgbin)
fi

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 \
        || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    mkdir -p "$DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; fi
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
        >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    fast="-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    if [ "${PG_DURABLE:-0}" = 1 ]; then fast=""; fi
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR $fast -c max_connections=300" \
      start >&2 || { cat "$DIR/postgres.log" >&2; exit 1; }
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 30
    echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    if [ -f "$DIR/data/postmaster.pid" ]; then
      as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w -t 60 stop >&2 || true
    fi
    ;;
  *) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
