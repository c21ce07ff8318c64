"""The Apertium engine against the real ``apertium`` (Debian packages apertium-dan-nor, apertium-swe-dan).

Process counting and failure modes use small shell scripts in place of the binary (the ``binary``
config option): they log each invocation and then run the real Apertium, or fail the way a broken
installation would. Nothing is mocked inside Python.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from syndication.errors import (
    ConfigError,
    EngineUnavailableError,
    TransientTranslationError,
    TranslationError,
)
from syndication.models import EngineOutput, QAFlag
from syndication.registry import ENGINE_GROUP, load
from syndication.segments import join, placeholder_problems, split
from syndication.segments.markup import canonical, escape, tokenize
from syndication.translations.apertium import (
    ApertiumEngine,
    _deformat,
    _reattach,
    confidence_from_marks,
)
from tests.translations.corpus import PAIRS, alone_outputs, batch_segments

APERTIUM = shutil.which("apertium")
pytestmark = pytest.mark.skipif(
    APERTIUM is None, reason="apertium is not installed (apt-get install apertium)"
)


@pytest.fixture(scope="module")
def engine() -> ApertiumEngine:
    return ApertiumEngine()


def script(tmp_path: Path, body: str, name: str = "apertium") -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def logged(tmp_path: Path) -> tuple[ApertiumEngine, Path]:
    """An engine whose binary logs every invocation, then runs the real apertium."""
    log = tmp_path / "calls.log"
    log.touch()
    binary = script(tmp_path, f'echo "$*" >> "{log}"\nexec "{APERTIUM}" "$@"\n')
    return ApertiumEngine({"binary": str(binary)}), log


def translations(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line != "-l"]


# ------------------------------------------------------------------------------ pairs, versions


def test_pairs_in_bcp47(engine):
    assert {
        ("da", "nb"),
        ("da", "nn"),
        ("da", "sv"),
        ("nb", "da"),
        ("nn", "da"),
        ("sv", "da"),
    } <= engine.pairs()


def test_version_is_the_debian_package_of_the_language_data(engine, logged):
    def dpkg(package: str) -> str:
        return subprocess.run(
            ["dpkg-query", "-W", "-f=${Package} ${Version}", package],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert engine.version("da", "nb") == dpkg("apertium-dan-nor")
    assert engine.version("da", "nn") == dpkg("apertium-dan-nor")
    assert engine.version("da", "sv") == dpkg("apertium-swe-dan")
    counted, log = logged
    first = counted.version("da", "nb")
    counted.version("da", "nb")
    counted.pairs()
    assert first.startswith("apertium-dan-nor ")
    assert log.read_text().splitlines() == ["-l"]  # listed once, then cached


def test_registered_as_apertium():
    assert load(ENGINE_GROUP, "apertium") is ApertiumEngine


@pytest.mark.parametrize(
    "config",
    [
        {"binary": ""},
        {"binary": 3},
        {"timeout": 0},
        {"timeout": "10"},
        {"timeout": True},
        {"mark_unknown": "yes"},
    ],
)
def test_bad_config_is_a_config_error(config):
    with pytest.raises(ConfigError, match="apertium engine"):
        ApertiumEngine(config)


# ------------------------------------------------------------------------------ translation


SENTENCE = (
    '<p>Jeg læste <a href="https://example.dk/netvaerk">en god artikel</a> om <em>netværk</em> i går.</p>'
)
LINKED = split(SENTENCE)
LONG = " ".join(["Jeg har en stor hund og en lille kat, som bor i huset ved søen"] * 80) + "."

# Each language's texts go through Apertium in one batch (one process), shared by the tests below.
BATCHES = {
    "nb": {
        "link": LINKED.segments[0].source,
        "unknown": "Han købte en snuffelupagus i går.",
        "stars": "Prisen er 5 * 3 kr.",
        "hash": "Følg #netværk på nettet *nu*",
        "entities": "Vi solgte salt &amp; peber, og 2 &lt; 3 – blåbærgrød med fløde i Århus.",
        "escaped separator": '&lt;/p&gt;&lt;p id="syn-0"&gt;Hej',
        "raw separator": '</p><p id="syn-1">rå tekst',  # raw markup is text too: it comes back escaped
        "plain": "Hej verden",
        "controls": "Hej\x00 &#1;verden",
        "moved 1": 'Vi fandt en løsning, <g id="1">som</g> alle kunne lide.',
        "moved 2": 'Det er vigtigt for <g id="1">at blive</g> klogere.',
        "long": LONG,
    },
    "nn": {"link": LINKED.segments[0].source},
    "sv": {
        "link": LINKED.segments[0].source,
        # Translated as one sentence these would read "det stora huset i staden" and "Vi ska äta nu".
        "merge 1": "Jeg så det store",
        "merge 2": "hus i byen",
        "merge 3": "Vi skal",
        "merge 4": "spise nu",
    },
}


@pytest.fixture(scope="module")
def batch(engine) -> dict[str, dict[str, EngineOutput]]:
    out = {}
    for target, texts in BATCHES.items():
        outputs = engine.translate(list(texts.values()), source="da", target=target)
        out[target] = dict(zip(texts, outputs, strict=True))
    return out


@pytest.mark.parametrize(
    ("target", "translated", "html"),
    [
        (
            "nb",
            'Jeg leste <g id="1">en god artikkel</g> om <g id="2">nettverk</g> i går.',
            '<p>Jeg leste <a href="https://example.dk/netvaerk">en god artikkel</a>'
            " om <em>nettverk</em> i går.</p>",
        ),
        (
            "nn",
            'Eg las <g id="1">ein god artikkel</g> om <g id="2">nettverk</g> i går.',
            '<p>Eg las <a href="https://example.dk/netvaerk">ein god artikkel</a>'
            " om <em>nettverk</em> i går.</p>",
        ),
        (
            "sv",
            'Jag läste <g id="1">en god artikel</g> om <g id="2">nätverk</g> igår.',
            '<p>Jag läste <a href="https://example.dk/netvaerk">en god artikel</a>'
            " om <em>nätverk</em> igår.</p>",
        ),
    ],
)
def test_link_and_emphasis_come_back_around_the_right_words(batch, target, translated, html):
    output = batch[target]["link"]
    assert output == EngineOutput(translated, confidence=1.0)
    assert join(LINKED, {"b1": output.text}).html == html


def test_segments_in_one_batch_never_merge_into_one_sentence(batch):
    assert [batch["sv"][f"merge {n}"].text for n in (1, 2, 3, 4)] == [
        "Jag så det stora",
        "hus i staden",
        "Vi ska",
        "mat nu",
    ]


def test_opening_placeholder_moved_by_apertium_is_put_back(batch):
    assert batch["nb"]["moved 1"].text == 'Vi fant en løsning <g id="1">som</g> alle kunne lide.'
    assert batch["nb"]["moved 2"].text == 'Det er viktig for <g id="1">å bli</g> klokere.'


def test_reattach_rules():
    def fix(output: str, source: str) -> str:
        return canonical(_reattach(tokenize(output), tokenize(source)))

    assert fix('a som <g id="1"></g> b', 'x <g id="1">y</g> z') == 'a <g id="1">som</g> b'
    assert (
        fix('a for å <g id="1"> bli en</g> del', 'x <g id="1">y z</g> w')
        == 'a for <g id="1">å bli en</g> del'
    )
    assert fix('a som <g id="1"></g>.', 'x <g id="1">y</g>.') == 'a <g id="1">som</g> .'
    # A placeholder that had a space after it in the source, or no word before it, is left alone.
    assert fix('a <g id="1"> b</g>', 'x <g id="1"> y</g>') == 'a <g id="1"> b</g>'
    assert fix('<g id="1"> b</g>', '<g id="1">y</g>') == '<g id="1"> b</g>'


def test_unknown_words_are_flagged_and_unmarked(batch):
    assert batch["nb"]["unknown"] == EngineOutput(
        "Han kjøpte en snuffelupagus i går.",
        (QAFlag("unknown_words", "apertium dan-nob unknown: snuffelupagus"),),
        confidence=round((1 - 1 / 6) ** 2, 4),  # one unknown word of six
    )


def test_without_marks_there_are_no_flags():
    quiet = ApertiumEngine({"mark_unknown": False})
    assert quiet.translate(["Han købte en snuffelupagus."], source="da", target="nb") == [
        EngineOutput("Han kjøpte en snuffelupagus.")
    ]


def test_literal_star_hash_and_at_are_text_not_marks(batch):
    assert batch["nb"]["stars"] == EngineOutput("Pris er 5 * 3 kr.", confidence=1.0)
    assert batch["nb"]["hash"] == EngineOutput("Følg #nettverk på noten *nå*", confidence=1.0)


def test_entities_and_danish_letters(batch):
    entities = batch["nb"]["entities"]
    assert (entities.text, entities.flags) == (
        "Vi solgte salt &amp; pepper, og 2 &lt; 3 – blåbærgrøt med fløte i Århus.",
        (),
    )


def test_text_that_looks_like_separators_stays_text(batch):
    assert batch["nb"]["escaped separator"].text == '&lt;/p&gt;&lt;p id="syn-0"&gt;Hei'
    assert batch["nb"]["raw separator"].text == '&lt;/p&gt;&lt;p id="syn-1"&gt;råe tekst'
    assert batch["nb"]["plain"].text == "Hei verden"
    assert batch["nb"]["controls"].text.split(" ") == ["Hei", "", "verden"]  # controls became spaces


def test_empty_and_blank_texts_start_no_process(logged):
    engine, log = logged
    assert engine.translate([], source="da", target="nb") == []
    assert engine.translate(["", "  \n"], source="da", target="nb") == [
        EngineOutput(""),
        EngineOutput("  \n"),
    ]
    assert translations(log) == []


def test_whitespace_around_a_text_is_kept_and_duplicates_are_sent_once(logged):
    engine, log = logged
    outputs = engine.translate(["  Hej verden ", "", "Hej verden"], source="da", target="nb")
    assert [o.text for o in outputs] == ["  Hei verden ", "", "Hei verden"]
    assert len(translations(log)) == 1


def test_a_batch_of_200_is_one_process_and_stays_aligned(logged):
    engine, log = logged
    texts = [f'Afsnit {n} handler om <g id="1">netværk</g> nummer {n}.' for n in range(200)]
    outputs = engine.translate(texts, source="da", target="nb")
    [call] = translations(
        log
    )  # one apertium pipeline; its tagger restarts per segment (see _isolating_datadir)
    assert call.startswith("-d ") and call.endswith(" -f none -z dan-nob")
    assert [o.text for o in outputs] == [
        f'Avsnitt {n} handler om <g id="1">nettverk</g> nummer {n}.' for n in range(200)
    ]


def test_a_5000_character_sentence(batch):
    assert len(LONG) > 5000
    assert batch["nb"]["long"] == EngineOutput(
        " ".join(["Jeg har en stor hund og en lille kat som bor i huset ved søet"] * 80) + ".",
        confidence=1.0,
    )


def test_placeholders_survive_a_whole_post(engine):
    html = (Path(__file__).parents[1] / "segments" / "fixtures" / "wordpress_post.html").read_text()
    doc = split(html, title="Netværk er også adgang til guldet")
    outputs = engine.translate([s.source for s in doc.segments], source="da", target="nb")
    for segment, output in zip(doc.segments, outputs, strict=True):
        problems = [f for f in placeholder_problems(segment, output.text) if f.code != "number_mismatch"]
        assert problems == [], (segment.source, output.text)
    joined = join(doc, {s.key: o.text for s, o in zip(doc.segments, outputs, strict=True)})
    for href in ("https://blog.example.dk/2023/guld/", "mailto:lene@example.dk", "https://www.example.dk/"):
        assert f'href="{href}"' in joined.html
    assert "<code>print(netværk)</code>" in joined.html
    assert '<p translate="no">Denne sætning må ikke oversættes.</p>' in joined.html
    assert joined.title == "Nettverk er også adgang til gullet"


# ------------------------------------------------------------------------------ failures


def test_pair_not_installed_names_what_to_do(engine):
    with pytest.raises(EngineUnavailableError, match=r"da→fi.*apt-cache search apertium-") as caught:
        engine.translate(["Hej"], source="da", target="fi")
    assert caught.value.lang == "fi"


@pytest.mark.parametrize(
    ("target", "package"),
    [("nb", "apertium-dan-nor"), ("nn", "apertium-dan-nor"), ("sv", "apertium-swe-dan")],
)
def test_missing_language_data_names_the_debian_package(tmp_path, target, package):
    bare = script(
        tmp_path, 'if [ "$1" = "-l" ]; then exit 0; fi\necho "Error: Mode does not exist." >&2\nexit 1\n'
    )
    with pytest.raises(EngineUnavailableError, match=f"apt-get install {package}"):
        ApertiumEngine({"binary": str(bare)}).translate(["Hej"], source="da", target=target)


def test_missing_binary_names_the_package(tmp_path):
    engine = ApertiumEngine({"binary": str(tmp_path / "no-such-apertium")})
    with pytest.raises(EngineUnavailableError, match="apt-get install apertium"):
        engine.pairs()
    with pytest.raises(EngineUnavailableError, match="apt-get install apertium"):
        engine.translate(["Hej"], source="da", target="nb")


def test_crash_is_transient_with_stderr(tmp_path):
    crashing = script(
        tmp_path,
        f'if [ "$1" = "-l" ]; then exec "{APERTIUM}" -l; fi\n'
        'echo "lt-proc: Segmentation fault in dan-nob.autogen.bin" >&2\nexit 139\n',
    )
    with pytest.raises(TransientTranslationError, match="status 139: lt-proc: Segmentation fault") as caught:
        ApertiumEngine({"binary": str(crashing)}).translate(["Hej"], source="da", target="nb")
    assert caught.value.transient


def test_timeout_is_transient_and_kills_the_whole_pipeline(tmp_path):
    pids = tmp_path / "pids"
    hanging = script(
        tmp_path,
        f'if [ "$1" = "-l" ]; then exec "{APERTIUM}" -l; fi\nsleep 60 & echo $! > "{pids}"\nwait\n',
    )
    engine = ApertiumEngine({"binary": str(hanging), "timeout": 1})
    with pytest.raises(TransientTranslationError, match="did not finish within 1 s"):
        engine.translate(["Hej"], source="da", target="nb")
    child = int(pids.read_text())
    for _ in range(100):  # the kill is asynchronous: wait (briefly) until the child is reaped
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{child}/stat") as stat:
            if stat.read().split()[2] == "Z":
                break
        time.sleep(0.05)
    else:
        pytest.fail(f"sleep child {child} survived the timeout")


def test_lost_segment_fails_the_batch_rather_than_misalign(tmp_path):
    dropping = script(
        tmp_path,
        f'if [ "$1" = "-l" ]; then exec "{APERTIUM}" -l; fi\n"{APERTIUM}" "$@" | sed -z \'/syn-1/d\'\n',
    )
    engine = ApertiumEngine({"binary": str(dropping)})
    with pytest.raises(TransientTranslationError, match="returned 2 segments for 3 sent"):
        engine.translate(["Et", "To", "Tre"], source="da", target="nb")


def test_a_bare_string_is_not_a_batch(engine):
    with pytest.raises(TranslationError, match="sequence of texts"):
        engine.translate("Hej", source="da", target="nb")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ batch = alone


def test_deformatter_matches_apertium_deshtml():
    """Our stream for each segment is the one ``apertium-deshtml`` writes for ``<p>`` + segment
    (its old wrapping), so translations did not change, only the leaks between segments went.
    One deshtml process: a NUL in its input starts a new document (which it opens with ``.[]``)."""
    deshtml = shutil.which("apertium-deshtml")
    assert deshtml is not None
    texts = [
        *batch_segments(),
        *(text for texts in BATCHES.values() for text in texts.values() if text.strip()),
        'x <g id="1">y</g>. <g id="2"><x id="3"/></g>!',
        "a  b\tc\nd [x] \\y ^z$ {q} / e@f",
    ]
    document = "\0".join(f'<p id="syn-{n}">{_old_prepare(text.strip())}</p>' for n, text in enumerate(texts))
    output = subprocess.run([deshtml], input=document.encode(), capture_output=True, check=True).stdout
    theirs = re.split(r"\.\[\](?=\[<p id=\"syn-[0-9]+\">)", output.decode())
    assert theirs[0] == ""
    ours = [_deformat(n, text.strip()).removesuffix("\0") for n, text in enumerate(texts)]
    assert theirs[1:] == ours


def _old_prepare(body: str) -> str:
    """How the engine sent a segment to ``apertium -f html`` before it deformatted segments itself."""
    parts = []
    for token in tokenize(body):
        if token.kind == "text":
            text = escape(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", token.value))
            parts.append(text.replace("#", "&#35;").replace("*", "&#42;").replace("@", "&#64;"))
        else:
            parts.append(canonical([token]))
    return "".join(parts)


@pytest.fixture(scope="module")
def alone(engine) -> dict[str, Any]:
    data = alone_outputs()
    for target in PAIRS:
        if data["versions"][target] != engine.version("da", target):
            pytest.fail(
                f"tests/fixtures/translations/apertium_alone.json was made with "
                f"{data['versions'][target]}, installed is {engine.version('da', target)}: "
                "regenerate it with `APERTIUM_BENCH_REGENERATE=1 python -m bench apertium`"
            )
    return data


@pytest.mark.parametrize("target", PAIRS)
def test_a_batch_of_542_translates_every_segment_as_if_alone(engine, alone, target):
    """Each segment of one batch (one process) equals its translation alone (one process each,
    recorded in the fixture); the old HTML wrapping differed on dozens ("De bor der." → "De
    borene det." after a sentence ending in ".")."""
    segments = batch_segments()
    outputs = engine.translate(segments, source="da", target=target)
    got = [[o.text, [f.message for f in o.flags]] for o in outputs]
    differences = [
        (source, batch, single)
        for source, batch, single in zip(segments, got, alone["outputs"][target], strict=True)
        if batch != single
    ]
    assert differences == []
    # Placeholders came through every one of them.
    for source, output in zip(segments, outputs, strict=True):
        assert ('<g id="1">' in source) == ('<g id="1">' in output.text), (source, output.text)
        assert ('<x id="2"/>' in source) == ('<x id="2"/>' in output.text), (source, output.text)


@pytest.mark.parametrize("target", PAIRS)
def test_segments_that_leaked_before_are_translated_as_alone_now(engine, target):
    """Checked live, one process per segment. Under the old HTML wrapping "De bor der." came back
    "De borene som." (nb) and "Dei bora som." (nn) in this batch; with null flushing alone (one
    tagger for the batch) "Husk solcreme og vand." came back "Husk solkrem og vann." (nb)."""
    texts = [
        "Vi har mange køer.",
        "De bor der.",
        "Hunden gør, når nogen kommer.",
        "Han siger det.",
        # The tagger's state: "om" has an ambiguity class the tagger was not trained on, which
        # changed its open class for the rest of the process ("vann" for "vand" below).
        "Vi mødes en gang om måneden.",
        "Husk solcreme og vand.",
    ]
    batch = engine.translate(texts, source="da", target=target)
    singles = [engine.translate([text], source="da", target=target)[0] for text in texts]
    assert batch == singles


# ------------------------------------------------------------------------------ confidence


def test_confidence_falls_with_unknown_and_foreign_words(engine):
    """Marked words (``*``) and words the target language's analyser does not know (Danish left
    as it was: "cykeltur" in Swedish, unmarked by Apertium) lower the confidence; names from the
    source and units do not."""
    clean, unknown, foreign, names = engine.translate(
        [
            "Vi har mange køer på gården.",
            "Han købte en snuffelupagus i går.",
            "Vi skal på cykeltur langs fjorden.",
            "Følg os på Facebook, det koster 20 kr.",
        ],
        source="da",
        target="sv",
    )
    assert clean.confidence == 1.0
    assert unknown.confidence == round((1 - 1 / 6) ** 2, 4)
    assert (foreign.text, foreign.flags) == ("Vi ska på cykeltur längs fjorden.", ())
    assert foreign.confidence == round((1 - 0.75 / 6) ** 2, 4)
    assert names.confidence == 1.0


def test_confidence_formula():
    assert confidence_from_marks(10, unknown=0, generation=0, untranslated=0) == 1.0
    assert confidence_from_marks(10, unknown=1, generation=0, untranslated=1) == 0.64
    assert confidence_from_marks(10, unknown=0, generation=1, untranslated=0) == 0.64
    assert confidence_from_marks(4, unknown=0, generation=0, untranslated=0, foreign=4) == 0.0625
    assert confidence_from_marks(2, unknown=3, generation=0, untranslated=0) == 0.0
    assert confidence_from_marks(0, unknown=0, generation=0, untranslated=0) == 1.0


def test_without_marks_there_is_no_confidence():
    quiet = ApertiumEngine({"mark_unknown": False})
    assert quiet.translate(["Hej verden"], source="da", target="nb")[0].confidence is None
