"""Learned corrections (issue 11, "Learned corrections"): what editors change in real Apertium
output is learned per pair and engine, suggested on later posts, applied before review once
confirmed, counted once per segment, stopped by an undo, listed and removable by admins."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from syndication.review.corrections import Change, apply, extract, matching
from syndication.store import CorrectionUse, LearnedCorrection, TranslatedSegment, Translation
from tests.web.conftest import Client, Env, csrf_of, login, make_client
from tests.web.support import store_post, translate
from tests.web.test_assist import key_of, save, segments

DOING = "<p>Det gør jeg gerne, siger Mette.</p>"
"""Apertium da→nb: "Det bjeffer jeg gjerne, siker Mette." (it takes "gør" for the dog's "gø")."""


def post(env: Env, number: int, html: str) -> int:
    post_id = store_post(
        env.ctx, key=f"https://lokaltliv.example.dk/?p={number}", title=f"Indlæg {number}", html=html
    )
    translate(env.ctx)
    return env.translation_id("nb", post_id)


def swedish_of(env: Env, tid: int) -> int:
    with env.ctx.store.session() as session:
        post_id = session.scalars(select(Translation.post_id).where(Translation.id == tid)).one()
    return env.translation_id("sv", post_id)


def correct(
    client: Client, env: Env, tid: int, token: str, danish_start: str, *fixes: tuple[str, str]
) -> str:
    """Save the segment starting with ``danish_start`` with each (wrong, right) fixed; the new text."""
    key = key_of(env, tid, danish_start)
    _, target, version, _, _ = segments(env, tid)[key]
    for wrong, right in fixes:
        target = target.replace(wrong, right)
    response = save(client, tid, key, target, version, token)
    assert response.status_code == 200, response.text
    return target


def learned(env: Env) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(term, wrong, right) → (uses, reverted) of the da→nb Apertium corrections."""
    with env.ctx.store.session() as session:
        rows = session.scalars(
            select(LearnedCorrection).where(
                LearnedCorrection.engine == "apertium", LearnedCorrection.target_lang == "nb"
            )
        ).all()
        return {(r.term, r.wrong, r.right): (r.uses, r.reverted) for r in rows}


# ------------------------------------------------------------------------------- pure: what is learned


def test_word_corrections_are_found_with_their_danish_term() -> None:
    assert extract("Det gør jeg!", "Det bjeffer jeg!", "Det gjør jeg!") == [Change("gør", "bjeffer", "gjør")]
    both = extract(
        "Han siger at QLF gør sig mange overvejelser.",
        "Han siker at *QLF bjeffer seg mange overveielser.",
        "Han sier at QLF gjør seg mange overveielser.",
    )
    # "*QLF" → "QLF" is punctuation only: not learned.
    assert both == [Change("siger", "siker", "sier"), Change("gør", "bjeffer", "gjør")]
    # A word added is learned with the word before it; a rewrite longer than three words is not.
    assert extract("Vi har travlt.", "Vi har travelt.", "Vi har dårlig tid.") == [
        Change("travlt", "travelt", "dårlig tid")
    ]
    assert extract("Vi ses i morgen på torvet.", "Vi ses i morgen på torget.", "Vi har fri hele dagen.") == []
    # A sentence rewritten (less than half the engine's words kept) teaches nothing.
    assert (
        extract(
            "Vi ses i morgen på torvet.", "Vi ses i morgen på torget.", "I morgen treffes alle sammen i byen."
        )
        == []
    )
    # Case only, or nothing changed: nothing learned.
    assert extract("Det gør jeg.", "det bjeffer jeg.", "Det bjeffer jeg.") == []
    # Placeholders do not count as words.
    assert extract(
        'Han <g id="1">siger</g> ja.', 'Han <g id="1">siker</g> ja.', 'Han <g id="1">sier</g> ja.'
    ) == [Change("siger", "siker", "sier")]


def test_a_correction_changes_whole_words_outside_placeholders_keeping_their_case() -> None:
    assert apply('<g id="1">Bjeffer</g> du? Det bjeffer jeg, BJEFFER! Bjefferne', "bjeffer", "gjør") == (
        '<g id="1">Gjør</g> du? Det gjør jeg, GJØR! Bjefferne'
    )
    assert (
        apply('Vi har <g id="1">travelt</g>  nu', "travelt nu", "dårlig tid")
        == 'Vi har <g id="1">travelt</g>  nu'
    )
    assert apply("Vi har travelt  nu & så", "travelt nu", "dårlig tid") == "Vi har dårlig tid &amp; så"


def test_a_correction_fits_only_where_the_danish_has_its_term() -> None:
    rows = [
        LearnedCorrection(id=1, term="gør", wrong="bjeffer", right="gjør", uses=3, reverted=0),
        LearnedCorrection(id=2, term="gøer", wrong="bjeffer", right="bjeffer høyt", uses=1, reverted=0),
    ]
    assert [c.id for c in matching(rows, "Det gør jeg.", "Det bjeffer jeg.")] == [1]
    assert [c.id for c in matching(rows, "Hunden gøer.", "Hunden bjeffer.")] == [2]
    assert matching(rows, "Det gør jeg.", "Det gjør jeg.") == []  # already right
    assert matching(rows, "Hunden sover.", "Hunden bjeffer.") == []  # no Danish term: no guess


# ------------------------------------------------------------------------------- learned from saves


def test_a_save_teaches_the_correction_once_per_segment_and_an_undo_takes_it_back(env: Env) -> None:
    tid = post(env, 21, DOING)
    key = key_of(env, tid, "Det gør")
    machine = segments(env, tid)[key][1]
    assert machine == "Det bjeffer jeg gjerne, siker Mette."  # real Apertium output
    with make_client(env) as client:
        token = login(client, "anna")
        correct(client, env, tid, token, "Det gør", ("bjeffer", "gjør"))
        assert learned(env) == {("gør", "bjeffer", "gjør"): (1, 0)}
        # A second save of the same segment adds the other fix; the first still counts once.
        correct(client, env, tid, token, "Det gør", ("siker", "sier"))
        assert learned(env) == {("gør", "bjeffer", "gjør"): (1, 0), ("siger", "siker", "sier"): (1, 0)}
        # The editor puts the engine's word back: that segment no longer teaches it.
        correct(client, env, tid, token, "Det gør", ("sier", "siker"))
    assert learned(env)[("siger", "siker", "sier")] == (0, 0)
    with env.ctx.store.session() as session:
        uses = session.execute(
            select(CorrectionUse.segment_key, LearnedCorrection.wrong, CorrectionUse.made)
            .join(LearnedCorrection, LearnedCorrection.id == CorrectionUse.correction_id)
            .where(CorrectionUse.translation_id == tid)
            .order_by(LearnedCorrection.wrong)
        ).all()
    # ... and counts as a segment where the engine's word was kept.
    assert [tuple(u) for u in uses] == [(key, "bjeffer", True), (key, "siker", False)]


def test_later_machine_output_gets_the_suggestion_with_how_often_editors_made_it(env: Env) -> None:
    first = post(env, 22, DOING)
    second = post(env, 23, "<p>Hvad gør vi nu? Vi gør klar til markedet.</p><p>Kaffe til alle.</p>")
    with make_client(env) as client:
        token = login(client, "anna")
        correct(client, env, first, token, "Det gør", ("bjeffer", "gjør"))
        found = client.get(f"/items/{second}/assist", headers={"Accept": "application/json"}).json()[
            "segments"
        ]
        # The Swedish item of the same post has other engine output: nothing learned for it.
        swedish = client.get(f"/items/{env.translation_id('sv', 1)}/assist").json()["segments"]
    key = key_of(env, second, "Hvad gør")
    assert segments(env, second)[key][1] == "Hva bjeffer vi nå? Vi bjeffer klar til markedet."
    (suggestion,) = found[key]["corrections"]
    assert {k: suggestion[k] for k in ("term", "wrong", "right", "uses", "auto")} == {
        "term": "gør",
        "wrong": "bjeffer",
        "right": "gjør",
        "uses": 1,
        "auto": False,
    }
    assert "corrections" not in found.get(key_of(env, second, "Kaffe"), {})
    assert all("corrections" not in entry for entry in swedish.values())


def test_confirmed_corrections_are_applied_before_review_marked_and_stopped_by_an_undo(env: Env) -> None:
    env.ctx.settings.review.auto_apply_corrections = 2
    one = post(env, 24, DOING)
    two = post(env, 25, "<p>Hvad gør vi nu?</p>")
    with make_client(env) as client:
        token = login(client, "anna")
        correct(client, env, one, token, "Det gør", ("bjeffer", "gjør"))
        # One use is not yet confirmed: the next post still comes with Apertium's word.
        three = post(env, 26, "<p>Vi gør klar til markedet.</p>")
        assert "bjeffer" in segments(env, three)[key_of(env, three, "Vi gør")][1]
        correct(client, env, two, token, "Hvad gør", ("bjeffer", "gjør"))
        assert learned(env)[("gør", "bjeffer", "gjør")] == (2, 0)
        four = post(env, 27, "<p>Det gør vi igen næste år.</p>")
        key = key_of(env, four, "Det gør")
        with env.ctx.store.session() as session:
            row = session.scalars(
                select(TranslatedSegment).where(
                    TranslatedSegment.translation_id == four, TranslatedSegment.key == key
                )
            ).one()
            assert row.target.startswith("Det gjør vi")
            assert row.machine_target is not None and row.machine_target.startswith("Det bjeffer vi")
            assert [(c["wrong"], c["right"]) for c in row.corrections] == [("bjeffer", "gjør")]
        page = client.get(f"/items/{four}").text
        assert 'class="learned"' in page and "<del>bjeffer</del> → <ins>gjør</ins>" in page
        # Kept as applied (confirmed with Ctrl+Enter): it counts as one more use.
        _, target, version, _, _ = segments(env, four)[key]
        assert save(client, four, key, target, version, token).status_code == 200
        assert learned(env)[("gør", "bjeffer", "gjør")] == (3, 0)
        # An editor who writes the engine's word back undoes it: never applied automatically again.
        five = post(env, 28, "<p>Det gør vi også.</p>")
        assert "gjør" in segments(env, five)[key_of(env, five, "Det gør")][1]
        correct(client, env, five, token, "Det gør", ("gjør", "bjeffer"))
        assert learned(env)[("gør", "bjeffer", "gjør")] == (3, 1)
        assert "learned-reverted" in client.get(f"/items/{five}").text
        six = post(env, 29, "<p>Hvad gør I?</p>")
        six_key = key_of(env, six, "Hvad gør")
        assert "bjeffer" in segments(env, six)[six_key][1]
        # Still suggested, but no longer as one applied automatically.
        found = client.get(f"/items/{six}/assist").json()["segments"][six_key]["corrections"]
    assert [(c["wrong"], c["auto"]) for c in found] == [("bjeffer", False)]


def test_a_correction_editors_keep_declining_is_no_longer_suggested(env: Env) -> None:
    # One editor changes Apertium's "til" (for Danish "til") to "på" once, a one-off of that sentence;
    # in the next segments where it fits, editors keep "til": after two of those it is not suggested.
    first = post(env, 32, "<p>Vi kom til mødet.</p>")
    with make_client(env) as client:
        token = login(client, "anna")
        assert segments(env, first)[key_of(env, first, "Vi kom")][1] == "Vi kom til møtet."
        correct(client, env, first, token, "Vi kom", ("til møtet", "på møtet"))
        assert learned(env)[("til", "til", "på")] == (1, 0)
        second = post(env, 33, "<p>Vi tager til Herning.</p><p>Han går til bageren.</p>")
        shown = client.get(f"/items/{second}/assist").json()["segments"]
        assert [c["right"] for c in shown[key_of(env, second, "Vi tager")]["corrections"]] == ["på"]
        for start in ("Vi tager", "Han går"):
            correct(client, env, second, token, start)  # saved as the engine wrote "til"
        with env.ctx.store.session() as session:
            row = session.scalars(select(LearnedCorrection).where(LearnedCorrection.wrong == "til")).one()
            assert (row.uses, row.declined) == (1, 2)
        third = post(env, 34, "<p>Vi cykler til skolen.</p>")
        later = client.get(f"/items/{third}/assist").json()["segments"]
    assert "corrections" not in later.get(key_of(env, third, "Vi cykler"), {})


# ------------------------------------------------------------------------------- the admin page


def test_admins_list_and_remove_corrections_editors_cannot(env: Env) -> None:
    first = post(env, 30, DOING)
    second = post(env, 31, "<p>Hvad gør vi nu?</p>")
    with make_client(env) as client:
        token = login(client, "anna")
        correct(client, env, first, token, "Det gør", ("bjeffer", "gjør"))
        assert client.get("/admin/corrections").status_code == 403
        assert client.post("/admin/corrections", data={"csrf_token": token, "id": "1"}).status_code == 403
    with make_client(env) as client:
        login(client, "admin")
        page = client.get("/admin/corrections")
        assert page.status_code == 200
        assert "<del>bjeffer</del>" in page.text and "<ins>gjør</ins>" in page.text and ">gør<" in page.text
        with env.ctx.store.session() as session:
            (correction_id,) = session.scalars(select(LearnedCorrection.id)).all()
        # Without the CSRF token nothing is removed.
        assert client.post("/admin/corrections", data={"id": str(correction_id)}).status_code == 403
        removed = client.post(
            "/admin/corrections", data={"csrf_token": csrf_of(page.text), "id": str(correction_id)}
        )
        assert removed.status_code == 303 and removed.headers["location"] == "/admin/corrections"
        assert "no longer suggested" in client.get("/admin/corrections").text
        assert learned(env) == {}
        found = client.get(f"/items/{second}/assist").json()["segments"]
    assert all("corrections" not in entry for entry in found.values())


def test_the_command_line_lists_and_removes_corrections(env: Env) -> None:
    import json

    from click.testing import CliRunner

    from syndication.cli import main

    first = post(env, 35, DOING)
    with make_client(env) as client:
        token = login(client, "anna")
        correct(client, env, first, token, "Det gør", ("bjeffer", "gjør"))
    runner = CliRunner()
    listed = runner.invoke(main, ["corrections", "list", "--config", str(env.config)])
    assert listed.exit_code == 0, listed.output
    assert (
        "da→nb apertium: bjeffer → gjør for gør (made in 1, kept in 0, undone 0; suggested)" in listed.output
    )
    rows = json.loads(
        runner.invoke(main, ["corrections", "list", "--json", "--config", str(env.config)]).output
    )
    assert [(r["wrong"], r["right"], r["uses"], r["auto"]) for r in rows] == [("bjeffer", "gjør", 1, False)]
    removed = runner.invoke(main, ["corrections", "remove", str(rows[0]["id"]), "--config", str(env.config)])
    assert removed.exit_code == 0 and "removed" in removed.output
    again = runner.invoke(main, ["corrections", "remove", str(rows[0]["id"]), "--config", str(env.config)])
    assert again.exit_code == 2 and "no learned correction" in again.output
    assert learned(env) == {}


def test_a_fault_in_learning_never_refuses_the_editors_save(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    tid = post(env, 36, DOING)
    key = key_of(env, tid, "Det gør")
    with env.ctx.store.session() as session:
        row = session.scalars(
            select(TranslatedSegment).where(
                TranslatedSegment.translation_id == tid, TranslatedSegment.key == key
            )
        ).one()
        row.corrections = [{"id": 999}]  # a mark without its words (as a broken or hand-edited row)
    with make_client(env) as client:
        token = login(client, "anna")
        with caplog.at_level(logging.ERROR, logger="syndication.review.actions"):
            text = correct(client, env, tid, token, "Det gør", ("bjeffer", "gjør"))
    assert segments(env, tid)[key][1] == text  # saved
    assert any(
        "could not learn from segment" in r.getMessage() and key in r.getMessage() for r in caplog.records
    )
