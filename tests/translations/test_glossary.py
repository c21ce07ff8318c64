"""The glossary: file format, protection through placeholders, restore, violations — on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndication.errors import ConfigError
from syndication.translations.argos import ArgosEngine
from syndication.translations.glossary import load_glossary, parse_glossary, restore
from tests.translations.conftest import run_apertium

GLOSSARY = """\ufeff# Names stay; some terms have fixed translations.
term,lang,translation,case_sensitive

Messe C,*,,
Netværksdagen,*,,
generalforsamling,en,annual general meeting,no
generalforsamling,nb,generalforsamling,
generalforsamling,*,General Assembly,
Mols & Djurs,*,,
"Dansk Industri, DI",*,,
"""


@pytest.fixture(scope="module")
def glossary():
    return parse_glossary(GLOSSARY, source="glossary.csv")


def test_file_format(tmp_path: Path, glossary) -> None:
    assert [(e.term, e.lang, e.translation, e.case_sensitive, e.line) for e in glossary.entries] == [
        ("Messe C", "*", "", True, 4),
        ("Netværksdagen", "*", "", True, 5),
        ("generalforsamling", "en", "annual general meeting", False, 6),
        ("generalforsamling", "nb", "generalforsamling", False, 7),
        ("generalforsamling", "*", "General Assembly", False, 8),
        ("Mols & Djurs", "*", "", True, 9),
        ("Dansk Industri, DI", "*", "", True, 10),
    ]
    path = tmp_path / "glossary.csv"
    path.write_bytes(GLOSSARY.encode("utf-8"))
    assert len(load_glossary(path)) == 7
    # A specific language wins over "*".
    rules = {r.term: r.translation for r in glossary.rules_for("en")}
    assert rules["generalforsamling"] == "annual general meeting"
    assert {r.term: r.translation for r in glossary.rules_for("de")}[
        "generalforsamling"
    ] == "General Assembly"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "term,language,translation\n",
            "line 1: .*missing column\\(s\\) lang; unknown column\\(s\\) language",
        ),
        ("term,lang,translation\n,en,x\n", "line 2: the term is empty"),
        ("term,lang,translation\nx,no,y\n", "line 2: use nb"),
        ("term,lang,translation\nx,English,y\n", "line 2: lang must be"),
        ("term,lang,translation,case_sensitive\nx,en,y,maybe\n", "line 2: case_sensitive must be yes or no"),
        ("term,lang,translation\nx,en,y,z\n", "line 2: 4 fields"),
        ("# c\nterm,lang,translation\nx,en,y\n\nX,en,z\n", "line 5: 'X' for en is already defined on line 3"),
    ],
)
def test_bad_rows_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_glossary(text, source="glossary.csv")
    assert "glossary.csv" in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_glossary(tmp_path / "absent.csv")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("term,lang,translation\nFællesskab,*,\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_glossary(latin1)


def test_protect_matches_whole_words_outside_placeholders(glossary) -> None:
    text = (
        'Mød os på Messe C til <g id="t1">generalforsamling</g>, ikke på Messe Center; '
        "Generalforsamlingen er noget andet. messe c er ikke et navn. Mols &amp; Djurs og Dansk Industri, DI."
    )
    protected, info = glossary.protect(text, "en")
    assert protected == (
        'Mød os på <x id="t2"/> til <g id="t1"><x id="t3"/></g>, ikke på Messe Center; '
        'Generalforsamlingen er noget andet. messe c er ikke et navn. <x id="t4"/> og <x id="t5"/>.'
    )
    assert dict(info.replacements) == {
        "t2": "Messe C",
        "t3": "annual general meeting",
        "t4": "Mols &amp; Djurs",
        "t5": "Dansk Industri, DI",
    }
    assert restore(protected, info) == (
        'Mød os på Messe C til <g id="t1">annual general meeting</g>, ikke på Messe Center; '
        "Generalforsamlingen er noget andet. messe c er ikke et navn. Mols &amp; Djurs og Dansk Industri, DI."
    )
    # Attribute values and placeholder ids are never touched.
    assert glossary.protect('<g id="Messe C">x</g>', "en")[0] == '<g id="Messe C">x</g>'


def test_violations(glossary) -> None:
    source = "Netværksdagen og generalforsamling på Messe C."
    assert glossary.violations(source, "Netværksdagen and annual general meeting at Messe C.", "en") == []
    flags = glossary.violations(source, 'Networking Day and AGM at <x id="t3"/>.', "en")
    assert [f.code for f in flags] == ["glossary_violation"] * 4
    messages = " | ".join(f.message for f in flags)
    assert "placeholder(s) t3 were not replaced" in messages
    assert "“Netværksdagen” must stay untranslated" in messages
    assert "“generalforsamling” must be translated as “annual general meeting”" in messages
    assert "“Messe C” must stay untranslated" in messages


def test_glossary_with_real_apertium(glossary) -> None:
    source = "Vi mødes på Messe C til generalforsamling og Netværksdagen i Herning."
    protected, info = glossary.protect(source, "nb")
    assert protected == 'Vi mødes på <x id="t1"/> til <x id="t2"/> og <x id="t3"/> i Herning.'
    translated = run_apertium(protected, "dan-nob")
    assert translated.count("<x id=") == 3
    final = restore(translated, info)
    assert "Messe C" in final and "Netværksdagen" in final and "generalforsamling" in final
    assert glossary.violations(source, final, "nb") == []
    # Without protection Apertium translates the name part "Netværk…" and the check notices.
    unprotected = run_apertium(source, "dan-nob")
    assert "Netværksdagen" not in unprotected
    assert [f.code for f in glossary.violations(source, unprotected, "nb")] == ["glossary_violation"]


def test_glossary_with_argos(engine: ArgosEngine, glossary) -> None:
    source = 'Netværksdagen på Messe C: <g id="1">generalforsamling</g> for alle.'
    protected, info = glossary.protect(source, "de")
    [out] = engine.translate([protected], source="da", target="de")  # pivot through English
    final = restore(out.text, info)
    assert final == 'Netværksdagen på Messe C: <g id="1">General Assembly</g> for alle.'
    assert glossary.violations(source, final, "de") == []
    # The same text unprotected comes out lower-cased, which breaks the glossary.
    [raw] = engine.translate([source], source="da", target="de")
    assert [f.code for f in glossary.violations(source, raw.text, "de")] == ["glossary_violation"] * 3


def test_fixed_translation_follows_a_capital_in_the_source(glossary, engine: ArgosEngine) -> None:
    # A lower-case glossary term found at the start of a sentence (or written with a capital)
    # comes back capitalised: "Annual general meeting …", never "annual general meeting …".
    source = "Generalforsamling i Messe C. Næste generalforsamling er i maj."
    protected, info = glossary.protect(source, "en")
    [out] = engine.translate([protected], source="da", target="en")  # the upper-casing model
    final = restore(out.text, info)
    assert final == "Annual general meeting I Messe C. NÆSTE annual general meeting ER I MAJ."
    assert glossary.violations(source, final, "en") == []
    # Do-not-translate terms are put back exactly as written.
    assert restore(*glossary.protect("messe c og Messe C", "en")) == "messe c og Messe C"
