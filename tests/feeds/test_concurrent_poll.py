"""Feeds polled by a pool of workers with politeness kept (issue 13), on loopback servers bound to
127.0.0.2, 127.0.0.3, ... (each a host of its own; every 127/8 address is loopback on Linux) and a
real SQLite store: different hosts are fetched at the same time, one host never twice at once, the
host interval is slept through (the test's clock), answers are stored as they arrive, and a
failing feed among many is recorded while the rest go on. Nothing here asserts a duration: the
servers wait for a condition (with a generous timeout that only a broken poller runs into)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select

from syndication import pipeline
from syndication.context import RunContext
from syndication.fetch import Fetcher
from syndication.fetch.result import FetchResult
from syndication.store import Feed, open_store
from tests.fetch.conftest import FakeTime
from tests.httpserver import FixtureServer, ReceivedRequest, Reply

RSS_TYPE = {"Content-Type": "application/rss+xml; charset=UTF-8"}
GENEROUS = 20.0
"""Seconds a server waits for a condition a working poller meets at once."""


def rss(base: str, n: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Landsbyen</title>'
        f"<link>{base}/</link><item><title>Indlæg {n}</title><link>{base}/p{n}/</link>"
        f"<guid isPermaLink='false'>{base}/?p={n}</guid><description>Kort nyt.</description></item>"
        "</channel></rss>"
    ).encode()


class InFlight:
    """Counts requests in flight per host and in all, remembering the most seen at once."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.now: dict[str, int] = {}
        self.total = 0
        self.most_total = 0
        self.most_per_host: dict[str, int] = {}

    def enter(self, host: str) -> None:
        with self.lock:
            self.now[host] = self.now.get(host, 0) + 1
            self.total += 1
            self.most_total = max(self.most_total, self.total)
            self.most_per_host[host] = max(self.most_per_host.get(host, 0), self.now[host])
            self.lock.notify_all()

    def leave(self, host: str) -> None:
        with self.lock:
            self.now[host] -= 1
            self.total -= 1


@pytest.fixture
def hosts() -> Iterator[list[FixtureServer]]:
    """Four servers, one per loopback host 127.0.0.2 ... 127.0.0.5."""
    with ExitStack() as stack:
        yield [stack.enter_context(FixtureServer(f"127.0.0.{n}")) for n in range(2, 6)]


def write_config(tmp_path: Path, feeds: list[str], *, concurrency: int = 4, interval: float = 0) -> Path:
    path = tmp_path / "syndication.toml"
    tables = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in feeds)
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path}/poll.db"
[fetch]
allow_private_hosts = ["127.0.0.0/8"]
min_host_interval = {interval}
concurrency = {concurrency}
timeout = 5
deadline = 30
{tables}
[translation]
targets = ["nb"]
""",
        encoding="utf-8",
    )
    return path


def serve_feeds(server: FixtureServer, count: int, handler=None) -> list[str]:
    """``count`` feeds on ``server`` (``/f{i}/``), answered by ``handler`` or a plain RSS."""
    urls = []
    for i in range(count):
        base = server.url(f"/f{i}").rstrip("/")
        if handler is None:
            server.add(f"/f{i}/", rss(base, i), headers=RSS_TYPE)
        else:
            server.add(f"/f{i}/", handler=handler(server.host, base, i))
        urls.append(f"{base}/")
    return urls


def poll(config: Path, fetcher: Fetcher | None = None) -> RunContext:
    ctx = RunContext.open(config)
    ctx.fetcher_override = fetcher
    try:
        pipeline.poll(ctx)
    finally:
        ctx.close()
    return ctx


def feeds_by_url(config: Path) -> dict[str, Feed]:
    ctx = RunContext.open(config)
    try:
        with ctx.store.session() as session:
            rows = list(session.scalars(select(Feed)))
            session.expunge_all()
    finally:
        ctx.close()
    return {row.url: row for row in rows}


def test_hosts_are_polled_at_the_same_time_and_each_host_one_request_at_a_time(
    hosts: list[FixtureServer], tmp_path: Path
) -> None:
    seen = InFlight()
    gate_open = threading.Event()

    def handler(host: str, base: str, n: int):
        def answer(_request: ReceivedRequest) -> Reply:
            seen.enter(host)
            try:
                # The first requests wait until one per host is in flight: a sequential poller
                # never gets there (the wait runs out), one that asks a host twice at once shows
                # it in most_per_host.
                with seen.lock:
                    if seen.lock.wait_for(lambda: gate_open.is_set() or seen.total >= 4, GENEROUS):
                        gate_open.set()  # for good: the later requests go straight through
                return Reply(200, RSS_TYPE, rss(base, n))
            finally:
                seen.leave(host)

        return answer

    # Listed host by host: a pool taking feeds in order would send a host's three at once.
    feeds = [url for server in hosts for url in serve_feeds(server, 3, handler)]
    config = write_config(tmp_path, feeds, concurrency=4)

    summary = poll(config).summary

    assert gate_open.is_set() and seen.most_total == 4
    assert seen.most_per_host == {server.host: 1 for server in hosts}
    assert (summary.feeds_polled, summary.entries_new, summary.errors) == (12, 12, [])
    assert all(row.last_status == 200 for row in feeds_by_url(config).values())


def test_two_feeds_on_one_host_are_never_fetched_at_the_same_time_by_one_fetcher(
    hosts: list[FixtureServer],
) -> None:
    """The fetcher's own rule, whoever calls it: threads asking one host take turns."""
    server = hosts[0]
    seen = InFlight()

    def answer(_request: ReceivedRequest) -> Reply:
        seen.enter(server.host)
        try:
            with seen.lock:  # hold the request while another one to this host could come in
                seen.lock.wait_for(lambda: seen.total > 1, 0.5)
            return Reply(200, {"Content-Type": "text/plain"}, b"ok")
        finally:
            seen.leave(server.host)

    for path in ("/a", "/b", "/c"):
        server.add(path, handler=answer)
    start = threading.Barrier(3)
    results: list[FetchResult] = []

    with Fetcher(_settings()) as fetcher:

        def fetch(path: str) -> None:
            start.wait()
            results.append(fetcher.get(server.url(path)))

        threads = [threading.Thread(target=fetch, args=(p,)) for p in ("/a", "/b", "/c")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(GENEROUS)

    assert [r.content for r in results] == [b"ok"] * 3
    assert seen.most_per_host == {server.host: 1}


def test_robots_txt_is_fetched_once_per_host_however_many_threads_ask(hosts: list[FixtureServer]) -> None:
    for server in hosts[:2]:
        # Slow enough that every thread asks while the first fetch of the file is under way.
        server.add(
            "/robots.txt",
            handler=lambda _r: Reply(200, {}, b"User-agent: *\nDisallow: /privat/\n", delay=0.3),
        )
        for n in range(4):
            server.add(f"/side{n}/", b"<html><body>side</body></html>", headers={"Content-Type": "text/html"})
    start = threading.Barrier(8)
    answers: list[int] = []

    with Fetcher(_settings()) as fetcher:

        def fetch(server: FixtureServer, n: int) -> None:
            start.wait()
            answers.append(fetcher.get_page(server.url(f"/side{n}/")).status)

        threads = [threading.Thread(target=fetch, args=(s, n)) for s in hosts[:2] for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(GENEROUS)
        assert not fetcher.allowed(hosts[0].url("/privat/x"))

    assert answers == [200] * 8
    assert [len(server.requests_to("/robots.txt")) for server in hosts[:2]] == [1, 1]


def test_a_failing_feed_among_many_is_recorded_and_the_rest_go_on(
    hosts: list[FixtureServer], tmp_path: Path
) -> None:
    good = [url for server in hosts[:3] for url in serve_feeds(server, 3)]
    broken = hosts[3]
    broken.add("/down/", handler=lambda _r: Reply(500, {}, b"database error"))
    broken.add("/html/", b"<html><body>not a feed</body></html>", headers={"Content-Type": "text/html"})
    broken.reset("/reset/")
    failing = [broken.url(p) for p in ("/down/", "/html/", "/reset/")]
    # The failures come first and in the middle: nothing after them may be skipped.
    config = write_config(tmp_path, [failing[0], *good[:5], failing[1], *good[5:], failing[2]])

    summary = poll(config).summary

    assert (summary.feeds_polled, summary.feeds_failed, summary.entries_new) == (12, 3, 9)
    assert sorted(error.post for error in summary.errors) == sorted(failing)
    rows = feeds_by_url(config)
    assert all(rows[url].last_error for url in failing)
    assert [rows[url].last_status for url in failing] == [500, 200, None]
    assert all(rows[url].last_polled_at and rows[url].last_error is None for url in good)


def test_an_unexpected_fault_in_one_feeds_worker_fails_that_feed_only(
    hosts: list[FixtureServer], tmp_path: Path
) -> None:
    good = [url for server in hosts for url in serve_feeds(server, 2)]
    faulty = good[3]

    class FaultyFetcher(Fetcher):
        def get(self, url: str, **kwargs: object) -> FetchResult:  # type: ignore[override]
            if url == faulty:
                raise KeyError("a bug in our own code")
            return super().get(url, **kwargs)  # type: ignore[arg-type]

    config = write_config(tmp_path, good)
    with FaultyFetcher(_settings()) as fetcher:
        summary = poll(config, fetcher).summary

    assert (summary.feeds_polled, summary.feeds_failed, summary.entries_new) == (8, 1, 7)
    [error] = summary.errors
    assert error.post == faulty and "polling failed unexpectedly (KeyError" in error.message


def test_answers_are_stored_as_they_arrive_not_when_the_last_feed_answers(
    hosts: list[FixtureServer], tmp_path: Path
) -> None:
    quick = [url for server in hosts[1:] for url in serve_feeds(server, 2)]
    store = open_store(f"sqlite:///{tmp_path}/poll.db")
    saw_them_stored = threading.Event()

    def slow(_request: ReceivedRequest) -> Reply:
        # Answer only once every other feed's poll is in the store (read through a connection of
        # its own): a poller that stores at the end never gets there.
        give_up = time.monotonic() + GENEROUS
        while time.monotonic() < give_up:
            with store.session() as session:
                stored = session.scalars(select(Feed.url).where(Feed.last_polled_at.is_not(None))).all()
            if set(quick) <= set(stored):
                saw_them_stored.set()
                break
            time.sleep(0.02)
        return Reply(200, RSS_TYPE, rss(hosts[0].url("").rstrip("/"), 99))

    hosts[0].add("/slow/", handler=slow)
    config = write_config(tmp_path, [hosts[0].url("/slow/"), *quick])
    try:
        summary = poll(config).summary
    finally:
        store.dispose()

    assert saw_them_stored.is_set()
    assert (summary.feeds_polled, summary.errors) == (7, [])


def test_a_host_with_many_feeds_waits_the_interval_between_them(
    hosts: list[FixtureServer], tmp_path: Path
) -> None:
    """As long as politeness demands, not less: three feeds of one host, 5 s apart (the test's clock)."""
    feeds = serve_feeds(hosts[0], 3) + serve_feeds(hosts[1], 1)
    config = write_config(tmp_path, feeds, interval=5.0)
    clock = FakeTime()
    with Fetcher(_settings(min_host_interval=5.0), sleep=clock.sleep, clock=clock.clock) as fetcher:
        summary = poll(config, fetcher).summary

    assert (summary.feeds_polled, summary.errors) == (4, [])
    assert clock.sleeps == [5.0, 5.0]  # the other host's feed never waited


def _settings(**overrides: object):
    from tests.fetch.conftest import loopback_settings

    return loopback_settings(allow_private_hosts=["127.0.0.0/8"], timeout=5.0, **overrides)


def test_when_the_budget_runs_out_mid_poll_every_feed_is_polled_or_deferred_none_failed(
    hosts: list[FixtureServer], tmp_path: Path
) -> None:
    from syndication.budget import RunBudget

    clock = FakeTime()
    feeds = [url for server in hosts for url in serve_feeds(server, 3)]
    spender = hosts[1].url("/f1/")

    def spend(_request: ReceivedRequest) -> Reply:
        clock.advance(120)  # this feed takes two minutes of the run's one
        return Reply(200, RSS_TYPE, rss(hosts[1].url("/f1").rstrip("/"), 1))

    hosts[1].add("/f1/", handler=spend)
    config = write_config(tmp_path, feeds)
    ctx = RunContext.open(config)
    ctx.budget = RunBudget(60, clock=clock.clock)
    try:
        pipeline.poll(ctx)
    finally:
        ctx.close()
    summary = ctx.summary

    # Whatever was in flight on the other hosts when time ran out: stored, or left for the next run.
    assert summary.errors == [] and summary.feeds_failed == 0
    assert summary.feeds_polled + summary.feeds_deferred == 12
    assert summary.feeds_deferred >= 1  # at least the feed after the spender on its own host
    assert spender in {url for url, row in feeds_by_url(config).items() if row.last_polled_at}
    assert poll(config).summary.feeds_polled == 12  # the next run, with a budget of its own


def test_the_fetcher_says_when_a_host_may_be_asked_again(hosts: list[FixtureServer]) -> None:
    server = hosts[0]
    server.add("/a", b"ok")
    clock = FakeTime()
    with Fetcher(_settings(min_host_interval=5.0), sleep=clock.sleep, clock=clock.clock) as fetcher:
        assert fetcher.host_ready_in(server.host) == 0
        fetcher.get(server.url("/a"))
        clock.advance(2)
        assert fetcher.host_ready_in(server.host) == 3.0
        assert fetcher.host_ready_in(hosts[1].host) == 0  # another host is not held up
        clock.advance(3)
        assert fetcher.host_ready_in(server.host) == 0


def test_a_host_waiting_out_its_interval_does_not_hold_a_worker_while_others_are_busy(
    hosts: list[FixtureServer], tmp_path: Path
) -> None:
    """Two workers; host A's second feed must wait 5 s (the test's clock) after its first. While
    host B's feed is still being answered, that second feed is not handed to the idle worker to
    sleep in (it would take a worker from other hosts): it goes out after B's answer."""
    a_feeds = serve_feeds(hosts[0], 2)
    b_answered = threading.Event()
    second_early = threading.Event()

    def a_second(_request: ReceivedRequest) -> Reply:
        if not b_answered.is_set():
            second_early.set()
        return Reply(200, RSS_TYPE, rss(hosts[0].url("/f1").rstrip("/"), 1))

    def b_slow(_request: ReceivedRequest) -> Reply:
        # Long enough for a wrongly handed-out second feed of A to arrive first.
        second_early.wait(1.0)
        b_answered.set()
        return Reply(200, RSS_TYPE, rss(hosts[1].url("/b").rstrip("/"), 7))

    hosts[0].add("/f1/", handler=a_second)
    hosts[1].add("/b/", handler=b_slow)
    config = write_config(tmp_path, [*a_feeds, hosts[1].url("/b/")], concurrency=2, interval=5.0)
    clock = FakeTime()
    with Fetcher(_settings(min_host_interval=5.0), sleep=clock.sleep, clock=clock.clock) as fetcher:
        summary = poll(config, fetcher).summary

    assert (summary.feeds_polled, summary.errors) == (3, [])
    assert not second_early.is_set()
    assert clock.sleeps == [5.0]  # slept once B had answered, with nothing else to do
