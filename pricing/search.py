"""Search over a column model: LP bound, first plans, then branch-and-bound and CP-SAT.

1. A greedy plan (when the problem has one) before any LP: a budget-only problem has a
   plan at once, whatever happens next.
2. The linear relaxation (column generation) gives duals and the Lagrangian bound L,
   valid for every plan. When every LP solver fails, a Lagrangian dual by subgradient
   steps takes its place (`pricing.lagrange`) and the answer says so.
3. A local search or a dive from the LP solution, else CP-SAT, gives a first plan.
4. Branch-and-bound on the relaxation tightens the bound and CP-SAT polishes the plan on
   growing cores when the tree stops improving it, until the gap is within the limit.

Every slice (tree nodes, CP-SAT) is measured in deterministic work and doubles when a
polish does not help, so the steps, and the plan, are the same on an idle and on a busy
machine. The budget's deadline is the outer bound: when it ends, the best plan and the
bound proven so far are returned. Every plan is checked with the exact formulas first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pricing.branching import BranchAndBound, dive
from pricing.clock import Budget
from pricing.lagrange import lagrangian_relaxation
from pricing.linear import BoolArray
from pricing.lp import LPFailure
from pricing.polish import SearchProblem, State, relative_gap
from pricing.relaxation import Log, Relaxation, solve_relaxation

OPTIMAL_GAP = 1e-9
FIRST_WORK = 0.5
MAX_WORK = 64.0
MAX_POLISH = 20_000
# Why a search stopped: the gap is within the limit, the tree proved the optimum (or that
# no plan exists), nothing is left to try (CP-SAT solved a core that holds every better
# plan; the gap left is the rounding of its integer rows), the deadline ended, or the
# work budget of a sub-search ran out.
GAP, EXHAUSTED, SETTLED = "gap_limit", "exhausted", "completed"
TIME, WORK = "time_limit", "work_limit"

__all__ = ["OPTIMAL_GAP", "SearchProblem", "SearchResult", "relative_gap", "search"]


@dataclass(slots=True)
class SearchResult:
    x: BoolArray | None
    value: float
    bound: float
    infeasible: bool
    relaxation: Relaxation | None
    stop: str
    notes: list[str] = field(default_factory=list)


class _Tree:
    """Branch-and-bound run in slices of work between polishes."""

    def __init__(self, state: State, root: Relaxation) -> None:
        problem = state.problem
        self.state = state
        self.tree = BranchAndBound(problem.model, root, problem.brancher, state.log)

    def run(self, budget: Budget, work: float) -> bool:
        """Expand nodes for `work` units; True once the tree is exhausted."""
        state, problem, tree = self.state, self.state.problem, self.tree
        start = budget.work.spent
        while tree.heap and not state.done() and not budget.stopped():
            if budget.work.spent - start >= work:
                break
            plan = tree.step(state.value, budget, problem.separate, problem.verify)
            state.offer(plan, "branching")
            if problem.improve is not None and tree.last_x is not None:
                state.offer(problem.improve(tree.last_x), "local search")
            state.tighten(tree.open_bound())
            if state.log is not None and tree.nodes % 50 == 0 and plan is None:
                state.log(f"nodes {tree.nodes} bound {state.bound:.9g} incumbent {state.value:.9g}")
        exhausted = not tree.heap and tree.leaf_bound == -math.inf
        if exhausted:
            state.bound = state.value if state.x is not None else -math.inf
        return exhausted


def _root(state: State, budget: Budget, log: Log | None) -> Relaxation:
    problem = state.problem
    try:
        return solve_relaxation(problem.model, problem.initial_core, budget, problem.separate, log)
    except LPFailure as failure:
        notes = [
            f"no LP solver could solve the linear relaxation ({failure}); the plan comes from "
            "the integer search without LP guidance, bounded by a Lagrangian relaxation"
        ]
        if log is not None:
            log(notes[0])
        return lagrangian_relaxation(problem.model, budget, state.value, notes)


def _first_plan(state: State, root: Relaxation, budget: Budget) -> None:
    problem = state.problem
    if problem.improve is not None:
        state.offer(problem.improve(root.x), "local search")
    if state.x is None and problem.dive and root.lp and root.converged and not budget.stopped():
        plan = dive(problem.model, root, problem.rounder, budget, problem.separate, problem.verify)
        state.offer(plan, "dive")
    if state.x is None and not budget.stopped():
        state.polish(FIRST_WORK, problem.core_size, budget)


def _stop(state: State, budget: Budget, exhausted: bool) -> str:
    if exhausted:
        return EXHAUSTED
    if state.done():
        return GAP
    if state.settled:
        return SETTLED
    return TIME if budget.deadline.expired() else WORK


def search(problem: SearchProblem, budget: Budget, log: Log | None = None) -> SearchResult:
    """Best verified plan within the budget, with a proven bound (maximisation)."""
    state = State(problem, log)
    for plan in problem.greedy() if problem.greedy is not None else []:
        state.offer(plan, "greedy")
    root = _root(state, budget, log)
    if not root.feasible and state.x is None:
        return SearchResult(None, -math.inf, -math.inf, True, root, EXHAUSTED, root.notes)
    if not root.feasible:
        # A plan checked exactly outweighs a certificate that numerics got wrong.
        note = "the LP's infeasibility certificate was contradicted by a plan and ignored"
        root = lagrangian_relaxation(problem.model, budget, state.value, [*root.notes, note])
    state.root = root
    state.tighten(root.bound)
    _first_plan(state, root, budget)
    tree = _Tree(state, root) if root.lp and math.isfinite(root.bound) else None
    size, work, exhausted = problem.core_size, FIRST_WORK, False
    while not (exhausted or state.done() or state.settled or budget.stopped()):
        before = state.value
        if tree is not None:
            exhausted = tree.run(budget, work)
        if exhausted or state.done() or budget.stopped():
            break
        if tree is None or state.value <= before:
            # CP-SAT takes over when the tree stops finding better plans.
            state.polish(work, size, budget, tree.tree.best() if tree is not None else None)
            size, work = min(size * 2, problem.model.n, MAX_POLISH), min(work * 2, MAX_WORK)
            # CP-SAT proved that no plan exists on a core of every column.
            exhausted = state.x is None and state.bound == -math.inf
    infeasible = exhausted and state.x is None
    stop = _stop(state, budget, exhausted)
    return SearchResult(state.x, state.value, state.bound, infeasible, root, stop, root.notes)
