"""Memory matches, glossary hints and propagation beside the item page (issue 11, "Memory,
glossary, propagation"), through a real uvicorn and real Apertium output."""

from __future__ import annotations

from pathlib import Path

import requests
from click.testing import CliRunner
from sqlalchemy import select

from syndication.cli import main
from syndication.review.assist import map_placeholders
from syndication.store import SegmentRow, TranslatedSegment
from tests.web.conftest import Client, Env, login, make_client, real_login
from tests.web.support import PASSWORD, POST_HTML, store_post, translate

FIRST = (
    "<p>Vi holdt et <strong>stort</strong> møde i forsamlingshuset med "
    '<a href="https://lokaltliv.example.dk/program/">hele programmet</a> på plads.</p>'
)
"""The first paragraph of the test post (segment b1 of every item made from ``POST_HTML``)."""


def segments(env: Env, translation_id: int) -> dict[str, tuple[str, str, int, str, list[dict[str, str]]]]:
    """key → (source, target, version, origin, flags)."""
    with env.ctx.store.session() as session:
        rows = session.execute(
            select(TranslatedSegment, SegmentRow.source)
            .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
            .where(TranslatedSegment.translation_id == translation_id)
        ).all()
        return {r.key: (source, r.target, r.version, r.origin, list(r.flags or [])) for r, source in rows}


def key_of(env: Env, translation_id: int, source_start: str) -> str:
    found = [k for k, v in segments(env, translation_id).items() if v[0].startswith(source_start)]
    assert len(found) == 1, found
    return found[0]


def second_post(env: Env, html: str, excerpt: str | None = None) -> int:
    post_id = store_post(
        env.ctx, key="https://lokaltliv.example.dk/?p=8", title="Endnu et møde", html=html, excerpt=excerpt
    )
    translate(env.ctx)
    return post_id


def save(client: Client, tid: int, key: str, text: str, version: int, token: str) -> requests.Response:
    return client.post(
        f"/items/{tid}/segments/{key}",
        data={"csrf_token": token, "version": str(version), "text": text},
        headers={"Accept": "application/json"},
    )


# ------------------------------------------------------------------------------------ placeholders


def test_placeholders_are_mapped_by_order_and_refused_when_they_differ() -> None:
    stored_source = 'Se <g id="3">her</g> og <x id="4"/>.'
    stored_target = 'Sjå <g id="3">her</g> og <x id="4"/>.'
    assert map_placeholders(stored_source, stored_target, 'Se <g id="1">der</g> og <x id="2"/>.') == (
        'Sjå <g id="1">her</g> og <x id="2"/>.'
    )
    # A link more, or an empty placeholder where the stored one had a pair: no safe mapping.
    assert map_placeholders(stored_source, stored_target, 'Se <g id="1">der</g> og <g id="2">x</g>.') is None
    # A segment without placeholders (an excerpt repeating a paragraph) takes the words alone.
    assert map_placeholders(stored_source, stored_target, "Se der og.") == "Sjå her og."
    # A target with an id its own source does not have cannot be mapped either.
    assert map_placeholders(stored_source, 'Sjå <x id="9"/>', 'Se <g id="1">der</g> og <x id="2"/>.') is None


# ------------------------------------------------------------------------------------------ memory


def test_memory_offers_exact_and_fuzzy_human_translations_with_mapped_placeholders(env: Env) -> None:
    # The second post opens with a sentence before the first paragraph, so its placeholder numbers
    # differ, and changes one word of it ("stort" → "flot"): a fuzzy match.
    changed = FIRST.replace("<strong>stort</strong>", "<strong>flot</strong>")
    other = second_post(env, "<p>En <em>kort</em> indledning.</p>" + changed + "<p>Kaffe og kage</p>")
    nb = env.translation_id("nb")
    nb2 = env.translation_id("nb", other)
    first_key = key_of(env, nb, "Vi holdt")
    source, _, version, _, _ = segments(env, nb)[first_key]
    cake = key_of(env, nb, "Kaffe og kage")
    with make_client(env) as client:
        token = login(client, "anna")
        # An editor's translations of the first post become human memory.
        mine = source.replace("Vi holdt et", "Vi hadde et").replace(
            "møde i forsamlingshuset", "møte på grendehuset"
        )
        mine = (
            mine.replace("stort", "stort")
            .replace("hele programmet", "hele programmet")
            .replace("på plads", "klart")
        )
        assert save(client, nb, first_key, mine, version, token).status_code == 200
        cake_version = segments(env, nb)[cake][2]
        assert save(client, nb, cake, "Kaffe og kake (fra bygda)", cake_version, token).status_code == 200
        body = client.get(f"/items/{nb2}/assist", headers={"Accept": "application/json"})
        assert body.status_code == 200, body.text
        found = body.json()["segments"]
    target_key = key_of(env, nb2, "Vi holdt")
    target_source = segments(env, nb2)[target_key][0]
    fuzzy = found[target_key]["memory"][0]
    assert 75 <= fuzzy["score"] < 100
    assert fuzzy["insertable"] is True and fuzzy["by"] == "anna"
    assert fuzzy["target"] == map_placeholders(source, mine, target_source) == mine
    assert "<del>" in fuzzy["diff"] and "<ins>" in fuzzy["diff"]
    exact = found[key_of(env, nb2, "Kaffe og kage")]["memory"][0]
    assert exact["score"] == 100 and exact["target"] == "Kaffe og kake (fra bygda)"
    # The memory is per pair: the Swedish item of the same post gets none of the Norwegian text.
    with make_client(env) as client:
        login(client, "anna")
        sv = client.get(f"/items/{env.translation_id('sv', other)}/assist").json()["segments"]
    assert all("memory" not in entry for entry in sv.values())


def test_a_stored_translation_is_renumbered_for_the_segment_or_not_offered_for_insertion(env: Env) -> None:
    from syndication.translations.stage import record_human_translation

    nb = env.translation_id("nb")
    key = key_of(env, nb, "Vi holdt")
    source = segments(env, nb)[key][0]
    assert '<g id="1">' in source and '<g id="2">' in source
    # Entries saved when this text had other numbers (an earlier revision with a link before it),
    # and one with an extra image the segment does not have.
    renumbered = source.replace('id="2"', 'id="9"').replace('id="1"', 'id="8"')
    extra = source.replace(" på plads.", ' på plads <x id="3"/>.')
    with env.ctx.store.session() as session:
        record_human_translation(
            session,
            source=renumbered,
            target='Vi hadde et <g id="8">stort</g> møte med <g id="9">hele programmet</g> klart.',
            source_lang="da",
            lang="nb",
            actor="bo",
        )
        record_human_translation(
            session,
            source=extra,
            target='Vi hadde et <g id="1">stort</g> møte <x id="3"/> med <g id="2">alt</g>.',
            source_lang="da",
            lang="nb",
            actor="bo",
        )
    with make_client(env) as client:
        login(client, "anna")
        matches = client.get(f"/items/{nb}/assist").json()["segments"][key]["memory"]
    # Equally similar, the one that can be inserted comes first (the other entry is newer).
    assert [m["insertable"] for m in matches] == [True, False]
    by_target = {m["target"]: m for m in matches}
    mapped = by_target['Vi hadde et <g id="1">stort</g> møte med <g id="2">hele programmet</g> klart.']
    assert mapped["score"] == 100 and mapped["insertable"] is True
    unmapped = by_target['Vi hadde et <g id="1">stort</g> møte <x id="3"/> med <g id="2">alt</g>.']
    assert unmapped["insertable"] is False and unmapped["score"] >= 75


def test_a_memory_match_reaches_the_page_escaped(env: Env) -> None:
    from syndication.translations.stage import record_human_translation

    nb = env.translation_id("nb")
    key = key_of(env, nb, "Frivillige")
    source = segments(env, nb)[key][0]
    with env.ctx.store.session() as session:
        record_human_translation(
            session,
            source=source,
            target="Frivillige <img src=x onerror=alert(1)> &lt;script&gt;",
            source_lang="da",
            lang="nb",
            actor="<b>bo</b>",
        )
    with make_client(env) as client:
        login(client, "anna")
        match = client.get(f"/items/{nb}/assist").json()["segments"][key]["memory"][0]
    assert match["score"] == 100
    assert "<img" not in match["html"] and "&lt;img src=x onerror=alert(1)&gt;" in match["html"]
    assert "<script" not in match["html"] and "<script" not in match["diff"]


# ---------------------------------------------------------------------------------------- glossary


def test_glossary_terms_are_hinted_and_a_save_without_the_required_term_is_flagged(env: Env) -> None:
    Path(env.config.parent / "config").mkdir(exist_ok=True)
    (env.config.parent / "config" / "glossary.csv").write_text(
        "term,lang,translation,case_sensitive\nforsamlingshuset,nb,grendehuset,no\n", encoding="utf-8"
    )
    nb = env.translation_id("nb")
    key = key_of(env, nb, "Vi holdt")
    source, _, version, _, _ = segments(env, nb)[key]
    with make_client(env) as client:
        token = login(client, "anna")
        hints = client.get(f"/items/{nb}/assist").json()["segments"][key]["glossary"]
        assert hints == [{"term": "forsamlingshuset", "translation": "grendehuset", "present": False}]
        without = source.replace("forsamlingshuset", "samfunnshuset")
        response = save(client, nb, key, without, version, token)
        assert response.status_code == 200
        codes = [f["code"] for f in response.json()["segment"]["flags"]]
        assert "glossary_violation" in codes
        fixed = source.replace("forsamlingshuset", "grendehuset")
        response = save(client, nb, key, fixed, version + 1, token)
        assert "glossary_violation" not in [f["code"] for f in response.json()["segment"]["flags"]]
        hints = client.get(f"/items/{nb}/assist").json()["segments"][key]["glossary"]
        assert hints[0]["present"] is True


# ------------------------------------------------------------------------------------- propagation


def test_a_saved_segment_is_propagated_to_accepted_identical_segments_only(env: Env) -> None:
    # The first paragraph twice, and once more as the excerpt WordPress makes of it: its words,
    # without links, and an ellipsis.
    plain = "Vi holdt et stort møde i forsamlingshuset med hele programmet på plads."
    other = second_post(env, POST_HTML + FIRST, excerpt=plain + " […]")
    nb, nb2 = env.translation_id("nb"), env.translation_id("nb", other)
    key = key_of(env, nb, "Vi holdt")
    source, _, version, _, _ = segments(env, nb)[key]
    text = source.replace("Vi holdt et", "Vi hadde et")
    with make_client(env) as client:
        token = login(client, "anna")
        assert save(client, nb, key, text, version, token).status_code == 200
        listed = client.get(f"/items/{nb}/segments/{key}/propagation").json()["candidates"]
        # The two copies in the other open Norwegian item (not its excerpt: other items need the
        # same source); never the Swedish ones, never the saved segment itself.
        assert {c["translation_id"] for c in listed} == {nb2}
        assert len(listed) == 2
        accepted, declined = listed
        stale = dict(declined, version=declined["version"] + 5)
        response = client.post(
            f"/items/{nb}/segments/{key}/propagate",
            data={
                "csrf_token": token,
                "target": [
                    f"{accepted['translation_id']}:{accepted['key']}:{accepted['version']}",
                    f"{stale['translation_id']}:{stale['key']}:{stale['version']}",
                    # A segment with other Danish is refused even if someone posts it.
                    f"{nb2}:{key_of(env, nb2, 'Frivillige')}:1",
                ],
            },
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
    assert [(a["translation_id"], a["key"]) for a in body["applied"]] == [(nb2, accepted["key"])]
    assert body["applied"][0]["version"] == accepted["version"] + 1
    reasons = " ".join(r["reason"] for r in body["refused"])
    assert "changed this segment" in reasons and "not the same" in reasons
    after = segments(env, nb2)
    assert after[accepted["key"]][1] == text and after[accepted["key"]][3] == "propagated"
    assert after[accepted["key"]][2] == accepted["version"] + 1
    assert after[declined["key"]][1] != text
    with make_client(env) as client:
        token = login(client, "anna")
        page = client.get(f"/items/{nb2}").text
        assert "origin-propagated" in page
        # Saved in the second item, the paragraph is offered to its excerpt, words only.
        excerpt = key_of(env, nb2, plain)
        second = segments(env, nb2)[declined["key"]]
        assert save(client, nb2, declined["key"], text, second[2], token).status_code == 200
        listed = client.get(f"/items/{nb2}/segments/{declined['key']}/propagation").json()["candidates"]
        assert [c["key"] for c in listed] == [excerpt]
        target = f"{nb2}:{excerpt}:{listed[0]['version']}"
        response = client.post(
            f"/items/{nb2}/segments/{declined['key']}/propagate",
            data={"csrf_token": token, "target": target},
            headers={"Accept": "application/json"},
        )
        assert [a["key"] for a in response.json()["applied"]] == [excerpt]
    assert (
        segments(env, nb2)[excerpt][1]
        == "Vi hadde et stort møde i forsamlingshuset med hele programmet på plads. […]"
    )


def test_propagation_respects_the_editors_languages_and_needs_the_csrf_token(env: Env) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "add", "nora", "--lang", "sv", "--password-stdin", "--config", str(env.config)],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    nb = env.translation_id("nb")
    key = key_of(env, nb, "Vi holdt")
    with make_client(env) as client:
        token = real_login(client, "nora")
        assert client.get(f"/items/{nb}/segments/{key}/propagation").status_code == 403
        assert client.get(f"/items/{nb}/assist").status_code == 403
        refused = client.post(
            f"/items/{nb}/segments/{key}/propagate", data={"csrf_token": token, "target": f"{nb}:{key}:1"}
        )
        assert refused.status_code == 403
        unsigned = client.post(f"/items/{nb}/segments/{key}/propagate", data={"target": f"{nb}:{key}:1"})
        assert unsigned.status_code == 403
        # From a Swedish item the editor may edit, a Norwegian target is refused by name.
        sv = env.translation_id("sv")
        response = client.post(
            f"/items/{sv}/segments/{key_of(env, sv, 'Vi holdt')}/propagate",
            data={"csrf_token": token, "target": f"{nb}:{key}:{segments(env, nb)[key][2]}"},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200
        assert response.json()["applied"] == []
        assert "not your language (nb)" in response.json()["refused"][0]["reason"]
    assert segments(env, nb)[key][3] != "propagated"
