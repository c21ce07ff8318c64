#!/usr/bin/env bash
# Start a Prefect worker for the syndication work pool, stoppable with one SIGTERM (or Ctrl-C)
# however it was started: in the foreground, `bash scripts/worker.sh &` from another script, under
# nohup or systemd (contrib/systemd/syndication-worker.service).
#
#   PREFECT_API_URL=http://prefect.example.internal:4200/api \
#   SYNDICATION_CONFIG=/srv/syndication/config/syndication.toml \
#   bash scripts/worker.sh [--name worker-a] [other `prefect worker start` options]
#
# SYNDICATION_HOME defaults to this checkout, the Python to its .venv (scripts/setup.sh), the pool to
# `syndication` (SYNDICATION_POOL or --pool to change). On SIGTERM (or Ctrl-C) the worker takes no
# more runs at once; the flow runs it had started carry on to their end, and this process exits after
# them. A second SIGTERM stops those runs too (they end Crashed). Why and how:
# syndication/orchestration/worker.py; docs/operations.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
export SYNDICATION_HOME=${SYNDICATION_HOME:-$ROOT}
export PREFECT_SERVER_ANALYTICS_ENABLED=${PREFECT_SERVER_ANALYTICS_ENABLED:-false} DO_NOT_TRACK=${DO_NOT_TRACK:-1}
export PYTHONPATH="$SYNDICATION_HOME${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${PREFECT_API_URL:-}" ] && ! "$PYTHON" -c \
    'import sys; from prefect.settings import get_current_settings as s; sys.exit(0 if s().api.url else 1)' 2>/dev/null; then
  echo "worker.sh: no Prefect server: set PREFECT_API_URL (e.g. http://prefect.example.internal:4200/api)" >&2
  exit 2
fi
if [ -z "${SYNDICATION_CONFIG:-}" ] && [ ! -f "$SYNDICATION_HOME/config/syndication.toml" ]; then
  echo "worker.sh: warning: SYNDICATION_CONFIG is not set and $SYNDICATION_HOME/config/syndication.toml does not exist;" \
       "runs without a config parameter will use built-in defaults" >&2
fi
cd "$SYNDICATION_HOME"
exec "$PYTHON" -m syndication.orchestration.worker "$@"
