"""The run's time budget: a deadline every stage can ask "how much time is left?".

A scheduled run holds the pipeline lock; a run that never ends blocks every later one. So a run
gets ``fetch.run_budget`` seconds: stages check ``expired()`` before each feed, page or linked
article and leave the rest for the next run (counted in the summary, not an error), and the
fetcher clamps every request's own deadline to ``remaining()``.

The budget can start before the process that checks it: a Prefect run's stages are separate tasks
(each opens its own ``RunContext``), so the flow passes its start as a wall-clock timestamp and each
stage turns it into a monotonic deadline (``RunBudget.since``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RunBudget:
    """``seconds`` from ``clock()``'s now; ``None`` seconds is a budget without end."""

    def __init__(self, seconds: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds if seconds is not None else math.inf

    @classmethod
    def since(
        cls,
        started_at: float | None,
        seconds: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> RunBudget:
        """The budget of a run that started at ``started_at`` (``time.time()``; ``None``: now)."""
        budget = cls(seconds, clock=clock)
        if started_at is not None and seconds is not None:
            # Time already spent by earlier stages; a clock set back never adds time.
            budget._ends -= max(0.0, wall_clock() - started_at)
        return budget

    def remaining(self) -> float:
        """Seconds left (``inf`` without a budget, never below 0)."""
        return max(0.0, self._ends - self._clock())

    def expired(self) -> bool:
        return self._clock() >= self._ends

    def clamp(self, seconds: float) -> float:
        """``seconds``, or what is left of the budget when that is less."""
        return min(seconds, self.remaining())
