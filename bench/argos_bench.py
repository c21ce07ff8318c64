"""Benchmark: the ``argos`` engine at its defaults against the fastest raw CTranslate2 layout.

Everything is built here, offline: a real-size Transformer-base (6+6 layers, d=512, 8 heads,
FFN 2048, 32k vocabulary), quantized to int8 and packaged in the Argos layout (cached in the temp
folder). Its weights are set by hand so that it **copies its input and then emits ``</s>``**
(:func:`build_model`): every sentence's output is as long as its input, as a real model stops by
itself, so sub-batches of short and long sentences finish at different times, as they do in real
use. Every layer still does a Transformer-base's full work (dense int8 products do not depend on
the values). The bench checks that the engine gives the post back unchanged.

Measured side by side, in one run, on the same 60-block Danish post (:mod:`bench.argos_post`), at
beam 1, 2 and 4, with the post's inline markup (placeholders: attention is asked for) and without:

* **ours** — ``ArgosEngine.translate`` at its **default** settings (only ``beam_size`` is set:
  threads and sub-batches are the engine's choice for this machine): sentence split,
  SentencePiece, de-duplication, balanced sub-batches on the replicas, reassembly;
* **before** — the same engine with the previous defaults (``inter_threads=1``, ``intra_threads=0``,
  ``max_batch_size=32``);
* **raw** — plain ``translate_batch`` on exactly the token lists our engine sent, no attention,
  in several layouts (``inter_threads x intra_threads`` 1x2 and 2x1, one call, CTranslate2's own
  ``max_batch_size`` splits, the balanced asynchronous sub-batches); the **fastest** of them, in
  the same run, is the floor the ratio is taken against;
* **per text node** — what ``argostranslate.translate.translate()`` does when a tool such as
  translate-html or LibreTranslate calls it once per HTML text node, reproduced from argostranslate
  1.11 (``apply_packaged_translation``): per node, per ``\\n`` paragraph, one ``translate_batch`` of
  its sentences with ``beam_size=4, num_hypotheses=1, length_penalty=0.2, return_scores=True,
  replace_unknowns=True, max_batch_size=32, batch_type="tokens"``, decoded with SentencePiece, on a
  translator with Argos's threads (``inter_threads=1``, ``intra_threads=0``). argostranslate itself
  is not installed (it would pull torch); its sentence splitter is replaced by ours, which is
  cheaper than Stanza/MiniSBD, so the baseline is if anything flattered.

The machine is shared: every method runs once per round, interleaved (the order rotates), and the
median of its rounds counts. ``run()`` returns ``(name, value, unit)`` rows; ``python -m bench
argos`` prints them.
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
from syndication.translations.ct2_runtime import (  # noqa: E402
    Ct2Model,
    physical_cores,
    plan_sub_batches,
    sub_batch_limit,
)
from syndication.translations.sentences import split_sentences  # noqa: E402

BEAMS = (1, 2, 4)
VOCAB_SIZE = 32_000
LAYERS, HEADS, D_MODEL, FFN = 6, 8, 512, 2048
ROUNDS = int(os.environ.get("SYNDICATION_BENCH_ROUNDS", "1"))
"""Rounds of the slow per-text-node baseline (a minute each at beam 4; its ratio is far from 1)."""
FAST_ROUNDS = int(os.environ.get("SYNDICATION_BENCH_FAST_ROUNDS", "5"))
"""Interleaved rounds of ours and every raw layout, per beam: on a shared machine load comes and
goes, and interleaving exposes every method to it alike."""
CACHE = Path(os.environ.get("SYNDICATION_BENCH_CACHE", tempfile.gettempdir())) / "syndication-bench"
PACKAGE = "translate-da_en-bench-base-int8-copy-v2"

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


TOKEN_DIMS = 448
"""Residual dimensions carrying a token's ±1 code (7 of the 8 heads' 64 dimensions each)."""
POSITION_DIMS = D_MODEL - TOKEN_DIMS
"""Residual dimensions carrying a position's ±1 code (one head's worth)."""
POSITIONS = 1024
NOISE = 0.02
"""Scale of the random weights of every layer that takes no part in copying: they do all the work
of a real layer, and barely move the residual stream."""


def _codes(rng: np.random.Generator, count: int, width: int) -> np.ndarray:
    """±1 codes with as many of each sign: every embedding then has mean 0 and variance 1, so the
    pre-norm layer normalizations leave it as it is."""
    half = np.array([1.0] * (width // 2) + [-1.0] * (width // 2), np.float32)
    codes: np.ndarray = np.stack([rng.permutation(half) for _ in range(count)])
    return codes


def _norm(spec: Any, gamma: np.ndarray | None = None) -> None:
    spec.gamma = np.ones(D_MODEL, np.float32) if gamma is None else gamma
    spec.beta = np.zeros(D_MODEL, np.float32)


def _noise(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    weights: np.ndarray = NOISE * rng.standard_normal((rows, cols), dtype=np.float32) / np.sqrt(cols)
    return weights.astype(np.float32)


def build_model(directory: Path) -> Path:
    """A real-size Transformer-base package in the Argos layout (int8 on disk) that copies its input.

    Every layer has the size and does the work of a Transformer-base; the weights are set by hand so
    that the output is the input and then ``</s>``, as a real model stops by itself when the
    sentence is done (the end-of-sentence weight is the copy of the source's own ``</s>``). Encoder
    embeddings hold a ±1 code of the token (448 dimensions) and of the position (64); the last
    decoder layer's cross-attention matches the decoder position's code with the source positions'
    in all 8 heads, 7 of which carry the token code over; the output projection scores every piece
    by its code. All other sub-layers have small random weights."""
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
    tokens = _codes(rng, VOCAB_SIZE, TOKEN_DIMS)
    positions = np.zeros((POSITIONS, D_MODEL), np.float32)
    positions[:, TOKEN_DIMS:] = _codes(rng, POSITIONS, POSITION_DIMS)
    head = D_MODEL // HEADS

    spec = transformer_spec.TransformerSpec.from_config(LAYERS, HEADS)
    spec.encoder.scale_embeddings = False
    spec.decoder.scale_embeddings = False
    embeddings = np.zeros((VOCAB_SIZE, D_MODEL), np.float32)
    embeddings[:, :TOKEN_DIMS] = tokens
    spec.encoder.embeddings[0].weight = embeddings
    spec.decoder.embeddings.weight = _noise(rng, VOCAB_SIZE, D_MODEL)
    spec.encoder.position_encodings.encodings = positions
    spec.decoder.position_encodings.encodings = positions.copy()
    _norm(spec.encoder.layer_norm)
    for layer in spec.encoder.layer:
        _norm(layer.self_attention.layer_norm)
        layer.self_attention.linear[0].weight = _noise(rng, 3 * D_MODEL, D_MODEL)
        layer.self_attention.linear[1].weight = _noise(rng, D_MODEL, D_MODEL)
        _norm(layer.ffn.layer_norm)
        layer.ffn.linear_0.weight = _noise(rng, FFN, D_MODEL)
        layer.ffn.linear_1.weight = _noise(rng, D_MODEL, FFN)
    for number, layer in enumerate(spec.decoder.layer):
        _norm(layer.self_attention.layer_norm)
        layer.self_attention.linear[0].weight = _noise(rng, 3 * D_MODEL, D_MODEL)
        layer.self_attention.linear[1].weight = _noise(rng, D_MODEL, D_MODEL)
        _norm(layer.attention.layer_norm)
        _norm(layer.ffn.layer_norm)
        layer.ffn.linear_0.weight = _noise(rng, FFN, D_MODEL)
        layer.ffn.linear_1.weight = _noise(rng, D_MODEL, FFN)
        if number < LAYERS - 1:
            layer.attention.linear[0].weight = _noise(rng, D_MODEL, D_MODEL)
            layer.attention.linear[1].weight = _noise(rng, 2 * D_MODEL, D_MODEL)
            layer.attention.linear[2].weight = _noise(rng, D_MODEL, D_MODEL)
            continue
        # The copying layer. Queries and keys: the position code, in every head (sharp: the
        # decoder's step t attends to source position t). Values: the token code, 64 dims a head.
        query = np.zeros((D_MODEL, D_MODEL), np.float32)
        key_value = np.zeros((2 * D_MODEL, D_MODEL), np.float32)
        for h in range(HEADS):
            rows = np.arange(h * head, (h + 1) * head)
            query[rows, TOKEN_DIMS + np.arange(POSITION_DIMS)] = 2.0
            key_value[rows, TOKEN_DIMS + np.arange(POSITION_DIMS)] = 1.0
        key_value[D_MODEL + np.arange(TOKEN_DIMS), np.arange(TOKEN_DIMS)] = 1.0
        output = np.zeros((D_MODEL, D_MODEL), np.float32)
        output[np.arange(TOKEN_DIMS), np.arange(TOKEN_DIMS)] = 1.0
        layer.attention.linear[0].weight = query
        layer.attention.linear[1].weight = key_value
        layer.attention.linear[2].weight = output
    final = np.zeros(D_MODEL, np.float32)
    final[:TOKEN_DIMS] = 1.0  # the output projection reads the copied token code only
    _norm(spec.decoder.layer_norm, final)
    projection = np.zeros((VOCAB_SIZE, D_MODEL), np.float32)
    projection[: len(pieces), :TOKEN_DIMS] = 0.05 * tokens[: len(pieces)]
    spec.decoder.projection.weight = projection
    spec.config.add_source_eos = True  # the </s> whose copy ends every output
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
    """Time spent inside ``translate_batch`` (all sub-batches), per call."""

    def _run_batch(self, source: list[list[str]], **kwargs: Any) -> list[Any]:
        _RecordingModel.batches.append([list(t) for t in source])
        started = time.perf_counter()
        try:
            return super()._run_batch(source, **kwargs)
        finally:
            _RecordingModel.seconds.append(time.perf_counter() - started)


class _RecordingEngine(ArgosEngine):
    model_class = _RecordingModel


BEFORE = {"inter_threads": 1, "intra_threads": 0, "max_batch_size": 32}
"""The engine's defaults before it chose its thread layout and sub-batches."""


def _engine(packages: Path, beam: int, **settings: Any) -> _RecordingEngine:
    """The engine at its defaults: only the beam is chosen (threads and sub-batches are not)."""
    return _RecordingEngine({"packages_dir": str(packages), "beam_size": beam, **settings})


def plain_segments() -> list[str]:
    """The same post without any inline markup: nothing for the engine to project back."""
    return [re.sub(r"</?[gx][^>]*>", "", segment) for segment in segments()]


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
            )
            tokens = [t for batch in batches for t in batch.hypotheses[0]]
            value = processor.decode(tokens)
            paragraphs.append(value[1:] if value.startswith(" ") else value)
        results.append("\n".join(paragraphs))
    return results


def _raw_methods(
    translators: dict[tuple[int, int], Any], sent: list[list[str]], beam: int
) -> dict[str, Callable[[], object]]:
    """Plain ``translate_batch`` on the token lists the engine sent, in every layout worth trying.

    No attention, no sentence splitting, no reassembly: the floor for any engine. ``AxB`` is
    ``inter_threads x intra_threads``; ``mbs`` CTranslate2's own ``max_batch_size`` split;
    ``halves`` lets CTranslate2 cut the sorted batch into one equal-count half per replica;
    ``balanced`` queues the engine's token-balanced sub-batches asynchronously."""
    options = dict(beam_size=beam, length_penalty=0.2, max_input_length=0, replace_unknowns=True)
    options["max_decoding_length"] = 2 * max(len(t) for t in sent) + 10

    def single(layout: tuple[int, int], max_batch_size: int) -> Callable[[], object]:
        return lambda: translators[layout].translate_batch(sent, max_batch_size=max_batch_size, **options)

    def balanced(layout: tuple[int, int]) -> Callable[[], object]:
        plan = plan_sub_batches([len(t) for t in sent], layout[0], limit=sub_batch_limit(beam))

        def run() -> object:
            pending = [
                translators[layout].translate_batch([sent[i] for i in part], asynchronous=True, **options)
                for part in plan
            ]
            return [future.result() for futures in pending for future in futures]

        return run

    half = -(-len(sent) // 2)
    return {
        "1x2_one_call": single((1, 2), 0),
        "2x1_halves": single((2, 1), half),
        "2x1_mbs16": single((2, 1), 16),
        "2x1_balanced": balanced((2, 1)),
    }


def _medians_of_rounds(methods: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Each method once per round, side by side; the start rotates so no method always runs first
    (or right after the heaviest one). The median of its rounds counts: one noisy round (the box
    is shared) moves it less than a mean, and unlike a minimum it is not luck."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            methods[name]()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def _peak_memory_mb(packages: Path) -> float:
    """Peak RSS of a fresh process that loads the model and translates the post once (beam 2).

    Read from ``VmHWM``: ``getrusage``'s maximum survives ``fork`` + ``exec`` on Linux, so a child
    of this (large) process would report the parent's peak."""
    code = (
        "import re\n"
        "from bench.argos_bench import _engine, segments\n"
        f"engine = _engine(__import__('pathlib').Path({str(packages)!r}), 2)\n"
        "engine.translate(segments(), source='da', target='en')\n"
        "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
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


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run() -> list[tuple[str, float, str]]:
    import ctranslate2
    import sentencepiece

    # The bench measures the engine's defaults: the tests' thread setting must not leak in.
    os.environ.pop("ARGOS_INTRA_THREADS", None)
    packages, build_seconds = ensure_model()
    rows: list[tuple[str, float, str]] = []
    if build_seconds is not None:
        rows.append(("argos.model_build", round(build_seconds, 1), "s"))
    print(f"# argos: {_uptime()}", flush=True)

    variants = {"placeholders": segments(), "plain": plain_segments()}
    nodes = text_nodes()
    engines = {beam: _engine(packages, beam) for beam in BEAMS}
    # The settings before the engine chose its layout: one replica, CTranslate2's threads and split.
    before = {beam: _engine(packages, beam, **BEFORE) for beam in BEAMS}
    model = engines[2]._model(engines[2].route("da", "en")[0])
    options = engines[2].options
    sent: dict[str, list[list[str]]] = {}
    for variant, post in variants.items():  # warm-up, and what each variant sends
        _RecordingModel.batches.clear()
        outputs = engines[2].translate(post, source="da", target="en")
        sent[variant] = _RecordingModel.batches[-1]
        if [o.text for o in outputs] != post:  # the copy model gives the post back, markup and all
            raise RuntimeError(f"the bench model did not copy the {variant} post: rebuild {CACHE}")
    translators = {
        (inter, intra): ctranslate2.Translator(
            str(model.model_dir), compute_type="int8", inter_threads=inter, intra_threads=intra
        )
        for inter, intra in ((1, 2), (2, 1))
    }
    processor = sentencepiece.SentencePieceProcessor(model_file=str(model.source_spm))
    per_node_translator = ctranslate2.Translator(str(model.model_dir), compute_type="int8")  # Argos's threads

    rows += [
        ("argos.post_segments", len(variants["placeholders"]), "segments"),
        ("argos.post_text_nodes", len(nodes), "nodes"),
        ("argos.sentences_sent", len(sent["placeholders"]), "sentences"),
        ("argos.output_tokens", sum(len(t) + 1 for t in sent["placeholders"]), "tokens (natural lengths)"),
        ("argos.physical_cores", physical_cores(), "cores"),
        ("argos.default_inter_threads", options.inter_threads, "replicas"),
        ("argos.default_intra_threads", options.intra_threads, "threads per replica"),
        ("argos.rounds", FAST_ROUNDS, "interleaved rounds, medians (ours vs raw)"),
    ]
    outside: list[float] = []  # our engine's own work per post: total minus time in CTranslate2

    def ours(beam: int, post: list[str]) -> Callable[[], object]:
        def action() -> None:
            _RecordingModel.seconds.clear()
            started = time.perf_counter()
            engines[beam].translate(post, source="da", target="en")
            if beam == 2:
                outside.append(time.perf_counter() - started - sum(_RecordingModel.seconds))

        return action

    def before_with(beam: int) -> Callable[[], object]:
        return lambda: before[beam].translate(variants["placeholders"], source="da", target="en")

    ours_time: dict[tuple[int, str], float] = {}
    for beam in BEAMS:
        methods: dict[str, Callable[[], object]] = {
            f"ours_{variant}": ours(beam, post) for variant, post in variants.items()
        }
        methods["before_placeholders"] = before_with(beam)
        for variant in variants:
            if variant == "plain" and sent["plain"] == sent["placeholders"]:
                continue  # the same token lists: one set of raw layouts serves both
            for name, action in _raw_methods(translators, sent[variant], beam).items():
                methods[f"raw_{variant}_{name}"] = action
        medians = _medians_of_rounds(methods, FAST_ROUNDS)
        for variant in variants:
            ours_time[(beam, variant)] = medians[f"ours_{variant}"]
            key = variant if f"raw_{variant}_2x1_balanced" in medians else "placeholders"
            raw = {name: value for name, value in medians.items() if name.startswith(f"raw_{key}_")}
            fastest = min(raw, key=raw.__getitem__)
            rows.append((f"argos.ours_beam{beam}_{variant}", round(medians[f"ours_{variant}"], 3), "s"))
            rows.append(
                (
                    f"argos.ratio_ours_vs_fastest_raw_beam{beam}_{variant}",
                    round(medians[f"ours_{variant}"] / raw[fastest], 3),
                    f"ratio (target <= 1.1; fastest raw: {fastest.removeprefix(f'raw_{key}_')})",
                )
            )
        fastest_raw = min(v for name, v in medians.items() if name.startswith("raw_placeholders_"))
        rows.append(
            (
                f"argos.ratio_before_vs_fastest_raw_beam{beam}_placeholders",
                round(medians["before_placeholders"] / fastest_raw, 3),
                "ratio (previous defaults: 1 replica, CTranslate2's threads, max_batch_size 32)",
            )
        )
        for name, value in medians.items():
            if name.startswith("raw_"):
                rows.append((f"argos.{name}_beam{beam}", round(value, 3), "s"))
        print(f"# argos: beam {beam} done; {_uptime()}", flush=True)

    def per_node_with(beam: int) -> Callable[[], object]:
        return lambda: _per_node(per_node_translator, processor, nodes, beam)

    per_node = _medians_of_rounds({"node4": per_node_with(4), "node1": per_node_with(1)}, ROUNDS)
    n_sent = len(sent["placeholders"])
    rows += [
        ("argos.per_node_argostranslate_beam4", round(per_node["node4"], 3), "s"),
        ("argos.per_node_argostranslate_beam1", round(per_node["node1"], 3), "s"),
        (
            "argos.ratio_ours_beam2_vs_per_node_beam4",
            round(ours_time[(2, "placeholders")] / per_node["node4"], 3),
            "ratio (target <= 0.25)",
        ),
        (
            "argos.ratio_ours_beam1_vs_per_node_beam1",
            round(ours_time[(1, "placeholders")] / per_node["node1"], 3),
            "ratio",
        ),
        (
            "argos.engine_work_outside_ctranslate2",
            round(statistics.median(outside), 3),
            "s per post (median, beam 2)",
        ),
        *[
            (
                f"argos.sentences_per_second_beam{beam}",
                round(n_sent / ours_time[(beam, "placeholders")], 1),
                "sentences/s",
            )
            for beam in BEAMS
        ],
        ("argos.peak_rss_translate_post_beam2", round(_peak_memory_mb(packages)), "MB"),
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
    print(f"# argos: end; {_uptime()}", flush=True)
    return rows


if __name__ == "__main__":
    for name, value, unit in run():
        print(f"{name} {value} {unit}")
