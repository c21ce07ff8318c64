"""Article metadata from a parsed page: title, author, dates, language, canonical URL and so on.

Sources in order of trust: OpenGraph/``article:*`` metas and JSON-LD (written by SEO plugins from
the post's own fields), then WordPress theme markup (``h1.entry-title``, ``time.published``,
``rel="category tag"``), then generic HTML (``<title>``, ``<html lang>``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from lxml.html import HtmlElement

from syndication.models import Image
from syndication.posts.boilerplate import in_page_chrome
from syndication.posts.urls import absolute_url, image_source

_TITLE_SEPARATORS = re.compile(r"\s+(?:[|–—·•»:]|-{1,2}|::)\s+")
_ARTICLE_TYPES = frozenset(
    {"article", "blogposting", "newsarticle", "posting", "report", "scholarlyarticle", "techarticle",
     "webpage", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle", "review"}
)  # fmt: skip
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_MAX_JSONLD_CHARS = 500_000
_TITLE_CLASSES = frozenset({"entry-title", "wp-block-post-title", "post-title"})


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from ISO 8601 or RFC 2822; naive times are taken as UTC."""
    value = _clean(value)
    if not value:
        return None
    parsed: datetime | None = None
    iso = value.replace("Z", "+00:00").replace("z", "+00:00")
    if len(iso) >= 10:
        try:
            parsed = datetime.fromisoformat(iso)
        except ValueError:
            # "2024-05-03 10:00:00 +0200" and similar near-ISO forms.
            try:
                parsed = datetime.strptime(iso, "%Y-%m-%d %H:%M:%S %z")
            except ValueError:
                parsed = None
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def normalize_lang(value: str | None) -> str | None:
    """A BCP 47 tag in its usual case (``da``, ``en-US``) or None when it is not one."""
    value = _clean(value)
    if not value:
        return None
    value = value.split(",")[0].strip().replace("_", "-")
    if not _LANG_TAG.match(value):
        return None
    parts = value.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part.lower())
    return "-".join(out)


@dataclass
class PageMeta:
    base_url: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    lang: str | None = None
    canonical: str | None = None
    site_name: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    featured_image: Image | None = None


class _Metas:
    """``<meta>`` values by lower-cased ``property``/``name``/``itemprop``/``http-equiv``."""

    def __init__(self, elements: list[HtmlElement]) -> None:
        self.values: dict[str, list[str]] = {}
        for meta in elements:
            content = meta.get("content")
            if content is None:
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                key = meta.get(attr)
                if key:
                    self.values.setdefault(key.strip().lower(), []).append(content)

    def first(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.values.get(key, ()):
                cleaned = _clean(value)
                if cleaned:
                    return cleaned
        return None

    def all(self, key: str) -> list[str]:
        return [v for v in (_clean(x) for x in self.values.get(key, ())) if v]


def _jsonld_items(scripts: list[HtmlElement]) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page, ``@graph`` members included."""
    for script in scripts:
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = script.text or ""
        if not raw.strip() or len(raw) > _MAX_JSONLD_CHARS:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        stack: list[Any] = [data]
        seen = 0
        while stack and seen < 200:
            item = stack.pop(0)
            seen += 1
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)


def _types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _name(value: Any) -> str | None:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return _name(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    return None


def _jsonld_article(scripts: list[HtmlElement]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The page's Article-like JSON-LD object and its WebSite object (either may be empty)."""
    article: dict[str, Any] = {}
    website: dict[str, Any] = {}
    for item in _jsonld_items(scripts):
        kinds = _types(item)
        if "website" in kinds and not website:
            website = item
        # A real article beats a generic WebPage.
        if kinds & _ARTICLE_TYPES and (
            not article or ("webpage" in _types(article) and "webpage" not in kinds)
        ):
            article = item
    return article, website


_SURVEYED = ("meta", "link", "script", "title", "base", "time", "h1", "img")


class _Survey:
    """The elements metadata comes from, gathered in one C-level walk of the page.

    Each ``//tag`` XPath query is a full walk too (about 0.4 ms on a large page); one walk for
    all of them keeps metadata a small share of extraction time.
    """

    def __init__(self, root: HtmlElement) -> None:
        self.by_tag: dict[str, list[HtmlElement]] = {tag: [] for tag in _SURVEYED}
        for el in root.iter(*_SURVEYED):
            self.by_tag[el.tag].append(el)

    def __getitem__(self, tag: str) -> list[HtmlElement]:
        return self.by_tag[tag]


def _classes(el: HtmlElement) -> list[str]:
    return (el.get("class") or "").split()


def _near_class(el: HtmlElement, names: tuple[str, ...], levels: int = 4) -> bool:
    """``el`` or one of its nearest ancestors has one of these class tokens."""
    for node in (el, *list(el.iterancestors())[:levels]):
        if any(token in names for token in _classes(node)):
            return True
    return False


def _text(el: HtmlElement | None) -> str | None:
    return None if el is None else _clean(el.text_content())


def _split_title(title: str, site_name: str | None) -> tuple[str, str | None]:
    """``"Post – Site"`` → (``"Post"``, ``"Site"``) when the suffix looks like a site name."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title, None
    if site_name:
        lowered = site_name.lower()
        if parts[-1].strip().lower() == lowered:
            return " – ".join(parts[:-1]).strip(), parts[-1].strip()
        if parts[0].strip().lower() == lowered:
            return " – ".join(parts[1:]).strip(), parts[0].strip()
        return title, None
    suffix = parts[-1].strip()
    # A site name is short; a long last part is more likely part of the headline.
    if 0 < len(suffix) <= 40 and len(suffix) < len(title) / 2:
        return title[: title.rfind(suffix)].rstrip(" |–—·•»:-").strip(), suffix
    return title, None


def _terms(links: list[HtmlElement]) -> list[str]:
    return list(dict.fromkeys(t for t in (_text(a) for a in links) if t))


def _term_kind(link: HtmlElement) -> str | None:
    """``category``/``tag`` for WordPress term links, from the block wrapper or ``rel``."""
    # Block themes mark both kinds rel="tag" and tell them apart by the wrapper's class.
    for ancestor in link.iterancestors():
        classes = ancestor.get("class") or ""
        if "taxonomy-category" in classes:
            return "category"
        if "taxonomy-post_tag" in classes:
            return "tag"
        if ancestor.tag in ("article", "main", "body"):
            break
    rel = (link.get("rel") or "").lower().split()
    if "category" in rel:
        return "category"
    return "tag" if rel == ["tag"] else None


def _outside_chrome(el: HtmlElement) -> bool:
    return not in_page_chrome(el)


def read_metadata(root: HtmlElement, url: str, *, article_root: HtmlElement | None = None) -> PageMeta:
    """Metadata of a parsed page; ``article_root`` narrows term links to the post itself."""
    survey = _Survey(root)
    base = _base_url(survey, url)
    metas = _Metas(survey["meta"])
    article, website = _jsonld_article(survey["script"])
    meta = PageMeta(base_url=base)

    meta.site_name = (
        metas.first("og:site_name", "application-name", "apple-mobile-web-app-title")
        or _name(website.get("name"))
        or _name(article.get("publisher"))
    )

    # -- title: what the reader sees first, then what SEO plugins say, then <title>
    raw_title = _clean(survey["title"][0].text_content()) if survey["title"] else None
    heading = next(
        (text for h1 in survey["h1"] if _TITLE_CLASSES.intersection(_classes(h1)) and (text := _text(h1))),
        None,
    )
    og_title = metas.first("og:title", "twitter:title")
    if heading:
        meta.title = heading
    elif og_title and og_title != meta.site_name:
        meta.title = _split_title(og_title, meta.site_name)[0] if meta.site_name else og_title
    elif _name(article.get("headline")):
        meta.title = _name(article.get("headline"))
    elif raw_title:
        meta.title = _split_title(raw_title, meta.site_name)[0]
    else:
        meta.title = _text(survey["h1"][0]) if survey["h1"] else None
    if not meta.site_name and raw_title:
        meta.site_name = _split_title(raw_title, None)[1]

    # -- author
    meta.author = (
        _name(article.get("author"))
        or _usable_author(metas.first("author", "article:author", "dc.creator", "parsely-author"))
        or _byline(root)
        or _twitter_label(metas, ("written by", "skrevet af", "forfatter", "af"))
    )

    # -- dates
    meta.published = (
        parse_date(metas.first("article:published_time", "og:published_time", "datepublished"))
        or parse_date(_str(article.get("datePublished")))
        or _time_attr(survey, ("published", "entry-date"))
        or _time_in(survey, ("wp-block-post-date", "posted-on", "post-date", "entry-date"))
        or parse_date(metas.first("date", "pubdate", "dc.date", "dc.date.issued", "publish-date"))
    )
    meta.updated = (
        parse_date(metas.first("article:modified_time", "og:updated_time", "datemodified"))
        or parse_date(_str(article.get("dateModified")))
        or _time_attr(survey, ("updated",))
    )

    # -- language
    meta.lang = (
        normalize_lang(root.get("lang") or root.get("xml:lang"))
        or normalize_lang(metas.first("og:locale"))
        or normalize_lang(metas.first("content-language", "language", "dc.language"))
        or normalize_lang(_str(article.get("inLanguage")))
    )

    # -- canonical and description
    canonical_el = next(
        (
            ln
            for ln in survey["link"]
            if ln.get("href") and "canonical" in (ln.get("rel") or "").lower().split()
        ),
        None,
    )
    if canonical_el is not None:
        canonical = absolute_url(canonical_el.get("href"), base)
        if canonical and canonical.startswith(("http://", "https://")):
            meta.canonical = canonical
    meta.description = metas.first("description", "og:description", "twitter:description")

    # -- categories and tags
    scope = article_root if article_root is not None else root
    term_links = [
        a
        for a in scope.xpath(".//a[contains(@rel, 'tag') or contains(@rel, 'category')]")
        if _outside_chrome(a)
    ]
    kinds = [(a, _term_kind(a)) for a in term_links]
    meta.categories = _terms([a for a, kind in kinds if kind == "category"])
    meta.tags = _terms([a for a, kind in kinds if kind == "tag"])
    if not meta.categories:
        meta.categories = list(dict.fromkeys(metas.all("article:section")))
        section = article.get("articleSection")
        for value in section if isinstance(section, list) else [section]:
            if isinstance(value, str) and _clean(value) and _clean(value) not in meta.categories:
                meta.categories.append(str(_clean(value)))
    keywords = article.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    for tag in [*metas.all("article:tag"), *(keywords if isinstance(keywords, list) else [])]:
        tag = _clean(tag) if isinstance(tag, str) else None
        if tag and tag not in meta.tags:
            meta.tags.append(tag)

    meta.featured_image = _featured_image(survey, metas, article, base)
    return meta


_BYLINE_QUERIES = (
    "//a[@rel='author'] | //*[@itemprop='author']//*[@itemprop='name']",
    "//*[contains(@class, 'author')]//*[contains(@class, 'fn')]",
    # Block themes and twentytwenty-style meta lists; then any link to a WordPress author page.
    "//*[contains(@class, 'wp-block-post-author-name')]",
    "//*[contains(@class, 'post-author') or contains(@class, 'byline')]//a",
    "//a[contains(@href, '/author/')]",
)


def _byline(root: HtmlElement) -> str | None:
    for query in _BYLINE_QUERIES:
        for el in root.xpath(query):
            if _outside_chrome(el) and (name := _text(el)):
                return name
    return None


def _time_in(survey: _Survey, classes: tuple[str, ...]) -> datetime | None:
    for el in survey["time"]:
        if el.get("datetime") and _near_class(el, classes) and _outside_chrome(el):
            parsed = parse_date(el.get("datetime"))
            if parsed:
                return parsed
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return None


def _usable_author(value: str | None) -> str | None:
    # article:author is often a profile URL, which is not a name.
    if not value or value.startswith(("http://", "https://", "/")):
        return None
    return value


def _twitter_label(metas: _Metas, labels: tuple[str, ...]) -> str | None:
    for n in range(1, 5):
        label = metas.first(f"twitter:label{n}")
        if label and label.lower().rstrip(":") in labels:
            return metas.first(f"twitter:data{n}")
    return None


def _time_attr(survey: _Survey, classes: tuple[str, ...]) -> datetime | None:
    for name in classes:
        for el in survey["time"]:
            if el.get("datetime") and name in _classes(el):
                parsed = parse_date(el.get("datetime"))
                if parsed:
                    return parsed
    return None


def _base_url(survey: _Survey, url: str) -> str:
    base_el = next((b for b in survey["base"] if b.get("href")), None)
    if base_el is not None:
        base = absolute_url(base_el.get("href"), url)
        if base and base.startswith(("http://", "https://")):
            return base
    return url


def _same_image(a: str, b: str) -> bool:
    """The same upload, ignoring host form and WordPress size suffixes ("-1024x683")."""

    def stem(url: str) -> str:
        name = url.split("?", 1)[0].rsplit("/", 1)[-1]
        return re.sub(r"-\d+x\d+(?=\.\w+$)", "", name).lower()

    return stem(a) == stem(b)


def _featured_image(survey: _Survey, metas: _Metas, article: dict[str, Any], base: str) -> Image | None:
    src = metas.first("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src")
    alt = metas.first("og:image:alt", "twitter:image:alt") or ""
    thumb = next((img for img in survey["img"] if "wp-post-image" in _classes(img)), None)
    if thumb is None:
        thumb = next(
            (
                img
                for img in survey["img"]
                if _near_class(img, ("post-thumbnail", "wp-block-post-featured-image"), levels=3)
            ),
            None,
        )
    if thumb is not None:
        thumb_src = image_source(thumb)
        if not src:
            src, alt = thumb_src, _clean(thumb.get("alt")) or ""
        elif not alt and thumb_src and _same_image(thumb_src, src):
            # SEO plugins rarely give og:image:alt; the theme's thumbnail of the same file does.
            alt = _clean(thumb.get("alt")) or ""
    if not src:
        image = article.get("image")
        if isinstance(image, list) and image:
            image = image[0]
        if isinstance(image, dict):
            image = image.get("url") or image.get("contentUrl")
        src = image if isinstance(image, str) else None
    resolved = absolute_url(src, base) if src else None
    if not resolved or not resolved.startswith(("http://", "https://")):
        return None
    return Image(src=resolved, alt=alt)
