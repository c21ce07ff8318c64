"""The Argos engine on a tiny real package: exact input → output, placeholders, pivot, bad input."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest

from syndication.errors import ConfigError, EngineUnavailableError, TranslationError
from syndication.models import EngineOutput
from syndication.translations.argos import ArgosEngine, CTranslate2Engine
from syndication.translations.argos_packages import install_file
from syndication.translations.ct2_runtime import Ct2Model, Hypothesis, token_log_prob
from syndication.translations.glossary import parse_glossary, restore
from syndication.translations.sentences import split_sentences
from tests.argos_builder import write_model_dir


class CountingModel(Ct2Model):
    """Our model wrapper, recording every batch it sends to CTranslate2 (nothing is mocked)."""

    calls: ClassVar[list[tuple[str, list[list[str]]]]] = []

    def _run_batch(self, source: list[list[str]], **kwargs: Any) -> list[Any]:
        CountingModel.calls.append((self.label, [list(tokens) for tokens in source]))
        return super()._run_batch(source, **kwargs)


class CountingEngine(ArgosEngine):
    model_class = CountingModel


@pytest.fixture()
def counting(packages_dir: Path):
    CountingModel.calls.clear()
    return CountingEngine({"packages_dir": packages_dir, "intra_threads": 1, "max_input_tokens": 64})


def decode(tokens: list[str]) -> str:
    return "".join(tokens).replace("▁", " ").strip()


def texts(outputs: list[EngineOutput]) -> list[str]:
    return [o.text for o in outputs]


def codes(output: EngineOutput) -> list[str]:
    return [f.code for f in output.flags]


# ------------------------------------------------------------------------------ exact outputs


def test_upper_model_keeps_span_around_its_word(engine: ArgosEngine) -> None:
    [out] = engine.translate(['Netværk er <g id="1">guld</g>.'], source="da", target="en")
    assert out.text == 'NETVÆRK ER <g id="1">GULD</g>.'
    assert out.flags == ()


def test_placeholders_links_and_urls_back_in_place(engine: ArgosEngine) -> None:
    sources = [
        'Læs <g id="1">mere om <g id="2">os</g></g> her.',
        '<g id="1">Første sætning.</g> <g id="2">Anden sætning.</g>',
        'Se <g id="1">første del. Og anden</g> del.',
        'Linje et<x id="1"/>linje to &amp; tre.',
        'Billede: <g id="1"><x id="2"/></g> og mere på www.example.dk/side?a=1&amp;b=2.',
        "Skriv til info@example.dk eller ring.",
        "Vi siger &lt;hej&gt; og &quot;farvel&quot;.",
    ]
    assert texts(engine.translate(sources, source="da", target="en")) == [
        'LÆS <g id="1">MERE OM <g id="2">OS</g></g> HER.',
        '<g id="1">FØRSTE SÆTNING.</g> <g id="2">ANDEN SÆTNING.</g>',
        'SE <g id="1">FØRSTE DEL. OG ANDEN</g> DEL.',
        'LINJE ET<x id="1"/>LINJE TO &amp; TRE.',
        'BILLEDE: <g id="1"><x id="2"/></g> OG MERE PÅ www.example.dk/side?a=1&amp;b=2.',
        "SKRIV TIL info@example.dk ELLER RING.",
        'VI SIGER &lt;HEJ&gt; OG "FARVEL".',
    ]


def test_what_goes_to_the_model_has_no_tags_and_is_deduplicated(counting: CountingEngine) -> None:
    sources = [
        'Netværk er <g id="1">guld</g>. Vi ses.',
        "Netværk er guld.",  # same sentence without the link: translated once
        "Vi ses.",
    ]
    out = counting.translate(sources, source="da", target="en")
    assert texts(out) == ['NETVÆRK ER <g id="1">GULD</g>. VI SES.', "NETVÆRK ER GULD.", "VI SES."]
    [(label, batch)] = CountingModel.calls
    assert "translate-da_en" in label
    assert sorted(decode(tokens) for tokens in batch) == [
        "Netværk er guld.",
        "Vi ses.",
    ]


def test_pivot_da_en_de_runs_two_batched_passes(counting: CountingEngine) -> None:
    sources = [
        'Netværk er <g id="1">guld</g>.',
        "Vi ses på messen. Tak for i dag!",
        "",
        'Læs mere på <g id="2">bloggen</g>.<x id="3"/>Hej.',
    ]
    out = counting.translate(sources, source="da", target="de")
    # da→en upper-cases, en→de lower-cases: only a real second pass gives lower case.
    assert texts(out) == [
        'netværk er <g id="1">guld</g>.',
        "vi ses på messen. tak for i dag!",
        "",
        'læs mere på <g id="2">bloggen</g>.<x id="3"/>hej.',
    ]
    assert [label.split()[2] for label, _batch in CountingModel.calls] == [
        "translate-da_en",
        "translate-en_de",
    ]
    first, second = ([decode(tokens) for tokens in batch] for _label, batch in CountingModel.calls)
    # Every sentence of every segment in one call per pass; the second pass reads the first's output.
    assert sorted(first) == sorted(
        ["Netværk er guld.", "Vi ses på messen.", "Tak for i dag!", "Læs mere på bloggen.", "Hej."]
    )
    assert sorted(second) == sorted(sentence.upper() for sentence in first)


def test_pairs_and_versions(engine: ArgosEngine) -> None:
    assert engine.pairs() == {("da", "en"), ("en", "de"), ("da", "de")}
    assert engine.version("da", "en") == "translate-da_en@1.0"
    assert engine.version("da", "de") == "translate-da_en@1.0+translate-en_de@1.0"


def test_glossary_through_argos_is_exact(engine: ArgosEngine) -> None:
    glossary = parse_glossary(
        "term,lang,translation\nMesse C,*,\ngeneralforsamling,en,annual general meeting\n", source="g.csv"
    )
    source = 'Vi mødes på Messe C til <g id="1">generalforsamling</g> i maj.'
    protected, info = glossary.protect(source, "en")
    assert protected == 'Vi mødes på <x id="t1"/> til <g id="1"><x id="t2"/></g> i maj.'
    [out] = engine.translate([protected], source="da", target="en")
    assert out.text == 'VI MØDES PÅ <x id="t1"/> TIL <g id="1"><x id="t2"/></g> I MAJ.'
    final = restore(out.text, info)
    assert final == 'VI MØDES PÅ Messe C TIL <g id="1">annual general meeting</g> I MAJ.'
    assert glossary.violations(source, final, "en") == []


# ----------------------------------------------------------------------------------- bad input


def test_bad_inputs_never_crash(counting: CountingEngine) -> None:
    long_sentence = ("Netværk er guld og fællesskab " * 200).strip() + "."
    assert len(long_sentence) > 5000
    sources = [
        "",
        "   ",
        "2024 – 12.500",
        "https://example.dk/a 42",
        "Good morning, how are you?",
        long_sentence,
    ]
    out = counting.translate(sources, source="da", target="en")
    assert texts(out)[:4] == ["", "   ", "2024 – 12.500", "https://example.dk/a 42"]
    assert out[4].text == "GOOD MORNING, HOW ARE YOU?"  # another language: the model's output, no crash
    assert out[5].text == long_sentence.upper()  # cut into pieces and joined back exactly
    assert codes(out[5]) == ["long_input"]
    [(_label, batch)] = CountingModel.calls
    assert max(len(tokens) for tokens in batch) <= 64  # bounded by max_input_tokens
    assert not any("2024" in "".join(tokens) for tokens in batch)  # numbers/URLs alone never sent


def test_one_enormous_word_is_cut_and_rejoined(engine: ArgosEngine) -> None:
    word = "x" * 5000
    [out] = engine.translate([word], source="da", target="en")
    assert out.text == "X" * 5000
    assert codes(out) == ["long_input"]


def test_unbalanced_and_odd_placeholders_are_kept(engine: ArgosEngine) -> None:
    out = engine.translate(
        ['<g id="1">ingen slutning', "stray </g> tag", "R&notes & co"], source="da", target="en"
    )
    assert texts(out) == ['<g id="1">INGEN SLUTNING', "STRAY </g> TAG", "R&amp;NOTES &amp; CO"]


# ---------------------------------------------------------------------------------- errors


def test_missing_pair_says_what_to_install(engine: ArgosEngine, packages_dir: Path) -> None:
    # The engine's folder is not Argos's default, so the command names it: it works from anywhere.
    install = f"syndicate models --packages-dir {packages_dir} install"
    assert engine.install_command == install
    with pytest.raises(EngineUnavailableError) as info:
        engine.translate(["Hej"], source="da", target="fr")
    message = str(info.value)
    assert f"`{install} translate-en_fr`" in message
    # da→en is installed: only the missing half of the pivot is named.
    assert "translate-da_en" not in message
    assert f"`{install} FILE.argosmodel`" in message
    assert info.value.lang == "fr"
    with pytest.raises(EngineUnavailableError, match=r"install translate-en_da"):
        engine.version("en", "da")


def test_install_command_for_the_default_folder_is_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path))
    assert ArgosEngine().install_command == "syndicate models install"


def test_damaged_package_names_its_path(fresh_packages_dir: Path) -> None:
    package = next(p for p in fresh_packages_dir.iterdir() if p.name.startswith("translate-da_en"))
    (package / "sentencepiece.model").unlink()
    engine = ArgosEngine({"packages_dir": fresh_packages_dir, "intra_threads": 1})
    with pytest.raises(EngineUnavailableError) as info:
        engine.translate(["Hej"], source="da", target="en")
    assert str(package) in str(info.value)
    assert f"{engine.install_command} translate-da_en" in str(info.value)


def test_corrupted_model_file_names_its_path(fresh_packages_dir: Path) -> None:
    package = next(p for p in fresh_packages_dir.iterdir() if p.name.startswith("translate-da_en"))
    (package / "model" / "model.bin").write_bytes(b"not a model")
    engine = ArgosEngine({"packages_dir": fresh_packages_dir, "intra_threads": 1})
    with pytest.raises(EngineUnavailableError) as info:
        engine.translate(["Hej"], source="da", target="en")
    assert str(package / "model") in str(info.value)


def test_unavailable_gpu_says_to_change_the_device_not_to_reinstall(packages_dir: Path) -> None:
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("this machine has a CUDA device")
    engine = ArgosEngine({"packages_dir": packages_dir, "intra_threads": 1, "device": "cuda"})
    with pytest.raises(EngineUnavailableError) as info:
        engine.translate(["Hej"], source="da", target="en")
    message = str(info.value)
    assert 'device = "cpu"' in message and "reinstall" not in message


def test_ctranslate2_runtime_errors_become_translation_errors(tmp_path: Path) -> None:
    model = write_model_dir(tmp_path / "model", "copy")
    # The hand-set model has 1024 positions; with the input bound lifted CTranslate2 itself fails.
    engine = CTranslate2Engine(
        {"model": str(model), "source": "da", "target": "en", "intra_threads": 1, "max_input_tokens": 4000}
    )
    with pytest.raises(TranslationError) as info:
        engine.translate(["y" * 1500], source="da", target="en")
    assert not isinstance(info.value, EngineUnavailableError)
    assert "position" in str(info.value)


def test_bad_settings_are_config_errors(packages_dir: Path) -> None:
    with pytest.raises(ConfigError, match="beam_size"):
        ArgosEngine({"packages_dir": packages_dir, "beam_size": "wide"})
    with pytest.raises(ConfigError, match="device"):
        ArgosEngine({"packages_dir": packages_dir, "device": "tpu"})
    with pytest.raises(ConfigError, match="model"):
        CTranslate2Engine({"source": "da", "target": "en"})
    # A misspelt setting is an error, not silently the default (the rest of the config is strict).
    with pytest.raises(ConfigError, match=r"beam_sise.*did you mean beam_size"):
        ArgosEngine({"packages_dir": packages_dir, "beam_sise": 4})
    with pytest.raises(ConfigError, match="packages_dir"):
        CTranslate2Engine({"model": "m", "source": "da", "target": "en", "packages_dir": "x"})


# ------------------------------------------------------------------- plain CTranslate2 model dir


def test_ctranslate2_model_folder_as_an_engine(tmp_path: Path) -> None:
    model = write_model_dir(tmp_path / "opus-mt-da-en", "copy")
    engine = CTranslate2Engine({"model": str(model), "source": "da", "target": "en", "intra_threads": 1})
    assert engine.pairs() == {("da", "en")}
    version = engine.version("da", "en")
    assert version.startswith("opus-mt-da-en@") and len(version) == len("opus-mt-da-en@") + 12
    [out] = engine.translate(['Netværk er <g id="1">guld</g>.'], source="da", target="en")
    assert out.text == 'Netværk er <g id="1">guld</g>.'
    with pytest.raises(EngineUnavailableError, match="translates da→en, not da→de"):
        engine.translate(["Hej"], source="da", target="de")
    pinned = CTranslate2Engine({"model": str(model), "source": "da", "target": "en", "version": "opus-2024"})
    assert pinned.version("da", "en") == "opus-2024"
    missing = CTranslate2Engine({"model": str(tmp_path / "nowhere"), "source": "da", "target": "en"})
    assert missing.pairs() == set()
    with pytest.raises(EngineUnavailableError, match="ct2-transformers-converter"):
        missing.translate(["Hej"], source="da", target="en")


# ---------------------------------------------------------------------------------- cheapness


def test_transformers_converted_model_gets_its_end_of_sentence_token(tmp_path: Path) -> None:
    # ct2-transformers-converter leaves OPUS-MT (Marian) models without add_source_eos: the caller
    # must append </s> as Hugging Face's tokenizer does, or the model runs on to the length limit
    # (CTranslate2 issues #1236, #1694). The engine reads that from the model's config.json.
    model = write_model_dir(tmp_path / "opus-mt-da-en", "copy", transformers_style=True)
    settings = {"model": str(model), "source": "da", "target": "en", "intra_threads": 1}
    source = ['Netværk er <g id="1">guld</g>.', "Hej med dig"]
    outputs = CTranslate2Engine(settings).translate(source, source="da", target="en")
    assert texts(outputs) == source
    assert all(not o.flags for o in outputs)
    # The same model without the token (explicitly switched off) shows why it matters.
    unended = CTranslate2Engine({**settings, "source_suffix": ""}).translate(source, source="da", target="en")
    assert all(len(o.text) > len(s) for o, s in zip(unended, source, strict=True))


def test_importing_the_engine_does_not_import_ctranslate2() -> None:
    code = (
        "import sys, syndication.translations.argos, syndication.translations.models_cli, "
        "syndication.translations.qa, syndication.translations.glossary; "
        "print(sorted(m for m in ('ctranslate2', 'sentencepiece', 'torch', 'requests') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        (
            "Vi ses bl.a. på messen d. 1. maj kl. 10. Det bliver godt!",
            "da",
            ["Vi ses bl.a. på messen d. 1. maj kl. 10.", "Det bliver godt!"],
        ),
        (
            "Se f.eks. Peter. Han kommer ca. 10 min. senere.",
            "da",
            ["Se f.eks. Peter.", "Han kommer ca. 10 min. senere."],
        ),
        (
            "Prisen var 3,5 mio. kr. i 2024. Næste år... måske.",
            "da",
            ["Prisen var 3,5 mio. kr. i 2024.", "Næste år... måske."],
        ),
        ("Version 2.5 kom. Nr. 3 vandt, dvs. Anna.", "da", ["Version 2.5 kom.", "Nr. 3 vandt, dvs. Anna."]),
        ('Han sagde: "Kom nu." Så gik han.', "da", ['Han sagde: "Kom nu."', "Så gik han."]),
        ("H. C. Andersen skrev. Vi læste.", "da", ["H. C. Andersen skrev.", "Vi læste."]),
        ("Vent… Hvad nu? Intet.", "da", ["Vent…", "Hvad nu?", "Intet."]),
        ("Det kostede osv. Men ok.", "da", ["Det kostede osv.", "Men ok."]),
        ("Am 1. Mai ist Feiertag. Z.B. heute.", "de", ["Am 1. Mai ist Feiertag.", "Z.B. heute."]),
        (
            "See e.g. Mr. Smith. He came at 5 p.m. today.",
            "en",
            ["See e.g. Mr. Smith.", "He came at 5 p.m. today."],
        ),
        ("Første afsnit\n\nAndet afsnit", "da", ["Første afsnit", "Andet afsnit"]),
        ("www.example.dk er fin. Læs den.", "da", ["www.example.dk er fin.", "Læs den."]),
        ("", "da", []),
    ],
)
def test_sentence_splitter(text: str, lang: str, expected: list[str]) -> None:
    assert split_sentences(text, lang) == expected


# ------------------------------------------------------------------------------- properties

_WORDS = [
    "Netværk",
    "er",
    "guld",
    "1.",
    "maj",
    "bl.a.",
    "www.x.dk",
    "a@b.dk",
    "&amp;",
    "&lt;",
    "Hej!",
    "ok?",
    "3,5",
]


def _random_segment(rng: random.Random) -> str:
    counter = 0

    def build(depth: int) -> str:
        nonlocal counter
        out = []
        for _ in range(rng.randint(1, 5)):
            roll = rng.random()
            if roll < 0.2 and depth < 4:
                counter += 1
                out.append(f'<g id="{counter}">{build(depth + 1)}</g>')
            elif roll < 0.3:
                counter += 1
                out.append(f'<x id="{counter}"/>')
            else:
                out.append(rng.choice(_WORDS))
            out.append(rng.choice([" ", " ", ""]))
        return "".join(out)

    return re.sub(r" +", " ", build(0)).strip()


@pytest.fixture(scope="module")
def copy_engine(tmp_path_factory: pytest.TempPathFactory, argos_dist: dict[str, Path]) -> ArgosEngine:
    directory = tmp_path_factory.mktemp("copy-packages")
    install_file(argos_dist["da_en_copy_1.1"], directory)
    return ArgosEngine({"packages_dir": directory, "intra_threads": 1, "max_input_tokens": 12})


def test_copy_model_gives_every_random_segment_back(copy_engine: ArgosEngine) -> None:
    """With a model that copies, tags, atoms and URLs must land exactly where they were (spacing
    next to a tag may move), even with sentences cut into 12-token pieces."""
    rng = random.Random(20261127)
    sources = [_random_segment(rng) for _ in range(120)]
    outputs = copy_engine.translate(sources, source="da", target="en")
    for source, output in zip(sources, outputs, strict=True):
        assert re.sub(r"\s+", "", output.text) == re.sub(r"\s+", "", source)


def test_no_placeholder_is_ever_lost_on_hostile_input(engine: ArgosEngine) -> None:
    rng = random.Random(7)
    noise = [
        "😀",
        "\u200b",
        "\ue000",
        "...",
        "“citat”",
        "\n\n",
        "x" * 40,
        "R&notes",
        "<",
        ">",
        "&",
        "</g>",
        '<g id="z">',
    ]
    sources = []
    for _ in range(60):
        parts = re.split(r"(<[^<>]+>)", _random_segment(rng))  # noise goes between tags, not inside
        sources.append(
            "".join(p if p.startswith("<") or rng.random() < 0.5 else p + rng.choice(noise) for p in parts)
        )
    tag = re.compile(r'<g id="[^"]+">|</g>|<x id="[^"]+"/>')
    for target in ("en", "de"):
        for source, output in zip(
            sources, engine.translate(sources, source="da", target=target), strict=True
        ):
            assert Counter(tag.findall(output.text)) == Counter(tag.findall(source))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a span ending in the space after a sentence that has nothing to translate
        ('12 <g id="1">34. </g>Tekst her.', '12 <g id="1">34.</g> TEKST HER.'),
        ('Se <g id="1">www.x.dk. a@b.dk </g>1. 2.', 'SE <g id="1">www.x.dk. a@b.dk</g> 1. 2.'),
        # two stand-ins with no space between them
        ('Mail a@b.dk<x id="1"/>nu.', 'MAIL a@b.dk<x id="1"/>NU.'),
        # an atom between a span's tag and its words stays inside the span
        ('<g id="1"><x id="2"/> Tekst her.</g>', '<g id="1"><x id="2"/> TEKST HER.</g>'),
        ('<g id="1">Tekst her<x id="2"/></g> Slut.', '<g id="1">TEKST HER<x id="2"/></g> SLUT.'),
        # a zero-width space the tokenizer treats as a word boundary
        ('Hej\u200b <g id="1">verden</g>.', 'HEJ <g id="1">VERDEN</g>.'),
        # spans that start or end inside a word
        ('<g id="1">Messe C</g>s stand.', '<g id="1">MESSE C</g>S STAND.'),
        ('Vi gik (<g id="1">se</g>kort) hjem.', 'VI GIK (<g id="1">SE</g>KORT) HJEM.'),
        ('<g id="1">Netværk</g>&amp;guld.', '<g id="1">NETVÆRK</g>&amp;GULD.'),
    ],
)
def test_placeholder_edge_cases_found_by_fuzzing(engine: ArgosEngine, source: str, expected: str) -> None:
    [out] = engine.translate([source], source="da", target="en")
    assert out.text == expected


# ------------------------------------------------------------------------------ confidence


def test_confidence_is_the_models_token_probability(engine: ArgosEngine) -> None:
    """From CTranslate2's hypothesis scores (length normalisation undone): in (0, 1] for every
    text the model translated, ``None`` where nothing went to the model; a pivot (da→en→de)
    multiplies its two steps', so it is never above the direct step's."""
    sources = ["Netværk er guld.", "", "2024 – 12.500", 'Læs <g id="1">mere</g> her. Vi ses.']
    direct = engine.translate(sources, source="da", target="en")
    assert [o.confidence is None for o in direct] == [False, True, True, False]
    for output in (direct[0], direct[3]):
        assert output.confidence is not None and 0 < output.confidence <= 1
    [pivot] = engine.translate(["Netværk er guld."], source="da", target="de")
    assert pivot.confidence is not None and direct[0].confidence is not None
    assert 0 < pivot.confidence <= direct[0].confidence


def test_token_log_prob_undoes_the_length_normalisation() -> None:
    hypothesis = Hypothesis(tokens=["a", "b", "c"], attention=None, score=-0.5)
    # score = log P / (4 ** 0.2) with 4 tokens (3 + end of sentence): mean = log P / 4.
    assert token_log_prob(hypothesis, 0.2) == pytest.approx(-0.5 * 4**0.2 / 4)
    assert token_log_prob(hypothesis, 1.0) == pytest.approx(-0.5)
    assert token_log_prob(Hypothesis(["a"], None), 0.2) is None
