"""OPUS-MT / Tatoeba-MT models: download the published Marian archive, verify it, convert it.

Helsinki-NLP publishes its Marian models as zip archives at ``object.pouta.csc.fi`` (listed in the
``models/<pair>/README.md`` files of the OPUS-MT-train and Tatoeba-Challenge repositories):
``https://object.pouta.csc.fi/<collection>/<pair>/<release>.zip``, each holding the Marian weights
(``*.npz``), the vocabulary (``*.vocab.yml``), ``source.spm``/``target.spm`` and a ``decoder.yml``
naming the weights and vocabularies. No checksum is published beside them, so we check the archive's
content and record its SHA-256 (a ``--sha256`` given by the user is enforced).

Conversion uses CTranslate2's own ``OpusMTConverter`` (numpy and PyYAML only: no torch, no
transformers), int8 by default. A multi-target model (``dan-nor``: Bokmål and Nynorsk) needs a
sentence-initial ``>>nob<<``/``>>nno<<`` token: it is found in the model's vocabulary and stored as
the installed model's ``source_prefix``.

Installed models live in ``<models_dir>/opus-<src>-<tgt>/`` (a CTranslate2 model folder plus the two
SentencePiece models and :data:`METADATA`); the ``opus-mt`` engine and the engine names
``opus-da-sv``… read them from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from syndication.errors import ConfigError, EngineUnavailableError
from syndication.translations import argos_packages

BASE_URL = "https://object.pouta.csc.fi/"
METADATA = "opus-mt.json"
QUANTIZATIONS = ("int8", "int8_float32", "int16", "float16", "float32")

ISO639_3 = {"da": "dan", "nb": "nob", "nn": "nno", "no": "nor", "sv": "swe", "en": "eng", "de": "deu"}


@dataclass(frozen=True)
class Release:
    """One published archive: ``<collection>/<pair>/<name>.zip``."""

    collection: str
    pair: str
    name: str

    def url(self, base: str | None = None) -> str:
        return f"{(base or BASE_URL).rstrip('/')}/{self.collection}/{self.pair}/{self.name}.zip"


# From the models/<pair>/README.md of Helsinki-NLP's Tatoeba-Challenge and OPUS-MT-train: the newest
# release of each pair at the time of writing. dan-nor is one model for nb and nn (``>>nob<<``).
CATALOG: dict[tuple[str, str], Release] = {
    ("da", "sv"): Release("Tatoeba-MT-models", "dan-swe", "opus-2021-02-19"),
    ("da", "nb"): Release("Tatoeba-MT-models", "dan-nor", "opus-2021-02-23"),
    ("da", "nn"): Release("Tatoeba-MT-models", "dan-nor", "opus-2021-02-23"),
    ("da", "en"): Release("OPUS-MT-models", "da-en", "opus-2019-12-18"),
    ("da", "de"): Release("OPUS-MT-models", "da-de", "opus-2020-01-26"),
}

MAX_ARCHIVE_BYTES = 2 * 1024**3
_PAIR = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})$")
_NAME = re.compile(r"^opus-([a-z]{2,3})-([a-z]{2,3})$")


def default_models_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get("SYNDICATION_MODELS_DIR"):
        return Path(environ["SYNDICATION_MODELS_DIR"]).expanduser()
    data_home = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "syndication" / "models"


def model_name(source: str, target: str) -> str:
    return f"opus-{source}-{target}"


def parse_pair(text: str) -> tuple[str, str]:
    """``opus-mt:da-sv``, ``da-sv`` or ``opus-da-sv`` → ``("da", "sv")``."""
    bare = text.strip().removeprefix("opus-mt:")
    match = _PAIR.match(bare) or _NAME.match(bare)
    if not match:
        raise EngineUnavailableError(
            f"{text!r} is not an OPUS-MT pair: write it as opus-mt:da-sv (source-target language codes)"
        )
    return match.group(1), match.group(2)


def is_model_name(name: str) -> bool:
    """``opus-da-sv``: an engine name that means "the installed OPUS-MT model for da→sv"."""
    return bool(_NAME.match(name))


def release_for(source: str, target: str) -> Release:
    release = CATALOG.get((source, target))
    if release is None:
        known = ", ".join(f"opus-mt:{a}-{b}" for a, b in sorted(CATALOG))
        raise EngineUnavailableError(
            f"no published OPUS-MT model is known for {source}→{target} (known: {known}); download "
            "another from https://github.com/Helsinki-NLP/Tatoeba-Challenge/tree/master/models and "
            "run `syndicate models install FILE.zip --pair SRC-TGT`",
            lang=target,
        )
    return release


def archive_url(source: str, target: str, environ: Mapping[str, str] | None = None) -> str:
    """The download address; ``$OPUS_MT_BASE_URL`` points at a mirror instead."""
    environ = os.environ if environ is None else environ
    return release_for(source, target).url(environ.get("OPUS_MT_BASE_URL"))


# ------------------------------------------------------------------------------- installed models


@dataclass(frozen=True)
class InstalledModel:
    name: str
    source: str
    target: str
    path: Path
    release: str = ""
    source_prefix: str = ""
    quantization: str = ""
    sha256: str = ""
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def version(self) -> str:
        """Recorded with every translation and part of the memory key: switching the release or the
        quantization is a new model whose output is not reused."""
        return f"{self.name}@{self.release or '?'}+{self.quantization or '?'}"


def read_model(path: Path) -> InstalledModel:
    try:
        data = json.loads((path / METADATA).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        source, target = str(data["source"]), str(data["target"])
    except (OSError, ValueError, KeyError) as exc:
        return InstalledModel(path.name, "?", "?", path, problem=f"{path / METADATA} unreadable: {exc}")
    problem = None
    for required in ("model.bin", "source.spm", "target.spm"):
        if not (path / required).is_file():
            problem = (
                f"{path / required} is missing; reinstall with "
                f"`syndicate models install opus-mt:{source}-{target}`"
            )
            break
    return InstalledModel(
        name=path.name,
        source=source,
        target=target,
        path=path,
        release=str(data.get("release", "")),
        source_prefix=str(data.get("source_prefix", "")),
        quantization=str(data.get("quantization", "")),
        sha256=str(data.get("sha256", "")),
        problem=problem,
    )


def installed_models(models_dir: Path) -> list[InstalledModel]:
    if not models_dir.is_dir():
        return []
    return [
        read_model(entry)
        for entry in sorted(models_dir.iterdir())
        if entry.is_dir() and (entry / METADATA).exists()
    ]


def find_model(models_dir: Path, name: str) -> InstalledModel | None:
    path = models_dir / name
    return read_model(path) if (path / METADATA).exists() else None


# ------------------------------------------------------------------------------------ verifying


@dataclass(frozen=True)
class MarianArchive:
    """The checked layout of an unpacked archive."""

    root: Path
    decoder: dict[str, Any]
    vocabs: list[Path]
    languages: tuple[list[str], list[str]]
    """Source and target languages from the archive's README (empty when it does not say)."""


def _readme_languages(root: Path) -> tuple[list[str], list[str]]:
    try:
        text = (root / "README.md").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [], []
    found: dict[str, list[str]] = {}
    for side in ("source", "target"):
        match = re.search(rf"^\* {side} language\(s\): (.+)$", text, re.M)
        found[side] = match.group(1).split() if match else []
    return found["source"], found["target"]


def check_unpacked(root: Path, where: str) -> MarianArchive:
    """``root`` holds ``decoder.yml``; its model and vocabularies and both SentencePiece models exist."""
    import yaml

    try:
        decoder = yaml.safe_load((root / "decoder.yml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EngineUnavailableError(f"{where}: decoder.yml is unreadable: {exc}") from exc
    if not isinstance(decoder, dict) or not decoder.get("models") or not decoder.get("vocabs"):
        raise EngineUnavailableError(
            f"{where}: decoder.yml names no `models` and `vocabs`; not a Marian model"
        )
    paths = [str(decoder["models"][0]), *map(str, decoder["vocabs"])]
    for name in paths:
        if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
            raise EngineUnavailableError(f"{where}: decoder.yml names {name!r} outside the archive")
        if not (root / name).is_file():
            raise EngineUnavailableError(f"{where}: {name}, named in decoder.yml, is missing")
    if not paths[0].endswith(".npz"):
        raise EngineUnavailableError(f"{where}: the model {paths[0]} is not a .npz file")
    for spm in ("source.spm", "target.spm"):
        if not (root / spm).is_file():
            raise EngineUnavailableError(
                f"{where}: {spm} is missing (only SentencePiece OPUS-MT models are supported)"
            )
    return MarianArchive(root, decoder, [root / str(v) for v in decoder["vocabs"]], _readme_languages(root))


def unpack(archive: Path, destination: Path) -> MarianArchive:
    """Unpack ``archive`` into ``destination`` with the same safety checks as Argos packages."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise EngineUnavailableError(f"{archive} is not an OPUS-MT model archive (not a zip: {exc})") from exc
    with zf:
        members = zf.infolist()
        total = 0
        for info in members:
            problem = argos_packages._member_problem(info)
            if problem:
                raise EngineUnavailableError(f"{archive} contains {problem} ({info.filename!r}); refusing it")
            total += info.file_size
        if total > argos_packages.MAX_TOTAL_BYTES:
            raise EngineUnavailableError(f"{archive} unpacks to {total} bytes; refusing it")
        decoders = [i.filename for i in members if PurePosixPath(i.filename).name == "decoder.yml"]
        if len(decoders) != 1:
            raise EngineUnavailableError(
                f"{archive} is not an OPUS-MT model archive: expected one decoder.yml, found {len(decoders)}"
            )
        try:
            argos_packages._extract(zf, destination)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise EngineUnavailableError(f"{archive} is damaged and cannot be unpacked: {exc}") from exc
    return check_unpacked(destination / PurePosixPath(decoders[0]).parent, str(archive))


def language_token(vocab_path: Path, target: str) -> str | None:
    """The sentence-initial target token of a multi-target model (``>>nob<<``), ``None`` for a model
    with one target language; an error naming the tokens when the model does not offer ``target``."""
    from ctranslate2.converters.marian import load_vocab

    tokens = [t for t in load_vocab(str(vocab_path)) if re.fullmatch(r">>[A-Za-z0-9_]+<<", t)]
    if not tokens:
        return None
    for code in (ISO639_3.get(target), target):
        if code and f">>{code}<<" in tokens:
            return f">>{code}<<"
    raise EngineUnavailableError(
        f"this OPUS-MT model translates into several languages ({' '.join(tokens)}) but not into "
        f"{target!r}: install it with the matching --pair",
        lang=target,
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------ installing


def _pair_from_readme(archive: MarianArchive, where: str) -> tuple[str, str]:
    three_to_two = {v: k for k, v in ISO639_3.items()}
    sources, targets = archive.languages
    if len(sources) == 1 and len(targets) == 1:
        return three_to_two.get(sources[0], sources[0]), three_to_two.get(targets[0], targets[0])
    said = f"{' '.join(sources) or '?'} → {' '.join(targets) or '?'}"
    raise EngineUnavailableError(
        f"{where}: cannot tell which pair to install (the archive says {said}); give it with "
        "--pair SRC-TGT, e.g. --pair da-nb"
    )


def install_archive(
    archive: Path,
    models_dir: Path,
    *,
    pair: tuple[str, str] | None = None,
    quantization: str = "int8",
    expected_sha256: str | None = None,
    release: str = "",
    url: str = "",
) -> InstalledModel:
    """Verify, convert and install a Marian archive as ``opus-<src>-<tgt>`` (replacing an older one)."""
    from ctranslate2.converters import OpusMTConverter

    archive = Path(archive)
    if not archive.is_file():
        raise EngineUnavailableError(f"{archive} does not exist or is not a file")
    if quantization not in QUANTIZATIONS:
        raise ConfigError(f"unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}")
    digest = sha256_of(archive)
    if expected_sha256 and digest != expected_sha256.lower():
        raise EngineUnavailableError(
            f"{archive}: SHA-256 is {digest}, not the expected {expected_sha256}; the download is "
            "damaged or not the published archive"
        )
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EngineUnavailableError(
            f"cannot create the models folder {models_dir} ({exc.strerror or exc}); choose another "
            "with --models-dir or $SYNDICATION_MODELS_DIR"
        ) from exc
    staging = models_dir / f".installing-{secrets.token_hex(4)}"
    try:
        unpacked = unpack(archive, staging / "marian")
        source, target = pair or _pair_from_readme(unpacked, str(archive))
        prefix = language_token(unpacked.vocabs[0], target) or ""
        converted = staging / "model"
        try:
            OpusMTConverter(str(unpacked.root)).convert(str(converted), quantization=quantization)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            raise EngineUnavailableError(
                f"{archive}: CTranslate2 cannot convert this Marian model: {exc.__class__.__name__}: {exc}"
            ) from exc
        for spm in ("source.spm", "target.spm"):
            shutil.copyfile(unpacked.root / spm, converted / spm)
        for extra in ("README.md", "LICENSE"):
            if (unpacked.root / extra).is_file():
                shutil.copyfile(unpacked.root / extra, converted / extra)
        import ctranslate2

        metadata = {
            "source": source,
            "target": target,
            "source_prefix": prefix,
            "release": release or archive.stem,
            "url": url,
            "archive": archive.name,
            "sha256": digest,
            "quantization": quantization,
            "ctranslate2": ctranslate2.__version__,
        }
        (converted / METADATA).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        final = models_dir / model_name(source, target)
        trash = models_dir / f".removing-{secrets.token_hex(4)}"
        if final.exists():
            final.rename(trash)
        converted.rename(final)
        shutil.rmtree(trash, ignore_errors=True)
        return read_model(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _offline_error(pair: str, url: str, exc: Exception) -> EngineUnavailableError:
    return EngineUnavailableError(
        f"cannot download {url} ({exc.__class__.__name__}): this machine seems to be offline. "
        f"Download that file on a machine with internet, copy it here and run "
        f"`syndicate models install FILE.zip --pair {pair}`"
    )


def install_pair(
    source: str,
    target: str,
    models_dir: Path,
    *,
    quantization: str = "int8",
    expected_sha256: str | None = None,
    timeout: float = 60.0,
    environ: Mapping[str, str] | None = None,
) -> InstalledModel:
    """Download the published archive for ``source``→``target`` and install it (needs internet)."""
    import requests

    release = release_for(source, target)
    url = archive_url(source, target, environ)
    models_dir.mkdir(parents=True, exist_ok=True)
    download = models_dir / f".download-{secrets.token_hex(4)}.zip"
    try:
        try:
            argos_packages.download_capped(url, download, limit=MAX_ARCHIVE_BYTES, timeout=timeout)
        except requests.HTTPError as exc:
            raise EngineUnavailableError(f"downloading {url} failed: {exc}") from exc
        except requests.RequestException as exc:
            raise _offline_error(f"{source}-{target}", url, exc) from exc
        return install_archive(
            download,
            models_dir,
            pair=(source, target),
            quantization=quantization,
            expected_sha256=expected_sha256,
            release=f"{release.pair}/{release.name}",
            url=url,
        )
    finally:
        download.unlink(missing_ok=True)


def remove_model(name: str, models_dir: Path) -> InstalledModel:
    if not is_model_name(name):
        name = model_name(*parse_pair(name))
    model = find_model(models_dir, name)
    if model is None:
        raise EngineUnavailableError(f"no OPUS-MT model {name} is installed in {models_dir}")
    shutil.rmtree(model.path)
    return model


# -------------------------------------------------------------------------------------- engine


def engine_config(model: InstalledModel, options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ctranslate2`` engine settings for an installed model (runtime options passed through)."""
    config = {k: v for k, v in options.items() if k not in ("name", "pair", "models_dir")}
    config.update(
        model=str(model.path),
        source=model.source,
        target=model.target,
        source_prefix=model.source_prefix,
        version=model.version,
    )
    return config


def resolve_models_dir(options: Mapping[str, Any]) -> Path:
    value = options.get("models_dir")
    if not value:
        return default_models_dir()
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else Path(str(options.get("base_dir", "."))) / path


def model_from_options(options: Mapping[str, Any], names: Sequence[str] = ()) -> InstalledModel:
    """The installed model an ``opus-mt`` engine config names (``pair = "da-sv"``)."""
    models_dir = resolve_models_dir(options)
    pair = options.get("pair") or (names[0] if names else None)
    if not pair:
        raise ConfigError('opus-mt engine: missing setting `pair` (e.g. pair = "da-sv")')
    source, target = parse_pair(str(pair))
    model = find_model(models_dir, model_name(source, target))
    if model is None:
        raise EngineUnavailableError(
            f"no OPUS-MT model for {source}→{target} in {models_dir}: install it with "
            f"`syndicate models install opus-mt:{source}-{target}` (or FILE.zip --pair {source}-{target})",
            lang=target,
        )
    if model.problem:
        raise EngineUnavailableError(model.problem, lang=target)
    return model
