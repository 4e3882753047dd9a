"""Branching on the linear relaxation: diving for plans and branch-and-bound for bounds.

A node restricts the columns (some fixed at 1, some forbidden) and carries the Lagrangian
bound of its relaxation, valid for every plan in its subtree. The global bound is the
largest of the incumbent's value and the bounds of the nodes still open, so it holds at
any moment the search stops. Reduced costs fix further columns inside a subtree: with an
incumbent z, a column whose change would cost more than (node bound − z) keeps its value.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pricing.clock import Budget
from pricing.linear import BoolArray, ColumnModel, FloatArray, IntArray, Row, union
from pricing.lp import LPFailure
from pricing.relaxation import Log, Relaxation, Separator, solve_relaxation

INTEGRALITY = 1e-6
DIVE_STEPS = 60
ROW_MARGIN = 1e-7
NODE_CORE = 5_000


@dataclass(frozen=True, slots=True)
class Restriction:
    """Columns to fix at 1 and columns to forbid (0)."""

    fix: IntArray
    forbid: IntArray


Brancher = Callable[[FloatArray, FloatArray], tuple[Restriction, Restriction] | None]
Rounder = Callable[[FloatArray], list[Restriction]]


@dataclass(slots=True)
class Node:
    bound: float
    fixed: BoolArray
    forbidden: BoolArray
    relaxation: Relaxation


def restricted(model: ColumnModel, fixed: BoolArray, forbidden: BoolArray) -> ColumnModel:
    return dataclasses.replace(model, fixed=fixed, forbidden=forbidden)


def apply(
    node_fixed: BoolArray, node_forbidden: BoolArray, change: Restriction
) -> tuple[BoolArray, BoolArray]:
    fixed, forbidden = node_fixed.copy(), node_forbidden.copy()
    fixed[change.fix] = True
    forbidden[change.forbid] = True
    return fixed, forbidden


def is_integral(x: FloatArray) -> bool:
    return not bool(np.any((x > INTEGRALITY) & (x < 1 - INTEGRALITY)))


def tightened(model: ColumnModel) -> ColumnModel:
    """A copy whose fractional rows keep a small margin inside their bounds, so that an
    integral solution of its LP passes the exact check despite LP tolerances."""
    rows = []
    for row in model.rows:
        magnitude = max(
            [abs(v) for v in (row.lo, row.hi) if math.isfinite(v)]
            + [abs(b) * model.aux[k].hi for k, b in row.aux]
            + [1.0]
        )
        margin = 0.0 if _integral_row(model, row) else ROW_MARGIN * magnitude
        lo = row.lo + margin if math.isfinite(row.lo) else row.lo
        hi = row.hi - margin if math.isfinite(row.hi) else row.hi
        if lo > hi:
            lo = hi = (row.lo + row.hi) / 2
        rows.append(Row(row.name, lo, hi, row.terms, row.aux, row.denominator))
    return dataclasses.replace(model, rows=rows)


def _integral_row(model: ColumnModel, row: Row) -> bool:
    if row.denominator > 1 or any(not float(b).is_integer() for _, b in row.aux):
        return False
    for term in row.terms:
        if not np.array_equal(term.alpha, np.rint(term.alpha)):
            return False
        if term.feature not in model.integral_features:
            return False
    return True


def node_core(relaxation: Relaxation, size: int) -> IntArray:
    """Columns to start a child's LP from: its parent's support and the columns with the
    best reduced costs."""
    support = np.flatnonzero(relaxation.x > INTEGRALITY)
    best = np.argpartition(-relaxation.rc, min(size, len(relaxation.rc) - 1))[:size]
    return union(len(relaxation.x), support, best)


def dive(
    model: ColumnModel,
    start: Relaxation,
    rounder: Rounder,
    budget: Budget,
    separate: Separator | None,
    verify: Callable[[BoolArray], bool],
) -> BoolArray | None:
    """Round the fractional columns, re-solve, repeat (trying the rounder's alternatives
    when a rounding leaves no feasible LP): a plan close to the LP, or None."""
    margin_model = tightened(model)
    fixed, forbidden = model.fixed_mask().copy(), model.forbidden_mask().copy()
    relaxation = start
    for _ in range(DIVE_STEPS):
        if budget.stopped():
            return None
        if is_integral(relaxation.x):
            x = relaxation.x > 0.5
            return x if verify(x) else None
        step = _dive_step(margin_model, relaxation, rounder, fixed, forbidden, budget, separate)
        if step is None:
            return None
        relaxation, fixed, forbidden = step
    return None


def _dive_step(
    model: ColumnModel,
    relaxation: Relaxation,
    rounder: Rounder,
    fixed: BoolArray,
    forbidden: BoolArray,
    budget: Budget,
    separate: Separator | None,
) -> tuple[Relaxation, BoolArray, BoolArray] | None:
    for change in rounder(relaxation.x):
        new_fixed, new_forbidden = apply(fixed, forbidden, change)
        if np.any(new_fixed & new_forbidden):
            continue
        node_model = restricted(model, new_fixed, new_forbidden)
        try:
            result = solve_relaxation(
                node_model, node_core(relaxation, NODE_CORE), budget, separate
            )
        except LPFailure:
            return None
        if result.feasible and result.converged:
            return result, new_fixed, new_forbidden
    return None


class BranchAndBound:
    """Best-first search over nodes; `bound()` is valid whenever it is read."""

    def __init__(
        self, model: ColumnModel, root: Relaxation, brancher: Brancher, log: Log | None
    ) -> None:
        self.model = model
        self.brancher = brancher
        self.log = log
        self.counter = itertools.count()
        self.heap: list[tuple[float, int, Node]] = []
        self.leaf_bound = -math.inf
        self.nodes = 0
        self.last_x: FloatArray | None = None
        fixed, forbidden = model.fixed_mask(), model.forbidden_mask()
        self.push(Node(root.bound, fixed, forbidden, root))

    def push(self, node: Node) -> None:
        heapq.heappush(self.heap, (-node.bound, next(self.counter), node))

    def best(self) -> Relaxation | None:
        """The relaxation of the open node with the largest bound."""
        return self.heap[0][2].relaxation if self.heap else None

    def open_bound(self) -> float:
        top = -self.heap[0][0] if self.heap else -math.inf
        return max(top, self.leaf_bound)

    def step(
        self,
        incumbent: float,
        budget: Budget,
        separate: Separator | None,
        verify: Callable[[BoolArray], bool],
    ) -> BoolArray | None:
        """Expand the best open node; returns a verified plan found at a leaf, if any."""
        _, _, node = heapq.heappop(self.heap)
        self.last_x = None
        if node.bound <= incumbent:
            return None
        self.nodes += 1
        x = node.relaxation.x
        self.last_x = x
        if is_integral(x):
            plan = x > 0.5
            if verify(plan):
                return plan
            self.leaf_bound = max(self.leaf_bound, node.bound)
            return None
        children = self.brancher(x, node.relaxation.rc)
        if children is None:
            self.leaf_bound = max(self.leaf_bound, node.bound)
            return None
        for change in children:
            self._solve_child(node, change, incumbent, budget, separate)
        return None

    def _solve_child(
        self,
        parent: Node,
        change: Restriction,
        incumbent: float,
        budget: Budget,
        separate: Separator | None,
    ) -> None:
        fixed, forbidden = apply(parent.fixed, parent.forbidden, change)
        if np.any(fixed & forbidden):
            return
        fixed, forbidden = self._reduced_cost_fixing(parent, fixed, forbidden, incumbent)
        child_model = restricted(self.model, fixed, forbidden)
        try:
            relaxation = solve_relaxation(
                child_model, node_core(parent.relaxation, NODE_CORE), budget, separate
            )
        except LPFailure:
            # No LP solver could solve the child: keep the parent's bound for it.
            self.leaf_bound = max(self.leaf_bound, parent.bound)
            return
        if relaxation.feasible and not relaxation.converged:
            # Out of time or work before the child's LP was solved: keep the parent's bound.
            self.leaf_bound = max(self.leaf_bound, parent.bound)
            return
        if not relaxation.feasible:
            return
        bound = min(relaxation.bound, parent.bound)
        if bound > incumbent:
            self.push(Node(bound, fixed, forbidden, relaxation))

    def _reduced_cost_fixing(
        self, parent: Node, fixed: BoolArray, forbidden: BoolArray, incumbent: float
    ) -> tuple[BoolArray, BoolArray]:
        if not math.isfinite(incumbent):
            return fixed, forbidden
        slack = parent.relaxation.bound - incumbent
        rc = parent.relaxation.rc
        free = ~(fixed | forbidden)
        return fixed | (free & (rc > slack)), forbidden | (free & (rc < -slack))
