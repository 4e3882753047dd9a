"""Search over a column model: LP bound, dive, CP-SAT polish, then branch-and-bound.

1. The linear relaxation (column generation) gives duals and the Lagrangian bound L,
   valid for every plan.
2. A dive (round, re-solve) turns the LP solution into a first plan.
3. CP-SAT improves it on a core of columns around the LP and the plan (hinted with the
   plan). When the core holds every column whose reduced cost allows it into a better
   plan ({|rc| <= L − z}, with the cut Σ |rc| × change <= L − z), CP-SAT's bound on the
   core is a bound on everything: min(L, max(z, core bound)).
4. Branch-and-bound on the relaxation tightens the bound (and finds plans at leaves)
   until the gap is within the limit or time is up.

Every plan is checked with the problem's exact formulas before it is accepted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pricing.branching import INTEGRALITY, BranchAndBound, Brancher, Rounder, dive
from pricing.clock import Deadline
from pricing.core import CoreSpec, solve_core
from pricing.linear import BoolArray, ColumnModel, FloatArray, IntArray, row_values
from pricing.relaxation import Log, Relaxation, Separator, solve_relaxation

OPTIMAL_GAP = 1e-9
REPAIR_ROUNDS = 3
EXACT_CORE = 2_500
MAX_POLISH = 20_000
MIN_POLISH = 0.1
FIRST_SHARE = 0.3
SLICE_SECONDS = 0.6
POLISH_SHARE = 0.3
TREE_SHARE = 0.3


@dataclass(slots=True)
class SearchProblem:
    """A column model with the exact, problem-specific check and objective of a plan."""

    model: ColumnModel
    initial_core: IntArray
    evaluate: Callable[[BoolArray], float]
    verify: Callable[[BoolArray], bool]
    gap_limit: float
    core_size: int
    brancher: Brancher
    rounder: Rounder
    round_lp: Callable[[FloatArray], BoolArray]
    separate: Separator | None = None
    improve: Callable[[FloatArray], BoolArray | None] | None = None
    dive: bool = True


@dataclass(slots=True)
class SearchResult:
    x: BoolArray | None
    value: float
    bound: float
    infeasible: bool
    relaxation: Relaxation


def relative_gap(bound: float, value: float) -> float:
    """|bound − value| / max(|bound|, |value|), 0 when both are 0."""
    if math.isinf(bound) or math.isinf(value):
        return 1.0
    scale = max(abs(bound), abs(value))
    return 0.0 if scale == 0 else abs(bound - value) / scale


class _Search:
    def __init__(self, problem: SearchProblem, root: Relaxation, log: Log | None) -> None:
        self.problem = problem
        self.root = root
        self.log = log
        self.x: BoolArray | None = None
        self.value = -math.inf
        self.bound = root.bound
        self.movable = np.flatnonzero(~problem.model.fixed_mask())
        self.weight = row_values(problem.model, problem.model.objective)

    def offer(self, x: BoolArray | None, source: str) -> None:
        if x is None or not self.problem.verify(x):
            return
        value = self.problem.evaluate(x)
        if value > self.value:
            self.x, self.value = x, value
            if self.log is not None:
                gap = relative_gap(self.bound, value)
                self.log(f"incumbent {value:.9g} ({source}) bound {self.bound:.9g} gap {gap:.4%}")

    def done(self) -> bool:
        return self.x is not None and relative_gap(self.bound, self.value) <= self.problem.gap_limit

    def proven_width(self) -> float:
        return self.root.bound - self.value if self.x is not None else math.inf

    def polish_spec(self, size: int) -> tuple[CoreSpec, bool]:
        """The CP-SAT core: the proven core {|rc| <= L − z} when it is small; else the
        LP's fractional columns and the `size` columns whose reduced cost is smallest
        relative to their weight in the LP, the other columns keeping the value they
        have in the incumbent (or the rounded LP)."""
        rc, fixed = self.root.rc, self.problem.model.fixed_mask()
        forbidden = self.problem.model.forbidden_mask()
        width = self.proven_width()
        proven = np.flatnonzero((np.abs(rc) <= width) & ~fixed & ~forbidden)
        hint = self.x if self.x is not None else self.problem.round_lp(self.root.x)
        if len(proven) <= EXACT_CORE:
            ones = np.flatnonzero(fixed | ((rc > width) & ~forbidden))
            cut = None
            if math.isfinite(width):
                rc_free = rc[proven]
                cut = (-rc_free, width - float(np.maximum(rc_free, 0.0).sum()))
            return CoreSpec(proven, ones, hint, cut), True
        x = self.root.x
        free = (x > INTEGRALITY) & (x < 1 - INTEGRALITY)
        score = np.abs(rc) / (np.abs(self.weight) + np.abs(self.weight - rc) + 1e-12)
        score[fixed | forbidden] = np.inf
        free[np.argpartition(score, min(size, len(score) - 1))[:size]] = True
        free &= ~(fixed | forbidden)
        return CoreSpec(
            np.flatnonzero(free), np.flatnonzero((hint | fixed) & ~free), hint, None
        ), False

    def polish(self, seconds: float, size: int, deadline: Deadline) -> None:
        spec, covering = self.polish_spec(size)
        if self.log is not None:
            kind = "proven" if covering else "heuristic"
            self.log(f"CP-SAT on {kind} core: {len(spec.free)} free columns")
        seconds = min(seconds, deadline.remaining())
        result = solve_core(self.problem.model, spec, seconds, self.problem.gap_limit * 0.5)
        x = self.repaired(result.x, spec, deadline)
        self.offer(x, "CP-SAT")
        if covering and result.status in ("optimal", "feasible", "infeasible"):
            core_bound = result.bound if result.status != "infeasible" else -math.inf
            self.bound = min(self.bound, max(self.value, core_bound))

    def repaired(self, x: BoolArray | None, spec: CoreSpec, deadline: Deadline) -> BoolArray | None:
        """A CP-SAT plan that fails the exact check by a rounding hair: add the cuts it
        violates and retry, then retry with conservative rounding (time permitting)."""
        model = self.problem.model
        for _ in range(REPAIR_ROUNDS):
            if x is None or self.problem.verify(x) or self.problem.separate is None:
                break
            cuts = self.problem.separate(x.astype(float), np.zeros(len(model.aux)))
            if not cuts or deadline.remaining() < MIN_POLISH:
                break
            model.rows.extend(cuts)
            seconds = deadline.remaining() / 2
            x = solve_core(model, CoreSpec(spec.free, spec.ones, x, spec.cut), seconds).x
        if x is not None and not self.problem.verify(x):
            if deadline.remaining() < MIN_POLISH:
                return None
            retry = CoreSpec(spec.free, spec.ones, x, spec.cut)
            x = solve_core(model, retry, deadline.remaining() / 2, conservative=True).x
        return x


class _Tree:
    """Branch-and-bound that can be run in slices between other phases."""

    def __init__(self, state: _Search) -> None:
        problem = state.problem
        self.state = state
        self.tree = BranchAndBound(problem.model, state.root, problem.brancher, state.log)

    def run(self, deadline: Deadline, seconds: float) -> bool:
        """Expand nodes for `seconds`; True once the tree is exhausted."""
        state, problem, tree = self.state, self.state.problem, self.tree
        stop = Deadline(min(seconds, deadline.remaining()))
        while tree.heap and not state.done() and not stop.expired():
            plan = tree.step(state.value, deadline, problem.separate, problem.verify)
            state.offer(plan, "branching")
            if problem.improve is not None and tree.last_x is not None:
                state.offer(problem.improve(tree.last_x), "local search")
            state.bound = min(state.bound, max(state.value, tree.open_bound()))
            if state.log is not None and tree.nodes % 50 == 0 and plan is None:
                state.log(f"nodes {tree.nodes} bound {state.bound:.9g} incumbent {state.value:.9g}")
        exhausted = not tree.heap and tree.leaf_bound == -math.inf
        if exhausted:
            state.bound = min(state.bound, state.value) if state.x is not None else -math.inf
        return exhausted


def _first_plan(state: _Search, deadline: Deadline) -> None:
    problem, root = state.problem, state.root
    if problem.improve is not None:
        state.offer(problem.improve(root.x), "local search")
    if state.x is None and problem.dive:
        plan = dive(
            problem.model, root, problem.rounder, deadline, problem.separate, problem.verify
        )
        state.offer(plan, "dive")
    if state.x is None:
        state.polish(_slice(deadline, FIRST_SHARE), problem.core_size, deadline)


def _slice(deadline: Deadline, share: float) -> float:
    """A share of the remaining time, at most SLICE_SECONDS, at least MIN_POLISH."""
    return max(MIN_POLISH, min(deadline.remaining() * share, SLICE_SECONDS))


def search(problem: SearchProblem, deadline: Deadline, log: Log | None = None) -> SearchResult:
    """Best verified plan within the deadline, with a proven bound (maximisation)."""
    root = solve_relaxation(problem.model, problem.initial_core, deadline, problem.separate, log)
    if not root.feasible:
        return SearchResult(None, -math.inf, -math.inf, True, root)
    state = _Search(problem, root, log)
    if not root.converged:
        state.polish(max(MIN_POLISH, deadline.remaining()), problem.core_size, deadline)
        return SearchResult(state.x, state.value, state.bound, False, root)
    _first_plan(state, deadline)
    tree = _Tree(state)
    size = problem.core_size
    exhausted = state.done()
    while not exhausted and not state.done() and not deadline.expired():
        before = state.value
        exhausted = tree.run(deadline, _slice(deadline, TREE_SHARE))
        improving = state.value > before
        # CP-SAT takes over when the tree stops finding better plans.
        if not (exhausted or improving or state.done()) and deadline.remaining() > MIN_POLISH:
            state.polish(_slice(deadline, POLISH_SHARE), size, deadline)
            size = min(size * 2, problem.model.n, MAX_POLISH)
    infeasible = exhausted and state.x is None
    return SearchResult(state.x, state.value, state.bound, infeasible, root)
