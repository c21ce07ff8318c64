"""Build tiny but real Argos packages and CTranslate2 model folders at test time, offline.

Nothing is downloaded: a SentencePiece model is trained in a few milliseconds on the lines below,
and a CTranslate2 Transformer is assembled from numpy weights through ``ctranslate2.specs``. The
weights are set by hand so the output is exactly predictable:

``copy``   the output repeats the input piece by piece;
``upper``  the output is the input in upper case (``Netværk er guld.`` → ``NETVÆRK ER GULD.``);
``lower``  the output is the input in lower case.

How the hand-set model works (one layer, one head, pre-norm Transformer): the residual stream has
``V`` dimensions holding a one-hot of the token and ``K`` dimensions holding a ±1 code of the position
(each code has as many +1 as -1, so every residual vector has the same mean and variance and layer
normalization is the same affine map everywhere). All encoder and decoder sub-layers are zero except
the decoder's cross-attention: its queries and keys read only the position codes, so at decoding step
``t`` it attends (almost) only to source position ``t``, and its values carry that position's token
one-hot into the output. The output projection reads the token dimensions through a permutation
(identity, or piece → upper/lower-case piece). The source gets an end-of-sentence token appended, so
the decoder copies ``</s>`` after the last piece and stops. Because attention is a clean diagonal,
the attention vectors CTranslate2 returns align target piece ``t`` with source piece ``t`` — exactly
what the engine's placeholder projection relies on.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

LANGUAGE_NAMES = {"da": "Danish", "en": "English", "de": "German", "sv": "Swedish", "nb": "Norwegian"}

# Written for these tests. The last lines make every letter, digit and common punctuation mark a
# piece of its own (character model, full coverage), in both cases.
CORPUS = (
    "Netværk er guld, og et godt netværk åbner døre.",
    "Vi mødes på messen i Herning den 1. maj kl. 10.",
    "Læs mere om vores arrangementer på bloggen.",
    "Fællesskab, ledelse og forretning hænger sammen.",
    "Networking is gold, and a good network opens doors.",
    "Read more about our events on the blog.",
    "Netzwerke sind Gold. Lesen Sie mehr über unsere Veranstaltungen.",
    "abcdefghijklmnopqrstuvwxyz æøå äöü éè ß",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ ÆØÅ ÄÖÜ ÉÈ",
    "0123456789 . , ; : ! ? - ( ) \" ' / & % + = @ # * « » – _ [ ] < >",
)

MODES = ("copy", "upper", "lower")


def train_sentencepiece(lines: Iterable[str] = CORPUS) -> bytes:
    """A character-level SentencePiece model trained in memory; returns the model file's bytes."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(lines) * 3),
        model_writer=buffer,
        model_type="char",
        character_coverage=1.0,
        minloglevel=2,
    )
    return buffer.getvalue()


def pieces_of(model_bytes: bytes) -> list[str]:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=model_bytes)
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


def case_map(vocab: Sequence[str], mode: str) -> dict[int, int]:
    """Token id → token id for the output projection (identity where no counterpart exists)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
    if mode == "copy":
        return {}
    index = {piece: i for i, piece in enumerate(vocab)}
    mapping: dict[int, int] = {}
    for i, piece in enumerate(vocab):
        if piece.startswith("<") and piece.endswith(">"):
            continue
        changed = piece.upper() if mode == "upper" else piece.lower()
        if changed != piece and changed in index:
            mapping[i] = index[changed]
    return mapping


def _position_codes(count: int, width: int, seed: int) -> np.ndarray:
    """``count`` codes of ±1 with equal numbers of each sign; distinct enough for hard attention."""
    rng = np.random.default_rng(seed)
    half = np.array([1.0] * (width // 2) + [-1.0] * (width // 2), np.float32)
    codes = np.stack([rng.permutation(half) for _ in range(count)])
    similarity = codes @ codes.T / width
    np.fill_diagonal(similarity, -1.0)
    if similarity.max() > 0.6:
        raise RuntimeError("position codes too similar; pick another seed")
    return codes


def _norm(layer_norm: object, width: int, gamma: np.ndarray | None = None) -> None:
    layer_norm.gamma = np.ones(width, np.float32) if gamma is None else gamma  # type: ignore[attr-defined]
    layer_norm.beta = np.zeros(width, np.float32)  # type: ignore[attr-defined]


def copy_spec(vocab: Sequence[str], mode: str = "copy", *, positions: int = 1024, code_width: int = 128):
    """A ``TransformerSpec`` whose output is the input mapped piece by piece (see module docstring)."""
    from ctranslate2.specs import transformer_spec

    size = len(vocab)
    width = size + code_width
    ffn = 4
    codes = _position_codes(positions, code_width, seed=20261127)

    spec = transformer_spec.TransformerSpec.from_config(1, 1)
    spec.encoder.scale_embeddings = False
    spec.decoder.scale_embeddings = False

    one_hot = np.zeros((size, width), np.float32)
    one_hot[np.arange(size), np.arange(size)] = 1.0
    spec.encoder.embeddings[0].weight = one_hot
    spec.decoder.embeddings.weight = np.zeros((size, width), np.float32)

    position_table = np.zeros((positions, width), np.float32)
    position_table[:, size:] = codes
    spec.encoder.position_encodings.encodings = position_table
    spec.decoder.position_encodings.encodings = position_table.copy()

    def zero(rows: int, cols: int) -> np.ndarray:
        return np.zeros((rows, cols), np.float32)

    for layer in spec.encoder.layer:
        _norm(layer.self_attention.layer_norm, width)
        layer.self_attention.linear[0].weight = zero(3 * width, width)
        layer.self_attention.linear[1].weight = zero(width, width)
        _norm(layer.ffn.layer_norm, width)
        layer.ffn.linear_0.weight = zero(ffn, width)
        layer.ffn.linear_1.weight = zero(width, ffn)
    _norm(spec.encoder.layer_norm, width)

    layer = spec.decoder.layer[0]
    _norm(layer.self_attention.layer_norm, width)
    layer.self_attention.linear[0].weight = zero(3 * width, width)
    layer.self_attention.linear[1].weight = zero(width, width)
    _norm(layer.ffn.layer_norm, width)
    layer.ffn.linear_0.weight = zero(ffn, width)
    layer.ffn.linear_1.weight = zero(width, ffn)

    cross = layer.attention
    _norm(cross.layer_norm, width)
    query = zero(width, width)
    query[size:, size:] = np.eye(code_width, dtype=np.float32) * 4.0  # sharp attention
    cross.linear[0].weight = query
    key_value = zero(2 * width, width)
    key_value[size:width, size:width] = np.eye(code_width, dtype=np.float32)  # keys: position codes
    key_value[width + np.arange(size), np.arange(size)] = 1.0  # values: token one-hots
    cross.linear[1].weight = key_value
    out = zero(width, width)
    out[np.arange(size), np.arange(size)] = 1.0
    cross.linear[2].weight = out

    gamma = np.zeros(width, np.float32)
    gamma[:size] = 1.0  # the final norm keeps only the token dimensions
    _norm(spec.decoder.layer_norm, width, gamma)

    mapping = case_map(vocab, mode)
    projection = zero(size, width)
    for source_id in range(size):
        projection[mapping.get(source_id, source_id), source_id] = 10.0
    spec.decoder.projection.weight = projection

    spec.config.add_source_eos = True
    spec.register_source_vocabulary(list(vocab))
    spec.register_target_vocabulary(list(vocab))
    return spec


def write_model_dir(
    directory: Path, mode: str = "copy", *, lines: Iterable[str] = CORPUS, transformers_style: bool = False
) -> Path:
    """A CTranslate2 model folder (``model.bin`` …) plus ``source.spm``/``target.spm`` beside it,
    the way ``ct2-transformers-converter`` leaves an OPUS-MT model.

    ``transformers_style`` also copies that converter's config for Marian models: the decoder starts
    from ``</s>`` and CTranslate2 does *not* append ``</s>`` to the source (Hugging Face's tokenizer
    does that), so a caller that forgets it gets a model that never stops."""
    directory.mkdir(parents=True, exist_ok=True)
    sp_bytes = train_sentencepiece(lines)
    spec = copy_spec(pieces_of(sp_bytes), mode)
    if transformers_style:
        spec.config.add_source_eos = False
        spec.config.decoder_start_token = "</s>"
    spec.validate()
    spec.optimize(quantization=None)
    spec.save(str(directory))
    (directory / "source.spm").write_bytes(sp_bytes)
    (directory / "target.spm").write_bytes(sp_bytes)
    return directory


def metadata_for(from_code: str, to_code: str, version: str, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "package_version": version,
        "argos_version": "1.9.0",
        "from_code": from_code,
        "from_name": LANGUAGE_NAMES.get(from_code, from_code),
        "to_code": to_code,
        "to_name": LANGUAGE_NAMES.get(to_code, to_code),
        "type": "translate",
        "code": f"translate-{from_code}_{to_code}",
        "links": [],
    }
    data.update(extra)
    return data


def write_package_dir(
    root: Path, from_code: str, to_code: str, mode: str = "copy", *, version: str = "1.0"
) -> Path:
    """An unpacked Argos package folder: ``metadata.json``, ``model/``, ``sentencepiece.model``."""
    root.mkdir(parents=True, exist_ok=True)
    sp_bytes = train_sentencepiece()
    spec = copy_spec(pieces_of(sp_bytes), mode)
    spec.validate()
    spec.optimize(quantization=None)
    (root / "model").mkdir()
    spec.save(str(root / "model"))
    (root / "sentencepiece.model").write_bytes(sp_bytes)
    metadata = metadata_for(from_code, to_code, version)
    (root / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    (root / "README.md").write_text(f"Test package ({mode}) {from_code}→{to_code}.\n", encoding="utf-8")
    return root


def build_package(
    out_dir: Path, from_code: str, to_code: str, mode: str = "copy", *, version: str = "1.0"
) -> Path:
    """Zip a package folder in the Argos layout (one top folder) as ``<code>-<version>.argosmodel``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    code = f"translate-{from_code}_{to_code}"
    work = Path(tempfile.mkdtemp(prefix="argos-build-"))
    try:
        top = f"{code}-{version}"
        root = write_package_dir(work / top, from_code, to_code, mode, version=version)
        archive = out_dir / f"{code}-{version.replace('.', '_')}.argosmodel"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(root, top)
            for path in sorted(root.rglob("*")):
                zf.write(path, str(path.relative_to(work)))
        return archive
    finally:
        shutil.rmtree(work, ignore_errors=True)
