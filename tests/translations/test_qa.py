"""QA flags on real engine output (Apertium and the tiny Argos model) and on hand-made cases."""

from __future__ import annotations

from syndication.models import QAFlag
from syndication.translations import qa
from syndication.translations.argos import ArgosEngine
from syndication.translations.glossary import parse_glossary
from tests.translations.conftest import run_apertium

DANISH = (
    "Vi har fået nogle spørgsmål efter mødet, og hvad der blev sagt, kommer ud i næste uge, hvis alt går vel."
)


def codes(flags: list[QAFlag]) -> list[str]:
    return [f.code for f in flags]


def test_good_apertium_output_is_not_flagged() -> None:
    nb = run_apertium(DANISH, "dan-nob")
    assert nb != DANISH
    assert qa.check(DANISH, nb, source_lang="da", target_lang="nb") == []
    sv = run_apertium(DANISH, "dan-swe")
    assert qa.check(DANISH, sv, source_lang="da", target_lang="sv") == []


def test_danish_left_in_a_norwegian_or_swedish_translation_is_flagged() -> None:
    flags = qa.check(DANISH, DANISH.replace("spørgsmål", "spørsmål"), source_lang="da", target_lang="nb")
    assert codes(flags) == ["untranslated"]
    assert "“efter”" in flags[0].message and "“nogle”" in flags[0].message
    assert codes(qa.check(DANISH, DANISH.replace("Vi", "Vi "), source_lang="da", target_lang="sv")) == [
        "untranslated"
    ]


def test_untranslated_argos_output_is_flagged(engine: ArgosEngine) -> None:
    # The test model only changes case, like a model that did not translate at all.
    source = 'Læs mere om <g id="1">vores arrangementer</g> på bloggen.'
    [out] = engine.translate([source], source="da", target="en")
    flags = qa.check(source, out.text, source_lang="da", target_lang="en", engine_flags=out.flags)
    assert codes(flags) == ["untranslated"]
    assert "identical to the source" in flags[0].message


def test_danish_function_words_in_english_output() -> None:
    target = (
        "We got some questions efter the meeting, og hvad was said comes out next week hvis all goes well."
    )
    flags = qa.check(DANISH, target, source_lang="da", target_lang="en")
    assert codes(flags) == ["untranslated"]
    assert "Danish words are left" in flags[0].message
    # Words that are also English ("for", "men", "her") do not count.
    clean = "Men and women met her for dinner, and the network is gold."
    assert qa.check("Mænd og kvinder mødte hende til middag, og netværket er guld.", clean,
                    source_lang="da", target_lang="en") == []  # fmt: skip


def test_marker_lists_respect_close_languages() -> None:
    assert "ikke" in qa.danish_markers("en")
    assert "ikke" not in qa.danish_markers("nb")  # Norwegian says "ikke" too
    assert "ikke" in qa.danish_markers("nn")  # Nynorsk says "ikkje"
    assert "blev" not in qa.danish_markers("sv")  # Swedish "blev" is a word
    assert "der" not in qa.danish_markers("de")
    assert qa.danish_markers("da") == frozenset()


def test_empty_output_and_length_ratio() -> None:
    assert codes(qa.check(DANISH, '<g id="1"> </g>', source_lang="da", target_lang="en")) == ["empty_output"]
    assert qa.check("", "", source_lang="da", target_lang="en") == []
    assert qa.check('<x id="1"/>', '<x id="1"/>', source_lang="da", target_lang="en") == []
    repeated = "We got some questions after the meeting. " * 8
    flags = qa.check(DANISH, repeated, source_lang="da", target_lang="en")
    assert codes(flags) == ["length_ratio"]
    assert "times as long" in flags[0].message
    assert codes(qa.check(DANISH, "Networks.", source_lang="da", target_lang="en")) == ["length_ratio"]
    # Short segments are not judged on length.
    assert (
        qa.check("Ja tak", "Yes, thank you very much indeed, dear friend", source_lang="da", target_lang="en")
        == []
    )


def test_engine_flags_pass_through_and_glossary_is_checked() -> None:
    apertium_flag = QAFlag("unknown_words", "Apertium did not know: Netværksdagen")
    glossary = parse_glossary("term,lang,translation\nNetværksdagen,*,\n", source="g.csv")
    source = "Kom til Netværksdagen i morgen."
    target = run_apertium(source, "dan-nob")  # Apertium translates the name's parts
    flags = qa.check(
        source, target, source_lang="da", target_lang="nb", engine_flags=[apertium_flag], glossary=glossary
    )
    assert codes(flags) == ["unknown_words", "glossary_violation"]
    assert flags[0] is apertium_flag


def test_identical_short_sentences_are_normal_between_scandinavian_languages() -> None:
    same = "En god dag i landsbyen"
    assert qa.check(same, same, source_lang="da", target_lang="nb") == []
    assert codes(qa.check(same, same, source_lang="da", target_lang="en")) == ["untranslated"]
    long = "Vi mødes i forsamlingshuset hver torsdag klokken syv og taler om landsbyen"
    assert codes(qa.check(long, long, source_lang="da", target_lang="nb")) == ["untranslated"]
