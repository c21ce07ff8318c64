"""The readers' catalogue (syndication/locale/*.po) is read straight from the package: no compile
step, every language complete, placeholders intact."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from syndication import i18n

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ["da", "nb", "nn", "sv"]


def catalogue(lang: str):
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "syndication.po").open("rb") as po:
        return read_po(po, locale=lang)


def test_the_nordic_languages_are_there_and_no_compiled_file_is_needed() -> None:
    assert set(REQUIRED) <= set(i18n.languages())
    assert not list(i18n.LOCALE_DIR.rglob("*.mo")), "the .po files are compiled in memory at first use"
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "locale/*/LC_MESSAGES/*.po" in package_data["syndication"], "shipped in wheels too"


@pytest.mark.parametrize("lang", [*REQUIRED, "de"])
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    reference = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue("nb") if m.id}
    messages = [m for m in catalogue(lang) if m.id]
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in messages} == reference
    for message in messages:
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings), f"{lang}: {ids[0]!r} is not translated"
        wanted = set(re.findall(r"\{\w+\}", ids[-1]))
        for string in strings:
            assert set(re.findall(r"\{\w+\}", string)) == wanted, f"{lang}: {string!r}"


def test_lookups_fall_back_sensibly() -> None:
    assert i18n._("sv", "Unsubscribe me") == "Avsluta min prenumeration"
    assert i18n._("nb-NO", "Unsubscribe me") == i18n._("no", "Unsubscribe me") == "Meld meg av"
    assert i18n._("fr", "Unsubscribe me") == "Unsubscribe me"
    assert i18n.ngettext("sv", "{list}: {count} new post", "{list}: {count} new posts", 1).endswith(
        "nytt inlägg"
    )
    assert i18n.negotiate("fr, nn;q=0.4, sv;q=0.6") == "sv"
    assert i18n.negotiate("en-GB, sv;q=0.6") == "en"
    assert i18n.negotiate(None) == "en"
