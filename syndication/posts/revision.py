"""The revision id of an article: a hash of what it says, blind to whitespace."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from syndication.models import Article

_SPACE = re.compile(r"\s+")
# Whitespace next to a tag boundary: "<p>\n  Hej" and "<p>Hej" are the same text. (A space
# between two inline elements is folded too; such a change alone is not a new revision.)
_AROUND_TAG = re.compile(r"\s*(<[^>]*>)\s*")


def _normalize(value: str | None, *, markup: bool = False) -> str:
    value = unicodedata.normalize("NFC", value or "").replace("\xa0", " ")
    value = _SPACE.sub(" ", value).strip()
    if markup:
        value = _AROUND_TAG.sub(r"\1", value)
    return value


def content_hash(article: Article) -> str:
    """sha256 hex of the normalized title, body HTML and excerpt."""
    payload = "\x1f".join(
        (_normalize(article.title), _normalize(article.html, markup=True), _normalize(article.excerpt))
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
