"""A virtual clock for the time-limit tests, and a switch that makes LP solvers fail.

The engine reads one clock (`pricing.clock.now`) and calls its solvers at one place each
(`pricing.core.run` for CP-SAT, `pricing.lp.run` for LP solvers). The virtual clock only
advances when a solver runs: by the time the solver took multiplied by `slowdown` (a
machine that many times slower), but never by more than the time limit the engine gave
that solver, as a solver stops at its limit. Whether the call keeps to its deadline is
then a property of the engine's bookkeeping, checked without timing anything.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ortools.linear_solver.linear_solver_pb2 as pb
import pytest

import pricing.clock
import pricing.core
import pricing.lp


class VirtualClock:
    def __init__(self, slowdown: float) -> None:
        self.now = 0.0
        self.slowdown = slowdown
        self.solver_calls = 0

    def read(self) -> float:
        return self.now

    def charge(self, limit: float, started: float) -> None:
        self.solver_calls += 1
        self.now += min(limit, self.slowdown * (time.perf_counter() - started))


@contextmanager
def virtual_time(clock: VirtualClock) -> Iterator[VirtualClock]:
    real_cp, real_lp = pricing.core.run, pricing.lp.run

    def cp_sat(proto: Any, work: float, seconds: float, gap_limit: float) -> Any:
        started = time.perf_counter()
        response = real_cp(proto, work, seconds, gap_limit)
        clock.charge(seconds, started)
        return response

    def lp(request: bytes, solver: str) -> tuple[int, list[float], list[float], float]:
        started = time.perf_counter()
        answer = real_lp(request, solver)
        clock.charge(pb.MPModelRequest.FromString(request).solver_time_limit_seconds, started)
        return answer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pricing.clock, "now", clock.read)
        patch.setattr(pricing.core, "run", cp_sat)
        patch.setattr(pricing.lp, "run", lp)
        yield clock


@contextmanager
def failing_lp(fails: Callable[[str, str], bool]) -> Iterator[list[tuple[str, bool]]]:
    """LP solvers for which `fails(solver, parameters)` is true answer MPSOLVER_ABNORMAL;
    yields the calls made, in order: (solver, whether it failed)."""
    real_lp = pricing.lp.run
    called: list[tuple[str, bool]] = []

    def lp(request: bytes, solver: str) -> tuple[int, list[float], list[float], float]:
        parameters = pb.MPModelRequest.FromString(request).solver_specific_parameters
        failed = fails(solver, parameters)
        called.append((solver, failed))
        if failed:
            return pb.MPSOLVER_ABNORMAL, [], [], math.nan
        return real_lp(request, solver)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pricing.lp, "run", lp)
        yield called
