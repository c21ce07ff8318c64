"""Edit-distance replay: how much an editor still has to change in each post, without and with the
corrections learned from the posts before it (issue 11, "Learned corrections").

``bench/data/edit_replay.json`` holds 11 Danish posts in publication order (the two demo posts,
then nine the project wrote in the same blog's voice) with, per segment, the Norwegian Bokmål text
an editor finally published, post-editing Apertium's output (see that file's ``about``). The replay
runs the real pipeline on a temporary SQLite store, post after post:

1. the post is stored and translated by the real Apertium engine (``translate_pending``);
2. per segment, the character edit distance (Levenshtein, like TER's character variant: insertions,
   deletions and substitutions of characters, whitespace runs counted as one space) between the
   machine text and the editor's final text is taken **without** learned corrections, and **with**
   them: every suggestion the review page shows for the segment applied (what an editor gets from
   pressing Alt+C on each chip), and, separately, only those applied before review at
   ``auto_apply_corrections = 2``;
3. the editor's final text is saved through the review action (``edit_segment``), which learns.

Printed per post: the distances summed over its segments and as a share of the final text's
characters. The with-corrections share must fall as posts accumulate.

    python -m bench edit_replay
"""

from __future__ import annotations

import html
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

DATA = Path(__file__).parent / "data" / "edit_replay.json"
AUTO_AFTER = 2
CONFIG = """
[store]
url = "sqlite:///{folder}/replay.db"
[translation]
source_lang = "da"
targets = ["nb"]
default_engine = "apertium"
[engines.apertium]
type = "apertium"
[review]
auto_apply_corrections = {auto}
[channels.outbox]
type = "outbox"
path = "{folder}/outbox"
"""


def _flat(text: str) -> str:
    return " ".join(text.split())


def distance(a: str, b: str) -> int:
    return int(Levenshtein.distance(_flat(a), _flat(b)))


def _store_post(ctx: Any, number: int, post: dict[str, Any]) -> int:
    from tests.web.support import store_post

    body = "".join(f"<p>{html.escape(s['da'], quote=False)}</p>" for s in post["segments"])
    return store_post(ctx, key=f"replay-{number}", title=post["title"], html=body)


def replay(data: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from syndication.context import RunContext
    from syndication.review.actions import edit_segment
    from syndication.review.corrections import apply, suggestions
    from syndication.segments.markup import escape
    from syndication.settings import load_settings
    from syndication.store import SegmentRow, TranslatedSegment, Translation, open_store
    from syndication.translations.stage import translate_pending

    config = folder / "syndication.toml"
    config.write_text(CONFIG.format(folder=folder, auto=AUTO_AFTER), encoding="utf-8")
    settings = load_settings(config, environ={})
    ctx = RunContext(settings=settings, store=open_store(settings.store_url()))
    rows: list[dict[str, Any]] = []
    try:
        for number, post in enumerate(data["posts"], start=1):
            post_id = _store_post(ctx, number, post)
            translate_pending(ctx, post_ids=[post_id])
            wanted = {_flat(s["da"]): s["final"] for s in post["segments"]}
            with ctx.store.session() as session:
                tid = session.scalars(select(Translation.id).where(Translation.post_id == post_id)).one()
                found = session.execute(
                    select(TranslatedSegment, SegmentRow)
                    .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
                    .where(TranslatedSegment.translation_id == tid)
                    .order_by(SegmentRow.position)
                ).all()
                seen: set[str] = set()
                segments = []
                for seg, src in found:
                    key = _flat(src.source)
                    if key in wanted and key not in seen:  # the title repeats the first paragraph
                        seen.add(key)
                        segments.append((seg.key, src.source, seg.machine_target or seg.target, seg.target))
                hints = suggestions(
                    session,
                    engine="apertium",
                    source_lang="da",
                    lang="nb",
                    segments=[(k, source, machine) for k, source, machine, _ in segments],
                )
            figures = {"post": number, "title": post["title"], "segments": len(segments)}
            without = with_all = with_auto = chars = 0
            for key, source, machine, before_review in segments:
                final = wanted[_flat(source)]
                suggested = machine
                for hint in hints.get(key, []):
                    suggested = apply(suggested, hint.wrong, hint.right)
                without += distance(machine, final)
                with_all += distance(suggested, final)
                with_auto += distance(before_review, final)
                chars += len(_flat(final))
            figures.update(chars=chars, without=without, suggested=with_all, auto=with_auto)
            rows.append(figures)
            # The editor publishes the final text: learned from through the review app's own save.
            with ctx.store.session() as session:
                for key, source, _, _ in segments:
                    edit_segment(session, tid, key, escape(wanted[_flat(source)]), actor="editor")
    finally:
        ctx.close()
    return rows


def run() -> list[tuple[str, float, str]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="edit-replay-") as tmp:
        rows = replay(data, Path(tmp))
    results: list[tuple[str, float, str]] = []
    print(
        "#   post  chars  without        suggested      auto>=2      suggested/without"
        "  (character edit distance, % of the final text)",
        file=sys.stderr,
    )
    for r in rows:
        share = {k: 100 * r[k] / max(1, r["chars"]) for k in ("without", "suggested", "auto")}
        cells = "  ".join(f"{r[k]:>4} {share[k]:5.1f} %" for k in ("without", "suggested", "auto"))
        ratio = r["suggested"] / max(1, r["without"])
        print(f"#   {r['post']:>4}  {r['chars']:>5}  {cells}   {ratio:.2f}   {r['title']}", file=sys.stderr)
        for k in ("without", "suggested", "auto"):
            results.append((f"edit_replay.post{r['post']:02d}_{k}", share[k], "% of chars to edit"))
    total = {k: sum(r[k] for r in rows) for k in ("without", "suggested", "auto", "chars")}
    later = rows[len(rows) // 2 :]
    late = {k: sum(r[k] for r in later) for k in ("without", "suggested")}
    results += [
        ("edit_replay.posts", len(rows), "posts"),
        ("edit_replay.total_without", total["without"], "chars to edit"),
        ("edit_replay.total_suggested", total["suggested"], "chars to edit"),
        ("edit_replay.total_auto", total["auto"], "chars to edit"),
        ("edit_replay.saved_suggested", 100 * (1 - total["suggested"] / max(1, total["without"])), "% fewer"),
        (
            "edit_replay.saved_suggested_second_half",
            100 * (1 - late["suggested"] / max(1, late["without"])),
            "% fewer",
        ),
    ]
    return results
