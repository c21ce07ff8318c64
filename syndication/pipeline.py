"""The pipeline as plain functions; Prefect flows (``flows/``) are thin wrappers around these.

    syndicate     = poll → extract (+ linked articles) → split → translate → queue for review → deliver
    syndicate_url = the same for one post named by URL (re-extracted even when seen; ``force``
                    re-translates it with fresh engine output)
    publish       = deliver everything approved
    redeliver     = one approved item to one channel again
    backfill      = older posts through ``?paged=N`` or a date range, then extract → translate →
                    deliver in chunks, with a progress callback

Each stage reads its input from the store and writes its output to the store before the next one
starts, so a crash anywhere loses nothing: the next run picks up where this one stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from syndication.context import RunContext
from syndication.summary import RunSummary


@dataclass(frozen=True)
class Progress:
    """How far a long run is: ``pages`` of the feed walked, then ``posts`` processed."""

    phase: Literal["pages", "posts"]
    done: int
    total: int | None
    """``None`` while unknown (a date-range walk does not know how many pages it will read)."""

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


ProgressCallback = Callable[[Progress], None]


def poll(ctx: RunContext, *, feed: str | None = None) -> None:
    from syndication.feeds.ingest import poll_feeds

    poll_feeds(ctx, only=feed)


def extract(ctx: RunContext, *, post_ids: Sequence[int] | None = None, force: bool = False) -> list[int]:
    """Extract queued posts (of ``post_ids``; ``force``: whatever their status); returns the ids
    that got a new revision, linked articles included."""
    from syndication.posts.ingest import extract_posts

    return extract_posts(ctx, post_ids=list(post_ids) if post_ids is not None else None, force=force)


def translate(
    ctx: RunContext,
    *,
    post_ids: Sequence[int] | None = None,
    languages: Sequence[str] | None = None,
    force: bool = False,
) -> None:
    from syndication.translations.stage import translate_pending

    translate_pending(ctx, post_ids=post_ids, languages=languages, force=force)
    count_awaiting(ctx)


def count_awaiting(ctx: RunContext) -> int:
    from syndication.translations.stage import count_awaiting_review

    with ctx.store.session() as session:
        ctx.summary.awaiting_review = count_awaiting_review(session)
    return ctx.summary.awaiting_review


def deliver(
    ctx: RunContext,
    *,
    post_ids: Sequence[int] | None = None,
    channel: str | None = None,
    lang: str | None = None,
) -> None:
    from syndication.deliveries.stage import deliver_approved

    deliver_approved(ctx, post_ids=post_ids, channel=channel, lang=lang)


def syndicate(
    ctx: RunContext,
    *,
    feed: str | None = None,
    deliver_approved: bool = True,
    languages: Sequence[str] | None = None,
) -> RunSummary:
    """One full cycle: poll, extract, translate, queue for review, then deliver what is approved."""
    ctx.summary.dry_run = ctx.dry_run
    poll(ctx, feed=feed)
    extract(ctx)
    translate(ctx, languages=languages)
    if deliver_approved:
        deliver(ctx)
    return ctx.summary


def process_posts(
    ctx: RunContext,
    post_ids: Sequence[int],
    *,
    languages: Sequence[str] | None = None,
    force: bool = False,
    deliver_approved: bool = True,
) -> list[int]:
    """Extract → translate → deliver for these posts only (and the articles they link to); returns
    the ids of linked articles that got a new revision. Without ``force`` only posts still queued are
    extracted; with it every named post is, and its translations are redone (see ``translate``)."""
    ids = list(post_ids)
    changed = extract(ctx, post_ids=ids, force=force)
    own = set(ids)
    linked = [i for i in changed if i not in own]
    translate(ctx, post_ids=ids, languages=languages, force=force)
    if linked:
        translate(ctx, post_ids=linked, languages=languages)
    if deliver_approved:
        deliver(ctx, post_ids=ids + linked)
    return linked


def syndicate_url(
    ctx: RunContext,
    url: str,
    *,
    force: bool = False,
    languages: Sequence[str] | None = None,
    deliver_approved: bool = True,
) -> RunSummary:
    """One post by URL (or GUID): added when unknown, re-extracted even when seen (a changed page
    gets a new revision), translated where translations are missing, delivered where approved.
    ``force`` also re-translates it with fresh engine output (memory bypassed, editors' entries
    still win; decided items stay decided)."""
    from syndication.posts.ingest import post_for_url

    ctx.summary.dry_run = ctx.dry_run
    post_id, _ = post_for_url(ctx, url)
    changed = extract(ctx, post_ids=[post_id], force=True)
    linked = [i for i in changed if i != post_id]
    translate(ctx, post_ids=[post_id], languages=languages, force=force)
    if linked:
        translate(ctx, post_ids=linked, languages=languages)
    if deliver_approved:
        deliver(ctx, post_ids=[post_id, *linked])
    return ctx.summary


def backfill_walk(
    ctx: RunContext,
    *,
    feed: str | None = None,
    pages: int | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    progress: ProgressCallback | None = None,
) -> list[int]:
    """Read older feed pages and store their entries; returns the ids of posts queued by it."""
    from syndication.feeds.backfill import FeedPage
    from syndication.feeds.ingest import backfill_feeds

    walked = 0

    def on_page(page: FeedPage) -> None:
        nonlocal walked
        walked += 1
        if progress is not None:
            progress(Progress("pages", walked, pages))

    if pages is None and since is None:
        from syndication.errors import ConfigError

        raise ConfigError("a backfill needs a page count (pages) or a start date (since)")
    return backfill_feeds(ctx, feed=feed, pages=pages, since=since, until=until, on_page=on_page)


def chunked(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), max(1, size)):
        yield list(ids[start : start + size])


def backfill(
    ctx: RunContext,
    *,
    feed: str | None = None,
    pages: int | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    languages: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    chunk: int | None = None,
    deliver_approved: bool = True,
) -> RunSummary:
    """Older posts: ``pages`` feed pages (WordPress ``?paged=N``) or the posts published between
    ``since`` and ``until`` (dates are whole days, UTC), then extract → translate → deliver in
    chunks of ``chunk`` posts (``[orchestration] backfill_chunk``) so memory stays flat however
    far back it goes. Running it again skips what is already stored."""
    ctx.summary.dry_run = ctx.dry_run
    ids = backfill_walk(ctx, feed=feed, pages=pages, since=since, until=until, progress=progress)
    size = chunk or ctx.settings.orchestration.backfill_chunk
    if progress is not None:
        progress(Progress("posts", 0, len(ids)))
    done = 0
    for batch in chunked(ids, size):
        process_posts(ctx, batch, languages=languages, deliver_approved=deliver_approved)
        done += len(batch)
        if progress is not None:
            progress(Progress("posts", done, len(ids)))
    count_awaiting(ctx)
    return ctx.summary


def publish(
    ctx: RunContext, *, channel: str | None = None, post_ids: Sequence[int] | None = None
) -> RunSummary:
    ctx.summary.dry_run = ctx.dry_run
    deliver(ctx, channel=channel, post_ids=post_ids)
    count_awaiting(ctx)
    return ctx.summary


def redeliver(ctx: RunContext, post: str, lang: str, channel: str) -> RunSummary:
    """One approved item (post by id, GUID or URL × language) to one channel again, even though it
    was sent (``syndication.deliveries.stage.redeliver``)."""
    from syndication.deliveries.stage import redeliver as redeliver_item
    from syndication.review import resolve_post

    ctx.summary.dry_run = ctx.dry_run
    with ctx.store.session() as session:
        post_id = resolve_post(session, post).id
    redeliver_item(ctx, post_id, lang, channel)
    return ctx.summary


STAGES: dict[str, Callable[..., object]] = {
    "poll": poll,
    "extract": extract,
    "translate": translate,
    "deliver": deliver,
    "process": process_posts,
    "syndicate_url": syndicate_url,
    "backfill_walk": backfill_walk,
    "redeliver": redeliver,
    "count_awaiting": count_awaiting,
}


def run_stage(
    stage: str,
    config: str | None = None,
    *,
    dry_run: bool = False,
    started_at: float | None = None,
    **options: object,
) -> dict[str, object]:
    """Open a context, run one stage, close: the unit a Prefect task wraps (one task per stage,
    never per segment). Returns the stage's summary as plain data; a stage that returns something
    else as well (``backfill_walk``'s post ids) has it under ``"result"``. ``started_at``
    (``time.time()`` when the flow began) makes the stages of one run share one time budget."""
    ctx = RunContext.open(config, dry_run=dry_run, started_at=started_at)
    try:
        ctx.summary.dry_run = dry_run
        value = STAGES[stage](ctx, **options)
        data = ctx.summary.as_dict()
        if value is not None and not isinstance(value, RunSummary):
            data["result"] = value
        return data
    finally:
        ctx.close()
