#!/usr/bin/env bash
# The whole test suite, twice: on the embedded SQLite and on a real PostgreSQL 15 server.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# The browser tests drive Debian's Chromium; install it when missing (CI runs as root).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing Chromium from Debian packages…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "Chromium (/usr/bin/chromium) is missing: install the Debian 'chromium' package" >&2
    exit 1
  fi
fi

workers=${FIRESTOP_TEST_WORKERS:-2}

echo "== tests on SQLite =="
"$BIN/pytest" -q -n "$workers" -p no:cacheprovider "$@"

echo "== tests on PostgreSQL 15 =="
pgdir=$(mktemp -d /tmp/firestop-pg.XXXXXX)
trap 'scripts/test-db.sh stop "$pgdir"' EXIT
url=$(scripts/test-db.sh start "$pgdir")
echo "PostgreSQL at $url"
FIRESTOP_TEST_DATABASE_URL="$url" "$BIN/pytest" -q -n "$workers" -p no:cacheprovider "$@"
