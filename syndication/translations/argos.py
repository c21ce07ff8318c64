"""Neural translation offline: Argos packages (and any CTranslate2 model) run in large batches.

Why not ``argostranslate.translate``: it installs torch, stanza and spaCy, its sentence splitters
download models at run time, and it decodes one paragraph per CTranslate2 call with beam 4. Here:

* all segments of a call are parsed (:mod:`~syndication.translations.inline`), split into sentences
  offline (:mod:`~syndication.translations.sentences`), encoded with SentencePiece, de-duplicated,
  and sent to CTranslate2 as **one** batch per model, cut into token-balanced sub-batches that the
  model's replicas (one single-threaded replica per physical core by default) decode in parallel
  (:func:`~syndication.translations.ct2_runtime.plan_sub_batches`);
* sentences longer than ``max_input_tokens`` are cut at word boundaries into pieces (flagged
  ``long_input``), and ``max_decoding_length`` follows the longest input of the call;
* a pair without a direct package pivots through English: the first pass's output segments (tags
  and all) are the second pass's input, so both passes are single batched calls;
* placeholders never reach the model: spans are projected back through attention and atoms travel
  as stand-in numbers (:mod:`~syndication.translations.projection`).

``ArgosEngine`` reads installed Argos packages; ``CTranslate2Engine`` runs one configured model
folder for one pair (e.g. an OPUS-MT model converted with ``ct2-transformers-converter``).
"""

from __future__ import annotations

import hashlib
import math
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from syndication.errors import ConfigError, EngineUnavailableError
from syndication.models import EngineOutput, QAFlag
from syndication.translations import argos_packages
from syndication.translations.argos_packages import PackageInfo
from syndication.translations.ct2_runtime import (
    Ct2Model,
    RuntimeOptions,
    check_keys,
    default_source_suffix,
    token_log_prob,
)
from syndication.translations.inline import (
    ModelText,
    Parsed,
    Unit,
    build_units,
    has_letters,
    model_text,
    parse,
    render,
    render_source_unit,
)
from syndication.translations.projection import ChunkOutput, place

PIVOT = "en"
LONG_INPUT = "long_input"


# ------------------------------------------------------------------------------ one batched pass


@dataclass
class _Chunk:
    tokens: tuple[str, ...]
    source_words: list[int]
    starts_word: bool


@dataclass
class _Job:
    segment: int
    unit: int
    parsed: Parsed
    model: ModelText
    chunks: list[_Chunk]


def _chunks(tokens: list[str], words: list[int], limit: int) -> list[_Chunk]:
    """Cut a too-long input into pieces of at most ``limit`` tokens, preferring word boundaries
    after punctuation, then any word boundary, then (inside one enormous word) anywhere."""
    if len(tokens) <= limit:
        return [_Chunk(tuple(tokens), words, True)]
    out: list[_Chunk] = []
    start = 0
    while start < len(tokens):
        end = min(len(tokens), start + limit)
        if end < len(tokens):
            window = range(end, start + limit // 2, -1)
            after_punct = [
                i for i in window if tokens[i].startswith("▁") and tokens[i - 1].rstrip()[-1:] in ",;:.!?)"
            ]
            at_word = [i for i in window if tokens[i].startswith("▁")]
            end = (after_punct or at_word or [end])[0]
        out.append(
            _Chunk(tuple(tokens[start:end]), words[start:end], tokens[start].startswith("▁") or start == 0)
        )
        start = end
    return out


def translate_pass(
    model: Ct2Model, texts: Sequence[str], *, source_lang: str
) -> list[tuple[str, list[QAFlag], float | None]]:
    """Translate segment markup with one model in one batched call; returns text, flags and the
    model's confidence (``None`` for a text with nothing to translate)."""
    parsed: list[Parsed | None] = []
    units: list[list[Unit]] = []
    unit_out: list[list[str]] = []
    flags: list[list[QAFlag]] = [[] for _ in texts]
    jobs: list[_Job] = []
    for index, text in enumerate(texts):
        if not text.strip():
            parsed.append(None)
            units.append([])
            unit_out.append([])
            continue
        doc = parse(text)
        doc_units = build_units(doc, source_lang)
        parsed.append(doc)
        units.append(doc_units)
        unit_out.append([render_source_unit(doc, u) for u in doc_units])  # kept if not translated
        for number, unit in enumerate(doc_units):
            prepared = model_text(doc, unit)
            if has_letters(prepared.text):  # numbers, URLs and symbols alone are left as they are
                jobs.append(_Job(index, number, doc, prepared, []))

    # Encoded word by word (in one call): SentencePiece never joins pieces across whitespace, so
    # this is the sentence's own encoding, and each piece's word is known exactly.
    encoded = iter(model.encode([job.model.text[a:b] for job in jobs for a, b in job.model.words]))
    limit = model.options.max_input_tokens
    for job in jobs:
        tokens: list[str] = []
        words: list[int] = []
        for word in range(len(job.model.words)):
            pieces = next(encoded)
            tokens.extend(pieces)
            words.extend([word] * len(pieces))
        job.chunks = _chunks(tokens, words, limit)
        if len(job.chunks) > 1:
            flags[job.segment].append(
                QAFlag(
                    LONG_INPUT,
                    f"A sentence of {len(tokens)} tokens was translated in {len(job.chunks)} pieces "
                    f"(limit {limit}); check the joins.",
                )
            )

    unique: dict[tuple[str, ...], int] = {}
    for job in jobs:
        for chunk in job.chunks:
            unique.setdefault(chunk.tokens, len(unique))
    need_attention = any(job.model.spans or job.model.stand_ins for job in jobs)
    hypotheses = model.translate(list(unique), attention=need_attention)

    # Per text: summed log-probability and token count over all its sentence pieces.
    log_probs: list[list[float]] = [[0.0, 0.0] for _ in texts]
    for job in jobs:
        for chunk in job.chunks:
            hypothesis = hypotheses[unique[chunk.tokens]]
            mean = token_log_prob(hypothesis, model.options.length_penalty)
            if mean is not None:
                length = len(hypothesis.tokens) + 1
                log_probs[job.segment][0] += mean * length
                log_probs[job.segment][1] += length
        outputs = [
            ChunkOutput(
                source_words=chunk.source_words,
                target_tokens=hypotheses[unique[chunk.tokens]].tokens,
                attention=hypotheses[unique[chunk.tokens]].attention,
                starts_word=chunk.starts_word,
            )
            for chunk in job.chunks
        ]
        markup, placed_flags = place(job.parsed, job.model, outputs, source_word_count=len(job.model.words))
        unit_out[job.segment][job.unit] = markup
        flags[job.segment].extend(placed_flags)

    results: list[tuple[str, list[QAFlag], float | None]] = []
    for index, text in enumerate(texts):
        done = parsed[index]
        total, count = log_probs[index]
        confidence = round(math.exp(total / count), 4) if count else None
        if done is None:
            results.append((text, [], None))
        else:
            results.append((render(done, units[index], unit_out[index]), _unique(flags[index]), confidence))
    return results


def _unique(flags: Sequence[QAFlag]) -> list[QAFlag]:
    return list(dict.fromkeys(flags))


def _run(steps: Sequence[tuple[Ct2Model, str]], texts: Sequence[str]) -> list[EngineOutput]:
    """Translate through each step (a pivot has two); a text's confidence is the product of its
    steps' (the geometric-mean token probability of each model, so both must be sure)."""
    current = list(texts)
    flags: list[list[QAFlag]] = [[] for _ in texts]
    confidence: list[float | None] = [None for _ in texts]
    for model, source_lang in steps:
        results = translate_pass(model, current, source_lang=source_lang)
        current = [text for text, _, _ in results]
        for index, (_text, found, score) in enumerate(results):
            flags[index].extend(found)
            if score is not None:
                previous = confidence[index]
                confidence[index] = score if previous is None else round(previous * score, 4)
    return [
        EngineOutput(text, tuple(_unique(found)), score)
        for text, found, score in zip(current, flags, confidence, strict=True)
    ]


# ------------------------------------------------------------------------------------ engines


def _install_hint(source: str, target: str, installed: set[tuple[str, str]], install: str) -> str:
    direct = argos_packages.package_code(source, target)
    if PIVOT in (source, target):
        return (
            f"run `{install} {direct}` (needs internet), or download {direct} elsewhere "
            f"and run `{install} FILE.argosmodel`"
        )
    # Only the missing half (or halves) of the route through English.
    missing = [
        argos_packages.package_code(*pair)
        for pair in ((source, PIVOT), (PIVOT, target))
        if pair not in installed
    ]
    commands = " and ".join(f"`{install} {code}`" for code in missing)
    return (
        f"run {commands} to translate through English (or `{install} {direct}` if the "
        "index has it); offline, download the file(s) elsewhere and run "
        f"`{install} FILE.argosmodel`"
    )


class ArgosEngine:
    """Installed Argos packages, run directly on CTranslate2 in large batches.

    Config: ``packages_dir`` (default ``$ARGOS_PACKAGES_DIR`` or Argos's own folder; relative paths
    resolve against ``base_dir`` when given), plus the runtime settings of
    :class:`~syndication.translations.ct2_runtime.RuntimeOptions` (``beam_size``, ``compute_type``,
    ``device``, ``inter_threads``, ``intra_threads``, ``max_batch_size``, ``max_input_tokens`` …).
    """

    name = "argos"
    model_class: ClassVar[type[Ct2Model]] = Ct2Model
    """Subclasses may swap in an instrumented model (the tests count batch calls this way)."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = dict(config or {})
        check_keys(config, ("packages_dir",), "argos")
        directory = config.get("packages_dir")
        if directory:
            # Relative to the project folder (``base_dir``, as the settings resolve paths) if given.
            path = Path(str(directory)).expanduser()
            self.packages_dir = path if path.is_absolute() else Path(str(config.get("base_dir", "."))) / path
        else:
            self.packages_dir = argos_packages.default_packages_dir()
        self.options = RuntimeOptions.from_config(config)
        self._models: dict[Path, Ct2Model] = {}

    # -- discovery ----------------------------------------------------------------------------

    def packages(self) -> list[PackageInfo]:
        return argos_packages.installed_packages(self.packages_dir)

    @property
    def install_command(self) -> str:
        """The exact ``syndicate models install`` command for this engine's folder: the folder is
        named unless it is Argos's default, so the command works from any directory and config."""
        if self.packages_dir == argos_packages.default_packages_dir():
            return "syndicate models install"
        return f"syndicate models --packages-dir {shlex.quote(str(self.packages_dir))} install"

    def _direct(
        self,
    ) -> tuple[dict[tuple[str, str], PackageInfo], dict[tuple[str, str], PackageInfo]]:
        usable: dict[tuple[str, str], PackageInfo] = {}
        broken: dict[tuple[str, str], PackageInfo] = {}
        for package in self.packages():
            pair = (package.from_code, package.to_code)
            (usable if package.usable else broken)[pair] = package
        return usable, broken

    def pairs(self) -> set[tuple[str, str]]:
        usable, _broken = self._direct()
        found = set(usable)
        for a, b in usable:
            if b == PIVOT:
                found.update((a, c) for (p, c) in usable if p == PIVOT and c != a)
        return found

    def route(self, source: str, target: str) -> list[PackageInfo]:
        """The package(s) translating ``source`` → ``target``: one, or two through English."""
        usable, broken = self._direct()
        if (source, target) in usable:
            return [usable[(source, target)]]
        if (source, PIVOT) in usable and (PIVOT, target) in usable and PIVOT not in (source, target):
            return [usable[(source, PIVOT)], usable[(PIVOT, target)]]
        for pair in ((source, target), (source, PIVOT), (PIVOT, target)):
            if pair in broken:
                package = broken[pair]
                raise EngineUnavailableError(
                    f"the Argos package for {pair[0]}→{pair[1]} at {package.path} is damaged "
                    f"({package.problem}); reinstall it: `{self.install_command} {package.code}` or "
                    f"`{self.install_command} FILE.argosmodel`",
                    lang=target,
                )
        raise EngineUnavailableError(
            f"no Argos model for {source}→{target} in {self.packages_dir}: "
            f"{_install_hint(source, target, set(usable), self.install_command)}",
            lang=target,
        )

    def version(self, source: str, target: str) -> str:
        return "+".join(package.provenance for package in self.route(source, target))

    # -- translating --------------------------------------------------------------------------

    def _model(self, package: PackageInfo) -> Ct2Model:
        if package.path not in self._models:
            prefix = package.target_prefix.split() if package.target_prefix else []
            self._models[package.path] = self.model_class(
                label=f"Argos package {package.code} ({package.path})",
                model_dir=package.path / "model",
                source_spm=package.path / "sentencepiece.model",
                target_spm=package.path / "sentencepiece.model",
                options=self.options,
                target_prefix=prefix,
                reinstall_hint=f"reinstall it with `{self.install_command} {package.code}`",
            )
        return self._models[package.path]

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[EngineOutput]:
        steps = [(self._model(package), package.from_code) for package in self.route(source, target)]
        return _run(steps, texts)


_CT2_KEYS = (
    "model", "source", "target", "source_spm", "target_spm", "sentencepiece", "source_prefix",
    "source_suffix", "target_prefix", "version",
)  # fmt: skip


class CTranslate2Engine:
    """One CTranslate2 model folder with SentencePiece models, configured for one pair.

    Config: ``model`` (folder with ``model.bin``), ``source``/``target`` language tags,
    ``source_spm``/``target_spm`` (default ``source.spm``/``target.spm`` in the model folder, as
    ``ct2-transformers-converter`` leaves OPUS-MT models) or one shared ``sentencepiece`` model,
    optional ``source_prefix``/``target_prefix`` tokens (space-separated) for multilingual models,
    ``source_suffix`` (default: ``</s>`` when the model's ``config.json`` says the caller must add it,
    as for OPUS-MT models converted with ``ct2-transformers-converter``; ``""`` for none),
    optional ``version`` (default: a fingerprint of ``model.bin``), plus the runtime settings of
    :class:`~syndication.translations.ct2_runtime.RuntimeOptions`.
    """

    name = "ctranslate2"
    model_class: ClassVar[type[Ct2Model]] = Ct2Model

    def __init__(self, config: Mapping[str, Any]) -> None:
        config = dict(config)
        check_keys(config, _CT2_KEYS, "ctranslate2")
        base = Path(str(config.get("base_dir", ".")))
        missing = [key for key in ("model", "source", "target") if not config.get(key)]
        if missing:
            raise ConfigError(f"ctranslate2 engine: missing setting(s) {', '.join(missing)}")

        def resolve(value: Any) -> Path:
            path = Path(str(value)).expanduser()
            return path if path.is_absolute() else base / path

        self.model_dir = resolve(config["model"])
        self.source, self.target = str(config["source"]), str(config["target"])
        shared = config.get("sentencepiece")
        if shared:
            source_spm = target_spm = resolve(shared)
        else:
            source_spm = resolve(config.get("source_spm") or self.model_dir / "source.spm")
            target_spm = resolve(config.get("target_spm") or self.model_dir / "target.spm")
            if not source_spm.exists() and (self.model_dir / "sentencepiece.model").exists():
                source_spm = target_spm = self.model_dir / "sentencepiece.model"
        self._version = str(config["version"]) if config.get("version") else None
        self.options = RuntimeOptions.from_config(config)
        self.model = self.model_class(
            label=f"CTranslate2 model {self.model_dir}",
            model_dir=self.model_dir,
            source_spm=source_spm,
            target_spm=target_spm,
            options=self.options,
            target_prefix=str(config.get("target_prefix", "")).split(),
            source_prefix=str(config.get("source_prefix", "")).split(),
            source_suffix=(
                default_source_suffix(self.model_dir)
                if config.get("source_suffix") is None
                else str(config["source_suffix"]).split()
            ),
            reinstall_hint="check the `model` setting of this engine",
        )

    def pairs(self) -> set[tuple[str, str]]:
        return {(self.source, self.target)} if (self.model_dir / "model.bin").is_file() else set()

    def _check(self, source: str, target: str) -> None:
        if (source, target) != (self.source, self.target):
            raise EngineUnavailableError(
                f"the CTranslate2 model {self.model_dir} translates {self.source}→{self.target}, "
                f"not {source}→{target}; configure another engine for this language",
                lang=target,
            )
        if not (self.model_dir / "model.bin").is_file():
            raise EngineUnavailableError(
                f"no CTranslate2 model at {self.model_dir} (model.bin missing); convert one with "
                "`ct2-transformers-converter --model NAME --output_dir DIR` and set `model` to DIR",
                lang=target,
            )

    def version(self, source: str, target: str) -> str:
        self._check(source, target)
        if self._version is None:
            self._version = f"{self.model_dir.name}@{_fingerprint(self.model_dir / 'model.bin')}"
        return self._version

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[EngineOutput]:
        self._check(source, target)
        return _run([(self.model, source)], texts)


def _fingerprint(path: Path) -> str:
    """Size plus a hash of the first and last MiB: identifies a model file without reading it all."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(1024 * 1024))
        if size > 2 * 1024 * 1024:
            handle.seek(-1024 * 1024, 2)
            digest.update(handle.read())
    return digest.hexdigest()[:12]
