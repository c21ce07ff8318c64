"""The whole path on the demo blog: translate step vs raw Apertium, the naive per-segment way, a
no-change second run, and extraction speed on the shared dev set (when it is present)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from syndication import pipeline
from syndication.context import RunContext
from syndication.demo import demo_dir, prepare_demo, serve_site
from syndication.store import SegmentRow

ROUNDS = 5
DEV_SET = Path(
    os.environ.get("SYNDICATION_DEV_SET", Path(__file__).resolve().parents[2] / "shared" / "extraction-dev")
)
APERTIUM_ENV = {**os.environ, "APERTIUM_TRANSFUSE": "no"}
PAIRS = {"nb": "dan-nob", "sv": "dan-swe"}


def _apertium(pair: str, text: str) -> None:
    subprocess.run(
        ["apertium", "-f", "html", pair],
        input=text,
        text=True,
        capture_output=True,
        check=True,
        env=APERTIUM_ENV,
    )


def _fresh_extracted(tmp: Path, base_url: str, name: str) -> RunContext:
    config = prepare_demo(tmp / name, base_url)
    ctx = RunContext.open(config)
    pipeline.poll(ctx)
    pipeline.extract(ctx)
    return ctx


def translate_step(tmp: Path, base_url: str) -> list[tuple[str, float, str]]:
    ours: list[float] = []
    raw: list[float] = []
    naive: list[float] = []
    for round_ in range(ROUNDS):
        ctx = _fresh_extracted(tmp, base_url, f"translate-{round_}")
        with ctx.store.session() as session:
            sources = [row.source for row in session.query(SegmentRow).order_by(SegmentRow.id)]
        start = time.perf_counter()
        pipeline.translate(ctx)
        ours.append(time.perf_counter() - start)
        assert ctx.summary.engine_calls == len(PAIRS), ctx.summary
        ctx.close()
        document = "\n".join(f"<p>{source}</p>" for source in sources)
        start = time.perf_counter()
        for pair in PAIRS.values():
            _apertium(pair, document)
        raw.append(time.perf_counter() - start)
        if round_ == 0:  # the naive way is slow; once is enough to see the order of magnitude
            start = time.perf_counter()
            for pair in PAIRS.values():
                for source in sources:
                    _apertium(pair, source)
            naive.append(time.perf_counter() - start)
    ours_s, raw_s = statistics.median(ours), statistics.median(raw)
    return [
        ("translate_step_demo_s", ours_s, "s"),
        ("raw_apertium_one_call_s", raw_s, "s"),
        ("translate_step_over_raw_apertium", ours_s / raw_s, "ratio(<=1.3)"),
        ("naive_per_segment_over_ours", naive[0] / ours_s, "ratio(>=10)"),
        ("segments_per_language", float(len(sources)), "segments"),
    ]


def no_change_run(tmp: Path, base_url: str) -> list[tuple[str, float, str]]:
    config = prepare_demo(tmp / "rerun", base_url)
    first_ctx = RunContext.open(config)
    start = time.perf_counter()
    pipeline.syndicate(first_ctx)
    first = time.perf_counter() - start
    first_ctx.close()
    second_ctx = RunContext.open(config)
    start = time.perf_counter()
    summary = pipeline.syndicate(second_ctx)
    second = time.perf_counter() - start
    second_ctx.close()
    return [
        ("no_change_run_engine_calls", float(summary.engine_calls), "calls"),
        ("no_change_run_deliveries", float(summary.deliveries_sent), "deliveries"),
        ("no_change_run_page_fetches", float(summary.pages_fetched), "fetches"),
        ("no_change_run_over_first_run", second / first, "ratio"),
    ]


def extraction_speed() -> list[tuple[str, float, str]]:
    if not (DEV_SET / "pages.json").exists():
        print(f"# extraction dev set not found at {DEV_SET} (set SYNDICATION_DEV_SET); skipped")
        return []
    from syndication.fetch.encoding import decode_html
    from syndication.posts import extract_article

    pages = []
    for page in json.loads((DEV_SET / "pages.json").read_text()):
        truth = json.loads((DEV_SET / "truth" / f"{page['id']}.json").read_text())
        raw = gzip.decompress((DEV_SET / "html" / f"{page['id']}.html.gz").read_bytes())
        pages.append((decode_html(raw, None), truth["url"]))
    best = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for html, url in pages:
            extract_article(html, url)
        best.append(time.perf_counter() - start)
    return [("extraction_pages_per_s", len(pages) / min(best), "pages/s(>=30)")]


def run() -> list[tuple[str, float, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="syndication-bench-"))
    try:
        with serve_site(demo_dir() / "site") as server:
            rows = translate_step(tmp, server.base_url)
            rows += no_change_run(tmp, server.base_url)
        rows += extraction_speed()
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    for name, value, unit in run():
        print(f"{name} {value:.4g} {unit}")
