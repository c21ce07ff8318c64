"""Pages benchmark: a site in maintenance costs one Retry-After wait per host per run, not one per page.

Two loopback hosts (127.0.0.1 and 127.0.0.2, one feed each) list ``PAGES_PER_HOST`` posts whose full
text is on their page, and answer every page (and robots.txt) ``503 Retry-After: PAGES_RETRY_AFTER``.
One ``pipeline.syndicate`` run on a fresh SQLite store, with the fetcher's sleep counted (and really
slept): the figures are the waits, the pages requested and deferred, and the run's wall time. Beside
it, the old way: every page fetched on its own with its own in-run wait (what a run cost before the
per-host deferral), on the same server.

    python -m bench pages
    PAGES_PER_HOST=20 PAGES_RETRY_AFTER=2 python -m bench pages
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZES = [int(n) for n in os.environ.get("PAGES_PER_HOST", "10,50").split(",")]
"""Pages per host, one run each; the old way is measured on the smallest (it costs a wait per page)."""
RETRY_AFTER = int(os.environ.get("PAGES_RETRY_AFTER", "1"))
HOSTS = ("127.0.0.1", "127.0.0.2")


def _feed(base: str, pages: int) -> bytes:
    items = "".join(
        f"<item><title>Indlæg {n}</title><link>{base}/p{n}/</link>"
        f"<guid isPermaLink='false'>{base}/?p={n}</guid><description>Kort nyt.</description></item>"
        for n in range(1, pages + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Vedligehold</title>'
        f"<link>{base}/</link><language>da</language>{items}</channel></rss>"
    ).encode()


def _maintenance(feed: bytes) -> Callable[..., object]:
    from tests.httpserver import Reply

    def handler(request: object) -> Reply:
        if getattr(request, "path", "") == "/feed/":
            return Reply(200, {"Content-Type": "application/rss+xml"}, feed)
        return Reply(503, {"Retry-After": str(RETRY_AFTER), "Content-Type": "text/plain"}, b"maintenance")

    return handler


def run() -> list[tuple[str, float, str]]:
    results: list[tuple[str, float, str]] = [
        ("pages_503_hosts", len(HOSTS), "hosts"),
        ("pages_503_retry_after", RETRY_AFTER, "s"),
    ]
    for size in SIZES:
        figures = _measure(size, old_way=size == min(SIZES))
        results += [(f"pages_503_{size}_per_host_{name}", value, unit) for name, value, unit in figures]
    return results


def _measure(per_host: int, *, old_way: bool) -> list[tuple[str, float, str]]:
    from syndication import pipeline
    from syndication.context import RunContext
    from syndication.errors import TransientFetchError
    from syndication.fetch import Fetcher
    from syndication.settings import FetchSettings
    from tests.httpserver import FixtureServer

    servers = [FixtureServer(host).start() for host in HOSTS]
    try:
        for server in servers:
            handler = _maintenance(_feed(server.base_url, per_host))
            for path in ("/feed/", "/robots.txt", *(f"/p{n}/" for n in range(1, per_host + 1))):
                server.add(path, handler=handler)  # type: ignore[arg-type]
        waits: list[float] = []

        def counted_sleep(seconds: float) -> None:
            waits.append(seconds)
            time.sleep(seconds)

        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder) / "syndication.toml"
            feeds = "".join(f'[[feeds]]\nurl = "{s.base_url}/feed/"\n' for s in servers)
            config.write_text(
                f'[store]\nurl = "sqlite:///{folder}/bench.db"\n'
                f"[fetch]\nallow_private_hosts = {list(HOSTS)!r}\nmin_host_interval = 0\ntimeout = 5\n"
                f'{feeds}[translation]\ntargets = ["nb"]\n'
                f'[channels.outbox]\ntype = "outbox"\npath = "{folder}/outbox"\n'
            )
            ctx = RunContext.open(config)
            ctx.fetcher_override = Fetcher(ctx.settings.fetch, sleep=counted_sleep)
            started = time.perf_counter()
            summary = pipeline.syndicate(ctx)
            seconds = time.perf_counter() - started
            ctx.close()
        requested = sum(1 for s in servers for r in s.requests if r.path.startswith("/p"))
        figures: list[tuple[str, float, str]] = [
            ("pages", per_host * len(HOSTS), "pages"),
            ("waits", len(waits), "waits"),
            ("waits_per_host", len(waits) / len(HOSTS), "waits"),
            ("pages_requested", requested, "pages"),
            ("pages_deferred", summary.pages_deferred, "pages"),
            ("run_errors", len(summary.errors), "errors"),
            ("run_seconds", seconds, "s"),
        ]
        if old_way:
            # Before: each page with its own in-run wait and retry, one after another.
            waits.clear()
            old = Fetcher(
                FetchSettings(allow_private_hosts=list(HOSTS), min_host_interval=0, timeout=5),
                sleep=counted_sleep,
            )
            started = time.perf_counter()
            for server in servers:
                for n in range(1, per_host + 1):
                    with contextlib.suppress(TransientFetchError):
                        old.get(f"{server.base_url}/p{n}/")
            figures += [
                ("old_way_waits", len(waits), "waits"),
                ("old_way_seconds", time.perf_counter() - started, "s"),
            ]
            old.close()
    finally:
        for server in servers:
            server.stop()
    return figures


if __name__ == "__main__":
    for figure, value, unit in run():
        print(f"{figure} {value:.4g} {unit}")
