"""Engine choice per language through the whole pipeline: Argos (tiny real packages, da→en upper-
cases, en→de lower-cases, so da→de pivots) next to Apertium, provenance recorded, and a language
whose model is missing stops alone with an error that says what to run."""

from __future__ import annotations

import re

from sqlalchemy import select

from syndication import pipeline
from syndication.context import RunContext
from syndication.review import approve, current_translation, list_items, resolve_post
from syndication.store import Translation

ARGOS = """
[translation]
source_lang = "da"
targets = ["nb", "en", "de"]
default_engine = "apertium"
engines = {{ en = "argos", de = "argos" }}
glossary = "glossary.csv"

[engines.argos]
type = "argos"
packages_dir = "{packages}"
intra_threads = 1
"""


def use_argos(ctx, packages):
    """Rewrite the demo config's [translation] section to route en/de to Argos."""
    ctx.close()
    config = ctx.settings.base_dir / "syndication.toml"
    text = config.read_text(encoding="utf-8")
    head, _, rest = text.partition("[translation]")
    rest = rest[rest.index("[engines.apertium]") :]
    config.write_text(head + ARGOS.format(packages=packages).strip() + "\n\n" + rest, encoding="utf-8")
    return config


def test_argos_and_apertium_side_by_side(make_ctx, site, packages_dir, tmp_path):
    ctx = RunContext.open(use_argos(make_ctx(auto_approve=True), packages_dir))
    summary = pipeline.syndicate(ctx)
    assert summary.translations_failed == 0, summary.errors
    with ctx.store.session() as session:
        post = resolve_post(session, f"{site.base_url}/?p=412")
        en = current_translation(session, post, "en")
        de = current_translation(session, post, "de")
        nb = current_translation(session, post, "nb")
        assert (en.engine, en.model_version) == ("argos", "translate-da_en@1.0")
        assert de.model_version == "translate-da_en@1.0+translate-en_de@1.0"
        assert nb.engine == "apertium" and nb.model_version.startswith("apertium-dan-nor ")
    # A model that only changes letter case leaves Danish in place: QA says so, so nothing is
    # auto-approved for en/de; an editor approves anyway here to see the delivered copies.
    with ctx.store.session() as session:
        waiting = list_items(session)
        assert {item.lang for item in waiting} == {"en", "de"}
        assert all(item.flagged_segments for item in waiting)
        for item in waiting:
            approve(session, item.translation_id, actor="editor", confirm_flags=True)
    pipeline.deliver(ctx)
    html_en = (ctx.settings.resolve_path("outbox") / "en" / "netvaerk-er-guld.html").read_text(
        encoding="utf-8"
    )
    assert "<h1>NETVÆRK ER GULD – MEN KUN NÅR VI GIVER NOGET AF OS SELV</h1>" in html_en
    # The link survives the neural engine, around the same (upper-cased) words, and points to the
    # English copy of the linked article in the same outbox (links to translations, issue 14).
    assert re.search(r'<a href="messebesoeg-i-berlin-og-landdistrikterne\.html"[^>]*>BESØG', html_en), html_en
    html_de = (ctx.settings.resolve_path("outbox") / "de" / "netvaerk-er-guld.html").read_text(
        encoding="utf-8"
    )
    assert "<h1>netværk er guld – men kun når vi giver noget af os selv</h1>" in html_de
    ctx.close()


def test_missing_model_stops_only_that_language_and_says_what_to_run(make_ctx, site, tmp_path):
    empty = tmp_path / "no-packages"
    empty.mkdir()
    ctx = RunContext.open(use_argos(make_ctx(auto_approve=True), empty))
    summary = pipeline.syndicate(ctx)
    failed = [e for e in summary.errors if e.stage == "translate"]
    assert {e.lang for e in failed} == {"en", "de"}
    install = f"syndicate models --packages-dir {empty} install translate-da_en"
    assert all(install in e.message for e in failed)
    with ctx.store.session() as session:
        states = {(t.lang, t.status) for t in session.scalars(select(Translation))}
    assert ("nb", "approved") in states
    assert {s for lang, s in states if lang in ("en", "de")} == {"failed"}
    ctx.close()


def test_a_broken_glossary_stops_every_language_not_only_the_first(make_ctx, tmp_path):
    ctx = make_ctx(auto_approve=True)
    glossary = ctx.settings.resolve_path(ctx.settings.translation.glossary)
    glossary.write_text("term,lang,translation\nVestjylland,no,Vest-Jylland\n", encoding="utf-8")
    summary = pipeline.syndicate(ctx)
    failed = [e for e in summary.errors if e.stage == "translate"]
    assert {e.lang for e in failed} == {"nb", "sv"}
    assert all("use nb (Bokmål) or nn (Nynorsk)" in e.message for e in failed)
    with ctx.store.session() as session:
        states = {t.status for t in session.scalars(select(Translation))}
    assert states == {"failed"}  # nothing translated (let alone auto-approved) without the glossary
