"""The Danish sentences written for this project, with Norwegian and Swedish references.

``tests/fixtures/translations/da-nb-sv.tsv`` holds 207 sentences with references written by hand
(Bokmål and Swedish); ``danish_sentences.txt`` holds 335 more Danish sentences. Both cover rural
life, local business, networking, weather, food and events, with varied punctuation. Shared by the
tests and ``python -m bench`` (which also keeps ``apertium_alone.json``: each batch segment
translated alone, one Apertium process per segment, see ``bench/apertium_bench.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from syndication.segments.markup import escape

FIXTURES = Path(__file__).parents[1] / "fixtures" / "translations"
TRIPLES = FIXTURES / "da-nb-sv.tsv"
MORE = FIXTURES / "danish_sentences.txt"
ALONE = FIXTURES / "apertium_alone.json"
PAIRS = ("nb", "nn", "sv")


def _lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def references(target: str) -> list[tuple[str, str]]:
    """(Danish, reference) pairs for ``nb`` or ``sv``."""
    column = {"nb": 1, "sv": 2}[target]
    return [(cols[0], cols[column]) for cols in (line.split("\t") for line in _lines(TRIPLES))]


def danish() -> list[str]:
    """Every Danish sentence, plain text."""
    return [source for source, _ in references("nb")] + _lines(MORE)


def batch_segments() -> list[str]:
    """The batch-vs-alone set: every sentence as segment markup; every sixth one carries a link
    placeholder around its second and third words, every eleventh an empty placeholder at its end."""
    segments = []
    for n, sentence in enumerate(danish()):
        words = escape(sentence).split(" ")
        if n % 6 == 0 and len(words) >= 4:
            words[1] = f'<g id="1">{words[1]}'
            words[2] = f"{words[2]}</g>"
        text = " ".join(words)
        if n % 11 == 0:
            text += ' <x id="2"/>'
        segments.append(text)
    return segments


def alone_outputs() -> dict[str, Any]:
    """``{"versions": {target: package version}, "outputs": {target: [text, ...]}}``."""
    data: dict[str, Any] = json.loads(ALONE.read_text(encoding="utf-8"))
    return data
