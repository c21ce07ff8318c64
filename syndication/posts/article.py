"""Pages and feed entries to clean, structured ``Article`` values."""

from __future__ import annotations

import copy
import re

from lxml import etree
from lxml.html import HtmlElement

from syndication.errors import ExtractionError
from syndication.models import Article, Entry, Removed
from syndication.posts.cleaning import finish
from syndication.posts.generic import extract_generic, prose_chars
from syndication.posts.metadata import read_metadata
from syndication.posts.parsing import MAX_HTML_CHARS, ParseNotes, parse_document, parse_fragment
from syndication.posts.removals import Removals
from syndication.posts.text import element_text
from syndication.posts.tree import remove_element, text_of
from syndication.posts.wordpress import article_element, find_content_container, looks_like_wordpress

EXCERPT_CHARS = 300
# WordPress ends feed summaries with " [&hellip;]" (or a "Continue reading" link, removed as boilerplate).
_READ_MORE = re.compile(r"\s*\[(?:…|\.\.\.|&hellip;)\]", re.IGNORECASE)
# The WordPress container is checked against trafilatura when it holds less than this, or less
# than this share of the page's prose (a theme that keeps only an intro in .entry-content)...
_WP_MIN_CHARS = 200
_WP_MIN_PROSE_SHARE = 0.5
# ...and trafilatura's body replaces it when that has this many times more text.
_WP_FALLBACK_RATIO = 2.0


def extract_article(html: str, url: str) -> Article:
    """The article in a page: metadata plus the sanitized body and its plain text.

    A page without recognisable content (empty, binary, all scripts, only navigation) gives an
    ``Article`` with empty ``html`` and ``text``; the caller turns that into an
    ``ExtractionError`` naming the URL. Only a failure inside the extractor itself (a bug, never
    seen on the dev set or in fuzzing) raises, and then as ``ExtractionError`` naming the URL.
    """
    try:
        return _extract_article(html, url)
    except (ValueError, TypeError, LookupError, RecursionError, etree.LxmlError) as exc:
        raise ExtractionError(f"could not extract an article ({type(exc).__name__}: {exc})", url=url) from exc


def incomplete_note(notes: ParseNotes) -> dict[str, object] | None:
    """What an editor must know about a source that could not be read whole, or None."""
    if not notes.incomplete:
        return None
    if notes.truncated_chars:
        reason = "truncated"
        why = f"the source is longer than the {MAX_HTML_CHARS:,} characters read"
    else:
        reason = "too_deep"
        levels = f"{notes.deepest:,} levels" if notes.deepest else "over 250 levels"
        why = f"its markup is nested too deeply to read ({levels})"
    message = (
        f"The source could not be read whole: {why}. About {notes.lost_words:,} words were lost, "
        f"starting “{notes.lost_preview}”. Compare with the original before approving."
    )
    return {
        "reason": reason,
        "lost_words": notes.lost_words,
        "lost_preview": notes.lost_preview,
        "message": message,
    }


def _extract_article(html: str, url: str) -> Article:
    notes = ParseNotes()
    root = parse_document(html, notes) if isinstance(html, str) else None
    if root is None:
        return Article(url=url, title="", html="", text="")
    container = find_content_container(root) if looks_like_wordpress(html) else None
    meta = read_metadata(
        root, url, article_root=article_element(container) if container is not None else None
    )
    # The text and links come from the cleaned tree itself: it holds exactly what the sanitized
    # HTML holds (the lxml pass already removed all nh3 would), and re-parsing would cost time.
    body_html, body_root, removed = "", None, Removals()
    if container is not None:
        body_root = copy.deepcopy(container)
        body_root.tail = None
        drop_repeated_title(body_root, meta.title)
        body_html = finish(body_root, meta.base_url, removed)
    body_text = element_text(body_root) if body_html else ""
    # A container with pictures and little text is a photo post, not a theme that put the post
    # elsewhere: trafilatura would only find the sidebar's words.
    gallery = body_root is not None and body_root.find(".//img") is not None
    if not body_html or (
        not gallery
        and (
            len(body_text) < _WP_MIN_CHARS or prose_chars(container) < _WP_MIN_PROSE_SHARE * prose_chars(root)
        )
    ):
        generic = extract_generic(root, url)
        if generic is not None:
            drop_repeated_title(generic, meta.title)
            generic_removed = Removals()
            generic_html = finish(generic, meta.base_url, generic_removed)
            generic_text = element_text(generic)
            if len(generic_text) > _WP_FALLBACK_RATIO * len(body_text) or not body_text:
                body_html, body_root, body_text = generic_html, generic, generic_text
                removed = generic_removed
    excerpt = meta.description or _first_paragraph(body_text)
    return Article(
        url=url,
        title=meta.title or "",
        html=body_html,
        text=body_text,
        author=meta.author,
        published=meta.published,
        updated=meta.updated,
        lang=meta.lang,
        canonical=meta.canonical,
        site_name=meta.site_name,
        excerpt=excerpt,
        categories=meta.categories,
        tags=meta.tags,
        featured_image=meta.featured_image,
        links=body_links(body_root, url) if body_html else [],
        removed=removed.result(),
        incomplete=incomplete_note(notes),
        flattened_depth=notes.deepest,
    )


def drop_repeated_title(body: etree._Element, title: str | None) -> None:
    """Remove an ``h1``/``h2`` that opens the body and only repeats the title.

    Generic extraction (trafilatura) and some themes keep the page's headline inside the body,
    while the title is stored, translated and shown on its own: the copy would show it twice. A
    heading after any text or picture is part of the article and stays.
    """
    wanted = _comparable(title or "")
    if not wanted:
        return
    heading = next(body.iter("h1", "h2"), None)
    if heading is None or _comparable(text_of(heading)) != wanted:
        return
    before = heading.xpath("preceding::text()[normalize-space()] | preceding::img")
    if not before:
        remove_element(heading)


def _comparable(text: str) -> str:
    return " ".join(text.split()).casefold()


def article_from_entry(entry: Entry, *, site_name: str | None = None) -> Article:
    """An Article from a feed entry: its ``content:encoded`` (or summary) cleaned like a page.

    Feeds do not say which ``<category>`` is a tag, so all of them become ``categories`` and
    ``tags`` stays empty; a feed carries no featured image either (``featured_image`` is None).
    As with pages, only a failure inside the extractor raises, as ``ExtractionError``.
    """
    try:
        return _article_from_entry(entry, site_name)
    except (ValueError, TypeError, LookupError, RecursionError, etree.LxmlError) as exc:
        raise ExtractionError(
            f"could not read the feed entry's content ({type(exc).__name__}: {exc})",
            post=entry.entry_id,
            url=entry.link,
        ) from exc


def _article_from_entry(entry: Entry, site_name: str | None) -> Article:
    base = entry.link or ""
    source = entry.content_html or entry.summary_html or ""
    notes, removed = ParseNotes(), Removals()
    body_html = finish(parse_fragment(source, notes), base, removed) if source else ""
    body_root = parse_fragment(body_html)
    body_text = element_text(body_root)
    excerpt = None
    if entry.summary_html and entry.content_html:
        summary = element_text(_cleaned(entry.summary_html, base))
        excerpt = _first_paragraph(_READ_MORE.sub("…", summary))
    return Article(
        url=entry.link or entry.entry_id,
        title=_plain_title(entry.title),
        html=body_html,
        text=body_text,
        author=entry.author,
        published=entry.published,
        updated=entry.updated,
        lang=entry.lang,
        canonical=entry.link,
        site_name=site_name,
        excerpt=excerpt or _first_paragraph(body_text),
        categories=list(dict.fromkeys(c for c in entry.categories if c.strip())),
        tags=[],
        featured_image=None,
        links=body_links(body_root, base),
        # The feed sanitizer removed embeds before we saw the content: the feed's own record counts.
        removed=(
            [Removed(**r) for r in entry.content_removed]
            if entry.content_removed is not None and entry.content_html
            else removed.result()
        ),
        incomplete=incomplete_note(notes),
        flattened_depth=notes.deepest,
    )


def _plain_title(title: str | None) -> str:
    # Feed titles are text, but some feeds put markup (or escaped markup) in them.
    title = title or ""
    if "<" in title or "&" in title:
        title = element_text(parse_fragment(title))
    return " ".join(title.split())


def _cleaned(html: str, base: str) -> HtmlElement:
    return parse_fragment(finish(parse_fragment(html), base))


def _first_paragraph(text: str) -> str | None:
    for block in text.split("\n\n"):
        block = " ".join(block.split())
        if len(block) >= 40 or (block and block.endswith((".", "!", "?"))):
            return _trim(block, EXCERPT_CHARS)
    return None


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"


def _strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def body_links(root: HtmlElement, page_url: str) -> list[str]:
    """Absolute link targets in document order, without fragments, duplicates or self-links."""
    page = _strip_fragment(page_url) if page_url else ""
    links: dict[str, None] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or ("://" not in href and not href.startswith(("mailto:", "tel:"))):
            continue
        target = _strip_fragment(href) if "#" in href else href
        if target and target != page:
            links.setdefault(target, None)
    return list(links)
