"""Localized attribution: "originally published in Danish at <site> by <author>, <date>: <link>".

Every translated copy names its source. The wording, language names and date formats live here as data
rather than in the system locale: a worker's locale is whatever its container ships (often ``C``), and
``strftime`` with ``setlocale`` is process-global and not thread-safe. Unknown languages fall back to
English.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndication.deliveries.safe_html import escape

FALLBACK = "en"
SOURCE_TIMEZONE = "Europe/Copenhagen"
"""Dates are shown as the source blog's readers saw them (a post at 00:30 CET is still that day)."""


@dataclass(frozen=True)
class _Wording:
    lead: str
    """"Originally published": the start of the sentence when the source language is unknown."""
    lead_language: str
    """"Originally published in {language}", the language named as this language names it."""
    at_site: str
    by_author: str
    on_date: str
    linked_from: str
    feed_title: str
    months: tuple[str, ...]
    date_pattern: str
    languages: dict[str, str]
    list_and: str


_WORDING: dict[str, _Wording] = {
    "en": _Wording(
        lead="Originally published",
        lead_language="Originally published in {language}",
        at_site=" on {site}",
        by_author=" by {author}",
        on_date=", {date}",
        linked_from="Linked from",
        feed_title="Translated posts",
        months=("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"),
        date_pattern="{day} {month} {year}",
        languages={"da": "Danish", "nb": "Norwegian (Bokmål)", "nn": "Norwegian (Nynorsk)",
                   "sv": "Swedish", "de": "German", "en": "English"},
        list_and=" and ",
    ),
    "nb": _Wording(
        lead="Opprinnelig publisert",
        lead_language="Opprinnelig publisert på {language}",
        at_site=" på {site}",
        by_author=" av {author}",
        on_date=", {date}",
        linked_from="Lenket fra",
        feed_title="Oversatte innlegg",
        months=("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
                "oktober", "november", "desember"),
        date_pattern="{day}. {month} {year}",
        languages={"da": "dansk", "nb": "bokmål", "nn": "nynorsk", "sv": "svensk", "de": "tysk",
                   "en": "engelsk"},
        list_and=" og ",
    ),
    "nn": _Wording(
        lead="Opphavleg publisert",
        lead_language="Opphavleg publisert på {language}",
        at_site=" på {site}",
        by_author=" av {author}",
        on_date=", {date}",
        linked_from="Lenkja frå",
        feed_title="Omsette innlegg",
        months=("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
                "oktober", "november", "desember"),
        date_pattern="{day}. {month} {year}",
        languages={"da": "dansk", "nb": "bokmål", "nn": "nynorsk", "sv": "svensk", "de": "tysk",
                   "en": "engelsk"},
        list_and=" og ",
    ),
    "sv": _Wording(
        lead="Ursprungligen publicerad",
        lead_language="Ursprungligen publicerad på {language}",
        at_site=" på {site}",
        by_author=" av {author}",
        on_date=", {date}",
        linked_from="Länkad från",
        feed_title="Översatta inlägg",
        months=("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                "september", "oktober", "november", "december"),
        date_pattern="{day} {month} {year}",
        languages={"da": "danska", "nb": "norska (bokmål)", "nn": "norska (nynorska)",
                   "sv": "svenska", "de": "tyska", "en": "engelska"},
        list_and=" och ",
    ),
    "de": _Wording(
        lead="Ursprünglich veröffentlicht",
        lead_language="Ursprünglich auf {language} veröffentlicht",
        at_site=" auf {site}",
        by_author=" von {author}",
        on_date=" am {date}",
        linked_from="Verlinkt in",
        feed_title="Übersetzte Beiträge",
        months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                "Oktober", "November", "Dezember"),
        date_pattern="{day}. {month} {year}",
        languages={"da": "Dänisch", "nb": "Norwegisch (Bokmål)", "nn": "Norwegisch (Nynorsk)",
                   "sv": "Schwedisch", "de": "Deutsch", "en": "Englisch"},
        list_and=" und ",
    ),
    "da": _Wording(
        lead="Oprindeligt udgivet",
        lead_language="Oprindeligt udgivet på {language}",
        at_site=" på {site}",
        by_author=" af {author}",
        on_date=", {date}",
        linked_from="Linket fra",
        feed_title="Oversatte indlæg",
        months=("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
                "oktober", "november", "december"),
        date_pattern="{day}. {month} {year}",
        languages={"da": "dansk", "nb": "norsk (bokmål)", "nn": "nynorsk", "sv": "svensk",
                   "de": "tysk", "en": "engelsk"},
        list_and=" og ",
    ),
}  # fmt: skip


def base_language(lang: str) -> str:
    """``nb-NO`` → ``nb``; the legacy ``no`` → ``nb``; unknown tags → English."""
    primary = lang.replace("_", "-").split("-", 1)[0].lower()
    if primary == "no":
        primary = "nb"
    return primary if primary in _WORDING else FALLBACK


def _wording(lang: str) -> _Wording:
    return _WORDING[base_language(lang)]


def format_date(value: date | datetime, lang: str, *, timezone: str = SOURCE_TIMEZONE) -> str:
    """A long date as ``lang`` writes it: nb ``27. november 2026``, sv ``27 november 2026``."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            # Without a tz database on this machine the date as stored is the best we have.
            with contextlib.suppress(ZoneInfoNotFoundError):
                value = value.astimezone(ZoneInfo(timezone))
        value = value.date()
    words = _wording(lang)
    return words.date_pattern.format(day=value.day, month=words.months[value.month - 1], year=value.year)


def feed_title(lang: str) -> str:
    return _wording(lang).feed_title


def language_name(code: str, *, in_lang: str) -> str | None:
    """``da`` named in ``in_lang`` (``dansk``, ``danska``, ``Dänisch``); None when we cannot name it."""
    primary = code.replace("_", "-").split("-", 1)[0].lower()
    return _wording(in_lang).languages.get("nb" if primary == "no" else primary)


def _link(url: str, text: str | None = None) -> str:
    """A link when ``url`` is http(s), else the escaped text alone (never a ``javascript:`` href)."""
    shown = escape(text if text is not None else url)
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return f'<a href="{escape(url)}" rel="noopener">{shown}</a>'
    return shown


def attribution_line(
    lang: str,
    *,
    site_name: str | None,
    author: str | None,
    published: date | datetime | None,
    url: str,
    source_lang: str = "da",
) -> str:
    """Inline HTML naming the original: every value escaped, the link only if it is http(s).

    Missing parts are left out rather than shown empty; with no ``site_name`` the URL's host stands in.
    """
    words = _wording(lang)
    site = site_name or urlsplit(url).hostname or ""
    language = language_name(source_lang, in_lang=lang)
    parts = [escape(words.lead_language.format(language=language) if language else words.lead)]
    if site:
        parts.append(escape(words.at_site.format(site=site)))
    if author:
        parts.append(escape(words.by_author.format(author=author)))
    if published is not None:
        parts.append(escape(words.on_date.format(date=format_date(published, lang))))
    return "".join(parts) + ": " + _link(url)


def linked_from_line(lang: str, urls: Sequence[str]) -> str:
    """Inline HTML: "Linked from <a>…</a> and <a>…</a>" in ``lang``; empty when nothing links here."""
    if not urls:
        return ""
    words = _wording(lang)
    links = [_link(url) for url in urls]
    joined = links[0] if len(links) == 1 else ", ".join(links[:-1]) + escape(words.list_and) + links[-1]
    return f"{escape(words.linked_from)} {joined}"
