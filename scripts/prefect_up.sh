#!/usr/bin/env bash
# A self-hosted Prefect server on 127.0.0.1, for tests, benchmarks and a single-machine setup.
#
#   PREFECT_PORT=4200 bash scripts/prefect_up.sh    # start; prints "env: FILE" (PREFECT_API_URL ...)
#   bash scripts/prefect_down.sh                    # stop what this script started
#
# Everything Prefect keeps (its SQLite database unless PREFECT_API_DATABASE_CONNECTION_URL points at
# PostgreSQL, profiles, UI build) lives in $PREFECT_STATE/home, never in ~/.prefect. No analytics,
# no telemetry (machines without internet). Other PREFECT_* variables in the environment reach the
# server, e.g. PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS=2 for tests of schedules. The server runs
# under setsid; its PID (= process group) goes to $PREFECT_STATE/server.pid.
set -euo pipefail
PREFECT_PORT=${PREFECT_PORT:-4200}
PREFECT_STATE=${PREFECT_STATE:-/tmp/syndication-prefect-$PREFECT_PORT}
# The checkout's virtualenv (scripts/setup.sh) unless PYTHON says otherwise: works without
# `source .venv/bin/activate`.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import prefect' 2>/dev/null; then
  echo "prefect_up.sh: $PYTHON cannot import prefect; run bash scripts/setup.sh, or set PYTHON=/path/to/venv/bin/python" >&2
  exit 1
fi
export PREFECT_HOME="$PREFECT_STATE/home"
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
export PREFECT_SERVER_API_HOST=127.0.0.1 PREFECT_SERVER_API_PORT="$PREFECT_PORT"
URL="http://127.0.0.1:$PREFECT_PORT/api"

healthy() { "$PYTHON" - "$URL/health" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

mkdir -p "$PREFECT_HOME"
if [ -f "$PREFECT_STATE/server.pid" ] && kill -0 "$(cat "$PREFECT_STATE/server.pid")" 2>/dev/null && healthy; then
  echo "prefect server already running at $URL"
else
  start=$(date +%s.%N)
  setsid "$PYTHON" -m prefect server start --host 127.0.0.1 --port "$PREFECT_PORT" \
    >"$PREFECT_STATE/server.log" 2>&1 < /dev/null &
  echo $! > "$PREFECT_STATE/server.pid"
  for _ in $(seq 1 600); do
    healthy && break
    if ! kill -0 "$(cat "$PREFECT_STATE/server.pid")" 2>/dev/null; then
      echo "prefect server exited; its log:" >&2; cat "$PREFECT_STATE/server.log" >&2; exit 1
    fi
    sleep 0.2
  done
  if ! healthy; then
    echo "prefect server did not answer at $URL within 120 s; its log:" >&2
    cat "$PREFECT_STATE/server.log" >&2
    exit 1
  fi
  printf 'prefect server up at %s in %.1f s\n' "$URL" "$(echo "$(date +%s.%N) - $start" | bc)"
fi
cat > "$PREFECT_STATE/env" <<ENV
PREFECT_API_URL=$URL
PREFECT_HOME=$PREFECT_HOME
PREFECT_SERVER_ANALYTICS_ENABLED=false
DO_NOT_TRACK=1
ENV
echo "env: $PREFECT_STATE/env"
