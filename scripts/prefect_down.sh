#!/usr/bin/env bash
# Stop the Prefect server scripts/prefect_up.sh started (same PREFECT_PORT / PREFECT_STATE).
#   KEEP=1 bash scripts/prefect_down.sh   # keep $PREFECT_STATE (the server's database and logs)
set -uo pipefail
PREFECT_PORT=${PREFECT_PORT:-4200}
PREFECT_STATE=${PREFECT_STATE:-/tmp/syndication-prefect-$PREFECT_PORT}
[ -f "$PREFECT_STATE/server.pid" ] || { echo "no prefect server started by prefect_up.sh in $PREFECT_STATE"; exit 0; }
pid=$(cat "$PREFECT_STATE/server.pid")
kill -TERM -- "-$pid" 2>/dev/null || true    # the whole group: uvicorn and its services
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- "-$pid" 2>/dev/null || true
rm -f "$PREFECT_STATE/server.pid"
[ "${KEEP:-0}" = 1 ] || rm -rf "$PREFECT_STATE"
echo "prefect server on 127.0.0.1:$PREFECT_PORT stopped"
