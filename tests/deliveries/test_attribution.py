"""Localized attribution lines and dates, without system locales."""

from __future__ import annotations

from datetime import UTC, date, datetime

import lxml.html
import pytest

from syndication.deliveries.attribution import (
    attribution_line,
    base_language,
    format_date,
    linked_from_line,
)

PUBLISHED = datetime(2026, 11, 27, 10, 15, tzinfo=UTC)
URL = "https://lokaltliv.example/netvaerk-er-guld/"


def _text(fragment: str) -> str:
    return lxml.html.fragment_fromstring(fragment, create_parent="p").text_content()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nb", "27. november 2026"),
        ("nn", "27. november 2026"),
        ("sv", "27 november 2026"),
        ("en", "27 November 2026"),
        ("de", "27. November 2026"),
        ("da", "27. november 2026"),
        ("fr", "27 November 2026"),
    ],
)
def test_dates_are_localized(lang: str, expected: str) -> None:
    assert format_date(PUBLISHED, lang) == expected


def test_months_are_the_languages_own() -> None:
    assert format_date(date(2026, 5, 1), "sv") == "1 maj 2026"
    assert format_date(date(2026, 3, 9), "de") == "9. März 2026"
    assert format_date(date(2026, 12, 24), "nb") == "24. desember 2026"
    assert format_date(date(2026, 8, 2), "sv") == "2 augusti 2026"


def test_date_is_the_day_the_danish_readers_saw() -> None:
    late_evening_utc = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # 00:30 in Copenhagen
    assert format_date(late_evening_utc, "en") == "27 November 2026"
    assert format_date(datetime(2026, 11, 26, 23, 30), "en") == "26 November 2026"  # naive: as given


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nb", "Opprinnelig publisert på dansk på Lokalt Liv av Mette Kjærgaard, 27. november 2026: "),
        ("nn", "Opphavleg publisert på dansk på Lokalt Liv av Mette Kjærgaard, 27. november 2026: "),
        ("sv", "Ursprungligen publicerad på danska på Lokalt Liv av Mette Kjærgaard, 27 november 2026: "),
        ("en", "Originally published in Danish on Lokalt Liv by Mette Kjærgaard, 27 November 2026: "),
        (
            "de",
            "Ursprünglich auf Dänisch veröffentlicht auf Lokalt Liv von Mette Kjærgaard "
            "am 27. November 2026: ",
        ),
        ("es", "Originally published in Danish on Lokalt Liv by Mette Kjærgaard, 27 November 2026: "),
        ("nb-NO", "Opprinnelig publisert på dansk"),
    ],
)
def test_attribution_line_is_localized(lang: str, expected: str) -> None:
    line = attribution_line(
        lang, site_name="Lokalt Liv", author="Mette Kjærgaard", published=PUBLISHED, url=URL
    )
    assert _text(line).startswith(expected)
    assert _text(line).endswith(URL)
    link = lxml.html.fragment_fromstring(line, create_parent="p").xpath(".//a/@href")
    assert link == [URL]


def test_missing_parts_are_left_out() -> None:
    line = attribution_line("sv", site_name=None, author=None, published=None, url=URL)
    assert _text(line) == f"Ursprungligen publicerad på danska på lokaltliv.example: {URL}"


def test_other_source_language_and_unknown_one() -> None:
    line = attribution_line("nb", site_name="S", author=None, published=None, url=URL, source_lang="sv")
    assert _text(line).startswith("Opprinnelig publisert på svensk på S")
    line = attribution_line("en", site_name="S", author=None, published=None, url=URL, source_lang="xx")
    assert _text(line).startswith("Originally published on S")


def test_values_are_escaped_and_only_http_links_are_links() -> None:
    line = attribution_line(
        "en",
        site_name='<img src=x onerror="alert(1)">',
        author="<script>alert(2)</script>",
        published=None,
        url="javascript:alert(3)",
    )
    fragment = lxml.html.fragment_fromstring(line, create_parent="p")
    assert fragment.xpath(".//img | .//script | .//a") == []
    assert "<script>alert(2)</script>" in fragment.text_content()
    assert fragment.text_content().endswith("javascript:alert(3)")


def test_url_with_quotes_cannot_break_out_of_the_attribute() -> None:
    url = 'https://x.example/?a="><script>alert(1)</script>'
    fragment = lxml.html.fragment_fromstring(
        attribution_line("en", site_name="S", author=None, published=None, url=url), create_parent="p"
    )
    assert fragment.xpath(".//script") == []
    assert fragment.xpath(".//a/@href") == [url]


def test_linked_from_line() -> None:
    assert linked_from_line("nb", []) == ""
    one = lxml.html.fragment_fromstring(linked_from_line("nb", [URL]), create_parent="p")
    assert one.text_content() == f"Lenket fra {URL}"
    many = lxml.html.fragment_fromstring(
        linked_from_line("sv", ["https://a.example/", "https://b.example/"]), create_parent="p"
    )
    assert many.text_content() == "Länkad från https://a.example/ och https://b.example/"
    assert many.xpath(".//a/@href") == ["https://a.example/", "https://b.example/"]


def test_base_language() -> None:
    assert base_language("nb-NO") == "nb"
    assert base_language("no") == "nb"
    assert base_language("sv_SE") == "sv"
    assert base_language("pt-BR") == "en"
