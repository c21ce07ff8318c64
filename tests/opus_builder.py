"""Build a tiny but real OPUS-MT (Marian) model archive at test time, offline.

The archive has the layout Helsinki-NLP publishes (``opus-2021-02-19.zip``): Marian weights in a
``.npz`` with Marian's parameter names and its ``special:model.yml`` config, a Marian vocabulary
``.yml``, ``source.spm``/``target.spm`` (SentencePiece, trained here in milliseconds), ``decoder.yml``
naming them, and a README saying the languages. CTranslate2's ``OpusMTConverter`` reads it exactly
as it reads a downloaded one.

The weights are the hand-set copy model of :mod:`tests.argos_builder` (its docstring explains how it
works), written under Marian's names: ``W`` matrices are stored ``[in, out]`` (the converter
transposes them), the embeddings are divided by √d because CTranslate2 scales Marian embeddings by
√d, and the position codes go in ``Wpos`` (the converter takes it instead of sinusoids).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tests.argos_builder import CORPUS, case_map, pieces_of, train_sentencepiece

RELEASE = "opus-2021-02-19"
MODEL_FILE = "opus.spm32k-spm32k.transformer-align.model1.npz.best-perplexity.npz"
VOCAB_FILE = "opus.spm32k-spm32k.vocab.yml"

MARIAN_CONFIG = """\
type: transformer
enc-depth: 1
dec-depth: 1
transformer-heads: 1
transformer-dim-ffn: 4
transformer-ffn-activation: relu
transformer-preprocess: n
transformer-postprocess: da
transformer-postprocess-top: n
transformer-postprocess-emb: ""
transformer-decoder-autoreg: self-attention
transformer-no-projection: false
transformer-guided-alignment-layer: last
tied-embeddings-all: false
"""


def marian_vocab_yml(tokens: Sequence[str]) -> str:
    """Marian's vocabulary file: ``token: id`` per line, quoted the way Marian's YAML writer does."""
    lines = []
    for index, token in enumerate(tokens):
        escaped = token.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'"{escaped}": {index}')
    return "\n".join(lines) + "\n"


def marian_vocab(pieces: Sequence[str], language_tokens: Sequence[str] = ()) -> list[str]:
    """Marian's order: ``</s>`` 0, ``<unk>`` 1, then the SentencePiece pieces (and ``>>xxx<<``)."""
    rest = [p for p in pieces if p not in ("</s>", "<unk>", "<s>")]
    return ["</s>", "<unk>", *language_tokens, *rest]


def copy_weights(
    vocab: Sequence[str],
    mode: str = "copy",
    *,
    positions: int = 512,
    code_width: int = 128,
    skip_first: bool = False,
) -> dict[str, np.ndarray]:
    """``skip_first``: decoding step ``t`` attends source position ``t + 1``, so the model drops
    the first source token: the sentence-initial ``>>nob<<`` of a multi-target model (without it
    the first piece of the text would be lost). Inputs are then limited to 100 tokens."""
    from tests.argos_builder import _position_codes

    size = len(vocab)
    # Even: the converter builds a sinusoid table of this width (unused, but it must fit).
    width = size + code_width + size % 2
    ffn = 4
    if skip_first:
        positions = min(positions, 100)
    codes = _position_codes(positions, code_width, seed=20261127)
    scale = np.float32(np.sqrt(width))

    def zero(*shape: int) -> np.ndarray:
        return np.zeros(shape, np.float32)

    weights: dict[str, np.ndarray] = {}
    one_hot = zero(size, width)
    one_hot[np.arange(size), np.arange(size)] = 1.0
    weights["encoder_Wemb"] = one_hot / scale
    weights["decoder_Wemb"] = zero(size, width)
    position_table = zero(positions, width)
    position_table[:, size : size + code_width] = codes
    weights["Wpos"] = position_table

    def norm(name: str, gamma: np.ndarray | None = None) -> None:
        weights[f"{name}_ln_scale_pre"] = np.ones((1, width), np.float32) if gamma is None else gamma[None, :]
        weights[f"{name}_ln_bias_pre"] = zero(1, width)

    def attention(scope: str, q: np.ndarray, k: np.ndarray, v: np.ndarray, o: np.ndarray) -> None:
        # CTranslate2 weights are [out, in]; Marian stores [in, out].
        for suffix, matrix in (("q", q), ("k", k), ("v", v), ("o", o)):
            weights[f"{scope}_W{suffix}"] = np.ascontiguousarray(matrix.T)
            weights[f"{scope}_b{suffix}"] = zero(1, width)
        norm(f"{scope}_Wo")

    def ffn_layer(scope: str) -> None:
        weights[f"{scope}_ffn_W1"] = zero(width, ffn)
        weights[f"{scope}_ffn_b1"] = zero(1, ffn)
        weights[f"{scope}_ffn_W2"] = zero(ffn, width)
        weights[f"{scope}_ffn_b2"] = zero(1, width)
        norm(f"{scope}_ffn_ffn")

    square = zero(width, width)
    attention("encoder_l1_self", square, square, square, square)
    ffn_layer("encoder_l1")
    weights["encoder_top_ln_scale"] = np.ones((1, width), np.float32)
    weights["encoder_top_ln_bias"] = zero(1, width)

    attention("decoder_l1_self", square, square, square, square)
    ffn_layer("decoder_l1")
    codes_block = slice(size, size + code_width)
    query = zero(width, width)
    if skip_first:
        # A linear map taking each position's code to the next one's (exact for fewer positions
        # than code dimensions): the query of step t then matches the key of position t + 1.
        current, following = codes[:-1].T, codes[1:].T
        shift = following @ np.linalg.pinv(current)
        query[codes_block, codes_block] = shift.astype(np.float32) * 4.0
    else:
        query[codes_block, codes_block] = np.eye(code_width, dtype=np.float32) * 4.0  # sharp attention
    key = zero(width, width)
    key[codes_block, codes_block] = np.eye(code_width, dtype=np.float32)  # keys: position codes
    value = zero(width, width)
    value[np.arange(size), np.arange(size)] = 1.0  # values: token one-hots
    out = zero(width, width)
    out[np.arange(size), np.arange(size)] = 1.0
    attention("decoder_l1_context", query, key, value, out)
    gamma = zero(width)
    gamma[:size] = 1.0  # the final norm keeps only the token dimensions
    weights["decoder_top_ln_scale"] = gamma[None, :]
    weights["decoder_top_ln_bias"] = zero(1, width)

    mapping = case_map(vocab, mode)
    projection = zero(size, width)
    for source_id in range(size):
        projection[mapping.get(source_id, source_id), source_id] = 10.0
    weights["decoder_ff_logit_out_W"] = np.ascontiguousarray(projection.T)
    weights["decoder_ff_logit_out_b"] = zero(1, size)

    config = MARIAN_CONFIG.encode() + b"\0"
    weights["special:model.yml"] = np.frombuffer(config, dtype=np.int8).copy()
    return weights


def write_marian_dir(
    directory: Path,
    mode: str = "copy",
    *,
    source: str = "dan",
    targets: Sequence[str] = ("swe",),
    language_tokens: Sequence[str] = (),
) -> Path:
    """An unpacked OPUS-MT release: the files of the published zip archives."""
    directory.mkdir(parents=True, exist_ok=True)
    sp_bytes = train_sentencepiece(CORPUS)
    vocab = marian_vocab(pieces_of(sp_bytes), language_tokens)
    buffer = io.BytesIO()
    np.savez(buffer, **copy_weights(vocab, mode, skip_first=bool(language_tokens)))
    (directory / MODEL_FILE).write_bytes(buffer.getvalue())
    (directory / VOCAB_FILE).write_text(marian_vocab_yml(vocab), encoding="utf-8")
    (directory / "source.spm").write_bytes(sp_bytes)
    (directory / "target.spm").write_bytes(sp_bytes)
    (directory / "decoder.yml").write_text(
        f"models:\n  - {MODEL_FILE}\nvocabs:\n  - {VOCAB_FILE}\n  - {VOCAB_FILE}\n"
        "beam-size: 6\nnormalize: 0.6\nword-penalty: 0\nmini-batch: 1\nmaxi-batch: 1\n"
        "maxi-batch-sort: src\nrelative-paths: true\n",
        encoding="utf-8",
    )
    labels = f"* valid language labels: {' '.join(language_tokens)}\n" if language_tokens else ""
    (directory / "README.md").write_text(
        f"# {RELEASE}.zip\n\n* dataset: opus\n* model: transformer-align\n"
        f"* source language(s): {source}\n* target language(s): {' '.join(targets)}\n{labels}",
        encoding="utf-8",
    )
    (directory / "LICENSE").write_text("CC-BY 4.0 (test model)\n", encoding="utf-8")
    return directory


def build_archive(out_dir: Path, mode: str = "copy", **kwargs: object) -> Path:
    """Zip :func:`write_marian_dir`'s files flat, as ``<release>.zip`` (the published layout)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = write_marian_dir(out_dir / f"{RELEASE}-files", mode, **kwargs)  # type: ignore[arg-type]
    archive = out_dir / f"{RELEASE}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(work.iterdir()):
            zf.write(path, path.name)
    return archive
