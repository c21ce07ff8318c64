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
and waits (as Prefect's ``ENQUEUE`` would), or, given ``wait`` seconds, gives up after them with
``PipelineBusyError``; ``publish`` never takes it (the ledger makes overlapping deliveries safe).

A terminal command (``syndicate run``) takes the lock itself before it starts its flow, so it can
say at once whom it waits for; the flow inside the same process then finds the lock already
``shared_with_process`` and does not wait for its own command.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from syndication.errors import PipelineBusyError, StoreError

log = logging.getLogger(__name__)

LOCK_NAME = "syndication.pipeline"
# Advisory locks take a bigint: one derived from the name, so every machine and every version of
# this package asks for the same lock.
LOCK_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
POLL_SECONDS = 2.0
APPLICATION_PREFIX = "syndication: "

# Locks this process holds on behalf of everything in it (a command around its own flow run).
_shared: set[str] = set()
_shared_guard = threading.Lock()


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
    wait: float | None = None,
    shared_with_process: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Hold the store's pipeline lock for the ``with`` block; wait (polling) while another run has
    it. ``holder`` names this run in the waiting run's log (``syndicate``, ``backfill``);
    ``on_wait`` also gets that line (a terminal command shows it).

    ``wait``: give up after this many seconds (0: do not wait) with ``PipelineBusyError`` naming
    the holder; ``None`` waits as long as it takes. ``shared_with_process``: other code in this
    process asking for the same lock meanwhile gets it at once (a command holding it around its
    own flow run); without it, two holders in one process exclude each other like two processes.
    """
    me = describe_holder(holder)
    identity = lock_identity(store_url)
    with _shared_guard:
        nested = identity is not None and identity in _shared
    if identity is None or nested:
        # In memory: one process's database, nothing else can overlap it. Nested: held for us.
        yield
        return
    deadline = None if wait is None else clock() + max(0.0, wait)
    waiter = _Waiter(on_wait, deadline, clock)
    if store_url.startswith(("postgresql:", "postgresql+")):
        lock = _postgres_lock(store_url, me, poll_seconds, waiter)
    else:
        lock = _file_lock(Path(identity), me, poll_seconds, waiter)
    with lock:
        if shared_with_process:
            with _shared_guard:
                _shared.add(identity)
        try:
            yield
        finally:
            if shared_with_process:
                with _shared_guard:
                    _shared.discard(identity)


def lock_identity(store_url: str) -> str | None:
    """What makes two lock requests the same lock: the lock file of a SQLite store, the database of a
    PostgreSQL one; ``None`` for an in-memory database (nothing to lock)."""
    if store_url.startswith(("postgresql:", "postgresql+")):
        from sqlalchemy.engine import make_url

        url = make_url(store_url)
        return f"postgresql://{url.host or ''}:{url.port or ''}/{url.database or ''}"
    path = _sqlite_path(store_url)
    return None if path is None else str(path.with_name(path.name + ".pipeline-lock").resolve())


class _Waiter:
    """Says once that this run waits (and for whom), and ends the wait at the deadline."""

    def __init__(
        self, on_wait: Callable[[str], None] | None, deadline: float | None, clock: Callable[[], float]
    ) -> None:
        self.on_wait = on_wait
        self.deadline = deadline
        self.clock = clock
        self.started = clock()
        self.told = False

    def busy(self, holder: str | None) -> None:
        """The lock is taken (by ``holder``): tell, or give up when the deadline has passed."""
        if self.deadline is not None and self.clock() >= self.deadline:
            raise PipelineBusyError(
                f"another run holds the pipeline lock ({holder or 'holder unknown'})",
                holder=holder,
                waited=self.clock() - self.started,
            )
        if not self.told:
            line = (
                f"another run holds the pipeline lock ({holder or 'holder unknown'}): "
                "waiting for it to finish, then this run starts"
            )
            log.info("%s", line)
            if self.on_wait is not None:
                self.on_wait(line)
            self.told = True

    def sleep(self, poll_seconds: float) -> None:
        left = None if self.deadline is None else self.deadline - self.clock()
        time.sleep(poll_seconds if left is None else max(0.0, min(poll_seconds, left)))


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


@contextmanager
def _file_lock(path: Path, me: str, poll_seconds: float, waiter: _Waiter) -> Iterator[None]:
    if not path.parent.is_dir():
        # The lock is taken before the store is opened: say what is really missing.
        raise StoreError(f"the store's folder {path.parent} does not exist: create it, or fix [store] url")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open the pipeline lock file {path}: {exc}") from exc
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waiter.busy(os.pread(fd, 500, 0).decode("utf-8", "replace").strip() or None)
                waiter.sleep(poll_seconds)
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
def _postgres_lock(store_url: str, me: str, poll_seconds: float, waiter: _Waiter) -> Iterator[None]:
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
            while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
                waiter.busy(_postgres_holder(conn))
                waiter.sleep(poll_seconds)
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
