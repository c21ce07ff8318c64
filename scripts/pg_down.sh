#!/usr/bin/env bash
# Stop the cluster scripts/pg_up.sh started (same PGPORT / PG_STATE) and delete its data.
set -uo pipefail
PGPORT=${PGPORT:-55432}
PG_STATE=${PG_STATE:-/tmp/syndication-pg-$PGPORT}
[ -f "$PG_STATE/postgres.pid" ] || { echo "no postgres started by pg_up.sh in $PG_STATE"; exit 0; }
pid=$(cat "$PG_STATE/postgres.pid")
kill -INT "$pid" 2>/dev/null || true   # SIGINT: PostgreSQL's "fast" shutdown
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
rm -rf "$PG_STATE"
echo "postgres on 127.0.0.1:$PGPORT stopped"
