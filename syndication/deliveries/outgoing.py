"""What every partner channel shares: the HTML that leaves the system, the attribution line, which
items a partner takes, and how a partner's "try again later" is read."""

from __future__ import annotations

import hashlib
import html
import importlib
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypedDict

import nh3

from syndication.models import ApprovedTranslation

URL_SCHEMES = {"http", "https", "mailto"}
MAX_RETRY_AFTER = 3600.0
"""A partner asking for more than an hour is treated as an hour: the ledger retries on a later run."""


class Where(TypedDict):
    """Where a delivery error happened, for the error's message and the run summary."""

    post: str
    lang: str
    channel: str


def safe_html(fragment: str) -> str:
    """Sanitize once more on the way out (the body was sanitized at extraction; a template or an
    editor's edit may have added something since): no scripts, styles, handlers or iframes."""
    return nh3.clean(fragment, url_schemes=URL_SCHEMES, link_rel="noopener")


def source_guid(item: ApprovedTranslation) -> str:
    """The identity of one translated copy everywhere outside the system: original post + language."""
    return f"{item.post_key}#{item.lang}"


def short_hash(text: str, length: int = 10) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def slugify(text: str, *, max_length: int = 60) -> str:
    """ASCII slug for URLs (æ→ae, ø→o, å→a: what WordPress itself does with Danish titles)."""
    text = text.replace("æ", "ae").replace("Æ", "Ae").replace("ø", "o").replace("Ø", "O")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "post"


def env_var(channel: str, key: str) -> str:
    """The environment variable that carries a channel's secret (what an error message names)."""
    return f"SYNDICATION__CHANNELS__{channel.upper()}__{key.upper()}"


def attribution(item: ApprovedTranslation) -> str:
    """The localized "originally published in Danish by … on … at …" line, as HTML."""
    try:
        # The shared builder (written with the outbox channel) when present; our own line until then.
        module = importlib.import_module("syndication.deliveries.attribution")
    except ModuleNotFoundError as exc:
        if exc.name != "syndication.deliveries.attribution":
            raise
        return _fallback_attribution(item)
    return str(
        module.attribution_line(
            item.lang,
            site_name=item.site_name,
            author=item.author,
            published=item.published,
            url=item.source_url,
        )
    )


_ATTRIBUTION = {
    "da": ("Oprindeligt udgivet på dansk", "af", "den", "på"),
    "nb": ("Opprinnelig publisert på dansk", "av", "", "på"),
    "nn": ("Opphavleg publisert på dansk", "av", "", "på"),
    "sv": ("Ursprungligen publicerad på danska", "av", "den", "på"),
    "en": ("Originally published in Danish", "by", "on", "at"),
    "de": ("Ursprünglich auf Dänisch veröffentlicht", "von", "am", "auf"),
}


def _fallback_attribution(item: ApprovedTranslation) -> str:
    lead, by, on, at = _ATTRIBUTION.get(item.lang, _ATTRIBUTION["en"])
    parts = [lead]
    if item.author:
        parts.append(f"{by} {html.escape(item.author)}")
    if item.published:
        date = item.published.astimezone(UTC).strftime("%d.%m.%Y")
        parts.append(f"{on} {date}".strip())
    where = html.escape(item.site_name or item.source_url)
    parts.append(f'{at} <a href="{html.escape(item.source_url, quote=True)}">{where}</a>')
    return f'<p class="syndication-attribution">{" ".join(parts)}.</p>'


def wants(item: ApprovedTranslation, config: Mapping[str, Any]) -> bool:
    """Does this partner take this item? ``only_categories`` (source category names, any match) and
    ``kinds`` (``post``, ``linked``) narrow what a partner receives; both default to everything."""
    kinds = config.get("kinds")
    if kinds and item.kind not in kinds:
        return False
    only = config.get("only_categories")
    if only:
        wanted = {str(name).casefold() for name in only}
        return any(name.casefold() in wanted for name in item.categories)
    return True


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), capped; ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def excerpt_text(fragment: str, *, limit: int = 300) -> str:
    """Plain text of a short HTML fragment (an excerpt), whitespace collapsed."""
    text = nh3.clean(fragment, tags=set())
    text = re.sub(r"\s+", " ", html.unescape(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def write_preview_file(folder: Path, name: str, data: bytes) -> Path:
    """``--dry-run``: what a channel would send, as a file (``name`` made safe for any file system)."""
    safe = re.sub(r"[^A-Za-z0-9@._-]+", "_", name).strip("._")[:150] or "payload"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe
    path.write_bytes(data)
    return path
