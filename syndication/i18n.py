"""Fixed texts readers see (newsletter wording, unsubscribe pages) in their language, from one
gettext catalogue: ``syndication/locale/<lang>/LC_MESSAGES/syndication.po``.

The ``.po`` files are read at first use with ``babel`` and compiled in memory, so a fresh
``pip install -e .`` (or a wheel, which ships them as package data) needs no compile step and
there is no ``.mo`` file to forget. English is the source language: a message or language missing
from the catalogue shows the English text. To add a language, copy a ``.po`` file to
``locale/<lang>/LC_MESSAGES/`` and translate its ``msgstr`` lines.
"""

from __future__ import annotations

import gettext
import io
import re
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "syndication"
SOURCE_LANGUAGE = "en"
_ALIASES = {"no": "nb", "nb-no": "nb", "nn-no": "nn", "sv-se": "sv", "da-dk": "da"}


def languages() -> list[str]:
    """The languages the catalogue has (English, the source, always)."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return sorted(found | {SOURCE_LANGUAGE})


def catalogue_language(lang: str | None) -> str:
    """The catalogue language for a tag (``nb-NO`` → ``nb``, ``no`` → ``nb``); English if none fits."""
    tag = (lang or "").strip().lower().replace("_", "-")
    tag = _ALIASES.get(tag, tag)
    available = languages()
    if tag in available:
        return tag
    base = _ALIASES.get(tag.split("-")[0], tag.split("-")[0])
    return base if base in available else SOURCE_LANGUAGE


@cache
def translations(lang: str | None) -> gettext.NullTranslations:
    code = catalogue_language(lang)
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == SOURCE_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(lang: str | None, message: str) -> str:
    """``message`` (English) in ``lang``."""
    return translations(lang).gettext(message)


def ngettext(lang: str | None, singular: str, plural: str, count: int) -> str:
    return translations(lang).ngettext(singular, plural, count)


_ACCEPT = re.compile(
    r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*"
)


def negotiate(accept_language: str | None) -> str:
    """The best catalogue language for an ``Accept-Language`` header (English if none fits)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        match = _ACCEPT.fullmatch(part)
        if match is None or match.group(1) == "*":
            continue
        quality = float(match.group(2)) if match.group(2) else 1.0
        if quality > 0:
            ranked.append((-quality, position, match.group(1)))
    for _quality, _position, tag in sorted(ranked):
        code = catalogue_language(tag)
        if code != SOURCE_LANGUAGE or tag.lower().startswith(SOURCE_LANGUAGE):
            return code
    return SOURCE_LANGUAGE
