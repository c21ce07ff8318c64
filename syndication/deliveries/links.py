"""Links to translations: a link in a translated item to another item of the same source points to
that item's copy on the same channel and language, once the copy has been delivered there.

Identity (``link_identity``): http and https, ``www.``, a trailing slash, a default port, tracking
parameters and the fragment do not matter; ``?p=ID`` and the pretty permalink name the same post
because a post is indexed under its key (the WordPress GUID ``?p=ID``), its URL and its canonical.

Where a copy lives comes from the ledger: the newest ``sent`` row of (post, language, channel), if
it is not a retraction. The channel says how to link to it (``link_for(receipt)``: the outbox
answers a relative file name); otherwise the row's ``remote_url`` (the WordPress permalink, the feed's
entry page). E-mail has no copy to link to.

The localized-link map enters the item's content version (``localize``), so the ledger sees a
link that now points to a translation as a change (one update) and an unchanged map as none.
``link_refs`` remembers which posts link to which identities, so a copy delivered later finds
the items to update (``linkers``).
"""

from __future__ import annotations

import hashlib
import html as htmlmod
import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from syndication.deliveries import ledger
from syndication.models import ApprovedTranslation, Receipt
from syndication.posts.links import normalize_url
from syndication.store import LinkRef, Post, Revision

if TYPE_CHECKING:
    from syndication.deliveries.channel import Channel

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
MAX_LINKS = 200
"""Links looked at per item: a link farm must not make planning slow."""


# The usual shapes, decided without a URL parser (building the index of a large store calls this
# for every post's key, URL and canonical); anything else takes the general path below.
_PLAIN = re.compile(r"^https?://(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(/[^?#:@\s\\]*)?(?:\?p=([0-9]+))?$")


def link_identity(url: str) -> str | None:
    """What names one post however a link spells it; ``None`` for anything but http(s)."""
    plain = _PLAIN.match(url) if url else None
    if plain is not None:
        host, path, post = plain.group(1), unquote(plain.group(2) or "").rstrip("/"), plain.group(3)
        return f"{host}{path}?p={int(post)}" if post else f"{host}{path}"
    return _general_identity(url)


def _general_identity(url: str) -> str | None:
    normalized = normalize_url(url) if url and len(url) <= 2000 else None
    if normalized is None:
        return None
    parts = urlsplit(normalized)
    host = parts.netloc
    if host.startswith("www."):
        host = host[4:]
    if host.endswith((":80", ":443")):
        host = host.rsplit(":", 1)[0]
    path = unquote(parts.path).rstrip("/")
    params = parse_qsl(parts.query, keep_blank_values=True)
    ids = [value for name, value in params if name == "p"]
    if (
        len(ids) == 1
        and ids[0].isascii()
        and ids[0].isdigit()
        and {n for n, _ in params} <= {"p", "post_type"}
    ):
        return f"{host}{path}?p={int(ids[0])}"
    query = urlencode(sorted(params))
    return f"{host}{path}" + (f"?{query}" if query else "")


def identity_hash(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def hrefs(fragment: str) -> list[str]:
    """The ``href`` of every ``<a>`` in ``fragment``, unescaped, in order."""
    return [htmlmod.unescape(m.group(3)) for m in _HREF.finditer(fragment)][:MAX_LINKS]


def rewrite(fragment: str, links: dict[str, str]) -> str:
    """``fragment`` with every ``<a href>`` found in ``links`` pointing where ``links`` says (the
    fragment of the original link is kept); nothing else changes, byte for byte."""
    if not links:
        return fragment

    def swap(match: re.Match[str]) -> str:
        href = htmlmod.unescape(match.group(3))
        base, hash_, anchor = href.partition("#")
        target = links.get(base)
        if target is None:
            return match.group(0)
        new = target + (hash_ + anchor if anchor else "")
        return f"{match.group(1)}{match.group(2)}{htmlmod.escape(new, quote=True)}{match.group(2)}"

    return _HREF.sub(swap, fragment)


def link_for(channel: Channel, receipt: Receipt) -> str | None:
    """How a copy on ``channel`` is linked from another copy on it, or ``None`` (no copy to link)."""
    if channel.at_most_once:
        return None  # e-mail: nothing to link to (no web copy)
    own = getattr(channel, "link_for", None)
    if callable(own):
        url = own(receipt)
        return str(url) if url else None
    url = receipt.remote_url or ""
    return url if url.startswith(("https://", "http://")) else None


@dataclass(frozen=True)
class Localized:
    item: ApprovedTranslation
    links: dict[str, str]
    """Link as written in the item → where it points now (only the localized ones)."""
    targets: frozenset[int]
    """Posts of the store the item links to, localized or not (to order sends in one run)."""


class Localizer:
    """Localizes the links of items within one planning session (the post index is built once, and
    only when an item has links)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._index: dict[str, list[int]] | None = None
        self._copies: dict[tuple[int, str, str], Receipt | None] = {}
        self._remembered: dict[int, set[str]] = {}

    def index(self) -> dict[str, list[int]]:
        if self._index is None:
            self._index = {}
            rows: list[tuple[int, str | None]] = []
            for post_id, key, url, status in self.session.execute(
                select(Post.id, Post.post_key, Post.url, Post.status).order_by(Post.id)
            ):
                if status != "retracted":
                    rows += [(post_id, key), (post_id, url)]
            for post_id, canonical in self.session.execute(
                select(Revision.post_id, Revision.canonical)
                .join(Post, Post.current_revision_id == Revision.id)
                .where(Revision.canonical.is_not(None))
            ):
                rows.append((post_id, canonical))
            for post_id, address in rows:
                identity = link_identity(address or "")
                if identity is not None:
                    found = self._index.setdefault(identity, [])
                    if post_id not in found:
                        found.append(post_id)
        return self._index

    def resolve(self, url: str) -> list[int]:
        identity = link_identity(url)
        return list(self.index().get(identity, ())) if identity else []

    def copy(self, post_id: int, lang: str, channel: str) -> Receipt | None:
        key = (post_id, lang, channel)
        if key not in self._copies:
            row = ledger.last_sent(self.session, post_id, lang, channel, "")
            sent = row is not None and row.action in ("publish", "update")
            self._copies[key] = ledger.receipt_of(row) if sent and row is not None else None
        return self._copies[key]

    def where(
        self, href: str, post_id: int, lang: str, name: str, channel: Channel
    ) -> tuple[list[int], str | None]:
        """The posts of the store ``href`` names (other than ``post_id``), and where a link to
        them points on ``channel`` in ``lang`` now (``None``: the original)."""
        posts = [target for target in self.resolve(href) if target != post_id]
        for target in posts:
            receipt = self.copy(target, lang, name)
            url = link_for(channel, receipt) if receipt is not None else None
            if url:
                return posts, url
        return posts, None

    def localize(self, item: ApprovedTranslation, post_id: int, name: str, channel: Channel) -> Localized:
        """``item`` as ``channel`` gets it: its links to delivered copies rewritten, and the
        rewritten map folded into its content version (nothing changes when no link is)."""
        found = [href for href in hrefs(item.html) if href.startswith(("http://", "https://"))]
        if not found:
            return Localized(item, {}, frozenset())
        links: dict[str, str] = {}
        targets: set[int] = set()
        for href in found:
            base = href.partition("#")[0]
            posts, url = self.where(base, post_id, item.lang, name, channel)
            targets.update(posts)
            if url:
                links[base] = url
        if not links:
            return Localized(item, {}, frozenset(targets))
        digest = hashlib.sha256(
            (item.content_version + "\x1flinks:" + json.dumps(sorted(links.items()))).encode()
        ).hexdigest()[:32]
        localized = replace(item, html=rewrite(item.html, links), content_version=digest)
        return Localized(localized, links, frozenset(targets))

    def remember(self, post_id: int, html: str) -> None:
        """Record which identities ``post_id`` links to, so a copy delivered later finds it."""
        wanted = {link_identity(h.partition("#")[0]) for h in hrefs(html)}
        hashes = {identity_hash(i) for i in wanted if i}
        known = self._remembered.get(post_id)
        if known is None:
            known = set(
                self.session.scalars(select(LinkRef.identity_hash).where(LinkRef.source_post_id == post_id))
            )
            self._remembered[post_id] = known
        for digest in sorted(hashes - known):
            self.session.add(LinkRef(source_post_id=post_id, identity_hash=digest))
            known.add(digest)


def identities_of(session: Session, post_ids: Collection[int]) -> set[str]:
    """Every identity the posts answer to (key, URL, canonical)."""
    ids = sorted(set(post_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        urls: list[Any] = list(
            session.execute(select(Post.post_key, Post.url).where(Post.id.in_(chunk))).all()
        )
        values: list[str | None] = [u for row in urls for u in row]
        values += list(
            session.scalars(
                select(Revision.canonical)
                .join(Post, Post.current_revision_id == Revision.id)
                .where(Post.id.in_(chunk), Revision.canonical.is_not(None))
            )
        )
        found |= {i for i in (link_identity(v or "") for v in values) if i}
    return found


def linkers(session: Session, post_ids: Iterable[int]) -> set[int]:
    """The posts whose items link to any of ``post_ids`` (as remembered by ``Localizer.remember``)."""
    targets = set(post_ids)
    if not targets:
        return set()
    hashes = sorted(identity_hash(i) for i in identities_of(session, targets))
    out: set[int] = set()
    for start in range(0, len(hashes), 500):
        out |= set(
            session.scalars(
                select(LinkRef.source_post_id).where(LinkRef.identity_hash.in_(hashes[start : start + 500]))
            )
        )
    # Not minus ``post_ids``: two posts delivered together may link to each other.
    return out
