"""The extract stage's bookkeeping: turn queued posts into stored revisions and segments, and pull
in the articles they link to."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from syndication.errors import ExtractionError, RunBudgetSpentError, SyndicationError
from syndication.models import Article, Segment
from syndication.store import Feed, Post, PostLink, Revision, SegmentRow
from syndication.translations.memory import source_hash

if TYPE_CHECKING:
    from syndication.context import RunContext

log = logging.getLogger(__name__)


def fetch_article(ctx: RunContext, url: str) -> Article:
    """Fetch a page politely (robots.txt, size cap, address guard) and extract its article."""
    from syndication.fetch.encoding import decode_html
    from syndication.posts import extract_article

    fetcher = ctx.fetcher()
    result = fetcher.get_page(url)
    ctx.summary.pages_fetched += 1
    html = decode_html(result.content, result.encoding)
    article = extract_article(html, result.final_url)
    if not article.text.strip():
        raise ExtractionError("no article text found on the page", url=url)
    return article


def article_for(ctx: RunContext, session: Session, post: Post) -> Article:
    """The feed's full text (``content:encoded``) when it has it, else the page."""
    from syndication.feeds.ingest import entry_from_json
    from syndication.posts import article_from_entry

    feed = session.get(Feed, post.feed_id) if post.feed_id is not None else None
    config = next((f for f in ctx.settings.feeds if feed is not None and f.url == feed.url), None)
    full_page = config.fetch_full_page if config else False
    if post.entry and not full_page:
        entry = entry_from_json(post.entry)
        if entry.content_html and entry.content_html.strip():
            article = article_from_entry(entry, site_name=post.site_name)
            if article.text.strip():
                return article
    return fetch_article(ctx, post.url)


def add_segments(session: Session, revision: Revision, segments: Sequence[Segment]) -> None:
    """The translation units of a stored revision, in document order."""
    for position, segment in enumerate(segments):
        session.add(
            SegmentRow(
                revision_id=revision.id,
                position=position,
                key=segment.key,
                kind=segment.kind,
                source=segment.source,
                source_hash=source_hash(segment.source),
                markup=dict(segment.markup),
            )
        )


def store_revision(session: Session, post: Post, article: Article) -> tuple[Revision, bool]:
    """Store the article as the post's current revision; ``False`` when nothing changed."""
    from syndication.posts import content_hash
    from syndication.segments import split

    digest = content_hash(article)
    revision = session.scalars(
        select(Revision).where(Revision.post_id == post.id, Revision.content_hash == digest)
    ).one_or_none()
    if revision is not None:
        changed = post.current_revision_id != revision.id
        post.current_revision_id = revision.id
        return revision, changed
    doc = split(article.html, title=article.title, excerpt=article.excerpt or None)
    image = article.featured_image
    revision = Revision(
        post_id=post.id,
        content_hash=digest,
        title=article.title,
        html=article.html,
        text=article.text,
        excerpt=article.excerpt,
        author=article.author,
        published_at=article.published,
        modified_at=article.updated,
        lang=article.lang,
        canonical=article.canonical,
        categories=list(article.categories),
        tags=list(article.tags),
        featured_image=dataclasses.asdict(image) if image else None,
        skeleton=doc.skeleton,
    )
    session.add(revision)
    session.flush()
    add_segments(session, revision, doc.segments)
    post.current_revision_id = revision.id
    if article.site_name and not post.site_name:
        post.site_name = article.site_name
    return revision, True


def _fail(post: Post, exc: BaseException) -> None:
    post.status = "failed"
    post.last_error = str(exc)
    post.error_kind = exc.kind if isinstance(exc, SyndicationError) else "terminal"


def extract_posts(ctx: RunContext, *, post_ids: list[int] | None = None, force: bool = False) -> list[int]:
    """Extract every queued post (new, edited, or failed transiently), or only those of
    ``post_ids`` that are queued; returns ids that got a new revision. Each post is its own
    transaction: one bad page never loses the others.

    ``force=True`` (with ``post_ids``) extracts the named posts whatever their status says — already
    extracted, failed for good, baselined — except retracted ones; an unchanged article keeps its
    revision (nothing new to translate), a changed one gets a new revision.
    """
    queued_status = or_(Post.status == "new", (Post.status == "failed") & (Post.error_kind == "transient"))
    with ctx.store.session() as session:
        query = select(Post.id).where(queued_status)
        if post_ids is not None:
            query = select(Post.id).where(Post.id.in_(list(post_ids)))
            query = query.where(Post.status != "retracted") if force else query.where(queued_status)
        queued = list(session.scalars(query.order_by(Post.id)))
    changed: list[int] = []
    for index, post_id in enumerate(queued):
        if ctx.budget.expired():  # the run's time is up: these stay queued for the next run
            ctx.summary.posts_deferred += len(queued) - index
            break
        article: Article | None = None
        with ctx.store.session() as session:
            post = session.get(Post, post_id)
            if post is None:
                continue
            try:
                article = article_for(ctx, session, post)
                _, is_new = store_revision(session, post, article)
                post.status, post.last_error, post.error_kind = "extracted", None, None
                if article.title:
                    post.title = article.title
                if is_new:
                    ctx.summary.revisions_new += 1
                    changed.append(post.id)
                log.info(
                    "extracted: %s", "new revision" if is_new else "unchanged", extra={"post": post.post_key}
                )
            except RunBudgetSpentError:
                ctx.summary.posts_deferred += 1  # still queued, as it was
                article = None
            except (SyndicationError, OSError, ValueError) as exc:
                _fail(post, exc)
                ctx.summary.extraction_failed += 1
                ctx.summary.error("extract", exc, post=post.post_key)
                article = None
            depth = post.depth
        if article is not None and depth < ctx.settings.links.depth:
            changed += follow_links(ctx, post_id, article, depth=depth + 1)
    return changed


def _site_url(post_url: str) -> str:
    parts = urlsplit(post_url)
    return f"{parts.scheme}://{parts.netloc}/"


def follow_links(ctx: RunContext, source_id: int, article: Article, *, depth: int) -> list[int]:
    """Fetch and store the articles a post links to (same site or allow-listed), with attribution."""
    from syndication.posts import linked_articles

    with ctx.store.session() as session:
        source = session.get(Post, source_id)
        assert source is not None
        source_url, source_lang = source.url, source.source_lang
    urls = linked_articles(
        article,
        site_url=_site_url(source_url),
        allowed_hosts=ctx.settings.links.allowed_hosts,
        limit=ctx.settings.links.max_per_post,
    )
    changed: list[int] = []
    for url in urls:
        with ctx.store.session() as session:
            target = session.scalars(
                select(Post).where(or_(Post.post_key == url, Post.url == url)).order_by(Post.id)
            ).first()
            if target is None:
                target = Post(
                    post_key=url, kind="linked", url=url, source_lang=source_lang, status="new", depth=depth
                )
                session.add(target)
                session.flush()
            if target.id == source_id:
                continue
            link = session.get(PostLink, (source_id, target.id))
            if link is None:
                session.add(PostLink(source_post_id=source_id, target_post_id=target.id))
                ctx.summary.linked_articles += 1
            # Feed posts are extracted by the main loop (with their own link depth), never twice.
            needs_fetch = target.kind == "linked" and (
                target.status == "new" or (target.status == "failed" and target.error_kind == "transient")
            )
            if not needs_fetch:
                continue
            if ctx.budget.expired():
                ctx.summary.posts_deferred += 1  # stays new: the next run's extract takes it
                continue
            try:
                linked = fetch_article(ctx, url)
                _, is_new = store_revision(session, target, linked)
                target.title = linked.title or target.title
                target.status, target.last_error, target.error_kind = "extracted", None, None
                if is_new:
                    ctx.summary.revisions_new += 1
                    changed.append(target.id)
            except RunBudgetSpentError:
                ctx.summary.posts_deferred += 1
            except (SyndicationError, OSError, ValueError) as exc:
                _fail(target, exc)
                ctx.summary.extraction_failed += 1
                ctx.summary.error("links", exc, post=url)
    return changed


def post_for_url(ctx: RunContext, url: str) -> tuple[int, bool]:
    """The post a URL names (by its key, GUID or URL), created and queued when it is not known yet;
    returns ``(post id, created)``. A post of a configured feed's site is attached to that feed."""
    from syndication.feeds.ingest import feed_row
    from syndication.posts.links import normalize_url

    normalized = normalize_url(url) if len(url) <= 2000 else None
    if normalized is None:
        raise ExtractionError(f"{url[:200]!r} is not an absolute http(s) URL of a post", url=url[:200])
    candidates = {url.strip(), normalized, normalized.rstrip("/"), normalized.rstrip("/") + "/"}
    with ctx.store.session() as session:
        post = session.scalars(
            select(Post).where(or_(Post.post_key.in_(candidates), Post.url.in_(candidates))).order_by(Post.id)
        ).first()
        if post is not None:
            if post.status == "retracted":
                raise ExtractionError(
                    "the post was retracted; it is not syndicated again", post=post.post_key, url=url
                )
            return post.id, False
        host = urlsplit(normalized).hostname
        config = next((f for f in ctx.settings.feeds if urlsplit(f.url).hostname == host), None)
        feed = feed_row(session, config) if config is not None else None
        post = Post(
            post_key=normalized,
            feed_id=feed.id if feed is not None else None,
            kind="post",
            url=normalized,
            source_lang=config.source_lang if config is not None else ctx.settings.translation.source_lang,
            status="new",
            site_name=feed.title if feed is not None else None,
        )
        session.add(post)
        session.flush()
        return post.id, True
