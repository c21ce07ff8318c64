"""Run budget benchmark: a run with one feed dripping its headers (a byte every 50 ms, forever)
among four normal feeds (three posts each, pages fetched) finishes within its budget.

The poll and extract stages run as the ``syndicate`` flow runs them (``run_stage`` with the run's
start, on SQLite, loopback servers in this process). Two set-ups:

- ``deadline``: ``fetch.deadline`` 1 s inside a 6 s budget (as the defaults, 60 s in 10 min): the
  dripping feed fails with a timeout after 1 s, everything else is polled and extracted.
- ``budget``: ``fetch.deadline`` 60 s, longer than the 3 s budget: the dripping request is cut when
  the budget runs out and the feeds and pages after it are deferred to the next run.

Figures: the run's seconds, seconds over budget (0 means on time), feeds and posts deferred.

    python -m bench budget
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def _measure(name: str, deadline: float, budget: float) -> list[tuple[str, float, str]]:
    from syndication.pipeline import run_stage
    from syndication.summary import RunSummary
    from tests.drip_server import DripHeadersServer
    from tests.httpserver import FixtureServer
    from tests.tiny_site import PAGE, rss

    with (
        FixtureServer() as site,
        DripHeadersServer(interval=0.05) as dripping,
        tempfile.TemporaryDirectory() as tmp,
    ):
        feeds = [dripping.url("/feed/")]
        for feed in range(4):
            base = site.url(f"/s{feed}").rstrip("/")
            numbers = [feed * 10 + n for n in range(3)]
            site.add(f"/s{feed}/feed/", rss(base, numbers), headers={"Content-Type": "application/rss+xml"})
            for n in numbers:
                site.add(f"/s{feed}/p{n}/", PAGE.format(n=n).encode(), headers={"Content-Type": "text/html"})
            feeds.append(f"{base}/feed/")
        config = Path(tmp) / "syndication.toml"
        tables = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in feeds)
        config.write_text(
            f"""
[store]
url = "sqlite:///{tmp}/budget.db"
[fetch]
allow_private_hosts = ["127.0.0.1"]
min_host_interval = 0
timeout = 0.5
deadline = {deadline}
run_budget = {budget}
respect_robots = false
{tables}
[translation]
targets = ["nb"]
""",
            encoding="utf-8",
        )
        run_stage("count_awaiting", str(config))  # creates the store: not part of the run
        started = time.time()
        summary = RunSummary()
        for stage in ("poll", "extract"):
            summary.merge(RunSummary.from_dict(run_stage(stage, str(config), started_at=started)))
        seconds = time.time() - started
    return [
        (f"budget_{name}_run_seconds", seconds, "s"),
        (f"budget_{name}_budget", budget, "s"),
        (f"budget_{name}_seconds_over_budget", max(0.0, seconds - budget), "s"),
        (f"budget_{name}_feeds_polled", summary.feeds_polled, "feeds"),
        (f"budget_{name}_feeds_deferred", summary.feeds_deferred, "feeds"),
        (f"budget_{name}_posts_extracted", summary.revisions_new, "posts"),
        (f"budget_{name}_posts_deferred", summary.posts_deferred, "posts"),
        (f"budget_{name}_errors", len(summary.errors), "errors"),
    ]


def run() -> list[tuple[str, float, str]]:
    return _measure("deadline", deadline=1.0, budget=6.0) + _measure("budget", deadline=60.0, budget=3.0)
