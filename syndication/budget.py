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

RESERVE_SHARE = 0.05
RESERVE_MAX = 1.0
"""Work (new requests, a request's deadline) stops this much before the budget ends: 5 % of it, at
most 1 s. A request cut at the very end would leave the run's bookkeeping (storing what the cut
means, the next stage opening the store) to happen after the budget."""


class RunBudget:
    """``seconds`` from ``clock()``'s now; ``None`` seconds is a budget without end."""

    def __init__(self, seconds: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        if seconds is None:
            self._ends = math.inf
        else:
            self._ends = clock() + seconds - min(RESERVE_MAX, RESERVE_SHARE * seconds)

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
        """Seconds left for work (``inf`` without a budget, never below 0)."""
        return max(0.0, self._ends - self._clock())

    def expired(self) -> bool:
        return self._clock() >= self._ends

    def clamp(self, seconds: float) -> float:
        """``seconds``, or what is left of the budget when that is less."""
        return min(seconds, self.remaining())
