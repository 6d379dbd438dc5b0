#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for the test suite and prints its URL.
#   scripts/test-db.sh start DIR   -> initdb into DIR, start on a free port, print the URL
#   scripts/test-db.sh stop DIR    -> stop the cluster and remove DIR
# FIRESTOP_PG_DURABLE=1 keeps fsync and synchronous commit on (for benchmarks).
# The server never runs as root: as root it runs as the `postgres` user.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

ensure_installed() {
  if [ -x "$PG_BIN/initdb" ]; then return; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL 15 is missing ($PG_BIN); install the Debian 'postgresql' package" >&2
    exit 1
  fi
  echo "installing PostgreSQL 15 from Debian packages…" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cmd=${1:?start|stop}
dir=${2:?directory}
case "$cmd" in
  start)
    ensure_installed
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    as_owner "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    # Tests trade durability for speed; benchmarks (FIRESTOP_PG_DURABLE=1) keep every default.
    fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ "${FIRESTOP_PG_DURABLE:-0}" = 1 ]; then fast=""; fi
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $fast -c max_connections=200" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
