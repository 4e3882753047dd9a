"""Time and work budgets for the solvers: the only clock the engine reads.

Two measures, kept apart on purpose:

- `Work` counts deterministic effort: CP-SAT's deterministic time and the size of every LP
  round. All slices of the search (how long CP-SAT polishes, how many branch-and-bound
  nodes run between polishes) are measured in it, so the same problem takes the same
  steps and gets the same plan on an idle and on a busy machine, only later.
- `Deadline` is the wall-clock outer bound of one call (`time_limit_seconds`): when it
  ends, the search stops and reports the best plan and bound it has. No result depends on
  the date or time, only on whether the deadline ended first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# The clock every Deadline reads (monotonic seconds); tests may replace it.
now: Callable[[], float] = time.monotonic


class Deadline:
    """A point in monotonic time after which the search stops and reports what it has."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = now() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - now())

    def expired(self) -> bool:
        return now() >= self._end

    def elapsed(self) -> float:
        return self.seconds - (self._end - now())


class Work:
    """Deterministic effort, in work units of about one second of one idle core; effort
    spent here is also charged to the parent it was carved from."""

    def __init__(self, limit: float = math.inf, parent: Work | None = None) -> None:
        self.limit = limit
        self.spent = 0.0
        self.parent = parent

    def add(self, units: float) -> None:
        self.spent += units
        if self.parent is not None:
            self.parent.add(units)

    def left(self) -> float:
        own = max(0.0, self.limit - self.spent)
        return own if self.parent is None else min(own, self.parent.left())

    def exhausted(self) -> bool:
        return self.left() <= 0.0


@dataclass(frozen=True, slots=True)
class Budget:
    """What one search may use: a wall-clock deadline and deterministic work."""

    deadline: Deadline
    work: Work

    @staticmethod
    def of(seconds: float) -> Budget:
        return Budget(Deadline(seconds), Work())

    def stopped(self) -> bool:
        return self.work.exhausted() or self.deadline.expired()

    def part(self, units: float) -> Budget:
        """A share of this budget: the same deadline, at most `units` of work."""
        return Budget(self.deadline, Work(units, self.work))

    def seconds(self) -> float:
        """Wall-clock seconds left, for solver time limits."""
        return self.deadline.remaining()
