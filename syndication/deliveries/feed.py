"""The ``feed`` channel: per-language Atom feeds (and one HTML page per translated post) for
``syndicate serve`` to publish at stable URLs.

State lives in a folder (``path``): ``state.json`` holds every entry of every language (so a post's
languages can point at each other with ``hreflang`` alternates), and each send rewrites the files
that changed — ``<lang>.atom`` and ``<lang>/<id>.html`` — atomically (write, then rename) under a file
lock, so two workers delivering different posts never lose each other's entries. Entry ids are
stable (source post + language); ``<updated>`` moves only when the delivered content changed;
retracted entries leave an RFC 6721 ``at:deleted-entry`` tombstone for a while.

The Atom document is built here with ``lxml`` behind two small functions (``atom_feed``,
``atom_entry``) taking plain :class:`FeedEntry` values; the outbox channel's builder
(``syndication.deliveries.atom``) can replace them without changing the channel.

Settings::

    type = "feed"
    path = "feeds"                               # state and files
    base_url = "https://example.org/feeds"       # where `syndicate serve` mounts feed_routes()
    title = "Bloggen"                            # or titles = { nb = "…", sv = "…" }
    max_entries = 50
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import html
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syndication.deliveries.channel import ChannelContext
from syndication.deliveries.outgoing import (
    attribution,
    excerpt_text,
    safe_html,
    short_hash,
    source_guid,
    wants,
    write_preview_file,
)
from syndication.errors import ConfigError, TerminalDeliveryError
from syndication.models import ApprovedTranslation, Payload, Receipt

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

ATOM = "http://www.w3.org/2005/Atom"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
PAGE_RE = re.compile(r"^[0-9a-f]{16}$")


class FeedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = "feed"
    languages: list[str] | None = None
    enabled: bool = True
    path: str = "feeds"
    base_url: str = "http://127.0.0.1:8000/feeds"
    title: str = "Translations"
    titles: dict[str, str] = Field(default_factory=dict)
    max_entries: int = Field(50, gt=0)
    tombstone_days: int = Field(30, ge=0)
    only_categories: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)


@dataclass
class FeedEntry:
    id: str
    """Stable: the source post's identity plus the language."""
    lang: str
    post_key: str
    title: str
    content_html: str
    summary: str
    page: str
    """File stem of the entry's HTML page (``<lang>/<page>.html``)."""
    source_url: str
    author: str | None = None
    published: str | None = None
    updated: str = ""
    categories: list[str] = field(default_factory=list)
    content_hash: str = ""


@dataclass
class Tombstone:
    id: str
    lang: str
    when: str


class FeedChannel:
    at_most_once = False

    def __init__(self, context: ChannelContext) -> None:
        self.name = context.name
        try:
            self.settings = FeedSettings.model_validate(dict(context.config))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid feed channel settings: {problems}", channel=context.name) from exc
        if not self.settings.base_url.startswith(("https://", "http://")):
            raise ConfigError(
                "base_url must be the absolute URL the feeds are served at", channel=context.name
            )
        self.base_url = self.settings.base_url.rstrip("/")
        path = Path(self.settings.path)
        self.folder = path if path.is_absolute() else context.base_dir / path

    # ------------------------------------------------------------------------------ protocol

    def targets(self, item: ApprovedTranslation) -> list[str]:
        return [""] if wants(item, self.settings.model_dump()) else []

    def render(self, item: ApprovedTranslation, *, target: str = "") -> Payload:
        guid = source_guid(item)
        content = safe_html(item.html) + "\n" + attribution(item)
        entry = FeedEntry(
            id=guid
            if item.post_key.startswith(("http://", "https://"))
            else f"urn:syndication:{short_hash(guid, 32)}",
            lang=item.lang,
            post_key=item.post_key,
            title=item.title,
            content_html=content,
            summary=excerpt_text(item.excerpt) if item.excerpt else "",
            page=short_hash(guid, 16),
            source_url=item.source_url,
            author=item.author,
            published=_iso(item.published),
            categories=list(item.categories),
            content_hash=hashlib.sha256(f"{item.title}\x1f{content}".encode()).hexdigest(),
        )
        preview = atom_entry(entry, self._page_url(entry), alternates={})
        return Payload(
            channel=self.name,
            target=target,
            summary=f"{item.action} entry {item.title!r} in {self._feed_url(item.lang)}",
            body=etree.tostring(preview, encoding="utf-8", pretty_print=True),
            content_type="application/atom+xml",
            meta={"entry": asdict(entry)},
        )

    def send(self, payload: Payload, *, key: str, previous: Receipt | None = None) -> Receipt:
        entry = FeedEntry(**dict(payload.meta["entry"]))
        with self._state() as state:
            known = state.entries.get(_state_key(entry.post_key, entry.lang))
            if known is not None and known.content_hash == entry.content_hash:
                entry.updated = known.updated  # nothing changed: the feed stays byte-identical
            else:
                entry.updated = _iso(datetime.now(UTC)) or ""
            state.entries[_state_key(entry.post_key, entry.lang)] = entry
            state.tombstones = [t for t in state.tombstones if t.id != entry.id]
            self._write(state, changed=[entry])
        return Receipt(
            channel=self.name,
            key=key,
            remote_id=entry.id,
            remote_url=self._page_url(entry),
            meta={"post_key": entry.post_key, "lang": entry.lang, "page": entry.page},
        )

    def retract(self, receipt: Receipt) -> None:
        post_key, lang = str(receipt.meta.get("post_key") or ""), str(receipt.meta.get("lang") or "")
        with self._state() as state:
            entry = state.entries.pop(_state_key(post_key, lang), None)
            if entry is None:
                return
            state.tombstones.append(
                Tombstone(id=entry.id, lang=entry.lang, when=_iso(datetime.now(UTC)) or "")
            )
            with contextlib.suppress(FileNotFoundError):
                (self.folder / entry.lang / f"{entry.page}.html").unlink()
            self._write(state, changed=[entry])

    def write_preview(self, payload: Payload) -> Path:
        """``--dry-run``: the Atom entry that would be added (the feed files stay untouched)."""
        entry = payload.meta["entry"]
        folder = self.folder.parent / f"{self.folder.name}-dry-run"
        return write_preview_file(folder, f"{entry['lang']}-{entry['page']}.xml", payload.body)

    def feed_path(self, lang: str) -> Path:
        return self.folder / f"{lang}.atom"

    # --------------------------------------------------------------------------------- state

    @contextlib.contextmanager
    def _state(self) -> Iterator[_State]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = open(self.folder / ".lock", "a+b")  # noqa: SIM115 - held for the whole block
        except OSError as exc:
            raise TerminalDeliveryError(
                f"cannot write the feed folder {self.folder}: {exc.strerror}", channel=self.name
            ) from exc
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = _State.load(self.folder / "state.json")
            yield state
            state.save(self.folder / "state.json")

    def _write(self, state: _State, *, changed: Sequence[FeedEntry]) -> None:
        """Rewrite the feeds of every language touched and the pages of the changed posts in all
        their languages (their hreflang alternates changed too)."""
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.tombstone_days)
        state.tombstones = [t for t in state.tombstones if _parse(t.when) >= cutoff]
        posts = {entry.post_key for entry in changed}
        langs = {entry.lang for entry in changed}
        siblings = [e for e in state.entries.values() if e.post_key in posts]
        langs |= {e.lang for e in siblings}
        all_langs = sorted({e.lang for e in state.entries.values()} | langs)
        for entry in siblings:
            self._write_page(entry, self._alternates(state, entry.post_key), all_langs)
        for lang in sorted(langs):
            entries = sorted(
                (e for e in state.entries.values() if e.lang == lang),
                key=lambda e: (e.updated, e.id),
                reverse=True,
            )[: self.settings.max_entries]
            feed = atom_feed(
                lang=lang,
                feed_id=self._feed_url(lang),
                title=self.settings.titles.get(lang, self.settings.title),
                self_url=self._feed_url(lang),
                other_feeds={other: self._feed_url(other) for other in all_langs if other != lang},
                entries=[(e, self._page_url(e), self._alternates(state, e.post_key)) for e in entries],
                tombstones=[t for t in state.tombstones if t.lang == lang],
            )
            _atomic_write(self.feed_path(lang), etree.tostring(feed, encoding="utf-8", xml_declaration=True))

    def _alternates(self, state: _State, post_key: str) -> dict[str, str]:
        return {e.lang: self._page_url(e) for e in state.entries.values() if e.post_key == post_key}

    def _write_page(self, entry: FeedEntry, alternates: Mapping[str, str], langs: Sequence[str]) -> None:
        links = "\n".join(
            f'<link rel="alternate" hreflang="{html.escape(lang)}" href="{html.escape(url, quote=True)}">'
            for lang, url in sorted(alternates.items())
        )
        own = html.escape(self._page_url(entry), quote=True)
        feed = html.escape(self._feed_url(entry.lang), quote=True)
        page = f"""<!DOCTYPE html>
<html lang="{html.escape(entry.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(entry.title)}</title>
<link rel="canonical" href="{own}">
{links}
<link rel="alternate" type="application/atom+xml" href="{feed}">
</head>
<body>
<article>
<h1>{html.escape(entry.title)}</h1>
{entry.content_html}
</article>
</body>
</html>
"""
        _atomic_write(self.folder / entry.lang / f"{entry.page}.html", page.encode("utf-8"))

    def _feed_url(self, lang: str) -> str:
        return f"{self.base_url}/{lang}.atom"

    def _page_url(self, entry: FeedEntry) -> str:
        return f"{self.base_url}/{entry.lang}/{entry.page}.html"


@dataclass
class _State:
    entries: dict[str, FeedEntry] = field(default_factory=dict)
    tombstones: list[Tombstone] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> _State:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise TerminalDeliveryError(
                f"the feed state {path} is unreadable ({exc}); restore it from a backup or delete it "
                "(every post is then published again on the next run)"
            ) from exc
        return cls(
            entries={k: FeedEntry(**v) for k, v in data.get("entries", {}).items()},
            tombstones=[Tombstone(**t) for t in data.get("tombstones", [])],
        )

    def save(self, path: Path) -> None:
        data = {
            "entries": {k: asdict(v) for k, v in sorted(self.entries.items())},
            "tombstones": [asdict(t) for t in self.tombstones],
        }
        _atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


# ------------------------------------------------------------------------------------- Atom


def atom_entry(entry: FeedEntry, page_url: str, alternates: Mapping[str, str]) -> etree._Element:
    element = etree.Element(f"{{{ATOM}}}entry", nsmap={None: ATOM})
    _text(element, "id", entry.id)
    _text(element, "title", entry.title)
    _text(element, "updated", entry.updated or entry.published or _iso(datetime.now(UTC)) or "")
    if entry.published:
        _text(element, "published", entry.published)
    if entry.author:
        author = etree.SubElement(element, f"{{{ATOM}}}author")
        _text(author, "name", entry.author)
    etree.SubElement(
        element, f"{{{ATOM}}}link", rel="alternate", type="text/html", hreflang=entry.lang, href=page_url
    )
    for lang, url in sorted(alternates.items()):
        if lang != entry.lang:
            etree.SubElement(
                element, f"{{{ATOM}}}link", rel="alternate", type="text/html", hreflang=lang, href=url
            )
    etree.SubElement(element, f"{{{ATOM}}}link", rel="via", type="text/html", href=entry.source_url)
    for category in entry.categories:
        etree.SubElement(element, f"{{{ATOM}}}category", term=category)
    if entry.summary:
        _text(element, "summary", entry.summary).set("type", "text")
    _text(element, "content", entry.content_html).set("type", "html")
    return element


def atom_feed(
    *,
    lang: str,
    feed_id: str,
    title: str,
    self_url: str,
    other_feeds: Mapping[str, str],
    entries: Sequence[tuple[FeedEntry, str, Mapping[str, str]]],
    tombstones: Sequence[Tombstone],
) -> etree._Element:
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "at": TOMBSTONES})
    feed.set(XML_LANG, lang)
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    updated = max([e.updated for e, _, _ in entries] + [t.when for t in tombstones], default="")
    _text(feed, "updated", updated or "1970-01-01T00:00:00+00:00")
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=self_url)
    for other, url in sorted(other_feeds.items()):
        etree.SubElement(
            feed, f"{{{ATOM}}}link", rel="alternate", type="application/atom+xml", hreflang=other, href=url
        )
    _text(feed, "generator", "syndication")
    for entry, page_url, alternates in entries:
        feed.append(atom_entry(entry, page_url, alternates))
    for tombstone in tombstones:
        etree.SubElement(feed, f"{{{TOMBSTONES}}}deleted-entry", ref=tombstone.id, when=tombstone.when)
    return feed


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = _xml_safe(value)
    return element


def _xml_safe(text: str) -> str:
    # XML 1.0 cannot carry most control characters; an odd one in a title must not break the feed.
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)


def _state_key(post_key: str, lang: str) -> str:
    return f"{lang}|{post_key}"


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


def _parse(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return datetime.now(UTC)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------------------------------ serving


def feed_routes(folder: Path, *, path: str = "/feeds") -> list[BaseRoute]:
    """Starlette routes serving a feed channel's folder: ``{path}/{lang}.atom`` and
    ``{path}/{lang}/{id}.html``, with ETags (304 on a match). Nothing else in the folder is reachable."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse
    from starlette.responses import Response as StarletteResponse
    from starlette.routing import Route

    prefix = path.rstrip("/")

    def _read(file: Path) -> bytes | None:
        try:
            return file.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    async def _serve(request: Request, file: Path, media_type: str) -> Response:
        data = await run_in_threadpool(_read, file)
        if data is None:
            return PlainTextResponse("not found", status_code=404)
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
        matches = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
        if etag in matches or "*" in matches:
            return StarletteResponse(status_code=304, headers=headers)
        return StarletteResponse(data, media_type=media_type, headers=headers)

    async def feed(request: Request) -> Response:
        lang = str(request.path_params["lang"])
        if not LANG_RE.match(lang):
            return PlainTextResponse("not found", status_code=404)
        return await _serve(request, folder / f"{lang}.atom", "application/atom+xml; charset=utf-8")

    async def page(request: Request) -> Response:
        lang, stem = str(request.path_params["lang"]), str(request.path_params["page"])
        if not LANG_RE.match(lang) or not PAGE_RE.match(stem):
            return PlainTextResponse("not found", status_code=404)
        return await _serve(request, folder / lang / f"{stem}.html", "text/html; charset=utf-8")

    return [
        Route(prefix + "/{lang}.atom", feed, methods=["GET", "HEAD"], name=f"feed:{prefix}"),
        Route(prefix + "/{lang}/{page}.html", page, methods=["GET", "HEAD"], name=f"feed-page:{prefix}"),
    ]


def url_path(url: str) -> str:
    """The path part of a configured public URL (where a route must be mounted)."""
    return urlsplit(url).path.rstrip("/") or "/"
