"""The store on PostgreSQL (a private cluster from scripts/pg_up.sh): migrations, the pipeline, and
the delivery ledger under concurrency — two publish runs at the same moment deliver 200 approved items
exactly once, and a publish run killed with SIGKILL mid-run leaves nothing stuck or duplicated.

Publish runs are real Prefect flow runs (against the session's Prefect server, itself on PostgreSQL)
in their own processes, delivering to the outbox and to a counting webhook receiver over real HTTP.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import func, inspect, select, text, update

from syndication import pipeline
from syndication.context import RunContext
from syndication.demo import demo_dir, prepare_demo, serve_site
from syndication.models import Article
from syndication.posts.ingest import store_revision
from syndication.store import Delivery, Post, SegmentRow, TranslatedSegment, Translation, open_store, utcnow
from tests.e2e.conftest import Postgres, PrefectServer

pytestmark = pytest.mark.e2e
HERE = Path(__file__).resolve().parent
SECRET = "delt-hemmelighed"


class CountingReceiver:
    """A partner's webhook endpoint that counts every delivery key it receives (real HTTP)."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.keys[self.headers["Idempotency-Key"]] += 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[CountingReceiver]:
    server = CountingReceiver()
    yield server
    server.close()


def without_password(url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}@{parts.hostname}:{parts.port}" if parts.password else parts.netloc
    return urlunsplit(parts._replace(netloc=netloc))


def write_config(path: Path, store_url: str, webhook: str, *, lease: int = 600) -> Path:
    """The config file; the store URL goes in without its password (a password in the file is a
    configuration error): libpq reads it from the PGPASSFILE the ``postgres`` fixture writes."""
    store_url = without_password(store_url)
    path.write_text(
        f"""
[store]
url = "{store_url}"
[translation]
targets = ["nb"]
[deliveries]
claim_lease_seconds = {lease}
[channels.outbox]
type = "outbox"
path = "{path.parent / "outbox"}"
[channels.partner]
type = "webhook"
url = "{webhook}"
""",
        encoding="utf-8",
    )
    return path


def approved_items(store_url: str, count: int) -> None:
    """``count`` posts with an approved Norwegian translation each, written straight to the store."""
    store = open_store(store_url)
    try:
        with store.session() as session:
            for n in range(1, count + 1):
                url = f"https://lokalt.example.dk/{n}/"
                post = Post(post_key=f"https://lokalt.example.dk/?p={n}", url=url, status="extracted")
                session.add(post)
                session.flush()
                html = f"<p>Byen holder et møde nummer {n}.</p><p>Alle kan komme.</p>"
                article = Article(url=url, title=f"Møde {n}", html=html, text=html)
                revision, _ = store_revision(session, post, article)
                translation = Translation(
                    revision_id=revision.id,
                    post_id=post.id,
                    lang="nb",
                    status="approved",
                    decided_at=utcnow(),
                )
                session.add(translation)
                session.flush()
                for row in session.scalars(select(SegmentRow).where(SegmentRow.revision_id == revision.id)):
                    session.add(
                        TranslatedSegment(
                            translation_id=translation.id,
                            segment_id=row.id,
                            key=row.key,
                            target=row.source.replace("Byen", "Byen vår"),
                            origin="human",
                            state="approved",
                        )
                    )
    finally:
        store.dispose()


def start_child(server: PrefectServer, config: Path, start: Path, **env: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, str(HERE / "publish_child.py"), str(config), str(start)],
        env=server.env(SYNDICATION__CHANNELS__PARTNER__SECRET=SECRET, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    assert line == "ready", line + child.stderr.read() if child.poll() is not None else line
    return child


def finish(child: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, out + err
    return json.loads(out.strip().splitlines()[-1])


def states(store_url: str) -> Counter[str]:
    store = open_store(store_url, migrate=False)
    try:
        with store.session() as session:
            return Counter(
                dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
            )
    finally:
        store.dispose()


# ------------------------------------------------------------------------------------------- tests


def test_migrations_and_a_whole_run_on_postgresql(postgres: Postgres, tmp_path: Path):
    from alembic.script import ScriptDirectory

    from syndication.store import MIGRATIONS

    url = postgres.create_database()
    store = open_store(url)
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        tables = set(inspect(conn).get_table_names())
    store.dispose()
    assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert {"feeds", "posts", "revisions", "segments", "translations", "deliveries"} <= tables
    open_store(url).dispose()  # already at head: a no-op

    root = tmp_path / "site"
    shutil.copytree(demo_dir() / "site", root)
    with serve_site(root) as site:
        config = prepare_demo(tmp_path / "work", site.base_url, outbox=tmp_path / "outbox")
        config.write_text(
            config.read_text().replace('url = "sqlite:///syndication.db"', f'url = "{without_password(url)}"')
        )
        ctx = RunContext.open(config)
        try:
            summary = pipeline.syndicate(ctx)
        finally:
            ctx.close()
    assert summary.entries_new == 2 and summary.engine_calls == 2 and summary.errors == []
    assert summary.deliveries_sent == 4
    assert len(list((tmp_path / "outbox" / "nb").glob("*.html"))) == 2


def test_two_publish_runs_at_once_deliver_each_of_200_items_exactly_once(
    postgres: Postgres, prefect_server: PrefectServer, receiver: CountingReceiver, tmp_path: Path
):
    url = postgres.create_database()
    approved_items(url, 200)
    config = write_config(tmp_path / "syndication.toml", url, receiver.url)
    start, planned = tmp_path / "start", tmp_path / "planned"
    planned.mkdir()
    barrier = {"SYNDICATION_TEST_PLANNED_BARRIER": str(planned), "SYNDICATION_TEST_PARTIES": "2"}
    children = [start_child(prefect_server, config, start, **barrier) for _ in range(2)]
    start.touch()  # both are imported and waiting: go
    results = [finish(child) for child in children]

    # The partner saw every item once: 200 distinct keys, none twice.
    assert len(receiver.keys) == 200 and set(receiver.keys.values()) == {1}
    assert len(list((tmp_path / "outbox" / "nb").glob("*.html"))) == 200
    assert states(url) == Counter({"sent": 400})
    # Both runs planned all 400 sends before either claimed one (the barrier in publish_child.py);
    # each send was claimed by exactly one of them, the other skipped it.
    assert sum(r["deliveries_sent"] for r in results) == 400
    for r in results:
        assert r["deliveries_sent"] + r["deliveries_skipped"] == 400 and r["deliveries_failed"] == 0
    store = open_store(url, migrate=False)
    with store.session() as session:
        assert set(session.scalars(select(Delivery.attempts))) == {1}
    store.dispose()


def test_a_killed_publish_run_leaves_nothing_stuck_and_nothing_twice(
    postgres: Postgres, prefect_server: PrefectServer, receiver: CountingReceiver, tmp_path: Path
):
    url = postgres.create_database()
    approved_items(url, 20)
    config = write_config(tmp_path / "syndication.toml", url, receiver.url, lease=60)
    start = tmp_path / "start"
    start.touch()

    doomed = start_child(prefect_server, config, start, SYNDICATION_TEST_KILL_AFTER_CLAIM="5")
    assert doomed.stdout is not None
    claimed = doomed.stdout.readline().strip()
    assert claimed.startswith("claimed "), claimed + doomed.stderr.read()
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    assert doomed.returncode == -signal.SIGKILL
    held = int(claimed.split()[1])
    # Four sends went through before it (20 items × outbox and webhook = 40 deliveries in all);
    # the fifth is claimed and will never be sent by that process.
    assert states(url) == Counter({"sent": 4, "sending": 1})

    # The next run, within the lease: everything else goes out; the held row is not touched.
    second = finish(start_child(prefect_server, config, start))
    # (The four already sent are not even planned: the ledger says they are out.)
    assert second["deliveries_sent"] == 35 and second["deliveries_skipped"] == 1
    assert states(url) == Counter({"sent": 39, "sending": 1})

    # The lease (60 s here, from [deliveries] claim_lease_seconds) runs out: the claim is taken over.
    store = open_store(url, migrate=False)
    with store.session() as session:
        session.execute(
            update(Delivery).where(Delivery.id == held).values(claimed_at=utcnow() - timedelta(seconds=61))
        )
    store.dispose()
    third = finish(start_child(prefect_server, config, start))
    assert third["deliveries_sent"] == 1 and third["deliveries_skipped"] == 0
    assert states(url) == Counter({"sent": 40})
    assert len(receiver.keys) == 20 and set(receiver.keys.values()) == {1}  # nothing sent twice


HOLD_LOCK = """
import sys, time
from syndication.orchestration.pipeline_lock import pipeline_lock
with pipeline_lock(sys.argv[1], holder="backfill run 'held-by-test'"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_pipeline_lock_on_postgresql_waits_names_the_holder_and_dies_with_it(postgres: Postgres):
    """syndicate and backfill runs on any machines never overlap on one store: the advisory lock
    makes the second wait (naming the first), and a holder killed with SIGKILL frees it."""
    import logging

    from syndication.orchestration.pipeline_lock import pipeline_lock

    url = postgres.create_database()
    other = postgres.create_database()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, url],
        env={**os.environ, "PYTHONPATH": str(HERE.parents[1])},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    seen, entered = threading.Event(), threading.Event()

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())
            seen.set()

    logger = logging.getLogger("syndication.orchestration.pipeline_lock")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def contend() -> None:
        with pipeline_lock(url, holder="syndicate", poll_seconds=0.05):
            entered.set()

    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pipeline_lock(other, holder="syndicate"):  # another database: not held
            pass
        thread = threading.Thread(target=contend, daemon=True)
        thread.start()
        assert seen.wait(60) and not entered.is_set()
        assert re.search(
            r"backfill run 'held-by-test' \(pid \d+ on .+\) since \d{4}-\d\d-\d\d \d\d:\d\d UTC", lines[0]
        ), lines
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(30)
        assert entered.wait(60)  # the server ended the dead session and its lock with it
        thread.join(30)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait()
