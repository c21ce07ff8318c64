"""No-change run benchmark: what a whole `syndicate run` with nothing new costs as history grows.

The store is seeded in bulk (``bench/nochange_bench.py``'s seeder) with N approved posts of one
feed, already sent to an outbox and to a webhook partner that takes 9 in 10 of them. The feed is a
loopback server that answers 304 to the validators it gave out, so a run polls (304), extracts
nothing, translates nothing and delivers nothing.

Per store, both sizes are seeded side by side; ``pipeline.syndicate`` runs in-process (no Prefect),
the sizes taking turns round by round, each run with a fresh run context as the CLI builds one (the
store's connection pool stays warm, which makes the ratio stricter): a first run sets the feed's
validators and the stages' marks, then ``ROUNDS`` runs with nothing to do; the figure is their
median. The target is the ratio at
10,000 ÷ 100 approved items: ≤ 1.5 on SQLite and on PostgreSQL (a private cluster from
scripts/pg_up.sh). ``NOCHANGE_PROFILE=1`` prints a cProfile of the no-change runs at the largest size.

    python -m bench nochange_run
    NOCHANGE_STORES=sqlite NOCHANGE_SIZES=100,2000 python -m bench nochange_run   # quicker
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = [int(n) for n in os.environ.get("NOCHANGE_SIZES", "100,10000").split(",")]
STORES = os.environ.get("NOCHANGE_STORES", "sqlite,postgresql").split(",")
ROUNDS = int(os.environ.get("NOCHANGE_ROUNDS", "9"))
PROFILE = os.environ.get("NOCHANGE_PROFILE") == "1"
SECRET_ENV = "SYNDICATION__CHANNELS__PARTNER__SECRET"
ETAG = '"bench-feed-1"'
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Bench</title><link>https://example.dk/</link>
<description>no news</description></channel></rss>"""

CONFIG = """
[store]
url = "{url}"
[fetch]
allow_private_hosts = ["127.0.0.1"]
min_host_interval = 0
[[feeds]]
url = "{feed}"
name = "bench"
[translation]
targets = ["nb"]
[channels.outbox]
type = "outbox"
path = "{folder}/outbox"
[channels.partner]
type = "webhook"
url = "http://127.0.0.1:9/hook"
languages = ["nb"]
only_categories = ["Netværk"]
"""


def run() -> list[tuple[str, float, str]]:
    from bench.backfill_bench import _store

    sys.path.insert(0, str(ROOT))
    from tests.httpserver import FixtureServer, ReceivedRequest, Reply

    def feed(request: ReceivedRequest) -> Reply:
        if request.header("if-none-match") == ETAG:
            return Reply(304, headers={"ETag": ETAG})
        return Reply(200, headers={"Content-Type": "application/rss+xml", "ETag": ETAG}, body=FEED)

    results: list[tuple[str, float, str]] = []
    with FixtureServer() as server:
        server.add("/feed/", handler=feed)
        for kind in STORES:
            with _store(kind) as make_url, contextlib.ExitStack() as stack:
                sides = {
                    size: stack.enter_context(_Side(make_url(), server.url("/feed/"), size)) for size in SIZES
                }
                # Round by round, every size in turn: the load of a shared machine falls on all alike.
                for round_ in range(ROUNDS + 1):
                    for size, side in sides.items():
                        side.run(profile=PROFILE and round_ > 0 and size == max(SIZES))
                for size, side in sides.items():
                    results += [
                        (f"nochange_run_{kind}_{size}_first", side.times[0], "s"),
                        (f"nochange_run_{kind}_{size}", side.steady, "s"),
                    ]
                    print(
                        f"#   {size} items on {kind}: first {side.times[0]:.3f} s, then {side.steady:.4f} s",
                        file=sys.stderr,
                    )
                    if side.profiler is not None:
                        out = io.StringIO()
                        pstats.Stats(side.profiler, stream=out).sort_stats("cumulative").print_stats(45)
                        print(out.getvalue(), file=sys.stderr)
                small, big = min(SIZES), max(SIZES)
                if big != small:
                    ratio = sides[big].steady / sides[small].steady
                    results.append((f"nochange_run_{kind}_ratio_{big}_{small}", ratio, "x"))
    return results


class _Side:
    """One store seeded with ``size`` approved items, and the times of the runs made on it."""

    def __init__(self, url: str, feed_url: str, size: int) -> None:
        self.url, self.feed_url, self.size = url, feed_url, size
        self.times: list[float] = []
        self.profiler: cProfile.Profile | None = None
        self.folder = tempfile.TemporaryDirectory()

    def __enter__(self) -> _Side:
        from sqlalchemy import select

        from bench.nochange_bench import _seed
        from syndication.feeds.ingest import feed_row
        from syndication.settings import load_settings
        from syndication.store import Feed, open_store

        config = Path(self.folder.name) / "syndication.toml"
        text = CONFIG.format(url=self.url, feed=self.feed_url, folder=self.folder.name)
        config.write_text(text, encoding="utf-8")
        self.settings = load_settings(config, environ={SECRET_ENV: "bench-secret"})
        self.store = open_store(self.settings.store_url())
        with self.store.session() as session:
            feed_row(session, self.settings.feeds[0])
        with self.store.session() as session:
            feed_id = session.scalars(select(Feed.id)).one()
        _seed(self.store, self.size, feed_id=feed_id)
        analyze(self.store)
        return self

    def run(self, *, profile: bool) -> None:
        from syndication import pipeline
        from syndication.context import RunContext

        ctx = RunContext(settings=self.settings, store=self.store)
        if profile:
            self.profiler = self.profiler or cProfile.Profile()
            self.profiler.enable()
        started = time.perf_counter()
        try:
            summary = pipeline.syndicate(ctx)
        finally:
            self.times.append(time.perf_counter() - started)
            if profile and self.profiler is not None:
                self.profiler.disable()
        _check(summary, first=len(self.times) == 1)

    @property
    def steady(self) -> float:
        return statistics.median(self.times[1:])

    def __exit__(self, *exc: object) -> None:
        self.store.dispose()
        self.folder.cleanup()


def analyze(store: Any) -> None:
    """Fresh planner statistics after a bulk seed, as autovacuum keeps them for a store that grew
    over months (PostgreSQL; without them its planner guesses table sizes and may scan)."""
    from sqlalchemy import text

    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def _check(summary: Any, *, first: bool) -> None:
    did = (
        summary.errors
        or summary.deliveries_sent
        or summary.revisions_new
        or summary.translations_new
        or summary.engine_calls
        or summary.entries_new
        or summary.pages_fetched
    )
    if did or (not first and summary.feeds_not_modified != 1):
        raise RuntimeError(f"a no-change run did something: {summary}")
