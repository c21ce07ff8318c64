"""The edit-distance replay of ``bench/edit_replay_bench.py`` run as a check: on the project's own
11 Danish posts and their editor's final Norwegian (real Apertium output, the real review save), the
corrections learned from earlier posts leave editors less to change on later ones."""

from __future__ import annotations

import json
from pathlib import Path

from bench.edit_replay_bench import DATA, replay


def test_learned_corrections_leave_less_to_edit_as_posts_accumulate(tmp_path: Path) -> None:
    rows = replay(json.loads(DATA.read_text(encoding="utf-8")), tmp_path)
    assert len(rows) == 11 and all(r["segments"] >= 6 for r in rows)
    # Nothing is learned before the first post is edited.
    assert rows[0]["suggested"] == rows[0]["without"] == rows[0]["auto"]
    later = rows[len(rows) // 2 :]
    without = sum(r["without"] for r in later)
    suggested = sum(r["suggested"] for r in later)
    auto = sum(r["auto"] for r in later)
    # Every later post needs less editing with the suggestions than without them...
    assert all(r["suggested"] < r["without"] for r in later), later
    # ... in sum at least a tenth less, and the confirmed ones applied before review help too.
    assert suggested <= 0.9 * without, (suggested, without)
    assert auto < without
