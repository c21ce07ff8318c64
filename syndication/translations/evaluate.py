"""``syndicate evaluate``: how well each engine translates a user's own texts.

The user gives a tab-separated file (source, reference translation per line) and a pair; every
named engine (default: the one configured for the target language) translates all sources in one
batch, as the pipeline would. Reported per engine: corpus BLEU and chrF (sacrebleu), speed
(sentences per second of the batch), the share of segments the pipeline's QA would flag, how far
the engine's confidence follows sentence chrF, and the worst segments side by side. That is how a
user picks an engine per language on their own texts (docs/engines.md).

Importing this module imports neither sacrebleu nor any engine, so ``syndicate --help`` stays fast.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syndication import exit_codes
from syndication.cli_support import config_option, echo_json, json_option
from syndication.errors import ConfigError, SyndicationError

if TYPE_CHECKING:
    from syndication.settings import Settings
    from syndication.translations.engine import TranslationEngine


@dataclass(frozen=True)
class Scored:
    """One line of the file, translated and scored."""

    line: int
    source: str
    reference: str
    output: str
    chrf: float
    confidence: float | None
    flags: list[str]


@dataclass
class EngineReport:
    engine: str
    version: str
    source: str
    target: str
    segments: int
    bleu: float
    chrf: float
    seconds: float
    sentences_per_second: float
    flagged: int
    flagged_share: float
    confidence_pearson: float | None
    """Pearson correlation of the engine's confidence with sentence chrF (``None``: no confidence,
    or it never varies)."""
    confidence_spearman: float | None
    worst: list[Scored] = field(default_factory=list)


# ----------------------------------------------------------------------------------- the file


def read_pairs(path: Path) -> list[tuple[int, str, str]]:
    """(line number, source, reference) from a UTF-8 tab-separated file; blank lines and lines
    starting with ``#`` are skipped; a line without exactly one tab is an error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    pairs: list[tuple[int, str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) != 2 or not columns[0].strip() or not columns[1].strip():
            raise ConfigError(
                f"{path}:{number}: expected 'source<TAB>reference', found {len(columns)} column(s): "
                f"{line[:80]!r}"
            )
        pairs.append((number, columns[0].strip(), columns[1].strip()))
    if not pairs:
        raise ConfigError(f"{path}: no source/reference lines")
    return pairs


def parse_pair(value: str) -> tuple[str, str]:
    source, sep, target = value.partition("-")
    if not sep or not source or not target or "-" in target:
        raise ConfigError(f"--pair must look like da-sv (source-target), not {value!r}")
    return source.lower(), target.lower()


# ----------------------------------------------------------------------------------- statistics


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    if n < 3 or n != len(ys):
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    vx = sum((x - mx) ** 2 for x in xs)
    vy = sum((y - my) ** 2 for y in ys)
    if vx == 0 or vy == 0:
        return None
    return cov / math.sqrt(vx * vy)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2  # ties share their mean rank
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    return pearson(_ranks(xs), _ranks(ys))


# ----------------------------------------------------------------------------------- evaluation


def build_engine(settings: Settings, name: str) -> TranslationEngine:
    """An engine by its name in ``[engines.NAME]``, or a registered engine type used as it is."""
    from syndication import registry
    from syndication.translations.engine_choice import engine_spec

    config = settings.engines.get(name)
    engine_type, options = engine_spec(settings, name)
    if config is None and engine_type not in registry.available(registry.ENGINE_GROUP):
        known = sorted(set(settings.engines) | set(registry.available(registry.ENGINE_GROUP)))
        raise ConfigError(f"no engine {name!r} in the config or registered: use one of {', '.join(known)}")
    engine: TranslationEngine = registry.load(registry.ENGINE_GROUP, engine_type)(options)
    return engine


def evaluate(
    engine: TranslationEngine,
    pairs: Sequence[tuple[int, str, str]],
    *,
    source: str,
    target: str,
    min_confidence: float = 0.0,
    worst: int = 10,
    name: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> EngineReport:
    """Translate every source in one batch and score it against the references."""
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    from syndication.segments.markup import escape, plain_text
    from syndication.translations.qa import check

    texts = [escape(src) for _, src, _ in pairs]
    version = engine.version(source, target)
    started = clock()
    outputs = engine.translate(texts, source=source, target=target)
    seconds = max(clock() - started, 0.0)
    if len(outputs) != len(texts):
        raise SyndicationError(
            f"engine {name or engine.name!r} returned {len(outputs)} translations for {len(texts)} texts"
        )
    hypotheses = [plain_text(output.text) for output in outputs]
    references = [ref for _, _, ref in pairs]
    chrf = CHRF()
    scored: list[Scored] = []
    for (line, src, ref), text, output, hypothesis in zip(pairs, texts, outputs, hypotheses, strict=True):
        flags = check(
            text,
            output.text,
            source_lang=source,
            target_lang=target,
            engine_flags=output.flags,
            confidence=output.confidence,
            min_confidence=min_confidence,
        )
        scored.append(
            Scored(
                line=line,
                source=src,
                reference=ref,
                output=hypothesis,
                chrf=round(chrf.sentence_score(hypothesis, [ref]).score, 2),
                confidence=output.confidence,
                flags=list(dict.fromkeys(flag.code for flag in flags)),
            )
        )
    known = [s for s in scored if s.confidence is not None]
    confidences = [s.confidence for s in known if s.confidence is not None]
    chrfs = [s.chrf for s in known]
    flagged = sum(1 for s in scored if s.flags)
    return EngineReport(
        engine=name or engine.name,
        version=version,
        source=source,
        target=target,
        segments=len(scored),
        bleu=round(BLEU().corpus_score(hypotheses, [references]).score, 2),
        chrf=round(chrf.corpus_score(hypotheses, [references]).score, 2),
        seconds=round(seconds, 4),
        sentences_per_second=round(len(scored) / seconds, 1) if seconds > 0 else float("inf"),
        flagged=flagged,
        flagged_share=round(flagged / len(scored), 4),
        confidence_pearson=_rounded(pearson(confidences, chrfs)),
        confidence_spearman=_rounded(spearman(confidences, chrfs)),
        worst=sorted(scored, key=lambda s: (s.chrf, s.line))[:worst],
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# ----------------------------------------------------------------------------------- the command


def _format(report: EngineReport) -> list[str]:
    def number(value: float | None) -> str:
        return "–" if value is None else f"{value:+.2f}"

    speed = report.sentences_per_second
    lines = [
        f"{report.source}→{report.target}  {report.engine}  ({report.version})  {report.segments} segments",
        f"  BLEU {report.bleu:.1f}   chrF {report.chrf:.1f}   "
        f"{'∞' if math.isinf(speed) else f'{speed:,.1f}'} sentences/s   "
        f"flagged {report.flagged_share:.1%} ({report.flagged})   "
        f"confidence vs chrF: Pearson {number(report.confidence_pearson)}, "
        f"Spearman {number(report.confidence_spearman)}",
        f"  the {len(report.worst)} worst (sentence chrF; line; confidence):",
    ]
    for s in report.worst:
        confidence = "–" if s.confidence is None else f"{s.confidence:.2f}"
        flags = f"  ⚑ {', '.join(s.flags)}" if s.flags else ""
        lines += [
            f"  {s.chrf:5.1f}  line {s.line}, confidence {confidence}{flags}",
            f"         {report.source}: {s.source}",
            f"         →  {s.output}",
            f"         =  {s.reference}",
        ]
    return lines


@click.command("evaluate")
@config_option
@click.option("--pair", "pair", required=True, help="Source and target language, e.g. da-sv.")
@click.option(
    "--engine",
    "engines",
    multiple=True,
    help="Engine name from [engines.NAME] or a registered type; repeat to compare. "
    "Default: the engine configured for the target language.",
)
@click.option("--worst", default=10, show_default=True, type=click.IntRange(0), help="Worst segments shown.")
@json_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def evaluate_command(
    config: Path | None, pair: str, engines: tuple[str, ...], worst: int, as_json: bool, file: Path
) -> None:
    """Score engines on FILE (tab-separated: source, reference translation): corpus BLEU and chrF,
    speed, the share of segments QA would flag, and the worst segments side by side."""
    from syndication.cli_failures import command_failed
    from syndication.cli_support import config_path
    from syndication.settings import load_settings

    try:
        settings = load_settings(config_path(config))
        source, target = parse_pair(pair)
        pairs = read_pairs(file)
    except SyndicationError as exc:
        raise command_failed(exc, exit_code=exit_codes.USAGE) from exc
    names = list(dict.fromkeys(engines)) or [settings.engine_for(target)]
    threshold = settings.translation.confidence_threshold(target)
    reports: list[EngineReport] = []
    failures: list[str] = []
    for name in names:
        try:
            engine = build_engine(settings, name)
            reports.append(
                evaluate(
                    engine,
                    pairs,
                    source=source,
                    target=target,
                    min_confidence=threshold,
                    worst=worst,
                    name=name,
                )
            )
        except SyndicationError as exc:
            failures.append(f"{name} ({source}→{target}): {exc}")
    if as_json:
        echo_json(
            {
                "file": str(file),
                "pair": f"{source}-{target}",
                "reports": [asdict(r) for r in reports],
                "errors": failures,
            }
        )
    else:
        for report in reports:
            click.echo("\n".join(_format(report)))
            click.echo("")
        if len(reports) > 1:
            click.echo("engine               BLEU   chrF  sentences/s  flagged")
            for report in sorted(reports, key=lambda r: -r.chrf):
                click.echo(
                    f"{report.engine:<20} {report.bleu:5.1f}  {report.chrf:5.1f}  "
                    f"{report.sentences_per_second:11,.1f}  {report.flagged_share:7.1%}"
                )
    for failure in failures:
        click.echo(f"error: {failure}", err=True)
    if failures:
        raise SystemExit(1)
