"""Fixtures for the posts tests: the hand-written pages in ``tests/fixtures/posts``."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndication.models import Article
from syndication.posts import extract_article

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "posts"

CLASSIC_URL = "https://landliv.example.dk/2024/03/netvaerk-paa-landet/"
BLOCK_URL = "https://landliv.example.dk/2024/04/besoeg-paa-landbrugsmessen/"
NEWS_URL = "https://egnsavisen.example.net/erhverv/ny-bager-giver-liv-til-hovedgaden"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def classic() -> Article:
    return extract_article(fixture_text("wp_classic.html"), CLASSIC_URL)


@pytest.fixture(scope="session")
def block() -> Article:
    return extract_article(fixture_text("wp_block.html"), BLOCK_URL)


@pytest.fixture(scope="session")
def news() -> Article:
    return extract_article(fixture_text("news_page.html"), NEWS_URL)
