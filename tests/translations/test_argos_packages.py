"""Installing, listing and removing Argos packages: real zips, a real HTTP index on loopback."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndication.errors import EngineUnavailableError
from syndication.translations import argos_packages as ap
from syndication.translations.argos import ArgosEngine


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_install_list_upgrade_remove(tmp_path: Path, argos_dist: dict[str, Path]) -> None:
    packages = tmp_path / "packages"
    info = ap.install_file(argos_dist["da_en"], packages)
    assert (info.code, info.from_code, info.to_code, info.version) == ("translate-da_en", "da", "en", "1.0")
    assert info.path == packages / "translate-da_en-1.0"
    assert info.provenance == "translate-da_en@1.0"
    assert [(p.code, p.version, p.usable) for p in ap.installed_packages(packages)] == [
        ("translate-da_en", "1.0", True)
    ]
    # A newer version of the same code replaces the old folder.
    upgraded = ap.install_file(argos_dist["da_en_copy_1.1"], packages)
    assert upgraded.version == "1.1"
    assert listing(packages) == ["translate-da_en-1.1"]
    engine = ArgosEngine({"packages_dir": packages, "intra_threads": 1})
    assert engine.version("da", "en") == "translate-da_en@1.1"
    assert engine.translate(["Hej."], source="da", target="en")[0].text == "Hej."  # the copy model now
    removed = ap.remove_package("da_en", packages)
    assert removed.code == "translate-da_en"
    assert listing(packages) == []
    with pytest.raises(EngineUnavailableError, match=r"no package translate-da_en is installed"):
        ap.remove_package("translate-da_en", packages)


def test_default_packages_dir_follows_argos(tmp_path: Path) -> None:
    assert ap.default_packages_dir({"ARGOS_PACKAGES_DIR": str(tmp_path)}) == tmp_path
    assert (
        ap.default_packages_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "argos-translate" / "packages"
    )
    assert ap.index_url({}) == ap.INDEX_URL
    assert ap.index_url({"ARGOS_PACKAGE_INDEX": "http://mirror/x/"}) == "http://mirror/x/index.json"


def test_broken_folders_are_listed_with_their_problem(tmp_path: Path) -> None:
    (tmp_path / "no-metadata").mkdir()
    bad_json = tmp_path / "bad-json"
    bad_json.mkdir()
    (bad_json / "metadata.json").write_text("{nope", encoding="utf-8")
    no_model = tmp_path / "no-model"
    no_model.mkdir()
    (no_model / "metadata.json").write_text(
        json.dumps({"from_code": "da", "to_code": "en"}), encoding="utf-8"
    )
    (tmp_path / ".installing-1234").mkdir()  # staging folders are ignored
    problems = {p.path.name: p.problem for p in ap.installed_packages(tmp_path)}
    assert set(problems) == {"no-metadata", "bad-json", "no-model"}
    assert "no metadata.json" in str(problems["no-metadata"])
    assert "not valid JSON" in str(problems["bad-json"])
    assert "model.bin is missing" in str(problems["no-model"])


# ----------------------------------------------------------------------------- hostile archives


def make_zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return path


GOOD_META = json.dumps({"from_code": "da", "to_code": "en", "package_version": "1.0"}).encode()
VALID = {"p/metadata.json": GOOD_META, "p/model/model.bin": b"x", "p/sentencepiece.model": b"x"}


@pytest.mark.parametrize(
    ("members", "symlink", "message"),
    [
        ({**VALID, "p/../../evil.txt": b"x"}, None, "leaving the package folder"),
        ({**VALID, "/etc/evil": b"x"}, None, "absolute"),
        ({**VALID, "other/file": b"x"}, None, "exactly one top folder"),
        ({"p/model/model.bin": b"x", "p/sentencepiece.model": b"x"}, None, "metadata.json is missing"),
        ({**VALID, "p/metadata.json": b"{broken"}, None, "not valid JSON"),
        ({**VALID, "p/metadata.json": b'{"from_code": "da"}'}, None, "to_code"),
        (
            {**VALID, "p/metadata.json": b'{"from_code":"da","to_code":"en","type":"sbd"}'},
            None,
            "not a translation",
        ),
        ({"p/metadata.json": GOOD_META, "p/sentencepiece.model": b"x"}, None, "model/model.bin is missing"),
        ({"p/metadata.json": GOOD_META, "p/model/model.bin": b"x", "p/bpe.model": b"x"}, None, "BPE"),
        (VALID, "p/link", "symbolic link"),
    ],
)
def test_hostile_or_broken_archives_are_refused(
    tmp_path: Path, members: dict[str, bytes], symlink: str | None, message: str
) -> None:
    archive = make_zip(tmp_path / "bad.argosmodel", members, symlink=symlink)
    packages = tmp_path / "packages"
    with pytest.raises(EngineUnavailableError, match=message) as info:
        ap.install_file(archive, packages)
    assert str(archive) in str(info.value)
    assert listing(packages) == []  # nothing half-installed, no staging left behind
    assert not (tmp_path / "evil.txt").exists()


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = {**VALID, "p/model/model.bin": bytes(64 * 1024 * 1024)}
    archive = make_zip(tmp_path / "bomb.argosmodel", bomb)
    with pytest.raises(EngineUnavailableError, match="zip bomb"):
        ap.install_file(archive, tmp_path / "packages")


def test_not_a_zip_and_missing_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.argosmodel"
    junk.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(EngineUnavailableError, match="not a zip archive"):
        ap.install_file(junk, tmp_path / "packages")
    with pytest.raises(EngineUnavailableError, match="does not exist"):
        ap.install_file(tmp_path / "absent.argosmodel", tmp_path / "packages")


# --------------------------------------------------------------------------------- the index


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def index_server(tmp_path: Path, argos_dist: dict[str, Path]) -> Iterator[str]:
    """A real HTTP server on loopback serving an Argos-style index and a package file."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "translate-en_de-1_0.argosmodel").write_bytes(argos_dist["en_de"].read_bytes())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Files(*a, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    index = [
        {"code": "translate-en_de", "from_code": "en", "to_code": "de", "package_version": "1.0",
         "links": ["ipfs://ignored", f"{base}/translate-en_de-1_0.argosmodel"]},
        {"code": "translate-en_sv", "from_code": "en", "to_code": "sv", "package_version": "1.0",
         "links": [f"{base}/missing.argosmodel"]},
    ]  # fmt: skip
    (root / "index.json").write_text(json.dumps(index), encoding="utf-8")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{base}/index.json"
    server.shutdown()
    server.server_close()


def test_install_by_code_from_the_index(tmp_path: Path, index_server: str) -> None:
    packages = tmp_path / "packages"
    info = ap.install_code("en_de", packages, url=index_server)
    assert (info.code, info.version) == ("translate-en_de", "1.0")
    assert listing(packages) == ["translate-en_de-1.0"]
    with pytest.raises(EngineUnavailableError, match="has no package translate-xx_yy"):
        ap.install_code("translate-xx_yy", packages, url=index_server)
    with pytest.raises(EngineUnavailableError, match="404"):
        ap.install_code("translate-en_sv", packages, url=index_server)
    assert listing(packages) == ["translate-en_de-1.0"]


def test_offline_install_by_code_says_to_use_a_file(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EngineUnavailableError) as info:
        ap.install_code("translate-da_en", tmp_path, url=f"http://127.0.0.1:{port}/index.json", timeout=5)
    message = str(info.value)
    assert "offline" in message
    assert "Download the translate-da_en .argosmodel file" in message
    assert "syndicate models install FILE.argosmodel" in message


def _corrupt_member(archive: Path, member: str) -> None:
    """Overwrite the start of one member's deflate stream (an invalid block type: a damaged download
    that zlib rejects before any CRC is checked)."""
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(member)
    data = bytearray(archive.read_bytes())
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start : start + 4] = b"\xff" * 4
    archive.write_bytes(bytes(data))


def test_damaged_member_data_is_a_clear_error_and_keeps_what_was_installed(
    tmp_path: Path, argos_dist: dict[str, Path]
) -> None:
    packages = tmp_path / "packages"
    ap.install_file(argos_dist["da_en"], packages)
    weights = b"".join(str(i * 7919 % 100003).encode() for i in range(60_000))
    archive = make_zip(tmp_path / "damaged.argosmodel", {**VALID, "p/model/model.bin": weights})
    _corrupt_member(archive, "p/model/model.bin")
    with pytest.raises(EngineUnavailableError, match="damaged") as info:
        ap.install_file(archive, packages)
    assert str(archive) in str(info.value)
    assert listing(packages) == ["translate-da_en-1.0"]  # no staging folder left, old package kept


def test_packages_folder_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, argos_dist: dict[str, Path]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(EngineUnavailableError, match="packages folder") as info:
        ap.install_file(argos_dist["da_en"], blocker / "packages")
    assert str(blocker / "packages") in str(info.value)


def test_a_folder_is_not_a_package_file(tmp_path: Path, packages_dir: Path) -> None:
    folder = next(p for p in packages_dir.iterdir() if p.name.startswith("translate-da_en"))
    with pytest.raises(EngineUnavailableError, match="is a folder"):
        ap.install_file(folder, tmp_path / "packages")
