"""Confidence per segment through the pipeline, with real Apertium on the demo site: stored with
each segment and memory entry, the ``low_confidence`` QA flag per language, the auto-approve
minimum, the weakest-first queue and the JSON export."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from syndication import pipeline
from syndication.cli import main
from syndication.context import RunContext
from syndication.review import item_detail, list_items
from syndication.store import TMEntry, TranslatedSegment, Translation


def configure(ctx: RunContext, *, translation: str = "", review: str = "") -> Path:
    """Add settings to the demo config's [translation] and [review] sections."""
    ctx.close()
    config = ctx.settings.base_dir / "syndication.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("[translation]\n", "[translation]\n" + translation + "\n", 1)
    text = text.replace("[review]\n", "[review]\n" + review + "\n", 1)
    config.write_text(text, encoding="utf-8")
    return config


def segments(ctx: RunContext) -> list[tuple[Translation, TranslatedSegment]]:
    with ctx.store.session() as session:
        rows = session.execute(
            select(Translation, TranslatedSegment).join(
                TranslatedSegment, TranslatedSegment.translation_id == Translation.id
            )
        ).all()
        session.expunge_all()
    return [(t, s) for t, s in rows]


def codes(segment: TranslatedSegment) -> list[str]:
    return [flag["code"] for flag in segment.flags]


def test_confidence_is_stored_flagged_below_the_threshold_and_exported(make_ctx):
    config = configure(
        make_ctx(auto_approve=False),
        translation="low_confidence = 0.5\nlow_confidence_by_lang = { sv = 0.9 }",
    )
    ctx = RunContext.open(config)
    summary = pipeline.syndicate(ctx)
    assert summary.translations_failed == 0, summary.errors
    rows = segments(ctx)
    assert rows and all(s.confidence is not None and 0 <= s.confidence <= 1 for _, s in rows)
    weak = {
        lang: [s for t, s in rows if t.lang == lang and s.confidence < threshold]
        for lang, threshold in (("nb", 0.5), ("sv", 0.9))
    }
    assert weak["sv"], "the demo post has Swedish segments Apertium is unsure of"
    for translation, segment in rows:
        threshold = 0.9 if translation.lang == "sv" else 0.5
        assert ("low_confidence" in codes(segment)) == (segment.confidence < threshold), segment.target
    with ctx.store.session() as session:
        memory = list(session.scalars(select(TMEntry).where(TMEntry.engine == "apertium")))
        assert memory and all(entry.confidence is not None for entry in memory)
        # Weakest first: by the lowest confidence of an item's open segments.
        items = list_items(session, sort="weakest")
        lowest = [item.min_confidence for item in items]
        assert lowest == sorted(lowest) and None not in lowest
        detail = asdict(item_detail(session, items[0].translation_id))
    assert [seg["confidence"] for seg in detail["segments"]] == [
        s.confidence for t, s in sorted(rows, key=lambda r: r[1].id) if t.id == items[0].translation_id
    ]
    listed = CliRunner().invoke(
        main, ["review", "list", "--config", str(config), "--sort", "weakest", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    assert [item["min_confidence"] for item in json.loads(listed.output)] == lowest
    ctx.close()


def test_auto_approve_can_demand_a_minimum_confidence(make_ctx):
    # The flag is off, so only the confidence policy holds items back.
    config = configure(
        make_ctx(auto_approve=True),
        translation="low_confidence = 0.0",
        review="auto_approve_min_confidence = 0.95",
    )
    ctx = RunContext.open(config)
    summary = pipeline.syndicate(ctx)
    assert summary.translations_failed == 0, summary.errors
    held_for_confidence = 0
    by_item: dict[int, list[TranslatedSegment]] = {}
    status: dict[int, str] = {}
    for translation, segment in segments(ctx):
        by_item.setdefault(translation.id, []).append(segment)
        status[translation.id] = translation.status
    for tid, segs in by_item.items():
        flagged = any(s.flags for s in segs)
        sure = all(s.confidence is None or s.confidence >= 0.95 for s in segs)
        assert (status[tid] == "approved") == (not flagged and sure), (
            tid,
            [(s.target, s.confidence) for s in segs],
        )
        held_for_confidence += not flagged and not sure
    assert held_for_confidence, "some item was held back by the confidence policy alone"
    ctx.close()
