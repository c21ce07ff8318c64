"""Fetchers pointed at the loopback fixture server, with time under the test's control."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from syndication.fetch import Fetcher
from syndication.settings import FetchSettings


class FakeTime:
    """A monotonic clock that only moves when someone sleeps (or the test advances it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


LOOPBACK = ["127.0.0.1"]


def loopback_settings(**overrides: Any) -> FetchSettings:
    """Settings for tests: the fixture server allow-listed, no pacing, short timeouts."""
    values: dict[str, Any] = {
        "allow_private_hosts": LOOPBACK,
        "min_host_interval": 0.0,
        "timeout": 2.0,
        "user_agent": "syndication-test/1.0 (+https://example.org/bot)",
    }
    values.update(overrides)
    return FetchSettings(**values)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_fetcher(fake_time: FakeTime) -> Iterator[Callable[..., Fetcher]]:
    """``make_fetcher(**settings)``: a Fetcher on the fake clock; closed after the test."""
    made: list[Fetcher] = []

    def make(**overrides: Any) -> Fetcher:
        fetcher = Fetcher(loopback_settings(**overrides), sleep=fake_time.sleep, clock=fake_time.clock)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()
