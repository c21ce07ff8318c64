"""The pipeline as plain functions; Prefect flows (``flows/``) are thin wrappers around these.

    syndicate = poll → extract (+ linked articles) → split → translate → queue for review → deliver
    publish   = deliver everything approved
    backfill  = older posts through ``?paged=N``, then the same as syndicate

Each stage reads its input from the store and writes its output to the store before the next one
starts, so a crash anywhere loses nothing: the next run picks up where this one stopped.
"""

from __future__ import annotations

from collections.abc import Sequence

from syndication.context import RunContext
from syndication.summary import RunSummary


def poll(ctx: RunContext, *, feed: str | None = None) -> None:
    from syndication.feeds.ingest import poll_feeds

    poll_feeds(ctx, only=feed)


def extract(ctx: RunContext, *, post_ids: Sequence[int] | None = None) -> None:
    from syndication.posts.ingest import extract_posts

    extract_posts(ctx, post_ids=list(post_ids) if post_ids is not None else None)


def translate(ctx: RunContext, *, post_ids: Sequence[int] | None = None) -> None:
    from syndication.translations.stage import count_awaiting_review, translate_pending

    translate_pending(ctx, post_ids=post_ids)
    with ctx.store.session() as session:
        ctx.summary.awaiting_review = count_awaiting_review(session)


def deliver(ctx: RunContext, *, post_ids: Sequence[int] | None = None, channel: str | None = None) -> None:
    from syndication.deliveries.stage import deliver_approved

    deliver_approved(ctx, post_ids=post_ids, channel=channel)


def syndicate(ctx: RunContext, *, feed: str | None = None, deliver_approved: bool = True) -> RunSummary:
    """One full cycle: poll, extract, translate, queue for review, then deliver what is approved."""
    ctx.summary.dry_run = ctx.dry_run
    poll(ctx, feed=feed)
    extract(ctx)
    translate(ctx)
    if deliver_approved:
        deliver(ctx)
    return ctx.summary


def publish(ctx: RunContext, *, channel: str | None = None) -> RunSummary:
    ctx.summary.dry_run = ctx.dry_run
    deliver(ctx, channel=channel)
    from syndication.translations.stage import count_awaiting_review

    with ctx.store.session() as session:
        ctx.summary.awaiting_review = count_awaiting_review(session)
    return ctx.summary


STAGES = {
    "poll": poll,
    "extract": extract,
    "translate": translate,
    "deliver": deliver,
}


def run_stage(
    stage: str, config: str | None = None, *, dry_run: bool = False, **options: object
) -> dict[str, object]:
    """Open a context, run one stage, close: the unit a Prefect task wraps (one task per stage,
    never per segment). Returns the stage's summary as plain data."""
    ctx = RunContext.open(config, dry_run=dry_run)
    try:
        ctx.summary.dry_run = dry_run
        STAGES[stage](ctx, **options)  # type: ignore[operator]
        return ctx.summary.as_dict()
    finally:
        ctx.close()
