"""Review queue benchmark: server time of the queue page with 100 and 10,000 items awaiting review.

A store is seeded in bulk (``bench/nochange_bench.py``'s seeder) with N posts of one feed whose
`nb` translations wait for review (3 segments each), on SQLite and on PostgreSQL (a private
cluster from scripts/pg_up.sh, statistics fresh as autovacuum keeps them). The review app runs
under uvicorn on loopback; a logged-in client fetches, ``ROUNDS`` times each after a warm-up, the
first page, a page deep in the queue (the middle), the language tab `nb` and the "all" state. The
figure is the median of the app's own ``Server-Timing`` (request in → response head out: session
lookup, the page's reads, template), the same measure as ``bench/web_bench.py``.

    python -m bench queue
    QUEUE_STORES=sqlite QUEUE_SIZES=10000 python -m bench queue   # quicker
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = [int(n) for n in os.environ.get("QUEUE_SIZES", "100,10000").split(",")]
STORES = os.environ.get("QUEUE_STORES", "sqlite,postgresql").split(",")
ROUNDS = int(os.environ.get("QUEUE_ROUNDS", "20"))
PASSWORD = "benchmark password"
CONFIG = """
[store]
url = "{url}"
[[feeds]]
url = "https://example.dk/feed/"
name = "bench"
[translation]
targets = ["nb"]
[channels.outbox]
type = "outbox"
path = "{folder}/outbox"
"""


def run() -> list[tuple[str, float, str]]:
    from bench.backfill_bench import _store

    results: list[tuple[str, float, str]] = []
    for kind in STORES:
        with _store(kind) as make_url:
            for size in SIZES:
                for view, server_ms in _measure(make_url(), size).items():
                    median = statistics.median(server_ms)
                    results.append((f"queue_{kind}_{size}_{view}_ms", median, "ms median server time"))
                    print(f"#   {size} items on {kind}, {view}: {median:.1f} ms", file=sys.stderr)
    return results


def _measure(url: str, size: int) -> dict[str, list[float]]:
    import requests
    from sqlalchemy import select

    from bench.nochange_bench import _seed
    from bench.nochange_run_bench import analyze
    from syndication.context import RunContext
    from syndication.feeds.ingest import feed_row
    from syndication.settings import load_settings
    from syndication.store import Feed, open_store
    from syndication.web.app import create_app
    from syndication.web.publishing import Publisher
    from syndication.web.users import add_user

    sys.path.insert(0, str(ROOT))
    from tests.web.live import LiveServer

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "syndication.toml"
        config.write_text(CONFIG.format(url=url, folder=folder), encoding="utf-8")
        settings = load_settings(config, environ={})
        ctx = RunContext(settings=settings, store=open_store(settings.store_url()))
        try:
            with ctx.store.session() as session:
                feed_row(session, settings.feeds[0])
                add_user(session, "bench", PASSWORD)
            with ctx.store.session() as session:
                feed_id = session.scalars(select(Feed.id)).one()
            _seed(ctx.store, size, status="machine_translated", feed_id=feed_id, delivered=False)
            analyze(ctx.store)
            views = {
                "first_page": "/",
                "middle_page": f"/?page={max(1, size // 100)}",
                "lang_tab": "/?lang=nb&state=machine_translated",
                "all_states": "/?state=all",
            }
            app = create_app(ctx, publisher=Publisher(ctx, prefect_api_url=None), channel_routes=False)
            timings: dict[str, list[float]] = {view: [] for view in views}
            with LiveServer(app) as server, requests.Session() as http:
                page = http.get(server.url + "/login", timeout=30)
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
                assert token
                http.post(
                    server.url + "/login",
                    data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)},
                    timeout=30,
                )
                for path in views.values():  # warm-up: templates, connection pool, page cache
                    for _ in range(3):
                        http.get(server.url + path, timeout=30)
                for _ in range(ROUNDS):
                    for view, path in views.items():
                        response = http.get(server.url + path, timeout=30)
                        assert response.status_code == 200, (path, response.status_code)
                        assert "/items/" in response.text, path
                        timing = re.search(r"app;dur=([0-9.]+)", response.headers["Server-Timing"])
                        assert timing
                        timings[view].append(float(timing.group(1)))
        finally:
            ctx.close()
    return timings
