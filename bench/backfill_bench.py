"""Backfill benchmark: a synthetic WordPress site through extract → translate (Apertium) → outbox.

The site (``tests/synthetic_blog.py``: Danish posts of 3–5 paragraphs and a list, ~20 segments
each, full text in ``content:encoded``, 10 posts per feed page) is served on loopback by this process.
Each measurement is a fresh store and a fresh child process running ``pipeline.backfill`` over all
pages: posts per minute (the child's own wall time around the backfill) and the child's peak RSS.
Targets nb and sv, auto-approved, delivered to the outbox; default chunk of 100 posts.

Sizes 100 and 1,000 posts, on SQLite and on PostgreSQL (a private cluster from scripts/pg_up.sh).
Linear means time(1,000) ÷ time(100) ≤ 11.

    python -m bench backfill                    # both stores, both sizes
    BACKFILL_SIZES=100 python -m bench backfill # quicker
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = [int(n) for n in os.environ.get("BACKFILL_SIZES", "100,1000").split(",")]
STORES = os.environ.get("BACKFILL_STORES", "sqlite,postgresql").split(",")


def run() -> list[tuple[str, float, str]]:
    from tests.synthetic_blog import SyntheticBlog, serve_blog

    results: list[tuple[str, float, str]] = []
    largest = max(SIZES)
    with serve_blog(SyntheticBlog(posts=largest)) as full:
        servers = {largest: full}
        others = {n: serve_blog(SyntheticBlog(posts=n)) for n in SIZES if n != largest}
        servers.update(others)
        try:
            for store in STORES:
                with _store(store) as make_url:
                    seconds: dict[int, float] = {}
                    for size in SIZES:
                        figures = _measure(servers[size].base_url, make_url(), size)
                        seconds[size] = figures["seconds"]
                        results += [
                            (
                                f"backfill_{store}_{size}_posts_per_min",
                                size / figures["seconds"] * 60,
                                "posts/min",
                            ),
                            (f"backfill_{store}_{size}_seconds", figures["seconds"], "s"),
                            (f"backfill_{store}_{size}_peak_rss", figures["rss_mb"], "MB"),
                            (f"backfill_{store}_{size}_engine_calls", figures["engine_calls"], "calls"),
                        ]
                        assert figures["deliveries_sent"] == 2 * size, figures
                    if len(SIZES) > 1:
                        small, big = min(SIZES), max(SIZES)
                        results.append(
                            (f"backfill_{store}_time_ratio_{big}_{small}", seconds[big] / seconds[small], "x")
                        )
        finally:
            for server in others.values():
                server.close()
    return results


def _measure(base_url: str, store_url: str, size: int) -> dict[str, float]:
    from tests.synthetic_blog import blog_config

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "syndication.toml"
        config.write_text(blog_config(base_url, store_url=store_url, outbox=f"{folder}/outbox"))
        child = subprocess.run(
            [sys.executable, "-m", "bench.backfill_bench", str(config)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if child.returncode != 0:
            raise RuntimeError(f"backfill child failed:\n{child.stdout}\n{child.stderr}")
        data: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"#   {size} posts on {store_url.split(':')[0]}: {data['seconds']:.1f} s", file=sys.stderr)
        return data


class _store:
    """Yields a factory of fresh store URLs (a new SQLite file or PostgreSQL database each time)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = 0
        self.folder = tempfile.TemporaryDirectory()
        self.count = 0

    def __enter__(self):
        if self.kind == "postgresql":
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.port = sock.getsockname()[1]
            env = {
                **os.environ,
                "PGPORT": str(self.port),
                "PG_STATE": f"/tmp/syndication-bench-pg-{self.port}",
            }
            up = subprocess.run(
                ["bash", str(ROOT / "scripts" / "pg_up.sh")], env=env, capture_output=True, text=True
            )
            if up.returncode != 0:
                raise RuntimeError(f"scripts/pg_up.sh failed:\n{up.stdout}\n{up.stderr}")
            # Config files may not carry the store's password: libpq reads it from a password file.
            passfile = Path(env["PG_STATE"]) / "pgpass"
            passfile.write_text(f"127.0.0.1:{self.port}:*:syndication:syndication\n", encoding="utf-8")
            passfile.chmod(0o600)
            os.environ["PGPASSFILE"] = str(passfile)
        return self.make_url

    def make_url(self) -> str:
        self.count += 1
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder.name}/bench{self.count}.db"
        import psycopg

        name = f"bench{self.count}_{int(time.time())}"
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER syndication')
        return f"postgresql://syndication@127.0.0.1:{self.port}/{name}"

    def __exit__(self, *exc: object) -> None:
        if self.kind == "postgresql":
            env = {
                **os.environ,
                "PGPORT": str(self.port),
                "PG_STATE": f"/tmp/syndication-bench-pg-{self.port}",
            }
            subprocess.run(["bash", str(ROOT / "scripts" / "pg_down.sh")], env=env, capture_output=True)
        self.folder.cleanup()


def _child(config: str) -> None:
    """In the child: one backfill over every page; prints seconds, peak RSS and the summary."""
    import resource

    from syndication import pipeline
    from syndication.context import RunContext

    ctx = RunContext.open(config)
    try:
        started = time.perf_counter()
        summary = pipeline.backfill(ctx, pages=10_000)
        seconds = time.perf_counter() - started
    finally:
        ctx.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_mb": rss_mb,
                "engine_calls": summary.engine_calls,
                "deliveries_sent": summary.deliveries_sent,
                "entries_new": summary.entries_new,
            }
        )
    )


if __name__ == "__main__":
    _child(sys.argv[1])
