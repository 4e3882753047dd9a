"""The search's state (incumbent and bound) and CP-SAT's polish on a core of columns.

The core is either the proven core — every column that could be in a better plan,
{|rc| <= L − z} with the cut Σ |rc| × change <= L − z — and then CP-SAT's bound on it is a
bound on everything, or, when that is too large, the LP's fractional columns and the
columns whose reduced cost is smallest relative to their weight, the others keeping their
value in the incumbent. Each polish gets a slice of deterministic work.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pricing.branching import INTEGRALITY, Brancher, Rounder
from pricing.clock import Budget
from pricing.core import CoreSpec, solve_core
from pricing.linear import BoolArray, ColumnModel, FloatArray, IntArray, row_values
from pricing.relaxation import Log, Relaxation, Separator

REPAIR_ROUNDS = 3
EXACT_CORE = 2_500


@dataclass(slots=True)
class SearchProblem:
    """A column model with the exact, problem-specific check and objective of a plan."""

    model: ColumnModel
    initial_core: IntArray
    evaluate: Callable[[BoolArray], float]
    verify: Callable[[BoolArray], bool]
    spend: Callable[[BoolArray], float]
    gap_limit: float
    core_size: int
    brancher: Brancher
    rounder: Rounder
    round_lp: Callable[[FloatArray], BoolArray]
    separate: Separator | None = None
    improve: Callable[[FloatArray], BoolArray | None] | None = None
    greedy: Callable[[], list[BoolArray]] | None = None
    dive: bool = True


def relative_gap(bound: float, value: float) -> float:
    """|bound − value| / max(|bound|, |value|), 0 when both are 0."""
    if math.isinf(bound) or math.isinf(value):
        return 1.0
    scale = max(abs(bound), abs(value))
    return 0.0 if scale == 0 else abs(bound - value) / scale


class State:
    """The best verified plan so far (ties go to the cheaper plan) and the proven bound."""

    def __init__(self, problem: SearchProblem, log: Log | None) -> None:
        self.problem = problem
        self.log = log
        self.x: BoolArray | None = None
        self.value = -math.inf
        self.spend = math.inf
        self.bound = math.inf
        self.root: Relaxation | None = None
        # CP-SAT solved a core holding every better plan: more polishing cannot help.
        self.settled = False
        self.weight = row_values(problem.model, problem.model.objective)

    def offer(self, x: BoolArray | None, source: str) -> None:
        if x is None or not self.problem.verify(x):
            return
        value = self.problem.evaluate(x)
        if value < self.value:
            return
        spend = self.problem.spend(x)
        if value == self.value and spend >= self.spend:
            return
        self.x, self.value, self.spend = x, value, spend
        if self.log is not None:
            gap = relative_gap(self.bound, value)
            self.log(f"incumbent {value:.9g} ({source}) bound {self.bound:.9g} gap {gap:.4%}")

    def tighten(self, bound: float) -> None:
        self.bound = min(self.bound, max(self.value, bound))

    def done(self) -> bool:
        return self.x is not None and relative_gap(self.bound, self.value) <= self.problem.gap_limit

    def proven_width(self) -> float:
        if self.x is None or self.root is None:
            return math.inf
        return self.root.bound - self.value

    def polish_spec(
        self, root: Relaxation, size: int, guide: Relaxation | None = None
    ) -> tuple[CoreSpec, bool]:
        """The proven core when it is small, else a heuristic core of about `size` around
        `guide` (the most promising relaxation of the tree, by default the root's)."""
        rc, fixed = root.rc, self.problem.model.fixed_mask()
        forbidden = self.problem.model.forbidden_mask()
        width = self.proven_width()
        proven = np.flatnonzero((np.abs(rc) <= width) & ~fixed & ~forbidden)
        hint = self.x if self.x is not None else self.problem.round_lp(root.x)
        if len(proven) <= EXACT_CORE:
            ones = np.flatnonzero(fixed | ((rc > width) & ~forbidden))
            cut = None
            if math.isfinite(width):
                rc_free = rc[proven]
                cut = (-rc_free, width - float(np.maximum(rc_free, 0.0).sum()))
            return CoreSpec(proven, ones, hint, cut), True
        x, rc = (guide.x, guide.rc) if guide is not None else (root.x, rc)
        free = (x > INTEGRALITY) & (x < 1 - INTEGRALITY)
        score = np.abs(rc) / (np.abs(self.weight) + np.abs(self.weight - rc) + 1e-12)
        score[fixed | forbidden] = np.inf
        free[np.argpartition(score, min(size, len(score) - 1))[:size]] = True
        free &= ~(fixed | forbidden)
        ones = np.flatnonzero((hint | fixed) & ~free)
        # A core of every movable column is exact too: its bound holds for every plan.
        covering = int(free.sum()) == int((~(fixed | forbidden)).sum())
        return CoreSpec(np.flatnonzero(free), ones, hint, None, self.bound), covering

    def polish(
        self, work: float, size: int, budget: Budget, guide: Relaxation | None = None
    ) -> None:
        """CP-SAT on a core for `work` units, hinted with the incumbent."""
        assert self.root is not None
        spec, covering = self.polish_spec(self.root, size, guide)
        if self.log is not None:
            kind = "proven" if covering else "heuristic"
            self.log(f"CP-SAT on {kind} core: {len(spec.free)} free columns, {work:.2f} work")
        result = solve_core(self.problem.model, spec, budget, work, self.problem.gap_limit * 0.8)
        plan = self.repaired(result.x, spec, budget, work)
        self.offer(plan, "CP-SAT")
        if covering and result.status in ("optimal", "feasible"):
            self.tighten(result.bound)
        elif covering and result.status == "infeasible":
            self.tighten(-math.inf)
        self.settled |= covering and result.status == "optimal" and plan is not None

    def repaired(
        self, x: BoolArray | None, spec: CoreSpec, budget: Budget, work: float
    ) -> BoolArray | None:
        """A CP-SAT plan that fails the exact check by a rounding hair: add the cuts it
        violates and retry, then retry with conservative rounding."""
        model = self.problem.model
        for _ in range(REPAIR_ROUNDS):
            if x is None or self.problem.verify(x) or self.problem.separate is None:
                break
            cuts = self.problem.separate(x.astype(float), np.zeros(len(model.aux)))
            if not cuts or budget.stopped():
                break
            model.rows.extend(cuts)
            x = solve_core(model, CoreSpec(spec.free, spec.ones, x, spec.cut), budget, work).x
        if x is not None and not self.problem.verify(x):
            if budget.stopped():
                return None
            retry = CoreSpec(spec.free, spec.ones, x, spec.cut)
            x = solve_core(model, retry, budget, work, conservative=True).x
        return x
