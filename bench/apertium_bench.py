"""Apertium: batch = alone, speed of the batch, and what its confidence is worth.

On the 542 Danish sentences of ``tests/fixtures/translations`` (every sixth with a link
placeholder, every eleventh with an empty one), for dan-nob, dan-nno and dan-swe:

* ``*_batch_vs_alone_differences``: segments whose translation in one batch (one process)
  differs from their translation alone (one process each, recorded in
  ``apertium_alone.json``); must be 0. ``*_old_html_differences``: the same count for the old
  ``apertium -f html`` wrapping (one ``<p>`` per segment), for comparison.
* ``*_batch_s`` / ``*_old_html_batch_s``: wall time of the batch, now and with the old wrapping.
* ``*_confidence_chrf_pearson`` / ``_spearman``: correlation of the engine's confidence with
  sentence chrF against the hand-written references (nb and sv, 207 sentences each), with the
  corpus BLEU and chrF.

``APERTIUM_BENCH_REGENERATE=1 python -m bench apertium`` re-records the alone translations (one
process per segment: about ten minutes per pair on a busy 2-core machine), e.g. after an upgrade
of the Apertium language data.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator

from syndication.segments.markup import canonical, escape, tokenize
from syndication.translations.apertium import ApertiumEngine, _finish
from syndication.translations.evaluate import evaluate
from tests.translations.corpus import ALONE, PAIRS, alone_outputs, batch_segments, references

_WRAPPED_RE = re.compile(r'<p id="syn-([0-9]+)">(.*?)</p>', re.DOTALL)


def _old_prepare(body: str) -> str:
    parts = []
    for token in tokenize(body):
        if token.kind == "text":
            text = escape(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", token.value))
            parts.append(text.replace("#", "&#35;").replace("*", "&#42;").replace("@", "&#64;"))
        else:
            parts.append(canonical([token]))
    return "".join(parts)


def _old_html_batch(mode: str, segments: list[str]) -> list[list[object]]:
    """The engine's former way: one HTML document, a ``<p>`` per segment, ``apertium -f html``."""
    document = "".join(f'<p id="syn-{n}">{_old_prepare(s)}</p>\n' for n, s in enumerate(segments))
    output = subprocess.run(
        ["apertium", "-f", "html", mode],
        input=document.encode(),
        capture_output=True,
        check=True,
        env={**os.environ, "APERTIUM_TRANSFUSE": "no"},
    ).stdout.decode()
    found = _WRAPPED_RE.findall(output)
    results: list[list[object]] = []
    for (_, raw), source in zip(found, segments, strict=True):
        text, flags, _, _ = _finish(raw, source, mode)
        results.append([text, [flag.message for flag in flags]])
    return results


def _regenerate(engine: ApertiumEngine, segments: list[str]) -> None:
    data: dict[str, dict[str, object]] = {"versions": {}, "outputs": {}}
    for target in PAIRS:
        data["versions"][target] = engine.version("da", target)
        data["outputs"][target] = [
            [o.text, [f.message for f in o.flags]]
            for s in segments
            for o in engine.translate([s], source="da", target=target)
        ]
    ALONE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def run() -> Iterator[tuple[str, float, str]]:
    engine = ApertiumEngine()
    segments = batch_segments()
    if os.environ.get("APERTIUM_BENCH_REGENERATE"):
        _regenerate(engine, segments)
    alone = alone_outputs()
    for target in PAIRS:
        mode = {"nb": "dan-nob", "nn": "dan-nno", "sv": "dan-swe"}[target]
        if alone["versions"][target] != engine.version("da", target):
            raise SystemExit(
                f"{ALONE} was recorded with {alone['versions'][target]}; installed is "
                f"{engine.version('da', target)}: run APERTIUM_BENCH_REGENERATE=1 python -m bench apertium"
            )
        started = time.perf_counter()
        outputs = engine.translate(segments, source="da", target=target)
        batch_s = time.perf_counter() - started
        batch = [[o.text, [f.message for f in o.flags]] for o in outputs]
        started = time.perf_counter()
        old = _old_html_batch(mode, segments)
        old_s = time.perf_counter() - started
        reference = alone["outputs"][target]
        yield f"apertium_{target}_segments", len(segments), "segments"
        yield (
            f"apertium_{target}_batch_vs_alone_differences",
            sum(1 for a, b in zip(batch, reference, strict=True) if a != b),
            "segments",
        )
        yield (
            f"apertium_{target}_old_html_differences",
            sum(1 for a, b in zip(old, reference, strict=True) if a != b),
            "segments",
        )
        yield f"apertium_{target}_batch_s", batch_s, "s"
        yield f"apertium_{target}_old_html_batch_s", old_s, "s"
    for target in ("nb", "sv"):
        pairs = [(n, source, ref) for n, (source, ref) in enumerate(references(target), start=1)]
        report = evaluate(engine, pairs, source="da", target=target, min_confidence=0.5)
        yield f"apertium_{target}_bleu", report.bleu, "BLEU"
        yield f"apertium_{target}_chrf", report.chrf, "chrF"
        yield (
            f"apertium_{target}_confidence_below_1",
            sum(1 for s in _all_confidences(engine, target) if s < 1),
            "segments",
        )
        yield f"apertium_{target}_confidence_chrf_pearson", report.confidence_pearson or 0.0, "r"
        yield f"apertium_{target}_confidence_chrf_spearman", report.confidence_spearman or 0.0, "rho"


def _all_confidences(engine: ApertiumEngine, target: str) -> list[float]:
    outputs = engine.translate([escape(s) for s, _ in references(target)], source="da", target=target)
    return [o.confidence for o in outputs if o.confidence is not None]
