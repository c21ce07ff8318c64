"""Argos Translate packages: find the installed ones, install from a file or the index, remove.

We read the package format ourselves instead of importing ``argostranslate`` (or LibreTranslate's
torch-free fork ``argos-translate-lt``): importing ``argostranslate.settings`` creates folders in the
home directory as a side effect, its package folder is fixed at import time from the environment,
its ``install_from_path`` extracts whatever the zip holds without checks, and the fork still pulls
``onnxruntime``, ``minisbd`` and ``sacremoses`` that we never use. The format is small:

* a ``.argosmodel`` file is a zip with **one top folder** holding ``metadata.json``
  (``from_code``, ``to_code``, ``package_version``, ``code``, …), ``model/`` (a CTranslate2 model:
  ``model.bin``, ``config.json``, vocabularies), ``sentencepiece.model``, and optionally a sentence
  splitter folder (``stanza/``, ``spacy/``, ``minisbd/``) that we do not use;
* installed packages are those folders, unpacked in the packages folder
  (``$ARGOS_PACKAGES_DIR``, else ``$XDG_DATA_HOME/argos-translate/packages``, else
  ``~/.local/share/argos-translate/packages`` — the same place Argos Translate uses, so packages
  installed by either tool are found by both);
* the package index is a JSON list of metadata objects with download ``links``, published at
  :data:`INDEX_URL` (``$ARGOS_PACKAGE_INDEX`` overrides the base address, as in Argos Translate).

Installing from a file is the offline path; installing by code needs internet.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from syndication.errors import EngineUnavailableError

INDEX_BASE = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"
INDEX_URL = INDEX_BASE + "index.json"

MAX_TOTAL_BYTES = 4 * 1024**3
"""Largest unpacked package accepted (real Argos packages are 100–300 MB)."""
MAX_MEMBERS = 10_000
MAX_RATIO = 1000
"""A member expanding more than this many times (and to over 1 MiB) is treated as a zip bomb."""
MAX_METADATA_BYTES = 1024**2
MAX_INDEX_BYTES = 20 * 1024**2

_LANG = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,120}$")


def default_packages_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get("ARGOS_PACKAGES_DIR"):
        return Path(environ["ARGOS_PACKAGES_DIR"]).expanduser()
    data_home = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "argos-translate" / "packages"


def index_url(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    base = environ.get("ARGOS_PACKAGE_INDEX")
    if not base:
        return INDEX_URL
    return base if base.endswith(".json") else base.rstrip("/") + "/index.json"


def package_code(from_code: str, to_code: str) -> str:
    return f"translate-{from_code}_{to_code}"


def normalize_code(code: str) -> str:
    """``da_en``, ``da-en`` and ``translate-da_en`` all name the same package."""
    code = code.strip()
    match = re.fullmatch(r"(?:translate-)?([a-z]{2,3})[_-]([a-z]{2,3})", code)
    return package_code(match.group(1), match.group(2)) if match else code


@dataclass(frozen=True)
class PackageInfo:
    """An installed (or installable) package, and what is wrong with it if it cannot be used."""

    code: str
    from_code: str
    to_code: str
    version: str
    path: Path
    from_name: str = ""
    to_name: str = ""
    problem: str | None = None
    target_prefix: str = ""

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def provenance(self) -> str:
        """``code@version``: recorded with every translation and part of the memory key."""
        return f"{self.code}@{self.version}"


def _check_metadata(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise EngineUnavailableError(f"{where}: metadata.json must hold a JSON object")
    for key in ("from_code", "to_code"):
        value = data.get(key)
        if not isinstance(value, str) or not _LANG.match(value):
            raise EngineUnavailableError(f"{where}: metadata.json has no valid {key} (found {value!r})")
    kind = data.get("type", "translate")
    if kind != "translate":
        raise EngineUnavailableError(f"{where}: a {kind!r} package, not a translation package")
    return data


def read_package(path: Path) -> PackageInfo:
    """Describe the package folder at ``path``; problems are reported in ``problem``, not raised."""
    metadata_path = path / "metadata.json"
    try:
        raw = metadata_path.read_bytes()[:MAX_METADATA_BYTES]
        data = _check_metadata(json.loads(raw.decode("utf-8-sig")), str(path))
    except FileNotFoundError:
        return PackageInfo(path.name, "?", "?", "?", path, problem=f"no metadata.json in {path}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return PackageInfo(
            path.name, "?", "?", "?", path, problem=f"{metadata_path} is not valid JSON: {exc}"
        )
    except EngineUnavailableError as exc:
        return PackageInfo(path.name, "?", "?", "?", path, problem=str(exc))
    from_code, to_code = data["from_code"], data["to_code"]
    code = str(data.get("code") or package_code(from_code, to_code))
    problem = None
    if not (path / "model" / "model.bin").is_file():
        problem = f"{path / 'model' / 'model.bin'} is missing"
    elif not (path / "sentencepiece.model").is_file():
        problem = (
            f"{path} uses a BPE tokenizer, which this engine does not support"
            if (path / "bpe.model").is_file()
            else f"{path / 'sentencepiece.model'} is missing"
        )
    return PackageInfo(
        code=code,
        from_code=from_code,
        to_code=to_code,
        version=str(data.get("package_version", "")) or "0",
        path=path,
        from_name=str(data.get("from_name", "")),
        to_name=str(data.get("to_name", "")),
        problem=problem,
        target_prefix=str(data.get("target_prefix", "")),
    )


def installed_packages(packages_dir: Path) -> list[PackageInfo]:
    """Every package folder in ``packages_dir`` (broken ones included, with their problem)."""
    if not packages_dir.is_dir():
        return []
    found = []
    for entry in sorted(packages_dir.iterdir()):
        if entry.is_dir() and not entry.name.startswith("."):
            found.append(read_package(entry))
    return found


# ------------------------------------------------------------------------------------ install


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "an absolute or Windows path"
    parts = PurePosixPath(name).parts
    if any(part in ("..", "") for part in parts):
        return "a path leaving the package folder"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return None


def _inspect_archive(archive: Path, zf: zipfile.ZipFile) -> tuple[str, dict[str, Any]]:
    """Validate member names and sizes; return the top folder and the metadata."""
    members = zf.infolist()
    if not members:
        raise EngineUnavailableError(f"{archive} is an empty zip archive, not an Argos package")
    if len(members) > MAX_MEMBERS:
        raise EngineUnavailableError(f"{archive} has {len(members)} files; refusing more than {MAX_MEMBERS}")
    tops = set()
    total = 0
    for info in members:
        problem = _member_problem(info)
        if problem:
            raise EngineUnavailableError(
                f"{archive} contains {problem} ({info.filename!r}); refusing to install it"
            )
        tops.add(PurePosixPath(info.filename).parts[0])
        total += info.file_size
        if info.file_size > 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise EngineUnavailableError(
                f"{archive}: {info.filename} expands {info.file_size // max(info.compress_size, 1)}× "
                "(a zip bomb?); refusing to install it"
            )
    if total > MAX_TOTAL_BYTES:
        raise EngineUnavailableError(
            f"{archive} unpacks to {total / 1024**3:.1f} GiB, over the {MAX_TOTAL_BYTES // 1024**3} GiB limit"
        )
    if len(tops) != 1:
        raise EngineUnavailableError(
            f"{archive} must hold exactly one top folder (found {', '.join(sorted(tops)) or 'none'})"
        )
    top = tops.pop()
    if not _SAFE_NAME.match(top):
        raise EngineUnavailableError(f"{archive}: unusable package folder name {top!r}")
    names = {info.filename.rstrip("/") for info in members}
    for required in ("metadata.json", "model/model.bin"):
        if f"{top}/{required}" not in names:
            raise EngineUnavailableError(
                f"{archive} is not an Argos translation package: {top}/{required} is missing"
            )
    if f"{top}/sentencepiece.model" not in names:
        if f"{top}/bpe.model" in names:
            raise EngineUnavailableError(
                f"{archive} uses a BPE tokenizer; only SentencePiece packages are supported"
            )
        raise EngineUnavailableError(f"{archive}: {top}/sentencepiece.model is missing")
    meta_info = zf.getinfo(f"{top}/metadata.json")
    if meta_info.file_size > MAX_METADATA_BYTES:
        raise EngineUnavailableError(f"{archive}: metadata.json is implausibly large")
    try:
        metadata = json.loads(zf.read(meta_info).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EngineUnavailableError(f"{archive}: metadata.json is not valid JSON: {exc}") from exc
    return top, _check_metadata(metadata, str(archive))


def _extract(zf: zipfile.ZipFile, destination: Path) -> None:
    """Extract every member below ``destination``, never writing more than each member declares."""
    root = destination.resolve()
    for info in zf.infolist():
        target = (destination / info.filename).resolve()
        if root not in target.parents and target != root:
            raise EngineUnavailableError(f"refusing to extract {info.filename!r} outside {destination}")
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with zf.open(info) as source, open(target, "wb") as sink:
            while chunk := source.read(1024 * 1024):
                written += len(chunk)
                if written > info.file_size:
                    raise EngineUnavailableError(
                        f"{info.filename} is larger than its zip header says; refusing"
                    )
                sink.write(chunk)


def install_file(archive: Path, packages_dir: Path) -> PackageInfo:
    """Install a ``.argosmodel`` file; replaces an installed package with the same code."""
    archive = Path(archive)
    if archive.is_dir():
        raise EngineUnavailableError(
            f"{archive} is a folder; install the .argosmodel file it came from (a zip archive)"
        )
    if not archive.is_file():
        raise EngineUnavailableError(f"{archive} does not exist or is not a file")
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise EngineUnavailableError(f"{archive} is not an Argos package (not a zip archive: {exc})") from exc
    try:
        packages_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        zf.close()
        raise EngineUnavailableError(
            f"cannot create the packages folder {packages_dir} ({exc.strerror or exc}); "
            "choose another with --packages-dir or `packages_dir` of the argos engine"
        ) from exc
    staging = packages_dir / f".installing-{secrets.token_hex(4)}"
    try:
        with zf:
            top, _metadata = _inspect_archive(archive, zf)
            staging.mkdir()
            try:
                _extract(zf, staging)
            # zlib.error: corrupt deflate data (caught before any CRC check); NotImplementedError
            # and RuntimeError: an unsupported compression method or an encrypted member.
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                raise EngineUnavailableError(f"{archive} is damaged and cannot be unpacked: {exc}") from exc
            except OSError as exc:
                raise EngineUnavailableError(
                    f"{archive} cannot be unpacked into {packages_dir}: {exc.strerror or exc}"
                ) from exc
        package = read_package(staging / top)
        if package.problem:
            raise EngineUnavailableError(f"{archive}: {package.problem}")
        final = packages_dir / top
        replaced = [p for p in installed_packages(packages_dir) if p.code == package.code or p.path == final]
        trash = packages_dir / f".removing-{secrets.token_hex(4)}"
        trash.mkdir()
        for old in replaced:
            old.path.rename(trash / old.path.name)
        (staging / top).rename(final)
        shutil.rmtree(trash, ignore_errors=True)
        return read_package(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_package(code: str, packages_dir: Path) -> PackageInfo:
    wanted = normalize_code(code)
    packages = installed_packages(packages_dir)
    for package in packages:
        if package.code == wanted or package.path.name == code:
            try:
                shutil.rmtree(package.path)
            except OSError as exc:
                raise EngineUnavailableError(f"cannot remove {package.path}: {exc.strerror or exc}") from exc
            return package
    installed = ", ".join(p.code for p in packages) or "none"
    raise EngineUnavailableError(
        f"no package {wanted} is installed in {packages_dir} (installed: {installed})"
    )


# ---------------------------------------------------------------------------------- the index


def _offline_error(code: str, url: str, exc: Exception) -> EngineUnavailableError:
    return EngineUnavailableError(
        f"cannot reach the Argos package index at {url} ({exc.__class__.__name__}): this machine seems "
        f"to be offline. Download the {code} .argosmodel file on a machine with internet (links in "
        f"{INDEX_URL}), copy it here and run `syndicate models install FILE.argosmodel`"
    )


def fetch_index(url: str, *, timeout: float = 20.0, code: str = "package") -> list[dict[str, Any]]:
    """The index at ``url``; ``code`` (the package wanted) is named in the error when offline."""
    import requests

    try:
        response = requests.get(url, timeout=timeout, stream=True)
        response.raise_for_status()
        body = response.raw.read(MAX_INDEX_BYTES + 1, decode_content=True)
    except requests.HTTPError as exc:
        raise EngineUnavailableError(f"the Argos package index at {url} answered {exc}") from exc
    except requests.RequestException as exc:
        raise _offline_error(code, url, exc) from exc
    if len(body) > MAX_INDEX_BYTES:
        raise EngineUnavailableError(f"the Argos package index at {url} is implausibly large; refusing it")
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EngineUnavailableError(f"the Argos package index at {url} is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise EngineUnavailableError(f"the Argos package index at {url} is not a list of packages")
    return [entry for entry in data if isinstance(entry, dict)]


def find_in_index(index: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    wanted = normalize_code(code)
    for entry in index:
        entry_code = entry.get("code") or package_code(str(entry.get("from_code")), str(entry.get("to_code")))
        if entry_code == wanted:
            return entry
    return None


def install_code(
    code: str, packages_dir: Path, *, url: str | None = None, timeout: float = 60.0
) -> PackageInfo:
    """Download the package ``code`` named in the index and install it (needs internet)."""
    import requests

    url = url or index_url()
    wanted = normalize_code(code)
    entry = find_in_index(fetch_index(url, timeout=timeout, code=wanted), wanted)
    if entry is None:
        raise EngineUnavailableError(
            f"the Argos package index at {url} has no package {wanted}; `syndicate models list` "
            "shows what is installed, and Argos offers most pairs through English "
            "(translate-XX_en, translate-en_XX)"
        )
    links = [
        link
        for link in entry.get("links", [])
        if isinstance(link, str) and link.startswith(("https://", "http://"))
    ]
    if not links:
        raise EngineUnavailableError(f"the index entry for {wanted} has no http(s) download link")
    packages_dir.mkdir(parents=True, exist_ok=True)
    download = packages_dir / f".download-{secrets.token_hex(4)}.argosmodel"
    last_error: Exception | None = None
    try:
        for link in links:
            try:
                download_capped(link, download, limit=MAX_TOTAL_BYTES, timeout=timeout)
                return install_file(download, packages_dir)
            except requests.RequestException as exc:
                last_error = exc
        if isinstance(last_error, requests.HTTPError):
            raise EngineUnavailableError(
                f"downloading {wanted} from {links[-1]} failed: {last_error}"
            ) from last_error
        raise _offline_error(wanted, links[-1], last_error or OSError("no link answered")) from last_error
    finally:
        download.unlink(missing_ok=True)


def download_capped(url: str, path: Path, *, limit: int, timeout: float) -> None:
    """Stream ``url`` into ``path``, refusing past ``limit`` bytes (a model archive from a mirror
    must not fill the disk); HTTP errors are raised as ``requests`` raises them."""
    import requests  # not at import time: `syndicate --help` stays fast

    with requests.get(url, timeout=timeout, stream=True) as response:
        response.raise_for_status()
        written = 0
        with open(path, "wb") as sink:
            for chunk in response.iter_content(1024 * 1024):
                written += len(chunk)
                if written > limit:
                    raise EngineUnavailableError(f"{url} is larger than {limit} bytes; refusing")
                sink.write(chunk)
