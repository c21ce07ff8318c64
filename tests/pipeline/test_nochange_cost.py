"""A run with nothing new reads none of the history (the demo blog on loopback, real Apertium,
the real store): poll answers 304, and the translate stage looks only at posts changed since its
per-language mark, so what it costs does not grow with the approved items already stored."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from syndication import pipeline
from syndication.store import (
    Delivery,
    Post,
    Revision,
    SegmentRow,
    TranslatedSegment,
    TranslateMark,
    Translation,
    utcnow,
)
from syndication.translations import stage

HISTORY = (Post, Revision, SegmentRow, Translation, TranslatedSegment, Delivery)


@pytest.fixture
def loaded() -> Iterator[Counter[str]]:
    """Rows of the history the ORM loaded, per table."""
    counts: Counter[str] = Counter()

    def on_load(target: object, _context: object) -> None:
        counts[type(target).__name__] += 1

    for model in HISTORY:
        event.listen(model, "load", on_load)
    yield counts
    for model in HISTORY:
        event.remove(model, "load", on_load)


def age_history(ctx, days: int = 1) -> None:
    """Everything stored so far happened ``days`` ago (the marks stay where the runs set them)."""
    then = utcnow() - timedelta(days=days)
    with ctx.store.session() as session:
        session.execute(update(Post).values(updated_at=then))
        session.execute(update(Translation).values(updated_at=then, created_at=then))
        session.execute(update(Delivery).values(updated_at=then))


def count(ctx, *where) -> int:
    with ctx.store.session() as session:
        return session.scalar(select(func.count(Translation.id)).where(*where)) or 0


def test_a_run_with_nothing_new_reads_none_of_the_history(make_ctx, site, loaded):
    first = pipeline.syndicate(make_ctx())
    assert first.translations_new and first.deliveries_sent and not first.errors
    ctx = make_ctx()
    age_history(ctx)
    pipeline.syndicate(make_ctx())  # the channels' marks are set once more on the aged history

    loaded.clear()
    summary = pipeline.syndicate(make_ctx())
    assert summary.feeds_not_modified == 1 and not summary.errors
    assert summary.translations_new == summary.deliveries_sent == summary.pages_fetched == 0
    assert loaded == {}, "no post, revision, translation or ledger row of the history is read"
    assert summary.awaiting_review == 0


def test_a_language_added_later_is_translated_for_the_whole_history(make_ctx, site):
    pipeline.syndicate(make_ctx(), languages=["nb"])
    ctx = make_ctx()
    nb = count(ctx, Translation.lang == "nb")
    assert nb > 0 and count(ctx, Translation.lang == "sv") == 0
    with ctx.store.session() as session:
        assert [m.lang for m in session.scalars(select(TranslateMark))] == ["nb"]
    age_history(ctx, days=30)

    summary = pipeline.syndicate(make_ctx())
    assert count(ctx, Translation.lang == "sv") == nb, "sv has no mark yet: every post is looked at"
    assert summary.translations_new == nb and not summary.errors


def test_a_translation_that_failed_long_ago_is_tried_again(make_ctx, site):
    pipeline.syndicate(make_ctx())
    ctx = make_ctx()
    age_history(ctx, days=3)
    with ctx.store.session() as session:  # an engine outage three days ago left one item failed
        failed = session.scalars(select(Translation).where(Translation.lang == "sv")).first()
        assert failed is not None
        failed.status, failed.error = "failed", "apertium was not installed"
        session.flush()
        session.execute(
            update(Translation)
            .where(Translation.id == failed.id)
            .values(updated_at=utcnow() - timedelta(days=3))
        )
        failed_id = failed.id

    summary = pipeline.syndicate(make_ctx())
    with ctx.store.session() as session:
        again = session.get(Translation, failed_id)
        assert again is not None and again.status in ("machine_translated", "approved")
        assert again.error is None
    assert summary.translations_new == 1 and not summary.errors


def test_after_a_big_change_the_translate_stage_looks_at_everything(make_ctx, site, loaded, monkeypatch):
    pipeline.syndicate(make_ctx())
    ctx = make_ctx()
    age_history(ctx)
    pipeline.syndicate(make_ctx())
    with ctx.store.session() as session:  # one post touched now: a candidate past the limit below
        session.execute(update(Post).where(Post.id == 1).values(updated_at=utcnow()))
    monkeypatch.setattr(stage, "MAX_CANDIDATES", 0)

    loaded.clear()
    summary = pipeline.syndicate(make_ctx())
    assert loaded["Translation"] > 0, "more candidates than the limit: every post is looked at"
    assert summary.translations_new == 0 and not summary.errors
