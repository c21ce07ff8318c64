"""The extract stage's bookkeeping: turn queued posts into stored revisions and segments, and pull
in the articles they link to."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from syndication.errors import ExtractionError, RunBudgetSpentError, SyndicationError, TransientFetchError
from syndication.models import Article, Segment
from syndication.page_retries import (
    HostDeferrals,
    PageDeferred,
    is_queued,
    is_recheck_due,
    queued_clause,
    recheck_clause,
    record_deferral,
    record_failure,
    record_success,
)
from syndication.store import Feed, Post, PostLink, Revision, SegmentRow, utcnow
from syndication.translations.memory import source_hash

if TYPE_CHECKING:
    from syndication.context import RunContext
    from syndication.fetch.result import FetchResult

log = logging.getLogger(__name__)


def fetch_article(ctx: RunContext, url: str) -> Article:
    """Fetch a page politely (robots.txt, size cap, address guard) and extract its article."""
    article, _ = fetch_page(ctx, url)
    assert article is not None  # no validators sent: never "not modified"
    return article


def fetch_page(
    ctx: RunContext,
    url: str,
    *,
    hosts: HostDeferrals | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> tuple[Article | None, FetchResult]:
    """Fetch a page (conditionally when validators are given) and extract its article; ``None``
    for an unchanged page (304). A host that said "later" earlier in the run (``hosts``) is not
    asked: ``PageDeferred``; one that says it now is remembered in ``hosts`` for the rest."""
    from syndication.fetch.encoding import decode_html
    from syndication.posts import extract_article

    if hosts is not None:
        hosts.check(url)
    fetcher = ctx.fetcher()
    try:
        result = fetcher.get_page(url, etag=etag, last_modified=last_modified)
    except TransientFetchError as exc:
        if hosts is not None:
            hosts.note(url, exc)
        raise
    ctx.summary.pages_fetched += 1
    if result.not_modified:
        return None, result
    html = decode_html(result.content, result.encoding)
    article = extract_article(html, result.final_url)
    if not article.text.strip():
        raise ExtractionError("no article text found on the page", url=url)
    return article, result


def article_for(
    ctx: RunContext,
    session: Session,
    post: Post,
    *,
    hosts: HostDeferrals | None = None,
    now: datetime | None = None,
    conditional: bool = False,
) -> Article | None:
    """The feed's full text (``content:encoded``) when it has it, else the page; ``None`` when
    ``conditional`` (a re-check with the stored validators) and the page did not change. A fetched
    page's validators and time are kept on the post for its next re-check."""
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
    page, result = fetch_page(
        ctx,
        post.url,
        hosts=hosts,
        etag=post.etag if conditional else None,
        last_modified=post.last_modified if conditional else None,
    )
    post.checked_at = now or utcnow()
    post.etag, post.last_modified = result.etag, result.last_modified
    return page


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


def extraction_record(article: Article) -> dict[str, Any] | None:
    """The revision's ``extraction`` column: what the editor must know the copy lacks."""
    record: dict[str, Any] = {}
    if article.removed:
        record["removed"] = [dataclasses.asdict(r) for r in article.removed]
    if article.incomplete:
        record["incomplete"] = dict(article.incomplete)
    if article.flattened_depth:
        record["flattened_depth"] = article.flattened_depth
    return record or None


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
        extraction=extraction_record(article),
    )
    session.add(revision)
    session.flush()
    add_segments(session, revision, doc.segments)
    post.current_revision_id = revision.id
    if article.site_name and not post.site_name:
        post.site_name = article.site_name
    return revision, True


def extract_posts(
    ctx: RunContext,
    *,
    post_ids: list[int] | None = None,
    force: bool = False,
    now: datetime | None = None,
) -> list[int]:
    """Extract every queued post (new, or waiting for a retry that is due: see
    ``syndication.page_retries``) and re-check the linked articles due for it, or only those of
    ``post_ids`` that are queued; returns ids that got a new revision. Each post is its own
    transaction: one bad page never loses the others. ``now`` is the clock (tests move it).

    ``force=True`` (with ``post_ids``) extracts the named posts whatever their status says — already
    extracted, waiting, failed for good, baselined — except retracted ones; an unchanged article
    keeps its revision (nothing new to translate), a changed one gets a new revision.
    """
    now = now or utcnow()
    pages = ctx.settings.pages
    hosts = HostDeferrals(now=now, max_defer=pages.max_defer)
    with ctx.store.session() as session:
        if post_ids is None:
            query = select(Post.id).where(
                or_(queued_clause(now), recheck_clause(now, pages.recheck_interval))
            )
        else:
            query = select(Post.id).where(Post.id.in_(list(post_ids)))
            query = query.where(Post.status != "retracted") if force else query.where(queued_clause(now))
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
            recheck = not force and is_recheck_due(post, now, pages.recheck_interval)
            if not (force or recheck or is_queued(post, now)):
                continue  # taken up as a linked article of a post earlier in this run
            article, is_new = _attempt(ctx, session, post, "extract", hosts=hosts, now=now, recheck=recheck)
            if is_new:
                changed.append(post.id)
            depth = post.depth
        if article is not None and depth < ctx.settings.links.depth:
            changed += follow_links(ctx, post_id, article, depth=depth + 1, hosts=hosts, now=now)
    return changed


def _attempt(
    ctx: RunContext,
    session: Session,
    post: Post,
    stage: str,
    *,
    hosts: HostDeferrals,
    now: datetime,
    recheck: bool = False,
) -> tuple[Article | None, bool]:
    """One try at a post's article: stored as its revision, or the failure recorded for a later
    try. Returns the article (None when not modified, deferred or failed) and whether it made a new
    revision."""
    try:
        article = article_for(ctx, session, post, hosts=hosts, now=now, conditional=recheck)
        if recheck:
            ctx.summary.pages_rechecked += 1
        if article is None:
            log.info("re-checked: not modified", extra={"post": post.post_key})
            return None, False
        _, is_new = store_revision(session, post, article)
        record_success(post)
        if article.title:
            post.title = article.title
        if is_new:
            ctx.summary.revisions_new += 1
        log.info(
            "%s: %s",
            "re-checked" if recheck else "extracted",
            "new revision" if is_new else "unchanged",
            extra={"post": post.post_key},
        )
        return article, is_new
    except RunBudgetSpentError:
        ctx.summary.posts_deferred += 1  # the run's time ran out mid-fetch: still queued, as it was
    except PageDeferred as deferred:
        record_deferral(post, deferred)
        ctx.summary.pages_deferred += 1
        log.info("deferred: %s", deferred.reason, extra={"post": post.post_key})
    except (SyndicationError, OSError, ValueError) as exc:
        record_failure(post, exc, now=now, settings=ctx.settings.pages)
        ctx.summary.extraction_failed += 1
        ctx.summary.error(stage, exc, post=post.post_key if stage == "extract" else post.url)
    return None, False


def _site_url(post_url: str) -> str:
    parts = urlsplit(post_url)
    return f"{parts.scheme}://{parts.netloc}/"


def follow_links(
    ctx: RunContext,
    source_id: int,
    article: Article,
    *,
    depth: int,
    hosts: HostDeferrals | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Fetch and store the articles a post links to (same site or allow-listed), with attribution."""
    from syndication.posts import linked_articles

    now = now or utcnow()
    hosts = hosts or HostDeferrals(now=now, max_defer=ctx.settings.pages.max_defer)

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
            if target.kind != "linked" or not is_queued(target, now):
                continue
            if ctx.budget.expired():
                ctx.summary.posts_deferred += 1  # stays new: the next run's extract takes it
                continue
            _, is_new = _attempt(ctx, session, target, "links", hosts=hosts, now=now)
            if is_new:
                changed.append(target.id)
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
