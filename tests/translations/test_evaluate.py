"""``syndicate evaluate`` with the real Apertium engine and real sacrebleu scores."""

from __future__ import annotations

import json
import shutil
from itertools import count
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication.cli import main
from syndication.errors import ConfigError
from syndication.settings import Settings
from syndication.translations.apertium import ApertiumEngine
from syndication.translations.evaluate import (
    build_engine,
    evaluate,
    parse_pair,
    pearson,
    read_pairs,
    spearman,
)
from tests.translations.corpus import references

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed")


def tsv(tmp_path: Path, rows: list[tuple[str, str]], name: str = "pairs.tsv") -> Path:
    path = tmp_path / name
    path.write_text("# source\treference\n" + "".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    return path


def test_cli_scores_an_engine_and_shows_the_worst_segments(tmp_path):
    rows = references("sv")[:30]
    result = CliRunner().invoke(
        main, ["evaluate", "--pair", "da-sv", "--json", "--worst", "5", str(tsv(tmp_path, rows))]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["pair"] == "da-sv" and data["errors"] == []
    [report] = data["reports"]
    assert report["engine"] == "apertium"  # the default engine for Swedish from Danish
    assert report["version"].startswith("apertium-swe-dan ")
    assert report["segments"] == 30
    assert 0 < report["bleu"] < 100 and 0 < report["chrf"] < 100
    assert report["sentences_per_second"] > 0
    assert report["flagged_share"] == round(report["flagged"] / 30, 4)
    worst = report["worst"]
    assert len(worst) == 5
    assert [w["chrf"] for w in worst] == sorted(w["chrf"] for w in worst)
    for w in worst:
        assert (w["source"], w["reference"]) == rows[w["line"] - 2]  # line 1 is the comment
    text = CliRunner().invoke(main, ["evaluate", "--pair", "da-sv", "--worst", "2", str(tsv(tmp_path, rows))])
    assert text.exit_code == 0, text.output
    assert "BLEU" in text.output and "chrF" in text.output and "sentences/s" in text.output
    assert f"→  {worst[0]['output']}" in text.output and f"=  {worst[0]['reference']}" in text.output


def test_its_own_output_as_reference_scores_100(tmp_path):
    engine = ApertiumEngine()
    sources = [source for source, _ in references("nb")[:12]]
    outputs = [o.text for o in engine.translate(sources, source="da", target="nb")]
    pairs = read_pairs(tsv(tmp_path, list(zip(sources, outputs, strict=True))))
    report = evaluate(engine, pairs, source="da", target="nb")
    assert (report.bleu, report.chrf) == (100.0, 100.0)
    assert all(s.chrf == 100.0 for s in report.worst)


def test_speed_comes_from_the_clock_around_the_one_batch(tmp_path):
    ticks = count(start=10, step=4)  # the batch "takes" 4 s
    pairs = read_pairs(tsv(tmp_path, references("nb")[:8]))
    report = evaluate(ApertiumEngine(), pairs, source="da", target="nb", clock=lambda: next(ticks))
    assert (report.seconds, report.sentences_per_second) == (4.0, 2.0)


def test_low_confidence_counts_as_flagged(tmp_path):
    pairs = read_pairs(tsv(tmp_path, [("Vi skal på cykeltur langs fjorden.", "Vi ska cykla längs fjorden.")]))
    relaxed = evaluate(ApertiumEngine(), pairs, source="da", target="sv", min_confidence=0.0)
    strict = evaluate(ApertiumEngine(), pairs, source="da", target="sv", min_confidence=0.9)
    assert (relaxed.flagged, strict.flagged) == (0, 1)
    assert strict.worst[0].flags == ["low_confidence"]


def test_two_engines_one_unknown_the_other_still_reported(tmp_path):
    path = tsv(tmp_path, references("sv")[:5])
    result = CliRunner().invoke(
        main, ["evaluate", "--pair", "da-sv", "--engine", "apertium", "--engine", "nosuch", str(path)]
    )
    assert result.exit_code == 1
    assert "da→sv  apertium" in result.output
    assert "error: nosuch (da→sv): no engine 'nosuch'" in result.output


def test_bad_input_names_the_line_or_the_pair(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("Hej\tHei\nkun en kolonne\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", "--pair", "da-nb", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2: expected 'source<TAB>reference'" in result.output
    with pytest.raises(ConfigError, match="no such file"):
        read_pairs(tmp_path / "missing.tsv")
    with pytest.raises(ConfigError, match="da-sv"):
        parse_pair("dasv")
    assert parse_pair("DA-SV") == ("da", "sv")
    with pytest.raises(ConfigError, match="no engine 'nosuch'"):
        build_engine(Settings(), "nosuch")


def test_correlations():
    assert pearson([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1.0)
    assert pearson([1, 2, 3, 4], [8, 6, 4, 2]) == pytest.approx(-1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) is None  # no variation, no correlation
    assert spearman([1, 2, 3, 4], [1, 4, 9, 100]) == pytest.approx(1.0)
    assert spearman([1, 1, 2, 3], [5, 5, 6, 7]) == pytest.approx(1.0)  # ties share a rank
