#!/usr/bin/env bash
# Installs (if needed) and starts a throwaway PostgreSQL for the test suite, then prints the URL to
# export as ENGAGEBOT_TEST_POSTGRES_URL. Usage: eval "$(scripts/postgres.sh)"
set -euo pipefail
PORT="${PGPORT_TEST:-54329}"
DATA="${PGDATA_TEST:-/tmp/engagebot-pg}"

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && { echo "$dir"; return; }; done
  return 1
}

if ! BIN=$(find_bin); then
  if [ "$(id -u)" = 0 ]; then
    echo "installing postgresql from Debian's packages" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
  else
    sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  BIN=$(find_bin)
fi

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  rm -rf "$DATA"
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres: "$DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust --no-sync >/dev/null
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/log" -w \
    -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" \
    start >/dev/null
fi
echo "export ENGAGEBOT_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:$PORT/postgres"
