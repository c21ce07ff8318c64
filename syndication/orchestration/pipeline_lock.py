"""One ``syndicate`` or ``backfill`` run at a time per store, whichever worker runs it.

Both flows extract and translate whatever is queued, so two of them side by side would work on the
same posts and one would fail on the other's rows (a unique-key violation). Prefect's deployment
concurrency limit keeps two runs of *one* deployment apart, not a ``syndicate`` run from a
``backfill`` run (nor from ``syndicate run`` on someone's laptop against the same database), so
the store itself holds the lock:

- PostgreSQL: a session-level advisory lock (scoped to the database), on a connection of its own
  that lives as long as the run;
- SQLite: an exclusive ``flock`` on ``<database file>.pipeline-lock`` (SQLite is one machine's).

Both are released by the operating system or the database when the process dies, so a worker
killed with SIGKILL leaves nothing to clean up. A run that finds the lock taken logs who holds it
and waits (as Prefect's ``ENQUEUE`` would); ``publish`` never takes it (the ledger makes
overlapping deliveries safe).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from syndication.errors import StoreError

log = logging.getLogger(__name__)

LOCK_NAME = "syndication.pipeline"
# Advisory locks take a bigint: one derived from the name, so every machine and every version of
# this package asks for the same lock.
LOCK_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
POLL_SECONDS = 2.0
APPLICATION_PREFIX = "syndication: "


def describe_holder(holder: str) -> str:
    """``backfill run 'brave-otter' (pid 812 on worker-b)``: who holds the lock, for waiters."""
    return f"{holder} (pid {os.getpid()} on {socket.gethostname()})"


def _since(moment: datetime) -> str:
    return f"since {moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@contextmanager
def pipeline_lock(
    store_url: str,
    *,
    holder: str,
    poll_seconds: float = POLL_SECONDS,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the store's pipeline lock for the ``with`` block; wait (polling) while another run has
    it. ``holder`` names this run in the waiting run's log (``syndicate``, ``backfill``);
    ``on_wait`` also gets that line (a terminal command shows it)."""
    me = describe_holder(holder)
    if store_url.startswith(("postgresql:", "postgresql+")):
        with _postgres_lock(store_url, me, poll_seconds, on_wait):
            yield
        return
    path = _sqlite_path(store_url)
    if path is None:
        # An in-memory database belongs to one process: nothing else can overlap it.
        yield
        return
    with _file_lock(path.with_name(path.name + ".pipeline-lock"), me, poll_seconds, on_wait):
        yield


@contextmanager
def exclusive_run(config: str | None, *, flow: str) -> Iterator[float]:
    """Inside a Prefect flow: hold the pipeline lock of the store ``config`` names for the ``with``
    block; the line saying the run waits (and for whom) goes to the run's log. Yields the moment
    the lock was taken (``time.time()``): where the run's time budget starts."""
    from syndication.orchestration.runlog import forward_to_run_logger
    from syndication.settings import load_settings

    url = load_settings(config).store_url()
    holder = flow
    try:
        from prefect.runtime import flow_run

        if flow_run.name:
            holder = f"{flow} run {flow_run.name!r}"
    except ImportError:  # pragma: no cover - Prefect is a dependency; outside a run name is None
        pass
    with ExitStack() as stack:
        with forward_to_run_logger():
            stack.enter_context(pipeline_lock(url, holder=holder))
        yield time.time()


def _sqlite_path(store_url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    url = make_url(store_url)
    if url.get_backend_name() != "sqlite":
        raise StoreError(
            f"the pipeline lock supports SQLite and PostgreSQL stores, not {url.get_backend_name()!r}"
        )
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def _waiting(holder: str | None, on_wait: Callable[[str], None] | None) -> None:
    line = (
        f"another run holds the pipeline lock ({holder or 'holder unknown'}): "
        "waiting for it to finish, then this run starts"
    )
    log.info("%s", line)
    if on_wait is not None:
        on_wait(line)


@contextmanager
def _file_lock(
    path: Path, me: str, poll_seconds: float, on_wait: Callable[[str], None] | None
) -> Iterator[None]:
    if not path.parent.is_dir():
        # The lock is taken before the store is opened: say what is really missing.
        raise StoreError(f"the store's folder {path.parent} does not exist: create it, or fix [store] url")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open the pipeline lock file {path}: {exc}") from exc
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    _waiting(os.pread(fd, 500, 0).decode("utf-8", "replace").strip() or None, on_wait)
                    told = True
                time.sleep(poll_seconds)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{me} {_since(datetime.now(UTC))}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _postgres_lock(
    store_url: str, me: str, poll_seconds: float, on_wait: Callable[[str], None] | None
) -> Iterator[None]:
    from syndication.store import make_engine

    engine = make_engine(store_url)
    try:
        # Autocommit: the lock belongs to the session, and the connection must not sit "idle in
        # transaction" for the length of a backfill. application_name tells waiters who holds it.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": _app(me)})
            # A worker machine that vanishes (power, network) never closes its connection: have the
            # server probe it, so its lock goes within about two minutes, not the OS's two hours.
            for setting, value in (("tcp_keepalives_idle", 60), ("tcp_keepalives_interval", 10)):
                conn.execute(text("SELECT set_config(:s, :v, false)"), {"s": setting, "v": str(value)})
            conn.execute(text("SELECT set_config('tcp_keepalives_count', '6', false)"))
            told = False
            while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
                if not told:
                    _waiting(_postgres_holder(conn), on_wait)
                    told = True
                time.sleep(poll_seconds)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
    finally:
        engine.dispose()


def _app(me: str) -> str:
    # application_name is cut at 63 bytes by the server (a long host name loses its end).
    return (APPLICATION_PREFIX + me).encode("utf-8")[:63].decode("utf-8", "ignore")


def _postgres_holder(conn: Connection) -> str | None:
    # An advisory lock on a bigint shows in pg_locks as classid (high 32 bits), objid (low 32 bits).
    unsigned = LOCK_KEY & 0xFFFF_FFFF_FFFF_FFFF
    row = conn.execute(
        text(
            "SELECT a.application_name, a.backend_start"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.database = a.datid"
            " AND l.classid::bigint = :high AND l.objid::bigint = :low AND l.objsubid = 1 LIMIT 1"
        ),
        {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF},
    ).first()
    if row is None or not row[0]:
        return None
    # The lock's connection is opened for it: the session's start is when the lock was taken.
    name = str(row[0]).removeprefix(APPLICATION_PREFIX)
    return f"{name} {_since(row[1])}" if row[1] is not None else name
