#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster on 127.0.0.1 for tests, benchmarks and trying things out.
#
#   PGPORT=55432 bash scripts/pg_up.sh     # start; prints "env: FILE" (shell-sourceable settings)
#   bash scripts/pg_down.sh                # stop what this script started
#
# Debian's `postgresql` package (installed when missing; its service is never started: the cluster
# here is our own, in $PG_STATE, owned by the `postgres` user when run as root). Trust authentication
# on loopback only and fsync off: the data is disposable, never use this for real data.
# Creates role `syndication` (password `syndication`) owning databases `syndication` (our store)
# and `prefect` (a Prefect server's database). The postmaster runs under setsid; its PID goes to
# $PG_STATE/postgres.pid.
set -euo pipefail
PGPORT=${PGPORT:-55432}
PG_STATE=${PG_STATE:-/tmp/syndication-pg-$PGPORT}
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing Debian's postgresql"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# As root the server must run as an unprivileged user; otherwise it runs as whoever calls us.
as_db() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -f "$PG_STATE/postgres.pid" ] && kill -0 "$(cat "$PG_STATE/postgres.pid")" 2>/dev/null; then
  echo "postgres already running on 127.0.0.1:$PGPORT"
else
  rm -rf "$PG_STATE"
  mkdir -p "$PG_STATE/sock"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PG_STATE"
  as_db "$PGBIN/initdb" -D "$PG_STATE/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  # Loopback only, no TCP elsewhere; the socket lives in our own folder, not /run/postgresql.
  cat >> "$PG_STATE/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PG_STATE/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$PG_STATE/data/pg_hba.conf"
  # setsid: the postmaster gets its own process group, so pg_down.sh can stop all of it by PID.
  as_db setsid "$PGBIN/postgres" -D "$PG_STATE/data" >"$PG_STATE/server.log" 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    if [ -f "$PG_STATE/data/postmaster.pid" ] && \
       "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  if ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
    echo "postgres did not start on 127.0.0.1:$PGPORT; its log:" >&2
    cat "$PG_STATE/server.log" >&2
    exit 1
  fi
  head -1 "$PG_STATE/data/postmaster.pid" > "$PG_STATE/postgres.pid"
  psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE syndication LOGIN PASSWORD 'syndication' CREATEDB" \
    -c "CREATE DATABASE syndication OWNER syndication" \
    -c "CREATE DATABASE prefect OWNER syndication" >/dev/null
fi
cat > "$PG_STATE/env" <<ENV
PG_STATE=$PG_STATE
PGPORT=$PGPORT
SYNDICATION__STORE__URL=postgresql://syndication:syndication@127.0.0.1:$PGPORT/syndication
PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://syndication:syndication@127.0.0.1:$PGPORT/prefect
ENV
echo "postgres up on 127.0.0.1:$PGPORT"
echo "env: $PG_STATE/env"
