"""Shared fixtures: tiny real Argos packages built once per session, installed in a temp folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndication.translations import ct2_runtime
from syndication.translations.argos import ArgosEngine
from syndication.translations.argos_packages import install_file
from tests.argos_builder import build_package

# On two shared cores, OpenMP wake-ups make tiny models ten times slower.
os.environ.setdefault("ARGOS_INTRA_THREADS", "1")


@pytest.fixture(scope="session")
def argos_dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Built ``.argosmodel`` files: da→en upper-cases, en→de lower-cases, da→en 1.1 copies."""
    out = tmp_path_factory.mktemp("dist")
    return {
        "da_en": build_package(out, "da", "en", "upper", version="1.0"),
        "en_de": build_package(out, "en", "de", "lower", version="1.0"),
        "da_en_copy_1.1": build_package(out, "da", "en", "copy", version="1.1"),
    }


@pytest.fixture(scope="session")
def packages_dir(tmp_path_factory: pytest.TempPathFactory, argos_dist: dict[str, Path]) -> Path:
    """A packages folder with da→en and en→de installed (tests must not change it)."""
    directory = tmp_path_factory.mktemp("packages")
    install_file(argos_dist["da_en"], directory)
    install_file(argos_dist["en_de"], directory)
    return directory


@pytest.fixture()
def fresh_packages_dir(tmp_path: Path, packages_dir: Path) -> Iterator[Path]:
    """A private copy of the installed packages, for tests that damage or change them."""
    copy = tmp_path / "packages"
    shutil.copytree(packages_dir, copy)
    ct2_runtime.clear_caches()
    yield copy
    ct2_runtime.clear_caches()


@pytest.fixture(scope="session")
def engine(packages_dir: Path) -> ArgosEngine:
    return ArgosEngine({"packages_dir": packages_dir, "intra_threads": 1, "beam_size": 2})


def run_apertium(text: str, pair: str = "dan-nob") -> str:
    """Translate segment markup with the real Apertium, keeping placeholders as markup."""
    if shutil.which("apertium") is None:
        pytest.skip("apertium is not installed")
    env = dict(os.environ, APERTIUM_TRANSFUSE="no")
    done = subprocess.run(
        ["apertium", "-f", "html", pair],
        input=text,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return done.stdout.rstrip("\n")
