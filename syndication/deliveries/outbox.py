"""The ``outbox`` channel: translated posts as files, the embedded default.

Layout under the configured ``path`` (relative paths resolve against the config's base folder)::

    outbox/
      nb/
        netvaerk-er-guld.html      one standalone HTML5 document per post or linked article
        feed.atom                  Atom 1.0 feed of everything approved in this language
        .index.json                the channel's own state: one record per post (slug, key, feed entry)
        .journal.jsonl             index records not yet merged into .index.json (see below)
        .lock                      serializes writers (fcntl) so two runs cannot interleave an update
      sv/
        ...

Settings (``[channels.<name>]``, type ``outbox``): ``path`` (default ``outbox``), ``base_url`` (optional
public URL of that folder), ``title`` (optional feed title; ``{lang}`` is replaced by the language),
``media`` (``"link"``, the default: images stay at their original address; ``"copy"``: each image is
fetched once and saved as ``<lang>/media/<sha256>.<ext>`` and the documents point there, so the folder
is a self-contained site; the feed keeps the original addresses, which feed readers can reach),
``max_image_bytes`` (10 MB: larger images are not copied, noted in the run summary) and
``allow_private_hosts`` (image hosts on private addresses that may be fetched).

Identity: a post keeps one file and one feed entry per language for its whole life. The file name
(slug) comes from the source URL's last path segment (else the transliterated title), is fixed the first
time the post is sent, and gets ``-2``, ``-3`` ... only when another post already holds it. The Atom id
is :func:`syndication.deliveries.atom.entry_id` of (post key, language), so it never changes with edits.

URLs: with ``base_url`` set (the public URL the outbox folder is served from), documents carry
``<link rel="canonical">`` to themselves and the feed links to ``{base_url}/{lang}/{slug}.html``.
Without it the feed uses ``file://localhost/...`` URLs of the files (see :func:`file_url`): still
absolute, as Atom requires, and correct for whoever reads the outbox on this machine; no canonical link
is written then, because a ``file://`` canonical would tell search engines nothing true.

The index makes every send and retract rebuild ``feed.atom`` from the channel's own state without the
database. Every file is written to a temporary name and moved into place with ``os.replace``, so a
reader never sees half a document and a crash leaves the previous version.

Runs: rebuilding the index and the feed after every send costs time in proportion to everything
ever published, which makes a run of *n* sends quadratic (a 1,000-post backfill). Between
``begin_run()`` and ``close()`` (the deliver stage calls both) a send therefore writes its HTML file
and appends its index record to ``.journal.jsonl`` (flushed and fsynced, under the lock), and
``close()`` merges the journal into ``.index.json`` and rebuilds ``feed.atom`` once per language.
Every index read replays the journal, so a run killed before ``close()`` loses nothing: the next
send, retraction or ``close()`` merges what it left (until then ``feed.atom`` lacks those entries).
The parsed index is kept between sends and re-read only when the file changed, and the journal is
read from where the last read stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from syndication.deliveries.atom import AtomEntry, AtomFeed, AtomLink, build_atom, entry_id, is_absolute
from syndication.deliveries.attribution import attribution_line, feed_title, linked_from_line
from syndication.deliveries.channel import ChannelContext
from syndication.deliveries.media import DEFAULT_MAX_IMAGE_BYTES, ImageFetcher, body_images, replace_sources
from syndication.deliveries.safe_html import clean_html, clean_inline, escape, plain_text
from syndication.errors import ConfigError, TerminalDeliveryError, TransientDeliveryError
from syndication.models import ApprovedTranslation, Payload, Receipt

try:  # POSIX; on other systems writers are not serialized across processes
    import fcntl
except ImportError:  # pragma: no cover - exercised only on Windows
    fcntl = None  # type: ignore[assignment]

INDEX_NAME = ".index.json"
JOURNAL_NAME = ".journal.jsonl"
FEED_NAME = "feed.atom"
MEDIA_DIR = "media"
INDEX_FORMAT = 1
PAYLOAD_FORMAT = 1
MAX_SLUG = 80

_LANG_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
# Letters NFKD cannot take apart: Danish/Norwegian/German spellings as their own languages write
# them in ASCII (WordPress does the same for da_DK and de_DE).
_TRANSLITERATE = str.maketrans(
    {
        "æ": "ae", "Æ": "Ae", "ø": "oe", "Ø": "Oe", "å": "aa", "Å": "Aa", "ä": "ae", "Ä": "Ae",
        "ö": "oe", "Ö": "Oe", "ü": "ue", "Ü": "Ue", "ß": "ss", "ð": "d", "Ð": "D", "þ": "th",
        "Þ": "Th", "œ": "oe", "Œ": "Oe", "ł": "l", "Ł": "L",
    }
)  # fmt: skip
_PAGE_SUFFIX = re.compile(r"\.(?:html?|php|aspx?)$", re.IGNORECASE)

_STYLE = (
    "body{font:1.05rem/1.6 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "color:#1d1d1d}img{max-width:100%;height:auto}.excerpt{font-size:1.15rem;color:#444}"
    "footer{margin-top:2.5rem;border-top:1px solid #ddd;font-size:.9rem;color:#555}"
)


def file_url(path: Path) -> str:
    """``file://localhost/...`` for an absolute path.

    The RFC 8089 form with an explicit host, because feedparser (and readers built on it) collapses the
    empty authority of ``file:///tmp/x`` into ``file://tmp/x``, which names a host called ``tmp``.
    """
    return "file://localhost" + path.as_uri().removeprefix("file://")


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------- slugs


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphen-separated; ``Netværk er guld!`` → ``netvaerk-er-guld``."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLITERATE)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:MAX_SLUG].rstrip("-")


def preferred_slug(source_url: str, title: str, post_key: str) -> str:
    """The file name a post would like: its URL's last path segment, else its title, else a hash."""
    segment = unquote(urlsplit(source_url).path.rstrip("/").rsplit("/", 1)[-1])
    slug = slugify(_PAGE_SUFFIX.sub("", segment))
    if not slug or slug.isdigit() or slug in {"index", "feed"}:
        slug = slugify(title)
    return slug or "post-" + hashlib.sha256(post_key.encode()).hexdigest()[:10]


def _unique(preferred: str, taken: set[str]) -> str:
    if preferred not in taken:
        return preferred
    n = 2
    while f"{preferred}-{n}" in taken:
        n += 1
    return f"{preferred}-{n}"


# ---------------------------------------------------------------------------------------- documents


def _iso(value: datetime | None) -> str | None:
    """UTC ISO 8601, so stored timestamps also sort correctly as strings."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def render_document(parts: Mapping[str, Any], canonical: str | None) -> bytes:
    """The standalone HTML5 document for one translated item.

    ``parts`` holds already-sanitized fragments and raw text values; text values are escaped here.
    """
    lang = escape(parts["lang"])
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(parts['title'])}</title>",
    ]
    if canonical:
        head.append(f'<link rel="canonical" href="{escape(canonical)}">')
    head.append(f'<link rel="alternate" type="application/atom+xml" href="{FEED_NAME}">')
    if parts.get("description"):
        head.append(f'<meta name="description" content="{escape(parts["description"])}">')
    if parts.get("author"):
        head.append(f'<meta name="author" content="{escape(parts["author"])}">')
    head += ['<meta name="generator" content="syndication">', f"<style>{_STYLE}</style>", "</head>"]
    body = [
        "<body>",
        f'<article class="syndicated {escape(parts["kind"])}" data-post-key="{escape(parts["post_key"])}"'
        f' data-revision="{escape(parts["revision"])}">',
        "<header>",
        f"<h1>{escape(parts['title'])}</h1>",
    ]
    if parts.get("excerpt_html"):
        body.append(f'<p class="excerpt">{parts["excerpt_html"]}</p>')
    body.append("</header>")
    if parts.get("image_html"):
        body.append(f'<figure class="featured-image">{parts["image_html"]}</figure>')
    body += ['<div class="entry-content">', parts["body_html"], "</div>", "<footer>"]
    body.append(f'<p class="attribution">{parts["attribution_html"]}</p>')
    if parts.get("linked_from_html"):
        body.append(f'<p class="linked-from">{parts["linked_from_html"]}</p>')
    body += ["</footer>", "</article>", "</body>", "</html>", ""]
    return "\n".join(head + body).encode("utf-8")


# ---------------------------------------------------------------------------------------- the index


@dataclass
class _Index:
    lang: str
    feed_updated: datetime | None
    entries: dict[str, dict[str, Any]]

    def slugs(self, *, except_post: str | None = None) -> set[str]:
        return {str(e["slug"]) for k, e in self.entries.items() if k != except_post}

    def to_json(self) -> bytes:
        data = {
            "format": INDEX_FORMAT,
            "lang": self.lang,
            "feed_updated": _iso(self.feed_updated),
            "entries": self.entries,
        }
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


@dataclass
class _JournalState:
    """What this channel has read of a language's journal so far."""

    inode: int
    offset: int = 0
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    feed_updated: datetime | None = None


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; published files are meant to be read and served
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -------------------------------------------------------------------------------------- the channel


class OutboxChannel:
    """Writes approved translations as HTML files and per-language Atom feeds into a folder."""

    at_most_once = False

    def __init__(self, context: ChannelContext, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.context = context
        self.name = context.name
        self._clock = clock
        raw_path = context.config.get("path", "outbox")
        if not isinstance(raw_path, str | os.PathLike) or not str(raw_path).strip():
            raise ConfigError(
                f"channel {context.name!r}: 'path' must be a folder name, got {raw_path!r}",
                channel=context.name,
            )
        path = Path(raw_path).expanduser()
        if not path.is_absolute():
            path = Path(context.base_dir) / path
        # abspath, not resolve(): no filesystem access at construction, and symlinks stay as configured.
        self.root = Path(os.path.abspath(path))
        base_url = context.config.get("base_url")
        if base_url is not None:
            parts = urlsplit(str(base_url))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(
                    f"channel {context.name!r}: base_url must be an absolute http(s) URL, got {base_url!r}",
                    channel=context.name,
                )
            base_url = str(base_url).rstrip("/")
        self.base_url: str | None = base_url
        title = context.config.get("title")
        self.title_template: str | None = str(title) if title else None
        media = context.config.get("media", "link")
        if media not in ("link", "copy"):
            raise ConfigError(
                f'channel {context.name!r}: media must be "link" (images stay at their address) or '
                f'"copy" (images are copied next to the HTML files), got {media!r}',
                channel=context.name,
            )
        self.media: str = str(media)
        try:
            self.max_image_bytes = int(context.config.get("max_image_bytes", DEFAULT_MAX_IMAGE_BYTES))
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"channel {context.name!r}: max_image_bytes must be a number of bytes", channel=context.name
            ) from exc
        self._allow_private_hosts = [str(h) for h in context.config.get("allow_private_hosts", ())]
        self._images: ImageFetcher | None = None
        self._deferred = False
        self._dirty: set[str] = set()
        self._base_cache: dict[str, tuple[tuple[int, int, int], _Index]] = {}
        self._journal_cache: dict[str, _JournalState] = {}

    # ----------------------------------------------------------------------------------------- runs

    def begin_run(self) -> None:
        """Sends until ``close()`` journal their index records instead of rebuilding index and feed."""
        self._deferred = True

    def close(self) -> None:
        """Merge what this run journaled into ``.index.json`` and rebuild each touched ``feed.atom``."""
        self._deferred = False
        if self._images is not None:
            self._images.close()
            self._images = None
        dirty, self._dirty = sorted(self._dirty), set()
        for lang in dirty:
            with self._locked(lang, None) as folder:
                index = self._load_index(folder, lang, None)
                try:
                    self._save(folder, index)
                except OSError as exc:
                    raise self._io_error(exc, "write", lang, None) from exc

    # ------------------------------------------------------------------------------------- protocol

    def targets(self, item: ApprovedTranslation) -> list[str]:
        return [""]

    def render(self, item: ApprovedTranslation, *, target: str = "") -> Payload:
        """Pure: the document and feed entry for ``item``, as data (no file is read or written)."""
        lang = self._lang(item.lang, post=item.post_key)
        slug = preferred_slug(item.source_url, item.source_title or item.title, item.post_key)
        meta: dict[str, Any] = {
            "format": PAYLOAD_FORMAT,
            "action": item.action,
            "lang": lang,
            "post_key": item.post_key,
            "revision": item.revision,
            "translation_id": item.translation_id,
            "kind": item.kind,
            "slug": slug,
        }
        if item.action == "retract":
            return Payload(
                channel=self.name,
                target=target,
                summary=f"retract {lang}/{slug}.html ({item.source_url})",
                body=b"",
                meta=meta,
            )
        parts = self._document_parts(item, lang)
        entry = {
            "title": plain_text(item.title) or item.title.strip() or item.source_url,
            "content_html": parts["body_html"]
            + f'\n<p class="attribution">{parts["attribution_html"]}</p>'
            + (
                f'\n<p class="linked-from">{parts["linked_from_html"]}</p>'
                if parts["linked_from_html"]
                else ""
            ),
            "summary_html": parts["excerpt_html"],
            "author": item.author or item.site_name or urlsplit(item.source_url).hostname or "unknown",
            "categories": list(dict.fromkeys((*item.categories, *item.tags))),
            "source_url": item.source_url if is_absolute(item.source_url) else None,
            "source_lang": item.source_lang,
            "approved_at": _iso(item.approved_at),
            "kind": item.kind,
        }
        content_hash = hashlib.sha256(
            json.dumps([parts, entry["categories"], entry["source_url"]], sort_keys=True).encode()
        ).hexdigest()
        meta.update(document=parts, entry=entry, content_hash=content_hash)
        body = render_document(parts, self._url(lang, slug) if self.base_url else None)
        return Payload(
            channel=self.name,
            target=target,
            summary=f"{lang}/{slug}.html: {entry['title']}",
            body=body,
            content_type="text/html; charset=utf-8",
            meta=meta,
        )

    def send(self, payload: Payload, *, key: str, previous: Receipt | None = None) -> Receipt:
        meta = payload.meta
        if payload.channel != self.name or meta.get("format") != PAYLOAD_FORMAT:
            raise TerminalDeliveryError(
                f"payload for channel {payload.channel!r} was not rendered by this outbox channel; "
                "render it again",
                channel=self.name,
            )
        post_key = str(meta["post_key"])
        lang = self._lang(str(meta["lang"]), post=post_key)
        if meta.get("action") == "retract":
            self._remove(lang, post_key)
            return Receipt(
                channel=self.name, key=key, meta={"lang": lang, "post_key": post_key, "retracted": True}
            )
        if self.context.dry_run:
            slug = str(meta["slug"])
            return Receipt(
                channel=self.name,
                key=key,
                remote_id=f"{lang}/{slug}",
                remote_url=self._url(lang, slug),
                meta={"lang": lang, "post_key": post_key, "slug": slug, "dry_run": True},
            )
        with self._locked(lang, post_key) as folder:
            index = self._load_index(folder, lang, post_key)
            existing = index.entries.get(post_key)
            if (
                existing is not None
                and existing.get("key") == key
                and existing.get("content_hash") == meta["content_hash"]
                and (folder / f"{existing['slug']}.html").is_file()
            ):
                return self._receipt(key, lang, post_key, existing)  # the same send again: nothing to do
            slug = self._choose_slug(index, post_key, str(meta["slug"]), existing, previous, lang)
            entry = self._index_entry(meta, key, slug, existing)
            body = payload.body
            document: Mapping[str, Any] = meta["document"]
            notes: list[str] = []
            if self.media == "copy":
                document, notes = self._copy_media(folder, document)
            if (self.base_url and slug != meta["slug"]) or document is not meta["document"]:
                body = render_document(document, self._url(lang, slug) if self.base_url else None)
            try:
                _write_atomically(folder / f"{slug}.html", body)
                index.entries[post_key] = entry
                index.feed_updated = max(filter(None, [index.feed_updated, _parse_iso(entry["updated"])]))
                if self._deferred:
                    self._journal(folder, lang, post_key, entry)
                    self._dirty.add(lang)
                else:
                    self._save(folder, index)
            except OSError as exc:
                raise self._io_error(exc, "write", lang, post_key) from exc
            receipt = self._receipt(key, lang, post_key, entry)
            return replace(receipt, meta={**receipt.meta, "media_notes": notes}) if notes else receipt

    def _copy_media(self, folder: Path, document: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[str]]:
        """``media = "copy"``: the document's images saved as ``media/<sha256>.<ext>`` beside it (each
        file once, whichever posts show it) and the document pointing at them; plus a note for each
        image left at its address (too large, not fetched)."""
        if self._images is None:
            self._images = ImageFetcher(
                max_bytes=self.max_image_bytes, allow_private_hosts=self._allow_private_hosts
            )
        copies: dict[str, str] = {}
        notes: list[str] = []
        refs = body_images(document.get("image_html", "")) + body_images(document["body_html"])
        for ref in refs:
            if ref.src in copies:
                continue
            fetched = self._images.get(ref.src)
            if isinstance(fetched, str):
                notes.append(fetched)
                continue
            name = f"{MEDIA_DIR}/{fetched.sha256[:32]}{fetched.extension}"
            if not (folder / name).is_file():
                (folder / MEDIA_DIR).mkdir(exist_ok=True)
                _write_atomically(folder / name, fetched.data)
            copies[ref.src] = name
        if not copies:
            return document, notes
        changed = dict(document)
        for part in ("image_html", "body_html"):
            changed[part] = replace_sources(str(document.get(part, "")), copies)
        return changed, notes

    def link_for(self, receipt: Receipt) -> str | None:
        """How another copy in the same language links to this one: relative (``slug.html`` in the
        same folder), so the outbox works wherever it is served or opened from."""
        slug = receipt.meta.get("slug") or (receipt.remote_id or "").partition("/")[2]
        return f"{quote(str(slug))}.html" if slug else None

    def retract(self, receipt: Receipt) -> None:
        lang = receipt.meta.get("lang")
        post_key = receipt.meta.get("post_key")
        if not lang and receipt.remote_id and "/" in receipt.remote_id:
            lang = receipt.remote_id.split("/", 1)[0]
        if not lang:
            raise TerminalDeliveryError(
                f"receipt {receipt.key!r} does not say which outbox file it made; retract by hand",
                channel=self.name,
            )
        lang = self._lang(str(lang), post=str(post_key) if post_key else None)
        if not post_key and receipt.remote_id:
            slug = receipt.remote_id.split("/", 1)[1]
            index = self._load_index(self.root / lang, lang, None) if (self.root / lang).is_dir() else None
            post_key = next(
                (k for k, e in (index.entries.items() if index else []) if e["slug"] == slug), None
            )
        if post_key:
            self._remove(lang, str(post_key))

    # ------------------------------------------------------------------------------------- helpers

    def _lang(self, lang: str, *, post: str | None) -> str:
        # The language becomes a folder name: anything but a plain BCP 47 tag could climb out of it.
        if not _LANG_TAG.match(lang or ""):
            raise TerminalDeliveryError(
                f"language tag {lang!r} is not a BCP 47 tag the outbox can use as a folder name",
                post=post,
                channel=self.name,
            )
        return lang

    def _url(self, lang: str, name: str) -> str:
        filename = name if name.endswith((".atom", ".html")) else f"{name}.html"
        if self.base_url:
            return f"{self.base_url}/{lang}/{filename}"
        return file_url(self.root / lang / filename)

    def _document_parts(self, item: ApprovedTranslation, lang: str) -> dict[str, Any]:
        image_html = ""
        if item.featured_image is not None and is_absolute(item.featured_image.src):
            image_html = clean_html(
                f'<img src="{escape(item.featured_image.src)}" alt="{escape(item.featured_image.alt)}">'
            )
        excerpt_html = clean_inline(item.excerpt or "")
        return {
            "lang": lang,
            "title": plain_text(item.title) or item.title.strip() or item.source_url,
            "kind": item.kind,
            "post_key": item.post_key,
            "revision": item.revision,
            "author": item.author or "",
            "description": plain_text(item.excerpt or ""),
            "excerpt_html": excerpt_html,
            "image_html": image_html,
            "body_html": clean_html(item.html),
            "attribution_html": attribution_line(
                lang,
                site_name=item.site_name,
                author=item.author,
                published=item.published,
                url=item.source_url,
                source_lang=item.source_lang,
            ),
            "linked_from_html": linked_from_line(lang, item.linked_from) if item.kind == "linked" else "",
        }

    def _choose_slug(
        self,
        index: _Index,
        post_key: str,
        preferred: str,
        existing: Mapping[str, Any] | None,
        previous: Receipt | None,
        lang: str,
    ) -> str:
        if existing is not None:
            return str(existing["slug"])
        taken = index.slugs(except_post=post_key)
        if previous is not None and previous.meta.get("lang") == lang:
            earlier = previous.meta.get("slug")
            if isinstance(earlier, str) and slugify(earlier) == earlier and earlier and earlier not in taken:
                return earlier  # the index was lost: keep writing to the file readers already know
        return _unique(preferred, taken)

    def _index_entry(
        self, meta: Mapping[str, Any], key: str, slug: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        entry = dict(meta["entry"])
        approved = _parse_iso(entry.get("approved_at")) or self._clock()
        if existing is not None and existing.get("content_hash") == meta["content_hash"]:
            updated = _parse_iso(existing.get("updated")) or approved  # same content, new key: no bump
        else:
            updated = approved
            before = _parse_iso(existing.get("updated")) if existing else None
            if before is not None and updated <= before:
                # The approval time does not move the entry forward: an editor changed an item
                # already approved (its approval time stays), or clocks disagree. The change goes
                # out now, so now is its <updated>, and never earlier than the last one.
                updated = max(self._clock(), before + timedelta(seconds=1))
        published = _parse_iso(existing.get("published")) if existing else None
        entry.update(
            key=key,
            slug=slug,
            post_key=meta["post_key"],
            revision=meta["revision"],
            content_hash=meta["content_hash"],
            updated=_iso(updated),
            published=_iso(published or updated),
        )
        return entry

    def _receipt(self, key: str, lang: str, post_key: str, entry: Mapping[str, Any]) -> Receipt:
        slug = str(entry["slug"])
        return Receipt(
            channel=self.name,
            key=key,
            remote_id=f"{lang}/{slug}",
            remote_url=self._url(lang, slug),
            meta={
                "lang": lang,
                "post_key": post_key,
                "slug": slug,
                "path": str(self.root / lang / f"{slug}.html"),
                "entry_id": entry_id(post_key, lang),
                "revision": entry.get("revision"),
                "updated": entry.get("updated"),
            },
        )

    def _remove(self, lang: str, post_key: str) -> None:
        if self.context.dry_run or not (self.root / lang).is_dir():
            return
        with self._locked(lang, post_key) as folder:
            index = self._load_index(folder, lang, post_key)
            entry = index.entries.pop(post_key, None)
            if entry is None:
                return  # never sent or already retracted
            try:
                (folder / f"{entry['slug']}.html").unlink(missing_ok=True)
                now = self._clock()
                index.feed_updated = max(filter(None, [index.feed_updated, now]))
                self._save(folder, index)
            except OSError as exc:
                raise self._io_error(exc, "retract", lang, post_key) from exc

    @contextlib.contextmanager
    def _locked(self, lang: str, post_key: str | None) -> Iterator[Path]:
        folder = self.root / lang
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle = open(folder / ".lock", "a+b")  # noqa: SIM115 - held for the whole block
        except OSError as exc:
            raise self._io_error(exc, "open", lang, post_key) from exc
        try:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield folder
        finally:
            handle.close()  # closing releases the lock

    def _load_index(self, folder: Path, lang: str, post_key: str | None) -> _Index:
        """The index as stored plus the journal's records (a copy the caller may change)."""
        base = self._load_base(folder, lang, post_key)
        journal = self._read_journal(folder, lang, post_key)
        entries = dict(base.entries)
        entries.update(journal.entries)
        updated = max(filter(None, [base.feed_updated, journal.feed_updated]), default=None)
        return _Index(lang=lang, feed_updated=updated, entries=entries)

    def _load_base(self, folder: Path, lang: str, post_key: str | None) -> _Index:
        path = folder / INDEX_NAME
        try:
            stat = path.stat()
        except FileNotFoundError:
            return _Index(lang=lang, feed_updated=None, entries={})
        except OSError as exc:
            raise self._io_error(exc, "read", lang, post_key) from exc
        # Files are only ever replaced (os.replace), never rewritten in place: a new inode, size or
        # mtime means someone saved a new index.
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        cached = self._base_cache.get(lang)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        index = self._parse_index(path, lang, post_key)
        self._base_cache[lang] = (stamp, index)
        return index

    def _read_journal(self, folder: Path, lang: str, post_key: str | None) -> _JournalState:
        path = folder / JOURNAL_NAME
        state = self._journal_cache.get(lang)
        try:
            with open(path, "rb") as handle:
                inode = os.fstat(handle.fileno()).st_ino
                if state is None or state.inode != inode:
                    state = _JournalState(inode=inode)
                handle.seek(state.offset)
                tail = handle.read()
        except FileNotFoundError:
            state = _JournalState(inode=-1)
            self._journal_cache[lang] = state
            return state
        except OSError as exc:
            raise self._io_error(exc, "read", lang, post_key) from exc
        # Only whole lines count: a run killed mid-append leaves a partial last line, which the next
        # append completes or the next merge drops.
        complete = tail[: tail.rfind(b"\n") + 1]
        for line in complete.splitlines():
            try:
                record = json.loads(line)
                state.entries[str(record["post_key"])] = dict(record["entry"])
            except (ValueError, KeyError, TypeError):
                continue  # a damaged record: the HTML file exists, the next publish of it rewrites it
            updated = _parse_iso(record.get("feed_updated"))
            state.feed_updated = max(filter(None, [state.feed_updated, updated]), default=None)
        state.offset += len(complete)
        self._journal_cache[lang] = state
        return state

    def _journal(self, folder: Path, lang: str, post_key: str, entry: Mapping[str, Any]) -> None:
        record = {"post_key": post_key, "entry": entry, "feed_updated": entry.get("updated")}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
        with open(folder / JOURNAL_NAME, "ab") as handle:
            if handle.tell() and not _ends_with_newline(folder / JOURNAL_NAME):
                handle.write(b"\n")  # end a partial line a killed run left
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _parse_index(self, path: Path, lang: str, post_key: str | None) -> _Index:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return _Index(lang=lang, feed_updated=None, entries={})
        except OSError as exc:
            raise self._io_error(exc, "read", lang, post_key) from exc
        try:
            data = json.loads(raw)
            entries = data["entries"]
            if data.get("format") != INDEX_FORMAT or not isinstance(entries, dict):
                raise ValueError("unknown index format")
            for entry in entries.values():
                if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
                    raise ValueError("entry without slug")
        except (ValueError, KeyError, TypeError) as exc:
            raise TerminalDeliveryError(
                f"outbox index {path} is damaged ({exc}); the HTML files are intact: restore the index "
                "from a backup, or move it away and publish again to rebuild it",
                post=post_key,
                lang=lang,
                channel=self.name,
            ) from exc
        return _Index(lang=lang, feed_updated=_parse_iso(data.get("feed_updated")), entries=entries)

    def _save(self, folder: Path, index: _Index) -> None:
        """Write index and feed; the journal is merged then (``index`` was read with it)."""
        _write_atomically(folder / INDEX_NAME, index.to_json())
        _write_atomically(folder / FEED_NAME, self.feed_bytes(index))
        (folder / JOURNAL_NAME).unlink(missing_ok=True)
        self._journal_cache.pop(index.lang, None)

    def feed_bytes(self, index: _Index) -> bytes:
        lang = index.lang
        ordered = sorted(index.entries.items(), key=lambda kv: (str(kv[1]["updated"]), kv[0]), reverse=True)
        entries = []
        for post_key, entry in ordered:
            links = [AtomLink(self._url(lang, str(entry["slug"])), "alternate", "text/html", lang)]
            if entry.get("source_url"):
                links.append(AtomLink(str(entry["source_url"]), "via", "text/html", entry.get("source_lang")))
            entries.append(
                AtomEntry(
                    id=entry_id(post_key, lang),
                    title=str(entry["title"]),
                    updated=_parse_iso(entry["updated"]) or self._clock(),
                    published=_parse_iso(entry.get("published")),
                    content_html=str(entry["content_html"]),
                    summary_html=str(entry.get("summary_html") or "") or None,
                    author=str(entry.get("author") or "unknown"),
                    categories=[str(c) for c in entry.get("categories", [])],
                    links=links,
                    lang=lang,
                )
            )
        identity = self.base_url or self.root.as_uri()
        title = self.title_template.replace("{lang}", lang) if self.title_template else feed_title(lang)
        feed = AtomFeed(
            id="urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{identity}/{lang}/{FEED_NAME}")),
            title=title,
            updated=index.feed_updated or self._clock(),
            lang=lang,
            links=[AtomLink(self._url(lang, FEED_NAME), "self", "application/atom+xml")],
        )
        return build_atom(feed, entries)

    def _io_error(self, exc: OSError, action: str, lang: str, post_key: str | None) -> Exception:
        # A full disk or a permission problem may clear up; a path that is not a folder will not.
        transient = not isinstance(exc, NotADirectoryError | IsADirectoryError | PermissionError)
        cls = TransientDeliveryError if transient else TerminalDeliveryError
        return cls(
            f"cannot {action} outbox files under {self.root / lang}: {exc.strerror or exc}",
            post=post_key,
            lang=lang,
            channel=self.name,
        )
