"""Per-host politeness shared by every thread of a run, with time injected so tests need no wall clock.

Two rules per host (the host name as in the URL, port ignored: one site, one server to spare):

* at most **one request in flight**: ``slot(host)`` holds the host's lock from the request's start
  until its body is read (or the redirect answer closed); another thread asking the same host
  waits for it;
* at least ``interval`` seconds (``fetch.min_host_interval``) **between the starts** of two
  requests: the slot's owner sleeps until then before it claims the start.

Locks are per host, so hosts never wait for each other; the table of hosts has its own short lock.
``ready_in(host)`` lets a scheduler (``syndication.feeds.ingest.poll_feeds``) hand a worker the
feed of a host that may be asked now instead of one whose worker would only sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class HostPacer:
    """One request in flight per host, ``interval`` seconds between the starts of two (thread-safe)."""

    def __init__(
        self, interval: float, *, sleep: Callable[[float], None], clock: Callable[[], float]
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._clock = clock
        self._table_lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._last_start: dict[str, float] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[float]:
        """Hold ``host``'s one request slot for the ``with`` block, started no sooner than the
        interval allows; yields the seconds slept for the interval."""
        lock = self._lock_for(host)
        with lock:
            yield self._wait_locked(host)

    def ready_in(self, host: str) -> float:
        """Seconds until the interval lets ``host`` be asked again (0: now). A request in flight
        is not counted: the caller knows what it has handed out."""
        with self._table_lock:
            last = self._last_start.get(host)
        if last is None or self.interval <= 0:
            return 0.0
        return max(0.0, last + self.interval - self._clock())

    def _lock_for(self, host: str) -> threading.Lock:
        with self._table_lock:
            lock = self._host_locks.get(host)
            if lock is None:
                lock = self._host_locks[host] = threading.Lock()
            return lock

    def _wait_locked(self, host: str) -> float:
        waited = self.ready_in(host)
        if waited > 0:
            self._sleep(waited)
        with self._table_lock:
            self._last_start[host] = self._clock()
        return waited
