"""The transport under ``Fetcher``: one total deadline per fetch, and the checked address pinned.

**Total deadline.** ``requests`` and urllib3 time each socket operation (the connect, then every
single read), never a whole response: a server that sends its status line and headers one byte a
second never trips a read timeout, and urllib3 2 has no total timeout (``Timeout(total=...)`` only
shortens the per-read timeout; each byte that arrives starts it again). Headers are read inside
one ``http.client`` call we cannot check a clock in, so the deadline is enforced from outside: a
``Watchdog`` timer thread that, when the deadline passes, shuts down every socket the fetch uses
(``shutdown(SHUT_RDWR)``). The blocked ``recv`` returns at once, the fetch fails, and the fetcher,
seeing ``watchdog.fired``, reports "timed out after N s" instead of whatever the cut connection
looked like (an empty document, a remote disconnect). The watchdog holds its own ``dup`` of each
socket's descriptor: shutting a duplicate down ends the connection for every descriptor, and the
duplicate cannot be closed or reused under it while the fetch is still running.

**Pinned addresses (DNS rebinding).** The address guard resolves a host and checks every address;
``requests`` would then resolve it *again* to connect, and a hostile DNS server could answer a
private address the second time. Our connections connect to the addresses the guard checked (the
fetcher pins them for the host of each redirect hop) and keep the host name for everything else:
``Host`` header, TLS SNI and certificate verification are exactly as ``requests`` does them. A host
neither pinned nor explicitly allowed (``fetch.allow_private_hosts``) is refused, so a hop that
escaped the guard cannot connect at all.

Both apply to connections made inside ``guarded_fetch``; a session with a proxy goes through
urllib3's proxy manager, which resolves on its own (the proxy is then the one connecting).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import urllib3.connection
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as util_connection

from syndication.fetch.guard import normalize_host


class Watchdog:
    """Shuts the sockets of one fetch down when ``seconds`` have passed (see the module docstring)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._fired = False
        self._lock = threading.Lock()
        self._sockets: dict[int, socket.socket] = {}
        self._ends = time.monotonic() + seconds
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True

    @property
    def fired(self) -> bool:
        with self._lock:
            return self._fired

    def start(self) -> None:
        self._timer.start()

    def remaining(self) -> float:
        """Seconds until the sockets are cut (0 when past)."""
        return max(0.0, self._ends - time.monotonic())

    def watch(self, key: int, sock: socket.socket) -> None:
        """Cut ``sock`` too when the time is up (once per connection ``key``)."""
        with self._lock:
            if key in self._sockets:
                return
            try:
                duplicate = socket.socket(fileno=os.dup(sock.fileno()))
            except OSError:
                return  # already closed: nothing left to cut
            self._sockets[key] = duplicate
            if self._fired:
                _shutdown(duplicate)

    def stop(self) -> bool:
        """End the watch; ``True`` when the deadline passed before it ended."""
        self._timer.cancel()
        with self._lock:
            for duplicate in self._sockets.values():
                duplicate.close()
            self._sockets.clear()
            return self._fired

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            for duplicate in self._sockets.values():
                _shutdown(duplicate)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected (any more): nothing to cut
        sock.shutdown(socket.SHUT_RDWR)


@dataclass
class ActiveFetch:
    """What the connections of the fetch running in this thread must obey."""

    watchdog: Watchdog
    url: str | None = None
    """The URL of the hop being fetched (the one to name when time runs out)."""
    pins: dict[str, Sequence[str] | None] = field(default_factory=dict)
    """Host (as in the prepared URL, lower case) → the addresses the guard checked; ``None`` for an
    allow-listed host, resolved as usual. A host not in here is refused."""

    def pin(self, host: str, addresses: Sequence[str] | None) -> None:
        self.pins[normalize_host(host)] = addresses


_ACTIVE: ContextVar[ActiveFetch | None] = ContextVar("syndication_active_fetch", default=None)


@contextmanager
def guarded_fetch(seconds: float) -> Iterator[ActiveFetch]:
    """Connections opened or reused in this block obey the pins and the ``seconds`` deadline."""
    active = ActiveFetch(Watchdog(seconds))
    token = _ACTIVE.set(active)
    active.watchdog.start()
    try:
        yield active
    finally:
        active.watchdog.stop()
        _ACTIVE.reset(token)


class _GuardedConnection(urllib3.connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:
        active = _ACTIVE.get()
        if active is None:
            return super()._new_conn()
        host = normalize_host(self._dns_host)
        if host not in active.pins:
            raise NewConnectionError(
                self, f"refusing to connect to {host}: the address guard did not check it"
            )
        pinned = active.pins[host]
        sock = super()._new_conn() if pinned is None else self._connect_pinned(pinned)
        active.watchdog.watch(id(self), sock)
        return sock

    def _connect_pinned(self, addresses: Sequence[str]) -> socket.socket:
        error: Exception | None = None
        for address in addresses:
            try:
                return util_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError:
                error = ConnectTimeoutError(
                    self, f"Connection to {self.host} ({address}) timed out. (connect timeout={self.timeout})"
                )
            except OSError as exc:
                error = NewConnectionError(
                    self, f"Failed to establish a new connection to {self.host} ({address}): {exc}"
                )
        raise error or NewConnectionError(self, f"no checked address for {self.host}")

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A connection reused from the pool made no new socket: watch the one it has.
        active = _ACTIVE.get()
        if active is not None and self.sock is not None:
            active.watchdog.watch(id(self), self.sock)
        super().request(*args, **kwargs)


class _GuardedHTTPSConnection(_GuardedConnection, urllib3.connection.HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _QuietWhenCut(logging.Filter):
    """A connection cut in the middle of its headers makes urllib3 log a parsing warning with a
    traceback; the fetcher reports the timeout itself, so that noise is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        active = _ACTIVE.get()
        return active is None or not active.watchdog.fired


_QUIET = _QuietWhenCut()


class GuardedAdapter(HTTPAdapter):
    """``requests``' adapter with our connections (mounted for ``http://`` and ``https://``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        logging.getLogger("urllib3.connection").addFilter(_QUIET)  # a no-op when already there

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
