"""Per-host spacing of requests, with time injected so tests need no wall clock."""

from __future__ import annotations

from collections.abc import Callable


class HostPacer:
    """Keeps at least ``interval`` seconds between the starts of two requests to the same host."""

    def __init__(
        self, interval: float, *, sleep: Callable[[float], None], clock: Callable[[], float]
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._clock = clock
        self._last_start: dict[str, float] = {}

    def wait(self, host: str) -> float:
        """Sleep until ``host`` may be asked again, then claim the slot; returns the time slept."""
        waited = 0.0
        last = self._last_start.get(host)
        if last is not None and self.interval > 0:
            waited = last + self.interval - self._clock()
            if waited > 0:
                self._sleep(waited)
            else:
                waited = 0.0
        self._last_start[host] = self._clock()
        return waited
