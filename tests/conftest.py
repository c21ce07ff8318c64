"""Fixtures every test package may use."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndication.context import RunContext
from syndication.demo import DemoServer, demo_dir, prepare_demo, serve_site
from tests.httpserver import FixtureServer


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Commands invoked in-process set Prefect variables with ``os.environ.setdefault`` (as they
    must, before Prefect reads its settings); without this, one test's PREFECT_LOGGING_LEVEL=WARNING
    would reach every later test's worker and flow subprocesses."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def _no_installed_opus_models(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default engine chains prefer an installed OPUS-MT model (issue 12): models a developer
    installed in ~/.local/share must not change which engine a test gets."""
    monkeypatch.setenv("SYNDICATION_MODELS_DIR", str(tmp_path_factory.mktemp("no-opus-models")))


@pytest.fixture
def http_server() -> Iterator[FixtureServer]:
    """A started loopback HTTP server (see ``tests/httpserver.py``), stopped after the test."""
    with FixtureServer() as server:
        yield server


# A copy of the demo blog served on loopback, and pipeline contexts pointed at it.


@pytest.fixture
def site(tmp_path: Path) -> Iterator[DemoServer]:
    root = tmp_path / "site"
    shutil.copytree(demo_dir() / "site", root)
    with serve_site(root) as server:
        yield server


@pytest.fixture
def make_ctx(tmp_path: Path, site: DemoServer) -> Iterator[Callable[..., RunContext]]:
    """Build a fresh context (as a new run would) on one config; ``auto_approve`` as given."""
    opened: list[RunContext] = []

    def make(*, auto_approve: bool = True, extra: str = "") -> RunContext:
        template = (demo_dir() / "syndication.toml").read_text(encoding="utf-8")
        if not auto_approve:
            template = template.replace('auto_approve = ["nb", "sv"]', "auto_approve = []")
        template += extra
        path = tmp_path / "template.toml"
        path.write_text(template, encoding="utf-8")
        config = prepare_demo(tmp_path / "work", site.base_url, template=path)
        ctx = RunContext.open(config)
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()
