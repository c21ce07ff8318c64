"""Benchmark: the ``argos`` engine against argostranslate-style calls and a raw CTranslate2 call.

Everything is built here, offline: a real-size Transformer-base (6+6 layers, d=512, 8 heads,
FFN 2048, 32k vocabulary) with random weights, quantized to int8 and packaged in the Argos layout
(cached in the temp folder). Random weights decode garbage, so every method is forced to the same
fixed output length (``min_decoding_length = max_decoding_length``): the work per sentence is the
same whichever way it is batched, and only the batching differs.

Measured side by side, in one run, on the same 60-block Danish post (:mod:`bench.argos_post`),
with one shared ``ctranslate2.Translator`` (same threads) for every method:

* **ours** — ``ArgosEngine.translate`` on the post's segments (placeholders and all): sentence
  split, SentencePiece, de-duplication, one ``translate_batch`` (with attention for placeholder
  projection), reassembly;
* **per text node** — what ``argostranslate.translate.translate()`` does when a tool such as
  translate-html or LibreTranslate calls it once per HTML text node, reproduced from argostranslate
  1.11 (``apply_packaged_translation``): per node, per ``\\n`` paragraph, one ``translate_batch`` of
  its sentences with ``beam_size=4, num_hypotheses=1, length_penalty=0.2, return_scores=True,
  replace_unknowns=True, max_batch_size=32, batch_type="tokens"``, decoded with SentencePiece.
  argostranslate itself is not installed (it would pull torch); its sentence splitter is replaced
  by ours, which is cheaper than Stanza/MiniSBD, so the baseline is if anything flattered;
* **raw** — one ``translate_batch`` call on exactly the token lists our engine sent, same options,
  no attention: the floor for any engine.

``run()`` returns ``(name, value, unit)`` rows; ``python -m bench.argos_bench`` prints them.
"""

from __future__ import annotations

import html
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bench.argos_post import BLOCKS

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from syndication.translations.argos import ArgosEngine  # noqa: E402
from syndication.translations.ct2_runtime import Ct2Model  # noqa: E402
from syndication.translations.sentences import split_sentences  # noqa: E402

OUTPUT_LENGTH = 32
"""Target tokens per sentence for every method (a Danish blog sentence is ~20–35 pieces)."""
VOCAB_SIZE = 32_000
LAYERS, HEADS, D_MODEL, FFN = 6, 8, 512, 2048
ROUNDS = int(os.environ.get("SYNDICATION_BENCH_ROUNDS", "2"))
"""Every method runs once per round, interleaved, and its best round counts: on a shared machine
load comes and goes, and interleaving exposes every method to it alike."""
FAST_ROUNDS = int(os.environ.get("SYNDICATION_BENCH_FAST_ROUNDS", "5"))
"""Rounds for the ours-vs-raw pair (a few seconds each; their ratio is the one close to 1)."""
CACHE = Path(os.environ.get("SYNDICATION_BENCH_CACHE", tempfile.gettempdir())) / "syndication-bench"
PACKAGE = "translate-da_en-bench-base-int8-v1"

EXTRA_CORPUS = (
    "Vi mødes hver måned for at dele erfaringer om ledelse, salg og samarbejde.",
    "We meet every month to share experience about leadership, sales and cooperation.",
    "Foreningen har medlemmer i hele landet, fra enkeltmandsvirksomheder til store koncerner.",
    "0123456789 abcdefghijklmnopqrstuvwxyzæøå ABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ .,;:!?–-()„“\"'%/&",
)


# ------------------------------------------------------------------------------ the post


_TAG = re.compile(r"<(/?)([a-zA-Z]+)[^>]*?(/?)>")


def segments() -> list[str]:
    """The post's blocks as segment markup (what the segmenter hands to engines)."""
    out = []
    for block in BLOCKS:
        counter = 0
        parts: list[str] = []
        pos = 0
        for match in _TAG.finditer(block):
            parts.append(block[pos : match.start()])
            pos = match.end()
            if match.group(2).lower() == "br":
                counter += 1
                parts.append(f'<x id="{counter}"/>')
            elif match.group(1):
                parts.append("</g>")
            else:
                counter += 1
                parts.append(f'<g id="{counter}">')
        parts.append(block[pos:])
        out.append("".join(parts))
    return out


def text_nodes() -> list[str]:
    """The post's HTML text nodes, as a per-node HTML translator sees them."""
    nodes = []
    for block in BLOCKS:
        for piece in _TAG.split(block)[::4]:
            text = html.unescape(piece)
            if text.strip():
                nodes.append(text)
    return nodes


# ------------------------------------------------------------------------------ the model


def _layer_norm(spec: Any, rng: np.random.Generator) -> None:
    spec.gamma = (1.0 + 0.1 * rng.standard_normal(D_MODEL)).astype(np.float32)
    spec.beta = (0.1 * rng.standard_normal(D_MODEL)).astype(np.float32)


def _dense(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    return (rng.standard_normal((rows, cols), dtype=np.float32) / np.sqrt(cols)).astype(np.float32)


def build_model(directory: Path) -> Path:
    """A Transformer-base package with random weights in the Argos layout (int8 on disk)."""
    import io

    import sentencepiece as spm
    from ctranslate2.specs import transformer_spec

    lines = [re.sub(r"<[^>]+>", "", b) for b in BLOCKS] + list(EXTRA_CORPUS)
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines * 4),
        model_writer=buffer,
        model_type="unigram",
        vocab_size=2000,
        hard_vocab_limit=False,
        character_coverage=1.0,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=buffer.getvalue())
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab = pieces + [f"<filler{i}>" for i in range(VOCAB_SIZE - len(pieces))]

    rng = np.random.default_rng(20261127)
    spec = transformer_spec.TransformerSpec.from_config(LAYERS, HEADS)
    spec.encoder.embeddings[0].weight = _dense(rng, VOCAB_SIZE, D_MODEL)
    spec.decoder.embeddings.weight = _dense(rng, VOCAB_SIZE, D_MODEL)
    _layer_norm(spec.encoder.layer_norm, rng)
    _layer_norm(spec.decoder.layer_norm, rng)
    for layer in spec.encoder.layer:
        _layer_norm(layer.self_attention.layer_norm, rng)
        layer.self_attention.linear[0].weight = _dense(rng, 3 * D_MODEL, D_MODEL)
        layer.self_attention.linear[1].weight = _dense(rng, D_MODEL, D_MODEL)
        _layer_norm(layer.ffn.layer_norm, rng)
        layer.ffn.linear_0.weight = _dense(rng, FFN, D_MODEL)
        layer.ffn.linear_1.weight = _dense(rng, D_MODEL, FFN)
    for layer in spec.decoder.layer:
        _layer_norm(layer.self_attention.layer_norm, rng)
        layer.self_attention.linear[0].weight = _dense(rng, 3 * D_MODEL, D_MODEL)
        layer.self_attention.linear[1].weight = _dense(rng, D_MODEL, D_MODEL)
        _layer_norm(layer.attention.layer_norm, rng)
        layer.attention.linear[0].weight = _dense(rng, D_MODEL, D_MODEL)
        layer.attention.linear[1].weight = _dense(rng, 2 * D_MODEL, D_MODEL)
        layer.attention.linear[2].weight = _dense(rng, D_MODEL, D_MODEL)
        _layer_norm(layer.ffn.layer_norm, rng)
        layer.ffn.linear_0.weight = _dense(rng, FFN, D_MODEL)
        layer.ffn.linear_1.weight = _dense(rng, D_MODEL, FFN)
    spec.decoder.projection.weight = _dense(rng, VOCAB_SIZE, D_MODEL)
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()
    spec.optimize(quantization="int8")

    package = directory / PACKAGE
    (package / "model").mkdir(parents=True, exist_ok=True)
    spec.save(str(package / "model"))
    (package / "sentencepiece.model").write_bytes(buffer.getvalue())
    metadata = {
        "package_version": "bench-1",
        "from_code": "da",
        "to_code": "en",
        "code": "translate-da_en",
        "type": "translate",
    }
    (package / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return package


def ensure_model() -> tuple[Path, float | None]:
    """The cached bench package (built on first use); returns its packages folder and build time."""
    packages = CACHE / "packages"
    package = packages / PACKAGE
    if (package / "model" / "model.bin").is_file() and (package / "metadata.json").is_file():
        return packages, None
    started = time.perf_counter()
    build_model(packages)
    return packages, time.perf_counter() - started


# ------------------------------------------------------------------------------ methods


class _RecordingModel(Ct2Model):
    batches: ClassVar[list[list[list[str]]]] = []
    seconds: ClassVar[list[float]] = []
    """Time spent inside ``translate_batch``, per call."""

    def _run_batch(self, source: list[list[str]], **kwargs: Any) -> list[Any]:
        _RecordingModel.batches.append([list(t) for t in source])
        started = time.perf_counter()
        try:
            return super()._run_batch(source, **kwargs)
        finally:
            _RecordingModel.seconds.append(time.perf_counter() - started)


class _RecordingEngine(ArgosEngine):
    model_class = _RecordingModel


def _engine(packages: Path, beam: int, threads: int) -> _RecordingEngine:
    return _RecordingEngine(
        {
            "packages_dir": str(packages),
            "beam_size": beam,
            "compute_type": "int8",
            "intra_threads": threads,
            "inter_threads": 1,
            "min_decoding_length": OUTPUT_LENGTH,
            "max_decoding_length": OUTPUT_LENGTH,
        }
    )


def _per_node(translator: Any, processor: Any, nodes: list[str], beam: int) -> list[str]:
    """argostranslate 1.11 ``translate()`` semantics, called once per text node."""
    results = []
    for node in nodes:
        paragraphs = []
        for paragraph in node.split("\n"):
            sentences = split_sentences(paragraph, "da") or [paragraph]
            tokenized = [processor.encode(s, out_type=str) for s in sentences]
            batches = translator.translate_batch(
                tokenized,
                target_prefix=None,
                replace_unknowns=True,
                max_batch_size=32,
                batch_type="tokens",
                beam_size=beam,
                num_hypotheses=1,
                length_penalty=0.2,
                return_scores=True,
                min_decoding_length=OUTPUT_LENGTH,
                max_decoding_length=OUTPUT_LENGTH,
            )
            tokens = [t for batch in batches for t in batch.hypotheses[0]]
            value = processor.decode(tokens)
            paragraphs.append(value[1:] if value.startswith(" ") else value)
        results.append("\n".join(paragraphs))
    return results


def _best_of_rounds(methods: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    best = {name: float("inf") for name in methods}
    for _ in range(rounds):
        for name, action in methods.items():
            started = time.perf_counter()
            action()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def _peak_memory_mb(packages: Path, threads: int) -> float:
    """Peak RSS of a fresh process that loads the model and translates the post once (beam 2)."""
    code = (
        "import resource, sys\n"
        "from bench.argos_bench import _engine, segments\n"
        f"engine = _engine(__import__('pathlib').Path({str(packages)!r}), 2, {threads})\n"
        "engine.translate(segments(), source='da', target='en')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    return int(done.stdout.split()[-1]) / 1024


def _start_time(args: list[str]) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, *args], capture_output=True, cwd=ROOT, check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        runs.append(time.perf_counter() - started)
    return min(runs)


def run() -> list[tuple[str, float, str]]:
    threads = os.cpu_count() or 1
    packages, build_seconds = ensure_model()
    rows: list[tuple[str, float, str]] = []
    if build_seconds is not None:
        rows.append(("argos.model_build", round(build_seconds, 1), "s"))

    post = segments()
    nodes = text_nodes()
    engines = {beam: _engine(packages, beam, threads) for beam in (1, 2, 4)}
    _RecordingModel.batches.clear()
    engines[2].translate(post, source="da", target="en")
    sent = _RecordingModel.batches[-1]
    model = engines[2]._model(engines[2].route("da", "en")[0])
    translator, processor = (
        model.translator(),
        __import__("sentencepiece").SentencePieceProcessor(model_file=str(model.source_spm)),
    )

    def raw() -> object:
        return translator.translate_batch(
            sent, beam_size=2, max_batch_size=32, length_penalty=0.2, max_input_length=0,
            min_decoding_length=OUTPUT_LENGTH, max_decoding_length=OUTPUT_LENGTH, replace_unknowns=True,
        )  # fmt: skip

    def ours_with(beam: int) -> Callable[[], object]:
        return lambda: engines[beam].translate(post, source="da", target="en")

    def per_node_with(beam: int) -> Callable[[], object]:
        return lambda: _per_node(translator, processor, nodes, beam)

    outside: list[float] = []  # our engine's own work per post: total minus time in CTranslate2

    def ours_measured() -> None:
        _RecordingModel.seconds.clear()
        started = time.perf_counter()
        engines[2].translate(post, source="da", target="en")
        outside.append(time.perf_counter() - started - sum(_RecordingModel.seconds))

    fast = _best_of_rounds({"ours2": ours_measured, "raw2": raw}, FAST_ROUNDS)
    best = _best_of_rounds(
        {
            "ours1": ours_with(1),
            "ours4": ours_with(4),
            "node4": per_node_with(4),
            "node1": per_node_with(1),
        },
        ROUNDS,
    )
    ours = {1: best["ours1"], 2: fast["ours2"], 4: best["ours4"]}
    per_node = {1: best["node1"], 4: best["node4"]}
    raw2 = fast["raw2"]

    rows += [
        ("argos.post_segments", len(post), "segments"),
        ("argos.post_text_nodes", len(nodes), "nodes"),
        ("argos.sentences_sent", len(sent), "sentences"),
        ("argos.output_length", OUTPUT_LENGTH, "tokens"),
        ("argos.threads", threads, "intra_threads"),
        ("argos.rounds", ROUNDS, "best of (per-node, ours beam 1/4)"),
        ("argos.fast_rounds", FAST_ROUNDS, "best of (ours beam 2, raw)"),
        ("argos.load_average_1min", round(os.getloadavg()[0], 2), "runnable processes"),
        ("argos.ours_beam2", round(ours[2], 3), "s"),
        ("argos.ours_beam1", round(ours[1], 3), "s"),
        ("argos.ours_beam4", round(ours[4], 3), "s"),
        ("argos.per_node_argostranslate_beam4", round(per_node[4], 3), "s"),
        ("argos.per_node_argostranslate_beam1", round(per_node[1], 3), "s"),
        (
            "argos.ratio_ours_beam2_vs_per_node_beam4",
            round(ours[2] / per_node[4], 3),
            "ratio (target <= 0.25)",
        ),
        ("argos.ratio_ours_beam4_vs_per_node_beam4", round(ours[4] / per_node[4], 3), "ratio"),
        ("argos.ratio_ours_beam1_vs_per_node_beam1", round(ours[1] / per_node[1], 3), "ratio"),
        ("argos.raw_translate_batch_beam2", round(raw2, 3), "s"),
        ("argos.ratio_ours_vs_raw_beam2", round(ours[2] / raw2, 3), "ratio (target <= 1.15)"),
        (
            "argos.engine_work_outside_ctranslate2",
            round(statistics.median(outside), 3),
            "s per post (median)",
        ),
        (
            "argos.engine_work_outside_ctranslate2_share",
            round(statistics.median(outside) / ours[2], 3),
            "fraction of ours beam 2",
        ),
        ("argos.sentences_per_second_beam1", round(len(sent) / ours[1], 1), "sentences/s"),
        ("argos.sentences_per_second_beam2", round(len(sent) / ours[2], 1), "sentences/s"),
        ("argos.sentences_per_second_beam4", round(len(sent) / ours[4], 1), "sentences/s"),
        ("argos.peak_rss_translate_post_beam2", round(_peak_memory_mb(packages, threads)), "MB"),
        (
            "argos.bench_process_peak_rss",
            round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "MB",
        ),
    ]
    imports = "import syndication.translations.argos, syndication.translations.models_cli"
    rows.append(("argos.import_engine_and_models_cli", round(_start_time(["-c", imports]), 3), "s"))
    if (ROOT / "syndication" / "cli.py").is_file():
        entry = "import sys; from syndication.cli import main; sys.exit(main())"
        rows.append(("cli.syndicate_help", round(_start_time(["-c", entry, "--help"]), 3), "s"))
    else:
        print("note: syndication/cli.py does not exist yet; `syndicate --help` not measured", file=sys.stderr)
    return rows


if __name__ == "__main__":
    for name, value, unit in run():
        print(f"{name} {value} {unit}")
