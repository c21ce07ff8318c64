"""A synthetic WordPress blog on loopback and pipeline contexts pointed at it (real Apertium, real
SQLite, the outbox channel writing real files)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndication.context import RunContext
from tests.synthetic_blog import BlogServer, SyntheticBlog, blog_config, serve_blog


@pytest.fixture
def blog() -> Iterator[BlogServer]:
    with serve_blog(SyntheticBlog(posts=25)) as server:
        yield server


@pytest.fixture
def write_config(tmp_path: Path, blog: BlogServer) -> Callable[..., Path]:
    def write(*, auto_approve: bool = True, extra: str = "", name: str = "syndication.toml") -> Path:
        path = tmp_path / name
        path.write_text(
            blog_config(
                blog.base_url,
                store_url=f"sqlite:///{tmp_path}/syndication.db",
                outbox=str(tmp_path / "outbox"),
                auto_approve=auto_approve,
                extra=extra,
            ),
            encoding="utf-8",
        )
        return path

    return write


@pytest.fixture
def make_ctx(write_config: Callable[..., Path]) -> Iterator[Callable[..., RunContext]]:
    """A fresh context per call, as a new run would open (same store and outbox)."""
    opened: list[RunContext] = []

    def make(*, dry_run: bool = False, **options: object) -> RunContext:
        ctx = RunContext.open(write_config(**options), dry_run=dry_run)
        opened.append(ctx)
        return ctx

    yield make
    for ctx in opened:
        ctx.close()
