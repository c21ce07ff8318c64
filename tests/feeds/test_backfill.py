from __future__ import annotations

from syndication.feeds import backfill_urls


def test_pages_two_to_n():
    assert backfill_urls("https://landsbynet.example.dk/feed/", 4) == [
        "https://landsbynet.example.dk/feed/?paged=2",
        "https://landsbynet.example.dk/feed/?paged=3",
        "https://landsbynet.example.dk/feed/?paged=4",
    ]


def test_existing_query_is_kept_as_written():
    assert backfill_urls("https://e.dk/?feed=rss2&cat=3%2C4", 2) == [
        "https://e.dk/?feed=rss2&cat=3%2C4&paged=2"
    ]


def test_existing_paged_parameter_is_replaced_and_fragment_dropped():
    assert backfill_urls("https://e.dk/feed/?paged=7&tag=lokalt#x", 3) == [
        "https://e.dk/feed/?tag=lokalt&paged=2",
        "https://e.dk/feed/?tag=lokalt&paged=3",
    ]


def test_nothing_to_backfill():
    assert backfill_urls("https://e.dk/feed/", 1) == []
    assert backfill_urls("https://e.dk/feed/", 0) == []
