"""No-change publish benchmark: what a `syndicate publish` with nothing new costs as history grows.

A store is seeded directly (bulk inserts, not the pipeline) with N approved posts in `nb`, each with
a stored revision (skeleton + 3 segments) and its translation, already sent to two channels: an
outbox (everything) and a webhook partner that takes only the category "Netværk" (9 in 10 posts;
the other tenth is what its filter keeps out). Timestamps are a day old, as history is.

Per store and size, publishes run in-process, each with a fresh run context as the CLI builds one:
the first after seeding (it records the filter skips and marks the channels), then ROUNDS more with
nothing to do; the figure is their median. The ratio at 10,000 ÷ 100 approved items is the target
(≤ 1.5) on SQLite and on PostgreSQL (a private cluster from scripts/pg_up.sh).

    python -m bench nochange
    NOCHANGE_STORES=sqlite NOCHANGE_SIZES=100,2000 python -m bench nochange   # quicker
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = [int(n) for n in os.environ.get("NOCHANGE_SIZES", "100,10000").split(",")]
STORES = os.environ.get("NOCHANGE_STORES", "sqlite,postgresql").split(",")
ROUNDS = int(os.environ.get("NOCHANGE_ROUNDS", "7"))
SECRET_ENV = "SYNDICATION__CHANNELS__PARTNER__SECRET"

CONFIG = """
[store]
url = "{url}"
[translation]
targets = ["nb"]
[channels.outbox]
type = "outbox"
path = "{folder}/outbox"
[channels.partner]
type = "webhook"
url = "http://127.0.0.1:9/hook"
languages = ["nb"]
only_categories = ["Netværk"]
"""


def run() -> list[tuple[str, float, str]]:
    from bench.backfill_bench import _store

    results: list[tuple[str, float, str]] = []
    for kind in STORES:
        with _store(kind) as make_url:
            seconds: dict[int, float] = {}
            for size in SIZES:
                first, steady = _measure(make_url(), size)
                seconds[size] = steady
                results += [
                    (f"nochange_{kind}_{size}_first_publish", first, "s"),
                    (f"nochange_{kind}_{size}_publish", steady, "s"),
                ]
                print(
                    f"#   {size} items on {kind}: first {first:.3f} s, then {steady:.4f} s", file=sys.stderr
                )
            small, big = min(SIZES), max(SIZES)
            if big != small:
                results.append((f"nochange_{kind}_ratio_{big}_{small}", seconds[big] / seconds[small], "x"))
    return results


def _measure(url: str, size: int) -> tuple[float, float]:
    from syndication import pipeline
    from syndication.context import RunContext
    from syndication.settings import load_settings
    from syndication.store import open_store

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "syndication.toml"
        config.write_text(CONFIG.format(url=url, folder=folder), encoding="utf-8")
        settings = load_settings(config, environ={SECRET_ENV: "bench-secret"})
        store = open_store(settings.store_url())
        try:
            _seed(store, size)
            times = []
            for _ in range(ROUNDS + 1):
                ctx = RunContext(settings=settings, store=store)
                started = time.perf_counter()
                summary = pipeline.publish(ctx)
                times.append(time.perf_counter() - started)
                if summary.errors or summary.deliveries_sent:
                    raise RuntimeError(f"a no-change publish did something: {summary}")
        finally:
            store.dispose()
    return times[0], statistics.median(times[1:])


def _seed(
    store: Any,
    size: int,
    *,
    status: str = "approved",
    feed_id: int | None = None,
    delivered: bool = True,
) -> None:
    """N posts with a translation in ``status`` (approved and delivered by default), inserted in
    bulk (explicit ids; PostgreSQL sequences moved on). ``bench/nochange_run_bench.py`` and
    ``bench/queue_bench.py`` seed their stores with it too."""
    from sqlalchemy import insert, text

    from syndication.segments import split
    from syndication.store import (
        Delivery,
        Post,
        Revision,
        SegmentRow,
        TranslatedSegment,
        Translation,
        utcnow,
    )
    from syndication.translations.memory import source_hash

    body = "<p>Første afsnit om <a href='https://example.dk/a'>netværk</a>.</p><p>Andet afsnit.</p>"
    doc = split(body, title="Overskrift")
    day_ago = utcnow() - timedelta(days=1)
    sent = day_ago + timedelta(seconds=1)
    per = len(doc.segments)
    posts: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    translations: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    for i in range(1, size + 1):
        category = "Mad" if i % 10 == 0 else "Netværk"
        key = f"https://example.dk/?p={i}"
        digest = hashlib.sha256(f"{key}{body}".encode()).hexdigest()
        posts.append(
            {
                "id": i,
                "post_key": key,
                "url": f"https://example.dk/indlaeg-{i}/",
                "title": "Overskrift",
                "status": "extracted",
                "feed_id": feed_id,
                "current_revision_id": i,
                "created_at": day_ago,
                "updated_at": day_ago,
            }
        )
        revisions.append(
            {
                "id": i,
                "post_id": i,
                "content_hash": digest,
                "title": "Overskrift",
                "html": body,
                "text": body,
                "skeleton": doc.skeleton,
                "categories": [category],
                "tags": [],
                "created_at": day_ago,
            }
        )
        translations.append(
            {
                "id": i,
                "revision_id": i,
                "post_id": i,
                "lang": "nb",
                "status": status,
                "engine": "bench",
                "decided_by": "bench" if status in ("approved", "rejected") else None,
                "decided_at": day_ago if status in ("approved", "rejected") else None,
                "created_at": day_ago + timedelta(seconds=i),
                "updated_at": day_ago,
            }
        )
        for position, segment in enumerate(doc.segments):
            segment_id = (i - 1) * per + position + 1
            segments.append(
                {
                    "id": segment_id,
                    "revision_id": i,
                    "position": position,
                    "key": segment.key,
                    "kind": segment.kind,
                    "source": segment.source,
                    "source_hash": source_hash(segment.source),
                    "markup": dict(segment.markup),
                }
            )
            targets.append(
                {
                    "id": segment_id,
                    "translation_id": i,
                    "segment_id": segment_id,
                    "key": segment.key,
                    "target": segment.source,
                    "origin": "machine",
                    "flags": [],
                    "state": "approved" if status == "approved" else "open",
                    "updated_at": day_ago,
                }
            )
        channels = ("outbox", "partner") if category == "Netværk" else ("outbox",)
        for channel in channels if delivered else ():
            ledger.append(
                {
                    "id": len(ledger) + 1,
                    "key": f"{key}|{digest[:32]}|nb|{channel}||publish",
                    "post_id": i,
                    "translation_id": i,
                    "revision": digest[:32],
                    "lang": "nb",
                    "channel": channel,
                    "target": "",
                    "action": "publish",
                    "state": "sent",
                    "attempts": 1,
                    "sent_at": sent,
                    "receipt": {"key": f"{key}|{channel}", "meta": {}},
                    "created_at": sent,
                    "updated_at": sent,
                }
            )
    with store.session() as session:
        for model, rows in (
            (Post, posts),
            (Revision, revisions),
            (Translation, translations),
            (SegmentRow, segments),
            (TranslatedSegment, targets),
            (Delivery, ledger),
        ):
            for start in range(0, len(rows), 5000):
                session.execute(insert(model), rows[start : start + 5000])
        if session.get_bind().dialect.name == "postgresql":
            for table in (
                "posts",
                "revisions",
                "translations",
                "segments",
                "translated_segments",
                "deliveries",
            ):
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
