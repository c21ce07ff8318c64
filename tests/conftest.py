"""Fixtures every test package may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.httpserver import FixtureServer


@pytest.fixture
def http_server() -> Iterator[FixtureServer]:
    """A started loopback HTTP server (see ``tests/httpserver.py``), stopped after the test."""
    with FixtureServer() as server:
        yield server
