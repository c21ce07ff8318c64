"""One CTranslate2 model with its SentencePiece tokenizers, loaded lazily and shared.

``ctranslate2`` and ``sentencepiece`` are imported only when a model is first used, so importing the
engines (and running ``syndicate --help``) stays cheap. Translators are cached per model folder and
runtime settings for the life of the process: loading a real model takes seconds and hundreds of MB.

Every call into CTranslate2 goes through :meth:`Ct2Model._run_batch`, the one place its exceptions
are mapped to ours.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from syndication.errors import ConfigError, EngineUnavailableError, TranslationError

DEVICES = ("cpu", "cuda", "auto")
COMPUTE_TYPES = (
    "default", "auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16",
    "bfloat16", "float32",
)  # fmt: skip


def _int(config: Mapping[str, Any], key: str, default: int, *, minimum: int = 0) -> int:
    value = config.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"engine setting {key} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"engine setting {key} must be at least {minimum}, not {number}")
    return number


def _float(config: Mapping[str, Any], key: str, default: float) -> float:
    value = config.get(key, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"engine setting {key} must be a number, not {value!r}") from None


# ------------------------------------------------------------------------------ threads and batches

AUTO_SUB_BATCH = 64
"""Most decoder rows (sub-batch inputs × beam) the automatic plan puts in one sub-batch: beyond it
a batch gains no speed on a CPU and the decoder's cache grows with every row (beam × length ×
layers). At beam 1 a sub-batch holds up to 64 inputs, at beam 4 up to 16 (measured in
``bench/argos_bench.py``: 16 inputs won at beam 4 and lost at beams 1 and 2)."""


def sub_batch_limit(beam_size: int) -> int:
    """Most inputs in one automatic sub-batch at ``beam_size``: :data:`AUTO_SUB_BATCH` rows."""
    return max(1, AUTO_SUB_BATCH // max(1, beam_size))


def thread_layout(cores: int, *, inter: int | None = None, intra: int | None = None) -> tuple[int, int]:
    """``(inter_threads, intra_threads)`` for decoding on ``cores`` physical CPU cores.

    With nothing set: one single-threaded replica per core. CTranslate2's OpenMP threads split each
    matrix product of one batch between cores and wait for each other at every layer of every
    decoding step; on batches of a few dozen sentences they spend much of their time waiting, while
    independent replicas each decode their own sub-batch from start to end (measured in
    ``bench/argos_bench.py``). A setting given wins, and the other one fills the remaining cores
    (``intra_threads = 0`` is CTranslate2's own choice, which may use every core: then one replica).
    """
    cores = max(1, cores)
    if inter is None:
        if intra is None:
            return cores, 1
        return (1 if intra == 0 else max(1, cores // intra)), intra
    if intra is None:
        return inter, max(1, cores // inter)
    return inter, intra


def plan_sub_batches(
    lengths: Sequence[int], replicas: int, *, limit: int = AUTO_SUB_BATCH
) -> list[list[int]]:
    """Indexes of ``lengths`` grouped into sub-batches that keep ``replicas`` equally busy.

    Inputs are sorted longest first (little padding inside a sub-batch, and the longest work is
    handed out first) and cut into a multiple of ``replicas`` runs of nearly equal token counts (an
    output is about as long as its input), with about ``limit`` inputs at most in a run. Pure: the
    same lengths always give the same plan, so results never depend on timing.
    """
    count = len(lengths)
    if count == 0:
        return []
    replicas = max(1, replicas)
    order = sorted(range(count), key=lambda i: (-lengths[i], i))
    parts = replicas * max(1, math.ceil(count / (replicas * max(1, limit))))
    parts = min(parts, count)
    # +1: the end-of-sentence step every input costs, so that empty-ish inputs still count.
    costs = [lengths[i] + 1 for i in order]
    total = sum(costs)
    plan: list[list[int]] = []
    current: list[int] = []
    done = 0
    for position, index in enumerate(order):
        current.append(index)
        done += costs[position]
        parts_after = parts - len(plan) - 1
        items_after = count - position - 1
        # Cut where the running token count passes the next equal share; cut early only so that
        # every remaining part still gets an input.
        if parts_after and (items_after == parts_after or done * parts >= total * (len(plan) + 1)):
            plan.append(current)
            current = []
    plan.append(current)
    return plan


def _cgroup_cpu_limit() -> float | None:
    """The container's CPU quota in cores (cgroup v2 ``cpu.max`` or v1 CFS files), if one is set."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def count_physical_cores(cpus: Iterable[int], core_of: Callable[[int], tuple[str, str] | None]) -> int:
    """Distinct physical cores among the logical ``cpus`` (hyper-threads of one core count once);
    ``core_of`` names a CPU's (package, core), or None when unknown (then it counts as its own)."""
    seen: set[tuple[str, str]] = set()
    for cpu in cpus:
        seen.add(core_of(cpu) or ("cpu", str(cpu)))
    return max(1, len(seen))


def _sysfs_core(cpu: int) -> tuple[str, str] | None:
    topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
    try:
        return (
            (topology / "physical_package_id").read_text().strip(),
            (topology / "core_id").read_text().strip(),
        )
    except OSError:
        return None


def physical_cores() -> int:
    """Physical cores this process may run on: its CPU affinity, hyper-threads folded, capped by a
    container's CPU quota. ``os.cpu_count()`` alone would count every logical CPU of the host."""
    try:
        cpus: Iterable[int] = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - not Linux
        cpus = range(os.cpu_count() or 1)
    cores = count_physical_cores(cpus, _sysfs_core)
    quota = _cgroup_cpu_limit()
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota)))
    return cores


# ------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class RuntimeOptions:
    """Decoding and threading settings shared by the Argos and plain CTranslate2 engines."""

    device: str = "cpu"
    compute_type: str = "int8"
    inter_threads: int = 1
    """Model replicas decoding sub-batches in parallel (default: one per physical core)."""
    intra_threads: int = 1
    """OpenMP threads per replica; 0 lets CTranslate2 choose (default: 1, see :func:`thread_layout`)."""
    beam_size: int = 2
    max_batch_size: int = 0
    """0 (the default): the engine cuts each call into :func:`plan_sub_batches` for the replicas;
    a number: CTranslate2 sorts and splits the call itself by that many examples (or tokens)."""
    batch_type: str = "examples"
    length_penalty: float = 0.2
    """Argos Translate's value; CTranslate2's own default is 1."""
    max_input_tokens: int = 256
    """Longer sentences are cut into pieces of at most this many tokens (at word boundaries)."""
    decoding_ratio: float = 2.0
    decoding_margin: int = 10
    max_decoding_length: int = 512
    """Hard cap; the per-call limit is ``ratio × longest input + margin`` below it."""
    min_decoding_length: int = 1

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], environ: Mapping[str, str] | None = None, *, cores: int | None = None
    ) -> RuntimeOptions:
        """Settings from an engine's config; ``cores`` overrides the detected physical cores."""
        environ = os.environ if environ is None else environ
        device = str(config.get("device", "cpu")).lower()
        if device not in DEVICES:
            raise ConfigError(f"engine setting device must be one of {', '.join(DEVICES)}, not {device!r}")
        compute_type = str(config.get("compute_type", "int8")).lower()
        if compute_type not in COMPUTE_TYPES:
            raise ConfigError(
                f"engine setting compute_type must be one of {', '.join(COMPUTE_TYPES)}, not {compute_type!r}"
            )
        batch_type = str(config.get("batch_type", "examples"))
        if batch_type not in ("examples", "tokens"):
            raise ConfigError(f"engine setting batch_type must be 'examples' or 'tokens', not {batch_type!r}")
        # Set threads win (config, then $ARGOS_INTRA_THREADS); the rest follows the machine's cores.
        intra_set = config.get("intra_threads", environ.get("ARGOS_INTRA_THREADS"))
        intra = None if intra_set is None else _int({"intra_threads": intra_set}, "intra_threads", 0)
        inter = None if config.get("inter_threads") is None else _int(config, "inter_threads", 1, minimum=1)
        if device == "cpu":
            inter, intra = thread_layout(cores or physical_cores(), inter=inter, intra=intra)
        else:  # one replica per GPU; OpenMP threads only matter for the CPU side
            inter, intra = inter or 1, 0 if intra is None else intra
        options = cls(
            device=device,
            compute_type=compute_type,
            inter_threads=inter,
            intra_threads=intra,
            beam_size=_int(config, "beam_size", 2, minimum=1),
            max_batch_size=_int(config, "max_batch_size", 0),
            batch_type=batch_type,
            length_penalty=_float(config, "length_penalty", 0.2),
            max_input_tokens=_int(config, "max_input_tokens", 256, minimum=8),
            decoding_ratio=_float(config, "decoding_ratio", 2.0),
            decoding_margin=_int(config, "decoding_margin", 10),
            max_decoding_length=_int(config, "max_decoding_length", 512, minimum=1),
            min_decoding_length=_int(config, "min_decoding_length", 1),
        )
        if options.decoding_ratio <= 0:
            raise ConfigError("engine setting decoding_ratio must be positive")
        return options

    def decoding_length(self, longest_input: int) -> int:
        bound = math.ceil(self.decoding_ratio * longest_input) + self.decoding_margin
        return max(self.min_decoding_length, min(self.max_decoding_length, bound))


RUNTIME_KEYS = frozenset(field.name for field in fields(RuntimeOptions))
COMMON_KEYS = frozenset({"type", "base_dir"})
"""Added by the settings layer to every engine's options."""


def check_keys(config: Mapping[str, Any], allowed: Iterable[str], engine: str) -> None:
    """Refuse settings the engine does not know: a misspelt ``beam_size`` must not silently fall
    back to the default (the rest of the config is strict; engine sections allow extra keys only
    because each engine defines its own)."""
    known = sorted(set(allowed) | RUNTIME_KEYS | COMMON_KEYS)
    unknown = sorted(str(key) for key in config if key not in known)
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        hints.append(f"{key} (did you mean {close[0]}?)" if close else key)
    raise ConfigError(
        f"{engine} engine: unknown setting(s) {', '.join(hints)}; known settings: "
        f"{', '.join(k for k in known if k not in COMMON_KEYS)}"
    )


@dataclass(frozen=True)
class Hypothesis:
    tokens: list[str]
    attention: list[list[float]] | None
    score: float | None = None
    """CTranslate2's score: the log-probability of the hypothesis divided by
    ``length ** length_penalty`` (see :func:`token_log_prob`)."""


def token_log_prob(hypothesis: Hypothesis, length_penalty: float) -> float | None:
    """Mean log-probability per generated token (the end-of-sentence token included), undoing
    CTranslate2's length normalisation, so segments of any length compare."""
    if hypothesis.score is None:
        return None
    length = len(hypothesis.tokens) + 1
    return float(hypothesis.score * length**length_penalty / length)


_translators: dict[tuple[str, str, str, int, int], Any] = {}
_tokenizers: dict[str, Any] = {}
_lock = threading.Lock()


def clear_caches() -> None:
    """Forget loaded models (tests; or after reinstalling a package in a long-lived process)."""
    with _lock:
        _translators.clear()
        _tokenizers.clear()


def _sentencepiece(path: Path, label: str) -> Any:
    key = str(path)
    with _lock:
        if key in _tokenizers:
            return _tokenizers[key]
    try:
        import sentencepiece
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise EngineUnavailableError("sentencepiece is not installed: pip install sentencepiece") from exc
    if not path.is_file():
        raise EngineUnavailableError(f"{label}: SentencePiece model {path} is missing")
    try:
        processor = sentencepiece.SentencePieceProcessor(model_file=str(path))
    except (OSError, RuntimeError) as exc:
        raise EngineUnavailableError(f"{label}: cannot read SentencePiece model {path}: {exc}") from exc
    with _lock:
        _tokenizers[key] = processor
    return processor


def default_source_suffix(model_dir: Path) -> list[str]:
    """The end-of-sentence token the caller must append, read from the model's ``config.json``.

    ``ct2-transformers-converter`` leaves Hugging Face seq2seq models (Marian/OPUS-MT, BART,
    M2M100, NLLB) with ``add_source_eos`` off, because their tokenizer appends ``</s>`` itself;
    those models start decoding from that token. Without it in the source a Marian model runs on to
    the length limit. OpenNMT-py models (Argos packages) start from ``<s>`` and get nothing."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    if not isinstance(config, dict) or config.get("add_source_eos"):
        return []
    eos = config.get("eos_token") or "</s>"
    return [str(eos)] if config.get("decoder_start_token") == eos else []


def _device_problem(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("cuda", "gpu", "device", "cudnn", "cublas"))


class Ct2Model:
    """A translation direction: CTranslate2 model folder + source/target SentencePiece models."""

    def __init__(
        self,
        *,
        label: str,
        model_dir: Path,
        source_spm: Path,
        target_spm: Path,
        options: RuntimeOptions,
        target_prefix: Sequence[str] = (),
        source_prefix: Sequence[str] = (),
        source_suffix: Sequence[str] = (),
        reinstall_hint: str = "",
    ) -> None:
        self.label = label
        self.model_dir = model_dir
        self.source_spm = source_spm
        self.target_spm = target_spm
        self.options = options
        self.target_prefix = list(target_prefix)
        self.source_prefix = list(source_prefix)
        self.source_suffix = list(source_suffix)
        self.reinstall_hint = reinstall_hint

    # -- loading ------------------------------------------------------------------------------

    def _broken(self, what: str) -> EngineUnavailableError:
        hint = f"; {self.reinstall_hint}" if self.reinstall_hint else ""
        return EngineUnavailableError(f"{self.label}: {what}{hint}")

    def translator(self) -> Any:
        options = self.options
        key = (
            str(self.model_dir),
            options.device,
            options.compute_type,
            options.inter_threads,
            options.intra_threads,
        )
        with _lock:
            if key in _translators:
                return _translators[key]
        try:
            import ctranslate2
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise EngineUnavailableError("ctranslate2 is not installed: pip install ctranslate2") from exc
        if not (self.model_dir / "model.bin").is_file():
            raise self._broken(f"no CTranslate2 model in {self.model_dir} (model.bin missing)")
        try:
            translator = ctranslate2.Translator(
                str(self.model_dir),
                device=options.device,
                compute_type=options.compute_type,
                inter_threads=options.inter_threads,
                intra_threads=options.intra_threads,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            what = f"cannot load the CTranslate2 model in {self.model_dir}: {exc}"
            if options.device != "cpu" and _device_problem(exc):
                # The model is fine; the GPU (or its driver) is not there: reinstalling won't help.
                raise EngineUnavailableError(
                    f'{self.label}: {what}; set device = "cpu" (or "auto", which falls back to the '
                    "CPU) in the engine's settings, or check the CUDA driver"
                ) from exc
            raise self._broken(what) from exc
        with _lock:
            _translators.setdefault(key, translator)
            return _translators[key]

    def encode(self, texts: Sequence[str]) -> list[list[str]]:
        if not texts:
            return []
        processor = _sentencepiece(self.source_spm, self.label)
        pieces: list[list[str]] = processor.encode(list(texts), out_type=str)
        return pieces

    # -- translating --------------------------------------------------------------------------

    def translate(self, batch: Sequence[Sequence[str]], *, attention: bool) -> list[Hypothesis]:
        """Translate pre-tokenized inputs in one ``translate_batch`` call; one hypothesis each."""
        if not batch:
            return []
        options = self.options
        source = [self.source_prefix + list(tokens) + self.source_suffix for tokens in batch]
        longest = max(len(tokens) for tokens in source)
        prefix = [list(self.target_prefix) for _ in source] if self.target_prefix else None
        results = self._run_batch(
            source,
            target_prefix=prefix,
            beam_size=options.beam_size,
            length_penalty=options.length_penalty,
            max_input_length=0,  # inputs are already bounded by max_input_tokens
            max_decoding_length=options.decoding_length(longest) + len(self.target_prefix),
            min_decoding_length=options.min_decoding_length,
            replace_unknowns=True,
            return_attention=attention,
            return_scores=True,
        )
        skip = len(self.target_prefix)
        skip_source = len(self.source_prefix)
        skip_suffix = len(self.source_suffix)
        hypotheses: list[Hypothesis] = []
        for result in results:
            tokens = list(result.hypotheses[0])
            rows = [list(row) for row in result.attention[0]] if attention and result.attention else None
            if skip and tokens[:skip] == self.target_prefix:
                tokens = tokens[skip:]
                rows = rows[skip:] if rows is not None and len(rows) > len(tokens) else rows
            if rows is not None and (skip_source or skip_suffix):
                rows = [row[skip_source : len(row) - skip_suffix] for row in rows]
            scores = getattr(result, "scores", None)
            score = float(scores[0]) if scores else None
            hypotheses.append(Hypothesis(tokens, rows, score))
        return hypotheses

    def _run_batch(self, source: list[list[str]], **kwargs: Any) -> list[Any]:
        """The single call into ``ctranslate2.Translator.translate_batch``, results in input order.

        With ``max_batch_size = 0`` the batch is cut by :func:`plan_sub_batches` and every
        sub-batch is queued at once (``asynchronous=True``), so each replica takes the next one as
        soon as it is free; otherwise CTranslate2 sorts and splits the batch itself."""
        translator = self.translator()
        options = self.options
        try:
            if options.max_batch_size:
                results: list[Any] = translator.translate_batch(
                    source, max_batch_size=options.max_batch_size, batch_type=options.batch_type, **kwargs
                )
                return results
            prefix = kwargs.pop("target_prefix", None)
            plan = plan_sub_batches(
                [len(tokens) for tokens in source],
                options.inter_threads,
                limit=sub_batch_limit(int(kwargs.get("beam_size", 1))),
            )
            if len(plan) == 1:
                results = translator.translate_batch(source, target_prefix=prefix, **kwargs)
                return results
            pending = [
                (
                    part,
                    translator.translate_batch(
                        [source[i] for i in part],
                        target_prefix=None if prefix is None else [prefix[i] for i in part],
                        asynchronous=True,
                        **kwargs,
                    ),
                )
                for part in plan
            ]
            ordered: list[Any] = [None] * len(source)
            failure: BaseException | None = None
            for part, futures in pending:
                for index, future in zip(part, futures, strict=True):
                    try:  # wait for every sub-batch, even after a failure: none is left running
                        ordered[index] = future.result()
                    except (RuntimeError, ValueError, MemoryError) as exc:
                        failure = failure or exc
            if failure is not None:
                raise failure
            return ordered
        except (RuntimeError, ValueError, MemoryError) as exc:
            raise TranslationError(
                f"{self.label}: CTranslate2 failed on a batch of {len(source)}: {exc}"
            ) from exc
