"""Time budgets for the solvers: the only clock the engine reads.

A monotonic timer enforces `time_limit_seconds`; no result depends on the date or time.
"""

from __future__ import annotations

import time


class Deadline:
    """A point in monotonic time after which the search stops and reports what it has."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._end

    def elapsed(self) -> float:
        return self.seconds - (self._end - time.monotonic())
