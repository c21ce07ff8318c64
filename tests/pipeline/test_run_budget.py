"""The run's time budget (``fetch.run_budget``) through the poll and extract stages, on loopback
servers and SQLite: once it is spent the remaining feeds and pages wait for the next run, counted
as deferred, never as errors, and nothing is lost."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from syndication import pipeline
from syndication.budget import RunBudget
from syndication.context import RunContext
from syndication.store import Post
from tests.drip_server import DripHeadersServer
from tests.fetch.conftest import FakeTime
from tests.httpserver import FixtureServer, ReceivedRequest, Reply
from tests.tiny_site import PAGE, rss


def write_config(tmp_path: Path, feeds: list[str], *, budget: float = 600, deadline: float = 1) -> Path:
    path = tmp_path / "syndication.toml"
    feed_tables = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in feeds)
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path}/budget.db"
[fetch]
allow_private_hosts = ["127.0.0.1"]
min_host_interval = 0
timeout = 0.5
deadline = {deadline}
run_budget = {budget}
respect_robots = false
{feed_tables}
[translation]
targets = ["nb"]
""",
        encoding="utf-8",
    )
    return path


def serve_site(server: FixtureServer, prefix: str, numbers: list[int]) -> str:
    base = server.url(prefix).rstrip("/")
    server.add(f"{prefix}/feed/", rss(base, numbers), headers={"Content-Type": "application/rss+xml"})
    for n in numbers:
        server.add(f"{prefix}/p{n}/", PAGE.format(n=n).encode(), headers={"Content-Type": "text/html"})
    return f"{base}/feed/"


def statuses(ctx: RunContext) -> list[str]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Post.status).order_by(Post.id)))


def test_feeds_after_the_budget_is_spent_are_deferred_to_the_next_run(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    clock = FakeTime()
    first = serve_site(http_server, "/a", [1])
    rest = [serve_site(http_server, f"/{name}", [n]) for name, n in (("b", 2), ("c", 3))]

    def slow_feed(request: ReceivedRequest) -> Reply:
        clock.advance(120)  # the first feed takes two minutes of the run's one
        return Reply(200, {"Content-Type": "application/rss+xml"}, rss(first.removesuffix("/feed/"), [1]))

    http_server.add("/a/feed/", handler=slow_feed)
    config = write_config(tmp_path, [first, *rest], budget=60)
    ctx = RunContext.open(config)
    ctx.budget = RunBudget(60, clock=clock.clock)
    try:
        pipeline.poll(ctx)
        summary = ctx.summary
        assert (summary.feeds_polled, summary.feeds_deferred, summary.errors) == (1, 2, [])
        assert http_server.requests_to("/b/feed/") == http_server.requests_to("/c/feed/") == []
        assert any("2 feeds and 0 posts left for the next run" in line for line in summary.lines())
    finally:
        ctx.close()

    ctx = RunContext.open(config, started_at=time.time())  # the next run, with its own budget
    try:
        pipeline.poll(ctx)
        assert (ctx.summary.feeds_polled, ctx.summary.feeds_deferred) == (3, 0)
        assert len(statuses(ctx)) == 3
    finally:
        ctx.close()


def test_a_feed_dripping_its_headers_is_cut_at_the_budget_and_the_rest_waits(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    normal = serve_site(http_server, "/a", [1])
    with DripHeadersServer(interval=0.05) as dripping:
        # The request's own deadline is far off: only the budget can end it.
        config = write_config(tmp_path, [dripping.url("/feed/"), normal], deadline=60)
        ctx = RunContext.open(config)
        ctx.budget = RunBudget(1.5)  # started once the store is open: a slow open cannot spend it
        try:
            pipeline.poll(ctx)
            summary = ctx.summary
        finally:
            ctx.close()
        assert dripping.connections == 1
    # The dripping feed was cut when the budget ran out; the other was not started.
    assert summary.errors == []
    assert (summary.feeds_polled, summary.feeds_failed, summary.feeds_deferred) == (0, 0, 2)
    assert http_server.requests_to("/a/feed/") == []


def test_a_dripping_feed_within_the_budget_fails_with_a_timeout_and_the_others_are_polled(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    normal = serve_site(http_server, "/a", [1])
    with DripHeadersServer(interval=0.05) as dripping:
        config = write_config(tmp_path, [dripping.url("/feed/"), normal])
        ctx = RunContext.open(config, started_at=time.time())
        try:
            pipeline.poll(ctx)
            summary = ctx.summary
        finally:
            ctx.close()
    assert (summary.feeds_polled, summary.feeds_failed, summary.feeds_deferred) == (2, 1, 0)
    [error] = summary.errors
    assert error.kind == "transient"
    assert "timed out after 1 s" in error.message
    assert "empty" not in error.message


def test_pages_after_the_budget_is_spent_stay_queued_for_the_next_run(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, [serve_site(http_server, "", [1, 2, 3])])
    ctx = RunContext.open(config)  # no budget: a plain poll
    try:
        pipeline.poll(ctx)
    finally:
        ctx.close()
    # A run that started 11 minutes ago has spent its 10.
    ctx = RunContext.open(config, started_at=time.time() - 660)
    try:
        pipeline.extract(ctx)
        assert (ctx.summary.posts_deferred, ctx.summary.pages_fetched, ctx.summary.errors) == (3, 0, [])
        assert statuses(ctx) == ["new", "new", "new"]
    finally:
        ctx.close()
    ctx = RunContext.open(config, started_at=time.time())
    try:
        pipeline.extract(ctx)
        assert (ctx.summary.posts_deferred, ctx.summary.pages_fetched) == (0, 3)
        assert statuses(ctx) == ["extracted"] * 3
    finally:
        ctx.close()


def test_a_page_cut_by_the_budget_stays_queued(http_server: FixtureServer, tmp_path: Path) -> None:
    with DripHeadersServer(interval=0.05) as dripping:
        base = dripping.url("").rstrip("/")
        http_server.add("/feed/", rss(base, [1]), headers={"Content-Type": "application/rss+xml"})
        config = write_config(tmp_path, [http_server.url("/feed/")], deadline=60)
        ctx = RunContext.open(config)
        try:
            pipeline.poll(ctx)
        finally:
            ctx.close()
        ctx = RunContext.open(config)
        ctx.budget = RunBudget(1.5)
        try:
            pipeline.extract(ctx)
            assert (ctx.summary.posts_deferred, ctx.summary.extraction_failed) == (1, 0)
            assert ctx.summary.errors == []
            assert statuses(ctx) == ["new"]
        finally:
            ctx.close()
        assert dripping.connections == 1  # it was started, and cut
