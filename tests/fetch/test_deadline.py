"""One total deadline per fetch, and the run's budget, against real loopback servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syndication.budget import RunBudget
from syndication.errors import RunBudgetSpentError, TransientFetchError
from syndication.feeds import FeedState, poll_feed
from syndication.fetch import Fetcher
from tests.drip_server import DripHeadersServer
from tests.fetch.conftest import FakeTime, loopback_settings
from tests.httpserver import FixtureServer, Reply


@pytest.fixture
def dripping() -> object:
    with DripHeadersServer(interval=0.05) as server:
        yield server


def test_headers_dripped_a_byte_at_a_time_end_at_the_deadline(dripping: DripHeadersServer):
    # Each byte arrives well within the read timeout: only a deadline on the whole answer ends it.
    with (
        Fetcher(loopback_settings(timeout=0.5, deadline=1.0)) as fetcher,
        pytest.raises(TransientFetchError) as caught,
    ):
        fetcher.get(dripping.url("/feed"))
    error = caught.value
    assert not isinstance(error, RunBudgetSpentError)
    assert error.message.startswith("timed out after 1 s")
    assert "fetch.deadline" in error.message
    assert error.url == dripping.url("/feed")
    assert dripping.bytes_sent > 0  # it was dripping, not silent


def test_a_feed_dripping_its_headers_is_reported_as_a_timeout_not_as_an_empty_document(
    dripping: DripHeadersServer,
):
    with Fetcher(loopback_settings(timeout=0.5, deadline=1.0)) as fetcher:
        result = poll_feed(fetcher, FeedState(url=dripping.url("/feed")))
    assert result.outcome == "error"
    assert result.error_kind == "transient"
    assert result.error is not None
    assert "timed out after 1 s" in result.error
    assert "empty" not in result.error
    assert "check the" not in result.error  # the URL is fine; the server is slow


def test_the_deadline_covers_the_redirect_hops_too(http_server: FixtureServer, dripping: DripHeadersServer):
    http_server.redirect("/old", dripping.url("/feed"), status=301)
    with (
        Fetcher(loopback_settings(timeout=0.5, deadline=1.0)) as fetcher,
        pytest.raises(TransientFetchError, match="timed out after 1 s") as caught,
    ):
        fetcher.get(http_server.url("/old"))
    assert caught.value.url == dripping.url("/feed")  # names the hop that was slow


def test_a_request_is_cut_at_what_is_left_of_the_run_budget(dripping: DripHeadersServer):
    budget = RunBudget(1.0)
    with (
        Fetcher(loopback_settings(timeout=0.5, deadline=60.0), budget=budget) as fetcher,
        pytest.raises(RunBudgetSpentError, match=r"fetch\.run_budget") as caught,
    ):
        fetcher.get(dripping.url("/feed"))
    assert caught.value.transient
    assert "next run" in caught.value.message


def test_no_request_starts_once_the_budget_is_spent(http_server: FixtureServer, fake_time: FakeTime):
    http_server.add("/feed", body=b"<rss/>")
    budget = RunBudget(30.0, clock=fake_time.clock)
    fake_time.advance(31)
    with (
        Fetcher(loopback_settings(), budget=budget, clock=fake_time.clock) as fetcher,
        pytest.raises(RunBudgetSpentError, match="before this request"),
    ):
        fetcher.get(http_server.url("/feed"))
    assert http_server.requests == []


def test_retry_after_longer_than_the_budget_left_is_not_waited_for(
    http_server: FixtureServer, fake_time: FakeTime
):
    http_server.add("/feed", handler=lambda _r: Reply(503, {"Retry-After": "20"}))
    budget = RunBudget(100.0, clock=fake_time.clock)
    fake_time.advance(90)  # 10 s left: waiting 20 s would overrun the run
    fetcher = Fetcher(
        loopback_settings(max_retry_after=30), budget=budget, sleep=fake_time.sleep, clock=fake_time.clock
    )
    with fetcher, pytest.raises(TransientFetchError) as caught:
        fetcher.get(http_server.url("/feed"))
    assert caught.value.retry_after == 20
    assert fake_time.sleeps == []
    assert len(http_server.requests) == 1


def test_a_fast_answer_is_not_affected_by_the_deadline(http_server: FixtureServer):
    http_server.add("/feed", body=b"<rss/>")
    with Fetcher(loopback_settings(deadline=1.0)) as fetcher:
        assert fetcher.get(http_server.url("/feed")).content == b"<rss/>"


def test_budget_since_counts_the_time_earlier_stages_spent():
    now = [1000.0]
    budget = RunBudget.since(
        started_at=datetime(2026, 1, 1, tzinfo=UTC).timestamp(),
        seconds=600,
        clock=lambda: now[0],
        wall_clock=lambda: datetime(2026, 1, 1, 0, 4, tzinfo=UTC).timestamp(),
    )
    # 6 of the 10 minutes are left, less the reserve for the run's bookkeeping (1 s at most).
    assert budget.remaining() == 359
    now[0] += 359
    assert budget.expired()


def test_work_stops_a_little_before_the_budget_so_the_run_ends_within_it(fake_time: FakeTime):
    budget = RunBudget(10, clock=fake_time.clock)
    assert budget.remaining() == 9.5  # 5 % kept back
    assert budget.clamp(60) == 9.5 and budget.clamp(2) == 2
    fake_time.advance(9.5)
    assert budget.expired()
    assert RunBudget(None).remaining() == float("inf")
